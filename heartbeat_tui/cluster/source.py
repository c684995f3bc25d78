"""`ClusterSource`: a `FleetSource` for one of several `heartbeat serve` replicas.

Each poll: a heartbeat (renew, rebalance), claims on the leases this replica
holds, a poll by the ordinary collector of just those accounts, each part
published to S3 once its lease passes the fence, then every account's newest
part read back and merged into the one snapshot clients are answered from.
An account whose part is older than two intervals shows its last data, stale;
one nobody has polled yet shows as waiting: never missing.

Between polls a background task heartbeats every quarter interval, so leases
stay held (or expire, for a replica that stopped) on the lease clock, not the
poll clock. The hub sees a FleetSource like any other (serve/run.py).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable, Collection
from datetime import datetime, timezone
from typing import Any, Protocol

from heartbeat_tui.aws.access import AwsAccess
from heartbeat_tui.aws.counting import CallCounter, counting, stop_counting
from heartbeat_tui.cluster.leases import ClusterError, LeaseManager, LeaseTable
from heartbeat_tui.cluster.parts import Part, PartStore, Unreadable
from heartbeat_tui.collector.sharding import merge_account, restarting
from heartbeat_tui.config import AccountConfig, Config
from heartbeat_tui.controller.source import FleetSource
from heartbeat_tui.models import (
    AccountSnapshot,
    AccountStatus,
    FleetSnapshot,
    LogBatch,
    LogQuery,
    PollStats,
    ServiceDetail,
)

log = logging.getLogger(__name__)

STALE_INTERVALS = 2  # a part older than this many intervals shows as stale
WAITING = "waiting for a replica to poll it (its lease is being taken)"


def _stale(age: float) -> str:
    return f"no replica has polled it for {age:.0f} s (the last good data is shown)"


class LeasedSource(FleetSource, Protocol):
    """What polls a replica's leased accounts: the collector (`Collector`, `ShardedCollector`)."""

    async def forget(self, account_ids: Collection[str]) -> None:
        """Drop what is kept between polls for these accounts (another replica polls them now)."""


class ClusterSource:
    """This replica's leased accounts polled by `source`; every account answered from the parts."""

    def __init__(
        self,
        config: Config,
        source: LeasedSource,
        accounts: Callable[[], Awaitable[tuple[AccountConfig, ...]]],
        replica_id: str,
        *,
        clock: Callable[[], float] = time.time,
        heartbeats: bool = True,
    ) -> None:
        cluster = config.file.cluster
        assert cluster.lease_table is not None and cluster.bucket is not None
        self.source = source
        self.replica_id = replica_id
        self.interval = float(config.file.refresh.interval_seconds)
        self._accounts = accounts
        self._clock = clock
        self._heartbeats = heartbeats
        self._access = AwsAccess(config)
        self._aws = config.file.aws
        self._table_name, self._bucket, self._prefix = cluster.lease_table, cluster.bucket, cluster.prefix
        self._leases: LeaseManager | None = None
        self._parts: PartStore | None = None
        self._poll_lock = asyncio.Lock()
        self._poll_number = 0
        self._last: dict[str, AccountSnapshot] = {}
        self._known: tuple[str, ...] = ()
        self._beating: asyncio.Task[None] | None = None
        self._closed = False
        self.polled: tuple[str, ...] = ()  # the accounts this replica polled (and published) at its last poll
        self._kept: set[str] = set()  # the accounts the collector keeps state for (it polled them)

    async def _open(self) -> tuple[LeaseManager, PartStore]:
        if self._leases is None or self._parts is None:
            aws = self._aws

            async def client(service: str) -> Any:
                attempts = min(aws.max_attempts, 3)
                return await self._access.bounded_client(
                    service,
                    attempts=attempts,
                    connect_timeout=aws.connect_timeout_seconds,
                    read_timeout=aws.read_timeout_seconds,
                )

            table = LeaseTable(await client("dynamodb"), self._table_name)
            self._leases = LeaseManager(table, self.replica_id, self.interval, self._clock)
            self._parts = PartStore(await client("s3"), self._bucket, self._prefix)
        return self._leases, self._parts

    @property
    def leases(self) -> LeaseManager | None:
        """The lease manager, once the first poll (or `prepare`) opened it."""

        return self._leases

    # -- FleetSource -------------------------------------------------------------------

    async def prepare(self) -> None:
        await self.source.prepare()
        await self._open()
        self._start_beating()

    def _start_beating(self) -> None:
        """The background heartbeats (a lease lasts less than an interval: polls alone would lose it)."""

        if self._heartbeats and self._beating is None:
            self._beating = asyncio.get_running_loop().create_task(self._beat())

    async def _beat(self) -> None:
        leases, _ = await self._open()
        while True:
            await asyncio.sleep(leases.heartbeat_seconds)
            if not self._known:
                continue  # the first poll heartbeats first
            try:
                await leases.heartbeat(self._known)
            except ClusterError as exc:
                log.warning("heartbeat: %s", exc)
            except Exception:  # a bug: said, and the heartbeats go on (the leases depend on them)
                log.exception("heartbeat failed")

    async def poll(self, only: Collection[str] | None = None) -> FleetSnapshot:
        async with self._poll_lock:
            return await self._poll_locked(only)

    async def _poll_locked(self, only: Collection[str] | None) -> FleetSnapshot:
        started = time.perf_counter()
        leases, parts = await self._open()
        self._start_beating()
        configured = await self._accounts()
        self._known = tuple(a.id for a in configured)
        counter = CallCounter()
        token = counting(counter)
        calls: dict[str, int] = {}
        http_requests = 0
        try:
            await leases.heartbeat(self._known)
            claimed = await leases.claim()
            lost = self._kept.difference(claimed)
            if lost:  # taken over, or gone from the fleet: their histories would be kept for good
                await self.source.forget(lost)
                self._kept -= lost
            wanted = [a for a in claimed if only is None or a in only]
            self.polled = ()
            if wanted:
                self._kept.update(wanted)
                polled = await self.source.poll(wanted)
                calls = dict(polled.stats.calls)
                http_requests = polled.stats.http_requests
                mine = {a.id: a for a in polled.accounts if a.id in wanted}
                fenced = await leases.fence(list(mine), polled.generated_at.isoformat())
                await asyncio.gather(*(parts.put(mine[a], polled.generated_at, self.replica_id) for a in fenced))
                self.polled = tuple(fenced)
            held = await parts.read(self._known)
        finally:
            stop_counting(token)
        now = datetime.fromtimestamp(self._clock(), timezone.utc)
        for gone in [a for a in self._last if a not in self._known]:
            del self._last[gone]  # an account that left the fleet: its last data goes with it
        accounts = []
        for account in configured:
            if only is None or account.id in only:
                shown = merge_account(self._show(account, held.get(account.id), now), self._last.get(account.id))
                self._last[account.id] = shown
                accounts.append(shown)
        for name, count in counter.calls.items():
            calls[name] = calls.get(name, 0) + count
        self._poll_number += 1
        return FleetSnapshot(
            generated_at=now,
            poll_number=self._poll_number,
            accounts=tuple(accounts),
            stats=PollStats(
                calls=tuple(sorted(calls.items())),
                http_requests=http_requests + counter.http_requests,
                duration_seconds=time.perf_counter() - started,
            ),
        )

    def _show(self, account: AccountConfig, part: Part | Unreadable | None, now: datetime) -> AccountSnapshot:
        """One account as clients see it: its part, or why not (with the last data seen)."""

        last = self._last.get(account.id)
        if isinstance(part, Unreadable):
            return restarting(account, last, f"its part cannot be read: {part.reason}")
        if part is None:
            if last is None:
                return AccountSnapshot(id=account.id, alias=account.alias, status=AccountStatus.ERROR, error=WAITING)
            return restarting(account, last, WAITING)
        age = (now - part.polled_at).total_seconds()
        if age > STALE_INTERVALS * self.interval:
            return restarting(part.account, part.account, _stale(age))
        return part.account

    def relist_next_poll(self) -> None:
        self.source.relist_next_poll()

    async def fetch_service_detail(
        self, account_id: str, region: str, cluster_arn: str, service_name: str
    ) -> ServiceDetail:
        return await self.source.fetch_service_detail(account_id, region, cluster_arn, service_name)

    async def fetch_logs(self, query: LogQuery) -> LogBatch:
        return await self.source.fetch_logs(query)

    async def aclose(self) -> None:
        """Stop heartbeating and hand the leases back (the others take them at once), then close."""

        if self._closed:
            return
        self._closed = True
        if self._beating is not None:
            self._beating.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._beating
            self._beating = None
        if self._leases is not None:
            try:
                await self._leases.release()
            except ClusterError as exc:
                log.warning("releasing the leases: %s (they expire instead)", exc)
        await self.source.aclose()
        await self._access.close()
