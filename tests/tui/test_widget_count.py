"""A long-running dashboard does not grow: however many polls it applies, the
widgets alive stay those of its screens (a browser session runs for hours)."""

from __future__ import annotations

import gc
from collections import Counter
from datetime import timedelta

from textual.pilot import Pilot
from textual.widget import Widget

from heartbeat_tui import heap
from heartbeat_tui.models import FleetSnapshot
from heartbeat_tui.tui.app import HeartbeatApp
from tests.support.factory import FIXED_NOW, ScriptedSource, make_snapshot
from tests.support.pilot import make_app, wait_until


class ChangingSource(ScriptedSource):
    """A new poll each time, some CPU moved, and the first account failing on every
    third poll (so `e` is enabled, then dimmed, as it is in a real fleet)."""

    async def poll(self, only=None) -> FleetSnapshot:
        self.polls += 1
        n = self.polls
        errors = {0: "AccessDenied on ecs:ListClusters"} if n % 3 == 0 else None
        now = FIXED_NOW + timedelta(seconds=30 * n)
        return make_snapshot(accounts=4, clusters=2, services=6, poll=n, now=now, bump={n % 48: 30.0}, errors=errors)


async def widgets_alive(pilot: Pilot[None], app: HeartbeatApp) -> Counter[str]:
    """Every Widget object in the process, by class, attached or not (a leaked one
    is no longer in the DOM, so only the garbage collector still sees it).

    Counted with the polls paused and none in flight: the dashboard keeps what is
    alive frozen, out of gc's lists, and a poll's window (every 0.02 s here, on a
    thread) freezes again whatever the count has just thawed, so a count taken
    meanwhile missed widgets at random."""

    await pilot.press("p")
    await wait_until(pilot, lambda: app.paused and not app.polling, timeout=30)
    heap.release()
    gc.unfreeze()
    gc.collect()
    counted = Counter(type(o).__name__ for o in gc.get_objects() if isinstance(o, Widget))
    await pilot.press("p")
    await wait_until(pilot, lambda: not app.paused, timeout=30)
    return counted


async def test_widgets_stay_bounded_over_many_polls() -> None:
    app = make_app(ChangingSource(), interval_seconds=0.02)
    async with app.run_test(size=(140, 45)) as pilot:
        await wait_until(pilot, lambda: app.polls_applied >= 6, timeout=30)
        before = await widgets_alive(pilot, app)
        await wait_until(pilot, lambda: app.polls_applied >= 36, timeout=120)
        await pilot.pause()
        after = await widgets_alive(pilot, app)
    grown = {name: after[name] - before[name] for name in after if after[name] > before[name]}
    assert sum(before.values()) > 20  # the dashboard's widgets are counted
    # 30 more polls, 20 of them flipping `e` (a footer redraw each): at most one redraw's keys in flight
    # (before the fix, a footer's worth of dead keys stayed per redraw: about 170 here).
    assert sum(grown.values()) < 10, grown
