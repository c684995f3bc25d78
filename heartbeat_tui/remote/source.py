"""`RemoteSource`: the dashboard's `FleetSource` over a shared `heartbeat serve`.

Each `poll()` long-polls `/api/v1/fleet` with the ETag of the snapshot it last
returned, so it returns when the server has polled again: the dashboard is
pushed every new poll while AWS sees one poller, however many dashboards
watch. Service details come through the API.

When the server goes away, the last snapshot stays on screen, marked stale:
each account says the server is unreachable and since when, and its metrics
and scaling data are flagged as from an earlier poll, so the header and the
accounts pane show "stale" with the data's age. The next polls try again by
themselves after a growing pause (1, 2, 4 ... 30 s, on an injected sleep and
clock); the first answer puts everything back. A refused session (401/403) is
not hidden as staleness: it is raised, for the session keeper to end.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Collection
from datetime import datetime, timezone

from heartbeat_tui.controller.source import scoped
from heartbeat_tui.models import AccountSnapshot, AccountStatus, FleetSnapshot, LogBatch, LogQuery, ServiceDetail
from heartbeat_tui.remote.client import MAX_WAIT_SECONDS, RemoteClient, ServerError, ServerUnavailable

log = logging.getLogger(__name__)

BACKOFF_SECONDS = (1.0, 2.0, 4.0, 8.0, 15.0, 30.0)
WAIT_SECONDS = 25.0  # each long-poll: under common proxies' idle timeouts


def unreachable_reason(url: str, reason: str, since: datetime) -> str:
    return (
        f"HeartBeat server {url} unreachable since {since.astimezone(timezone.utc):%H:%M:%S} UTC ({reason});"
        " showing its last poll, reconnecting"
    )


def marked_stale(snapshot: FleetSnapshot, reason: str) -> FleetSnapshot:
    """`snapshot` as the last word of a server that went away: every account in error
    with `reason`, its metrics and scaling data stale (their age is what the header shows)."""

    def account(a: AccountSnapshot) -> AccountSnapshot:
        if a.status is AccountStatus.ERROR:
            return a.model_copy(update={"error": f"{a.error}; {reason}" if a.error else reason})
        regions = tuple(
            r.model_copy(update={"stale": tuple(dict.fromkeys((*r.stale, "metrics", "scaling")))}) for r in a.regions
        )
        return a.model_copy(update={"status": AccountStatus.ERROR, "error": reason, "regions": regions})

    return snapshot.model_copy(update={"accounts": tuple(account(a) for a in snapshot.accounts)})


class RemoteSource:
    """A FleetSource over `heartbeat serve` (see the module docstring)."""

    def __init__(
        self,
        client: RemoteClient,
        *,
        wait_seconds: float = WAIT_SECONDS,
        backoff: tuple[float, ...] = BACKOFF_SECONDS,
        sleep: Callable[[float], Awaitable[object]] = asyncio.sleep,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.client = client
        self.wait_seconds = min(wait_seconds, MAX_WAIT_SECONDS)
        self.backoff = backoff
        self.sleep = sleep
        self.clock = clock
        self.last: FleetSnapshot | None = None  # the server's last snapshot, as it sent it
        self.etag: str | None = None
        self.failures = 0
        self.down_since: float | None = None
        self._refresh = False

    @property
    def connected(self) -> bool:
        return self.failures == 0

    async def poll(self, only: Collection[str] | None = None) -> FleetSnapshot:
        """The server's next poll (at once the first time and after a refresh or an outage)."""

        if self.failures:
            await self.sleep(self.backoff[min(self.failures, len(self.backoff)) - 1])
        try:
            if self._refresh:
                await self.client.refresh()
                self._refresh = False
            snapshot = await self._next()
        except (ServerUnavailable, ServerError) as exc:
            return self._stale(exc, only)
        if self.failures:
            log.info("HeartBeat server %s back after %d failed poll(s)", self.client.base_url, self.failures)
        self.failures, self.down_since = 0, None
        return scoped(snapshot, None if only is None else frozenset(only))

    async def _next(self) -> FleetSnapshot:
        # Up to date (an ETag and no outage since): wait for the server's next poll.
        wait = self.wait_seconds if self.etag is not None and not self.failures else 0.0
        while True:
            snapshot, etag = await self.client.fleet(self.etag, wait=wait)
            if snapshot is not None:
                self.last, self.etag = snapshot, etag
                return snapshot
            if self.last is not None and self.failures:
                return self.last  # back after an outage, nothing newer: the last poll, fresh again
            wait = self.wait_seconds

    def _stale(self, exc: Exception, only: Collection[str] | None) -> FleetSnapshot:
        self.failures += 1
        if self.down_since is None:
            self.down_since = self.clock()
        log.warning("HeartBeat server %s: %s (attempt %d)", self.client.base_url, exc, self.failures)
        if self.last is None:
            raise exc
        since = datetime.fromtimestamp(self.down_since, timezone.utc)
        reason = unreachable_reason(self.client.base_url, str(exc).split(": ", 1)[-1], since)
        return scoped(marked_stale(self.last, reason), None if only is None else frozenset(only))

    async def fetch_service_detail(
        self, account_id: str, region: str, cluster_arn: str, service_name: str
    ) -> ServiceDetail:
        cluster = cluster_arn.split(":cluster/", 1)[-1]
        return await self.client.detail(account_id, region, cluster, service_name)

    async def fetch_logs(self, query: LogQuery) -> LogBatch:
        return await self.client.logs(query)

    def relist_next_poll(self) -> None:
        """A manual refresh: the next poll asks the server for a poll now (admin; the server checks)."""

        self._refresh = True

    async def prepare(self) -> None:
        return None

    async def aclose(self) -> None:
        await self.client.aclose()
