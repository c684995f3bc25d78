"""`p` pauses the refresh (the tables hold still while read) and resumes it with
a poll; `r` still polls once while paused. The timers run on a hand-driven clock."""

from __future__ import annotations

from heartbeat_tui.controller import ManualScheduler
from tests.support.factory import ScriptedSource, make_snapshot
from tests.support.pilot import make_app, wait_until
from tests.support.screen_text import screen_lines


async def test_pause_holds_the_polls_and_resume_polls_at_once() -> None:
    source = ScriptedSource(make_snapshot(accounts=2, clusters=1, services=3))
    clock = ManualScheduler()
    app = make_app(source, interval_seconds=30.0, scheduler=clock, monotonic=clock.monotonic)
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_until(pilot, lambda: source.polls == 1 and not app.polling)
        assert "next in 30 s" in screen_lines(app)[0]
        clock.advance(30.0)  # polling on the timer
        await wait_until(pilot, lambda: source.polls == 2 and not app.polling)

        await pilot.press("p")
        await wait_until(pilot, lambda: app.paused)
        held = source.polls
        assert "paused (p resumes)" in screen_lines(app)[0]
        assert clock.advance(100.0) == 0  # more than three intervals: nothing was armed
        await pilot.pause()
        assert source.polls == held

        await pilot.press("r")  # one poll, still paused
        await wait_until(pilot, lambda: source.polls == held + 1 and not app.polling)
        assert clock.advance(100.0) == 0 and clock.pending == []
        await pilot.pause()
        assert source.polls == held + 1 and app.paused
        assert app.next_poll_at is None

        await pilot.press("p")  # resumed: a poll now, then on the timer again
        await wait_until(pilot, lambda: source.polls == held + 2 and not app.polling)
        assert "paused" not in screen_lines(app)[0]
        clock.advance(30.0)
        await wait_until(pilot, lambda: source.polls == held + 3)
