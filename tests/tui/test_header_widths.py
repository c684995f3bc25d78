"""Issue 15: the header keeps pause, poll time and "N in error" at any width
(80 columns and below); the user name goes first, and it never ends at a bare
`polled`."""

from __future__ import annotations

import pytest

from heartbeat_tui.tui.screens.fleet import FleetServicesScreen
from tests.support.factory import ScriptedSource, make_snapshot
from tests.support.pilot import make_app, wait_until
from tests.support.screen_text import screen_lines

USER = "a-rather-long-operator-name (admin)"


@pytest.mark.parametrize("width", [120, 100, 80, 64, 56])
@pytest.mark.parametrize("fleet", [False, True])
async def test_pause_poll_time_and_errors_survive_any_width(width: int, fleet: bool) -> None:
    app = make_app(ScriptedSource(make_snapshot(errors={1: "timeout", 2: "denied"})), user=USER)
    async with app.run_test(size=(width, 30)) as pilot:
        await wait_until(pilot, lambda: app.polls_applied == 1)
        if fleet:
            app.push_screen(FleetServicesScreen())
            await pilot.pause()
        await pilot.press("p")
        await wait_until(pilot, lambda: app.paused)
        header = screen_lines(app)[0]
        assert "2 in error" in header, header
        assert "polled 12:00:00" in header, header
        assert "paused" in header, header
        assert not header.rstrip().endswith("polled"), header
        if width >= 120:  # the user name went first: the rest is whole
            assert USER not in header
            assert "2 in error: payments-prod, checkout-staging" in header and "paused (p resumes)" in header


async def test_a_wide_terminal_shows_everything() -> None:
    app = make_app(ScriptedSource(make_snapshot(errors={1: "timeout"})), user=USER)
    async with app.run_test(size=(160, 30)) as pilot:
        await wait_until(pilot, lambda: app.polls_applied == 1)
        await pilot.press("p")
        await wait_until(pilot, lambda: app.paused)
        header = screen_lines(app)[0]
        # Everything, the worst service problem too (cut at its end to fit).
        assert f"HeartBeat · {USER} │ 1 in error: payments-prod · shared-services: search-0005 " in header
        assert "│ polled 12:00:00 (" in header
        assert header.rstrip().endswith("s) · paused (p resumes)")
