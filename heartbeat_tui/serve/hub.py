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
The answers the last poll was asked for most are built before a new poll is
published (`PREBUILT_KEYS`): until they are ready every request gets the
previous poll's, at once, and the long-polls woken by the new one find theirs
made. A 2,400-service fleet's JSON costs a third of a second to build; built
on demand, every request of that scope arriving meanwhile waited for it.
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
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, TypeVar

from heartbeat_tui import heap
from heartbeat_tui.controller import AsyncioScheduler, DashboardController, FleetSource, PollStatus, Scheduler
from heartbeat_tui.models import FleetSnapshot

log = logging.getLogger(__name__)

STALE_INTERVALS = 3  # /health says "stale" when no poll finished within this many intervals
MAX_CACHED_BODIES = 256  # per generation: arbitrary filters must not grow memory without bound
PREBUILT_KEYS = 8  # the answers most asked for in one poll are built before the next is published
# Every this many polls the freeze held between polls starts with a full collection (as the
# dashboard's): cyclic garbage frozen with the live objects is collected, at one pause.
FULL_GC_EVERY = 20

Build = Callable[[FleetSnapshot], bytes]
T = TypeVar("T")


@dataclass(frozen=True)
class Body:
    """One pre-serialised answer: its bytes, gzipped bytes and ETag."""

    etag: str
    generation: int
    data: bytes
    gzipped: bytes
    media_type: str


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
            source, self, self.scheduler, interval_seconds=interval_seconds, monotonic=monotonic
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
        self._bodies: dict[tuple[Any, ...], asyncio.Future[Body]] = {}
        self._building: set[asyncio.Task[Body]] = set()
        # One thread builds every answer, one after the other: two 2,400-service builds at once
        # doubled the peak of their temporaries, and each thread's allocations stayed in its own
        # malloc arena (the server's RSS grew with the number of threads that had built one).
        self._builder = ThreadPoolExecutor(1, thread_name_prefix="heartbeat-build")
        self._bodies_generation = 0
        # What this generation was asked for (how often, and how to build it): the next poll's
        # most asked-for answers are built before it is published.
        self._asked: Counter[tuple[Any, ...]] = Counter()
        self._recipes: dict[tuple[Any, ...], tuple[Build, str]] = {}
        self._polls_since_full_gc = 0

    # -- the controller's observer -------------------------------------------------

    def status_changed(self, status: PollStatus) -> None:
        self.status = status

    def poll_failed(self, error: BaseException, text: str) -> None:
        self.last_error = text

    async def snapshot_polled(self, snapshot: FleetSnapshot, previous: FleetSnapshot | None) -> None:
        finished_at = self.clock()
        self._hold_heap()
        self.aws_calls.update(dict(snapshot.stats.calls))
        generation = self.generation + 1
        bodies = await self._prebuild(snapshot, generation)
        # From here to the notification nothing awaits: the snapshot, its generation and its
        # prebuilt answers are published together.
        self.snapshot = snapshot
        self.last_poll_at = finished_at
        self.last_poll_seconds = snapshot.stats.duration_seconds
        self.last_error = None
        self.generation = generation
        self._bodies = bodies  # the last poll's answers are not asked for again: their memory goes now
        self._bodies_generation = generation
        self._asked = Counter()
        self._recipes = {key: self._recipes[key] for key in bodies}
        log.info(
            "poll %d: %d account(s), %d AWS call(s) in %.2f s; %d answer(s) prebuilt",
            generation,
            len(snapshot.accounts),
            snapshot.stats.total_calls,
            snapshot.stats.duration_seconds,
            len(bodies),
        )
        async with self._changed:
            self._changed.notify_all()

    def _hold_heap(self) -> None:
        """Freeze what is alive now, the new snapshot included, as the dashboard does after
        a poll: the collections that building answers triggers walk only the young objects.
        Left to itself, the first after a poll walked the poll's survivors (0.2 s) and a full
        one the whole heap (0.7 s under load), each holding the interpreter lock."""

        self._polls_since_full_gc += 1
        full = self._polls_since_full_gc >= FULL_GC_EVERY
        if full:
            self._polls_since_full_gc = 0
        heap.hold(collect_first=full)

    async def _prebuild(self, snapshot: FleetSnapshot, generation: int) -> dict[tuple[Any, ...], asyncio.Future[Body]]:
        """The answers most asked for since the last poll, built from `snapshot` one at a time
        (off the event loop); one that fails is left to be built, and to fail, on demand."""

        bodies: dict[tuple[Any, ...], asyncio.Future[Body]] = {}
        for key, _ in self._asked.most_common(PREBUILT_KEYS):
            build, media_type = self._recipes[key]
            try:
                body = await self._build(snapshot, generation, key, build, media_type)
            except Exception:
                log.warning("prebuilding an answer failed; it is built when asked for", exc_info=True)
                continue
            done: asyncio.Future[Body] = asyncio.get_running_loop().create_future()
            done.set_result(body)
            bodies[key] = done
        # What the poll's message and the builds freed goes back to the system before the poll is
        # published (and its long-polls' answers are written).
        await self._off_loop(heap.give_back)
        return bodies

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
        self._builder.shutdown(wait=False)
        heap.release()
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

    async def body(self, key: tuple[Any, ...], build: Build, media_type: str) -> Body | None:
        """The answer for `key` from the latest poll, built by `build` (in a worker
        thread) the first time it is asked for, or before the poll was published
        when the last one was asked for it often; None before the first poll."""

        snapshot, generation = self.snapshot, self.generation
        if snapshot is None:
            return None
        if self._bodies_generation != generation:
            self._bodies = {}
            self._bodies_generation = generation
        if key in self._recipes or len(self._recipes) < MAX_CACHED_BODIES:
            self._asked[key] += 1
            self._recipes[key] = (build, media_type)
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

    async def _build(
        self,
        snapshot: FleetSnapshot,
        generation: int,
        key: tuple[Any, ...],
        build: Build,
        media_type: str,
    ) -> Body:
        data = await self._off_loop(build, snapshot)
        gzipped = await self._off_loop(gzip.compress, data, 6)
        return Body(etag_for(generation, key), generation, data, gzipped, media_type)

    async def _off_loop(self, function: Callable[..., T], *args: Any) -> T:
        """`function(*args)` on the build thread (on a thread of its own once the hub is
        closed: a request still draining is answered)."""

        if self.closed:
            return await asyncio.to_thread(function, *args)
        return await asyncio.get_running_loop().run_in_executor(self._builder, function, *args)

    def _forget_failed(self, key: tuple[Any, ...], task: asyncio.Future[Body]) -> None:
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
