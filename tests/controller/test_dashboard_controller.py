"""The controller in plain asyncio: a fake source, a hand-driven clock, no Textual."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from heartbeat_tui.collector import Collector
from heartbeat_tui.controller import (
    OPEN,
    DashboardController,
    FleetSource,
    ManualScheduler,
    Refused,
    ScopedSource,
)
from heartbeat_tui.controller.access import Action
from heartbeat_tui.controller.threaded import ThreadedSource
from tests.support.controller import FLEET, IDS, FakeSource, Recorder


class Policy:
    """A session's policy, settable by the test."""

    def __init__(self, scope: frozenset[str] | None = None, *, active: bool = True, refresh: bool = True) -> None:
        self.active = active
        self.scope = scope
        self.refresh = refresh

    def permits(self, action: Action) -> bool:
        return self.active and (action != "refresh" or self.refresh)

    async def authorize(self, action: Action) -> None:
        if not self.permits(action):
            raise Refused(f"{action} refused")


def controller(source: FakeSource, clock: ManualScheduler, **kwargs: Any) -> tuple[DashboardController, Recorder]:
    recorder = Recorder()
    kwargs.setdefault("interval_seconds", 30.0)
    made = DashboardController(source, recorder, clock, monotonic=clock.monotonic, **kwargs)
    return made, recorder


async def settle(clock: ManualScheduler) -> None:
    await clock.drain()


def test_every_source_satisfies_the_protocol() -> None:
    fake = FakeSource()
    for source in (
        fake,
        ScopedSource(fake, frozenset()),
        Collector.__new__(Collector),
        ThreadedSource.__new__(ThreadedSource),
    ):
        assert isinstance(source, FleetSource), type(source)
    assert not isinstance(object(), FleetSource)


async def test_polls_on_start_then_on_the_timer_never_overlapping() -> None:
    source, clock = FakeSource(), ManualScheduler()
    made, seen = controller(source, clock)
    source.hold = asyncio.Event()
    made.start()
    assert made.status.polling and made.status.next_poll_at is None
    assert not made.poll_now()  # one at a time
    source.hold.set()
    await settle(clock)
    assert source.polls == [None] and seen.snapshots == [tuple(IDS)]
    assert not made.status.polling and made.status.next_poll_at == 30.0 and clock.pending == [30.0]
    clock.advance(29.0)
    assert len(source.polls) == 1
    clock.advance(1.0)
    await settle(clock)
    assert len(source.polls) == 2 and seen.previous[-1] is not None
    assert made.status.next_poll_at == 60.0


async def test_a_failed_poll_is_reported_and_the_next_one_armed() -> None:
    source, clock = FakeSource(), ManualScheduler()
    made, seen = controller(source, clock)
    source.fail = RuntimeError("no route")
    made.start()
    await settle(clock)
    assert seen.failures == ["RuntimeError: no route"] and made.status.last_error == "RuntimeError: no route"
    assert made.status.next_poll_at == 30.0
    source.fail = None
    clock.advance(30.0)
    await settle(clock)
    assert made.status.last_error is None and seen.snapshots == [tuple(IDS)]


async def test_pause_holds_the_timer_refresh_polls_once_resume_polls_now() -> None:
    source, clock = FakeSource(), ManualScheduler()
    made, _ = controller(source, clock)
    made.start()
    await settle(clock)
    assert made.toggle_pause() is True
    assert made.status.paused and made.status.next_poll_at is None and clock.pending == []
    assert clock.advance(300.0) == 0 and len(source.polls) == 1
    assert await made.refresh()
    await settle(clock)
    assert len(source.polls) == 2 and source.relists == 1 and clock.pending == []
    assert made.toggle_pause() is False
    assert made.status.polling
    await settle(clock)
    assert len(source.polls) == 3 and clock.pending == [300.0 + 30.0]


async def test_the_warm_start_accounts_come_first() -> None:
    source, clock = FakeSource(), ManualScheduler()
    made, seen = controller(source, clock, warm_start=[IDS[1]])
    made.start()
    await settle(clock)
    assert source.polls == [(IDS[1],), None]
    assert seen.snapshots == [(IDS[1],), tuple(IDS)]


async def test_the_policy_scopes_polls_details_and_refreshes() -> None:
    source, clock = FakeSource(), ManualScheduler()
    policy = Policy(frozenset({IDS[0]}), refresh=False)
    made, seen = controller(source, clock, policy=policy)
    made.start()
    await settle(clock)
    assert source.polls == [(IDS[0],)] and seen.snapshots == [(IDS[0],)]
    assert made.admits(FLEET) is False
    with pytest.raises(Exception, match="allow-list"):
        await made.fetch_service_detail(IDS[1], "us-east-1", "arn", "svc")
    with pytest.raises(Refused, match="refresh refused"):
        await made.refresh()
    assert len(source.polls) == 1 and source.relists == 0


async def test_nothing_is_polled_without_a_session_and_begin_starts_unpaused() -> None:
    source, clock = FakeSource(), ManualScheduler()
    policy = Policy(active=False)
    made, seen = controller(source, clock, policy=policy)
    made.start()
    made.toggle_pause()
    await settle(clock)
    assert source.polls == [] and clock.pending == []
    policy.active, policy.scope = True, frozenset({IDS[2]})
    made.begin()
    await settle(clock)
    assert not made.status.paused and source.polls == [(IDS[2],)] and seen.snapshots == [(IDS[2],)]


async def test_forget_drops_the_running_poll_and_its_result() -> None:
    source, clock = FakeSource(), ManualScheduler()
    policy = Policy()
    made, seen = controller(source, clock, policy=policy)
    source.hold = asyncio.Event()
    made.start()
    await asyncio.sleep(0)  # the poll is under way
    made.forget()
    policy.active = False
    source.hold.set()
    await settle(clock)
    assert seen.snapshots == [] and not made.status.polling and clock.pending == []
    assert made.admits(FLEET) is False


async def test_a_prefetch_is_shown_to_the_first_session_only_cut_to_its_scope() -> None:
    source, clock = FakeSource(), ManualScheduler()
    policy = Policy(active=False)
    made, seen = controller(source, clock, policy=policy, warm_start=[IDS[0]])
    made.prefetch()
    await settle(clock)
    assert made.prefetch_finished and source.polls == [(IDS[0],), None]
    policy.active, policy.scope = True, frozenset({IDS[1]})
    made.begin()
    await settle(clock)
    assert source.polls == [(IDS[0],), None]  # nothing polled again: the prefetch was fresh
    assert seen.snapshots[-1] == (IDS[1],)
    made.forget()
    made.begin()
    await settle(clock)
    assert source.polls[-1] == (IDS[1],) and not made.prefetch_finished


async def test_a_stale_prefetch_is_polled_again_at_once() -> None:
    source, clock = FakeSource(), ManualScheduler()
    policy = Policy(active=False)
    made, seen = controller(source, clock, policy=policy)
    made.prefetch()
    await settle(clock)
    clock.now += 31.0  # older than one interval when the session starts
    policy.active = True
    made.begin()
    await settle(clock)
    assert source.polls == [None, None] and len(seen.snapshots) == 2


async def test_a_closed_controller_arms_nothing() -> None:
    source, clock = FakeSource(), ManualScheduler()
    made, _ = controller(source, clock, policy=OPEN)
    made.close()
    assert not made.poll_now()
    made.start()
    await settle(clock)
    assert source.polls == [] and clock.pending == []
