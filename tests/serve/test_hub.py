"""The hub alone (a fake source, a hand-driven clock): one poller on the
controller's timer, answers built once per poll, long-polls, /health."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable, Collection

import pytest

from heartbeat_tui.controller import ManualScheduler
from heartbeat_tui.models import FleetSnapshot
from heartbeat_tui.serve.hub import MAX_CACHED_BODIES, PREBUILT_KEYS, STALE_INTERVALS, Hub, generation_of
from tests.serve.conftest import Wall
from tests.support.controller import FakeSource

INTERVAL = 30.0


class NumberedSource(FakeSource):
    """Each poll's snapshot says which poll it is (`poll_number`: 1, 2, ...)."""

    def __init__(self) -> None:
        super().__init__()
        self.number = 0

    async def poll(self, only: Collection[str] | None = None) -> FleetSnapshot:
        snapshot = await super().poll(only)
        self.number += 1
        return snapshot.model_copy(update={"poll_number": self.number})


def make_hub() -> tuple[Hub, FakeSource, ManualScheduler, Wall]:
    source, scheduler, wall = NumberedSource(), ManualScheduler(), Wall()
    hub = Hub(source, interval_seconds=INTERVAL, scheduler=scheduler, clock=wall, monotonic=scheduler.monotonic)
    return hub, source, scheduler, wall


async def test_polls_on_the_interval_never_overlapping() -> None:
    hub, source, scheduler, _ = make_hub()
    hub.start()
    await scheduler.drain()
    assert hub.generation == 1 and source.polls == [None] and scheduler.pending == [INTERVAL]
    scheduler.advance(INTERVAL - 1)
    await scheduler.drain()
    assert hub.generation == 1
    scheduler.advance(1)
    await scheduler.drain()
    assert hub.generation == 2 and len(source.polls) == 2
    source.hold = asyncio.Event()
    assert await hub.refresh() is True and source.relists == 1
    assert await hub.refresh() is False  # one poll at a time
    source.hold.set()
    await scheduler.drain()
    assert hub.generation == 3 and len(source.polls) == 3
    await hub.close()
    assert scheduler.pending == [] and hub.controller.closed


async def test_one_build_per_key_per_poll_shared_by_concurrent_requests() -> None:
    hub, _, scheduler, _ = make_hub()
    builds: list[int] = []

    def build(snapshot: FleetSnapshot) -> bytes:
        builds.append(snapshot.poll_number)
        return b"x" * 1000

    assert await hub.body(("k",), build, "text/plain") is None  # before the first poll
    hub.start()
    await scheduler.drain()
    bodies = await asyncio.gather(*(hub.body(("k",), build, "text/plain") for _ in range(20)))
    assert len(builds) == 1 and len({b.etag for b in bodies}) == 1
    assert generation_of(bodies[0].etag) == 1 and bodies[0].data == b"x" * 1000
    other = await hub.body(("other",), build, "text/plain")
    assert other is not None and other.etag != bodies[0].etag and len(builds) == 2
    hub.controller.poll_now()
    await scheduler.drain()
    assert builds == [1, 1, 2, 2]  # both asked-for answers were built before poll 2 was published
    newer = await hub.body(("k",), build, "text/plain")
    assert newer is not None and generation_of(newer.etag) == 2 and len(builds) == 4

    for n in range(MAX_CACHED_BODIES + 5):  # arbitrary filters: answered, the cache stays bounded
        await hub.body(("filter", n), build, "text/plain")
    before = len(builds)
    await hub.body(("filter", MAX_CACHED_BODIES + 4), build, "text/plain")
    assert len(builds) == before + 1
    await hub.body(("filter", 0), build, "text/plain")
    assert len(builds) == before + 1


async def test_the_most_asked_answers_are_built_before_a_poll_is_published() -> None:
    hub, _, scheduler, _ = make_hub()
    hub.start()
    await scheduler.drain()
    built: list[tuple[str, int]] = []
    started, release = threading.Event(), threading.Event()

    def builder(name: str) -> Callable[[FleetSnapshot], bytes]:
        def build(snapshot: FleetSnapshot) -> bytes:
            if snapshot.poll_number == 2 and name == "hot-0":
                started.set()
                release.wait(10)  # the prebuild of poll 2 in progress, until the test lets it go
            built.append((name, snapshot.poll_number))
            return f"{name} {snapshot.poll_number}".encode()

        return build

    # Ten keys asked for, key n+1 times: the PREBUILT_KEYS most asked for are prebuilt.
    keys = [f"hot-{n}" for n in range(PREBUILT_KEYS + 2)]
    for n, name in enumerate(reversed(keys)):
        for _ in range(n + 1):
            await hub.body((name,), builder(name), "text/plain")
    assert hub.generation == 1 and len(built) == len(keys)

    woken = asyncio.create_task(hub.wait_newer(1, 60))
    await hub.until_waiting(1)
    assert hub.controller.poll_now()
    assert await asyncio.to_thread(started.wait, 10)  # the poll's answer is in; its prebuild has begun
    # Meanwhile: poll 1 is still the one published, and its answers come at once.
    during = await asyncio.wait_for(hub.body(("hot-0",), builder("hot-0"), "text/plain"), 1)
    assert during is not None and during.data == b"hot-0 1" and hub.generation == 1 and not woken.done()
    release.set()
    await scheduler.drain()
    assert await woken is True and hub.generation == 2
    prebuilt = [name for name, poll in built if poll == 2]
    assert prebuilt == keys[:PREBUILT_KEYS]
    for name in keys[:PREBUILT_KEYS]:
        body = await hub.body((name,), builder(name), "text/plain")
        assert body is not None and body.data == f"{name} 2".encode()
    assert len(built) == len(keys) + PREBUILT_KEYS  # nothing built again on demand
    rare = await hub.body((keys[-1],), builder(keys[-1]), "text/plain")
    assert rare is not None and rare.data == f"{keys[-1]} 2".encode() and len(built) == len(keys) + PREBUILT_KEYS + 1


async def test_a_failed_prebuild_publishes_the_poll_and_is_built_on_demand() -> None:
    hub, _, scheduler, _ = make_hub()
    hub.start()
    await scheduler.drain()
    failures = [RuntimeError("the first build of poll 2 fails")]

    def build(snapshot: FleetSnapshot) -> bytes:
        if snapshot.poll_number == 2 and failures:
            raise failures.pop()
        return str(snapshot.poll_number).encode()

    assert (await hub.body(("k",), build, "text/plain")) is not None
    hub.controller.poll_now()
    await scheduler.drain()
    assert hub.generation == 2 and not failures
    body = await hub.body(("k",), build, "text/plain")
    assert body is not None and body.data == b"2"


async def test_a_failed_build_is_not_cached() -> None:
    hub, _, scheduler, _ = make_hub()
    hub.start()
    await scheduler.drain()
    calls = []

    def flaky(snapshot: FleetSnapshot) -> bytes:
        calls.append(1)
        if len(calls) == 1:
            raise ValueError("boom")
        return b"ok"

    with pytest.raises(ValueError):
        await hub.body(("k",), flaky, "text/plain")
    body = await hub.body(("k",), flaky, "text/plain")
    assert body is not None and body.data == b"ok" and len(calls) == 2


async def test_long_polls_wake_on_a_poll_or_shutdown() -> None:
    hub, _, scheduler, _ = make_hub()
    hub.start()
    await scheduler.drain()
    assert await hub.wait_newer(0, 60) is True  # already newer: no wait
    woken = asyncio.create_task(hub.wait_newer(1, 60))
    await hub.until_waiting(1)
    scheduler.advance(INTERVAL)
    await scheduler.drain()
    assert await woken is True and hub.waiting == 0
    closing = asyncio.create_task(hub.wait_newer(hub.generation, 60))
    await hub.until_waiting(1)
    await hub.close()
    assert await closing is False


async def test_health_follows_polls_failures_and_the_clock() -> None:
    hub, source, scheduler, wall = make_hub()
    assert hub.health() == (503, {"status": "starting"})
    hub.start()
    await scheduler.drain()
    status, body = hub.health()
    assert status == 200 and body["status"] == "ok" and body["accounts_ok"] == 3 and body["accounts_error"] == 0
    source.fail = RuntimeError("no route to AWS")
    for _ in range(STALE_INTERVALS):
        wall.now += INTERVAL
        scheduler.advance(INTERVAL)
        await scheduler.drain()
    assert hub.last_error == "RuntimeError: no route to AWS"
    assert hub.health()[0] == 200 and hub.health()[1]["poll_age_seconds"] == STALE_INTERVALS * INTERVAL
    wall.now += 1
    status, body = hub.health()
    assert status == 503 and body["status"] == "stale" and body["accounts_ok"] == 3
    source.fail = None
    scheduler.advance(INTERVAL)
    await scheduler.drain()
    assert hub.health()[0] == 200 and hub.health()[1]["poll_age_seconds"] == 0
