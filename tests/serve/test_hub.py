"""The hub alone (a fake source, a hand-driven clock): one poller on the
controller's timer, answers built once per poll, long-polls, /health."""

from __future__ import annotations

import asyncio

import pytest

from heartbeat_tui.controller import ManualScheduler
from heartbeat_tui.models import FleetSnapshot
from heartbeat_tui.serve.hub import MAX_CACHED_BODIES, STALE_INTERVALS, Hub, generation_of
from tests.serve.conftest import Wall
from tests.support.controller import FakeSource

INTERVAL = 30.0


def make_hub() -> tuple[Hub, FakeSource, ManualScheduler, Wall]:
    source, scheduler, wall = FakeSource(), ManualScheduler(), Wall()
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
    newer = await hub.body(("k",), build, "text/plain")
    assert newer is not None and generation_of(newer.etag) == 2 and len(builds) == 3

    for n in range(MAX_CACHED_BODIES + 5):  # arbitrary filters: answered, the cache stays bounded
        await hub.body(("filter", n), build, "text/plain")
    before = len(builds)
    await hub.body(("filter", MAX_CACHED_BODIES + 4), build, "text/plain")
    assert len(builds) == before + 1
    await hub.body(("filter", 0), build, "text/plain")
    assert len(builds) == before + 1


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
