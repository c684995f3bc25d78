"""The hub: the one poller every client of `heartbeat serve` shares.

It is a `DashboardController`'s observer, exactly as the dashboard is: the
controller owns the timer (one poll per `[refresh].interval_seconds`, never
two at once, a refresh polling now), the hub keeps what the clients read:
the latest snapshot, its generation (one more per delivered poll), when it
finished and what AWS calls it cost. Ten clients or a hundred, AWS sees one
poller.

Answers are built once per poll per scope: `body` caches each (generation,
kind, scope, filters) answer, serialised and gzipped, and a request that
finds it being built waits for that build instead of starting its own.
Long-polls wait on one condition that every new poll (and shutdown) wakes.
"""

from __future__ import annotations

import asyncio
import functools
import gzip
import hashlib
import logging
import time
from collections import Counter
from collections.abc import Callable, Collection
from dataclasses import dataclass
from typing import Any

from heartbeat_tui import heap
from heartbeat_tui.controller import AsyncioScheduler, DashboardController, FleetSource, PollStatus, Scheduler
from heartbeat_tui.models import FleetSnapshot, LogBatch, LogQuery, ServiceDetail

log = logging.getLogger(__name__)

STALE_INTERVALS = 3  # /health says "stale" when no poll finished within this many intervals
MAX_CACHED_BODIES = 256  # per generation: arbitrary filters must not grow memory without bound


@dataclass(frozen=True)
class Body:
    """One pre-serialised answer: its bytes, gzipped bytes and ETag."""

    etag: str
    generation: int
    data: bytes
    gzipped: bytes
    media_type: str


class _WindowedSource:
    """The collector, each poll inside `heap.poll_window()` as the CLI polls."""

    def __init__(self, source: FleetSource) -> None:
        self.source = source

    async def poll(self, only: Collection[str] | None = None) -> FleetSnapshot:
        with heap.poll_window():
            return await self.source.poll(only)

    async def fetch_service_detail(
        self, account_id: str, region: str, cluster_arn: str, service_name: str
    ) -> ServiceDetail:
        return await self.source.fetch_service_detail(account_id, region, cluster_arn, service_name)

    async def fetch_logs(self, query: LogQuery) -> LogBatch:
        return await self.source.fetch_logs(query)

    def relist_next_poll(self) -> None:
        self.source.relist_next_poll()

    async def prepare(self) -> None:
        await self.source.prepare()

    async def aclose(self) -> None:
        await self.source.aclose()


def etag_for(generation: int, key: tuple[Any, ...]) -> str:
    """`"<poll generation>-<scope hash>"`: the scope hash tells apart what one poll
    answers to different roles and filters; the generation, one poll from the next."""

    digest = hashlib.sha256(repr(key).encode()).hexdigest()[:16]
    return f'"{generation}-{digest}"'


def generation_of(etag: str) -> int | None:
    """The poll generation of one of our ETags (None: not one of ours)."""

    value = etag.strip().removeprefix("W/").strip('"')
    head, _, _ = value.partition("-")
    return int(head) if head.isdigit() else None


class Hub:
    """The shared poller and what it last polled (see the module docstring)."""

    def __init__(
        self,
        source: FleetSource,
        *,
        interval_seconds: float,
        scheduler: Scheduler | None = None,
        clock: Callable[[], float] = time.time,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.source = source
        self.interval_seconds = interval_seconds
        self.clock = clock
        self.monotonic = monotonic
        self.scheduler = scheduler or AsyncioScheduler()
        self.controller = DashboardController(
            _WindowedSource(source), self, self.scheduler, interval_seconds=interval_seconds, monotonic=monotonic
        )
        self.snapshot: FleetSnapshot | None = None
        self.generation = 0
        self.last_poll_at: float | None = None  # wall clock, epoch seconds
        self.last_poll_seconds: float | None = None
        self.last_error: str | None = None
        self.status = PollStatus()
        # AWS API calls of every poll so far, by "<botocore service name>.<Operation>"
        # ("ecs.DescribeServices"), summed from each poll's PollStats.
        self.aws_calls: Counter[str] = Counter()
        self.closed = False
        self._changed = asyncio.Condition()
        self._waiting = 0
        self._bodies: dict[tuple[Any, ...], asyncio.Task[Body]] = {}
        self._building: set[asyncio.Task[Body]] = set()
        self._bodies_generation = 0

    # -- the controller's observer -------------------------------------------------

    def status_changed(self, status: PollStatus) -> None:
        self.status = status

    def poll_failed(self, error: BaseException, text: str) -> None:
        self.last_error = text

    async def snapshot_polled(self, snapshot: FleetSnapshot, previous: FleetSnapshot | None) -> None:
        self.aws_calls.update(dict(snapshot.stats.calls))
        self.snapshot = snapshot
        self.last_poll_at = self.clock()
        self.last_poll_seconds = snapshot.stats.duration_seconds
        self.last_error = None
        self.generation += 1
        self._bodies = {}  # the last poll's answers are not asked for again: their memory goes now
        self._bodies_generation = self.generation
        log.info(
            "poll %d: %d account(s), %d AWS call(s) in %.2f s",
            self.generation,
            len(snapshot.accounts),
            snapshot.stats.total_calls,
            snapshot.stats.duration_seconds,
        )
        async with self._changed:
            self._changed.notify_all()

    # -- running ---------------------------------------------------------------------

    def start(self) -> None:
        """Poll now, then once per interval."""

        self.controller.start()

    async def refresh(self) -> bool:
        """Every service list re-read whole, polled now; False when a poll is already running."""

        return await self.controller.refresh()

    async def close(self) -> None:
        """No more polls; every long-poll returns now (a shutdown drains quickly)."""

        self.closed = True
        self.controller.forget()
        self.controller.close()
        async with self._changed:
            self._changed.notify_all()

    # -- long-polls ------------------------------------------------------------------

    @property
    def waiting(self) -> int:
        """Requests parked in `wait_newer` now."""

        return self._waiting

    async def wait_newer(self, generation: int, timeout: float) -> bool:
        """Wait up to `timeout` seconds for a poll newer than `generation`; False on
        timeout or shutdown."""

        if self.generation > generation:
            return True
        self._waiting += 1
        try:
            async with self._changed:
                await asyncio.wait_for(
                    self._changed.wait_for(lambda: self.generation > generation or self.closed), timeout
                )
        except TimeoutError:
            return False
        finally:
            self._waiting -= 1
        return self.generation > generation

    async def until_waiting(self, count: int) -> None:
        """Return once `count` requests are parked in `wait_newer` (tests, the benchmark)."""

        while self._waiting < count:
            await asyncio.sleep(0)

    # -- answers built once per poll -------------------------------------------------

    async def body(self, key: tuple[Any, ...], build: Callable[[FleetSnapshot], bytes], media_type: str) -> Body | None:
        """The answer for `key` from the latest poll, built by `build` (in a worker
        thread) the first time it is asked for; None before the first poll."""

        snapshot, generation = self.snapshot, self.generation
        if snapshot is None:
            return None
        if self._bodies_generation != generation:
            self._bodies = {}
            self._bodies_generation = generation
        task = self._bodies.get(key)
        if task is None:
            # A task of its own: a client that goes away mid-build cancels its wait, not the build.
            task = asyncio.get_running_loop().create_task(self._build(snapshot, generation, key, build, media_type))
            self._building.add(task)
            task.add_done_callback(self._building.discard)
            if len(self._bodies) < MAX_CACHED_BODIES:
                self._bodies[key] = task
                task.add_done_callback(functools.partial(self._forget_failed, key))
        return await asyncio.shield(task)

    @staticmethod
    async def _build(
        snapshot: FleetSnapshot,
        generation: int,
        key: tuple[Any, ...],
        build: Callable[[FleetSnapshot], bytes],
        media_type: str,
    ) -> Body:
        data = await asyncio.to_thread(build, snapshot)
        gzipped = await asyncio.to_thread(gzip.compress, data, 6)
        return Body(etag_for(generation, key), generation, data, gzipped, media_type)

    def _forget_failed(self, key: tuple[Any, ...], task: asyncio.Task[Body]) -> None:
        """A failed build is not cached: the next request tries again."""

        if (task.cancelled() or task.exception() is not None) and self._bodies.get(key) is task:
            del self._bodies[key]

    # -- /health ---------------------------------------------------------------------

    def health(self) -> tuple[int, dict[str, Any]]:
        """The HTTP status and body of /health."""

        snapshot, at = self.snapshot, self.last_poll_at
        if snapshot is None or at is None:
            return 503, {"status": "starting"}
        age = max(0.0, self.clock() - at)
        failed = len(snapshot.failed_accounts)
        body: dict[str, Any] = {
            "status": "degraded" if failed else "ok",
            "last_poll_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(at)),
            "poll_age_seconds": round(age, 1),
            "accounts_ok": len(snapshot.accounts) - failed,
            "accounts_error": failed,
        }
        if age > STALE_INTERVALS * self.interval_seconds:
            return 503, {**body, "status": "stale"}
        return 200, body
