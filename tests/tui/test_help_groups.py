"""Issue 15: help grouped by what the keys do, without noise; the palette's
first entries are the useful ones."""

from __future__ import annotations

import re

from heartbeat_tui.tui.commands import HeartbeatCommands
from heartbeat_tui.tui.screens.help import HelpScreen
from tests.support.factory import ScriptedSource, make_snapshot
from tests.support.pilot import make_app, wait_until
from tests.support.screen_text import screen_lines


async def test_help_is_grouped_and_says_each_move_once() -> None:
    app = make_app(ScriptedSource(make_snapshot()))
    async with app.run_test(size=(120, 50)) as pilot:
        await wait_until(pilot, lambda: app.polls_applied == 1)
        await pilot.press("tab", "question_mark")  # the clusters pane: `l` is the next pane there
        await pilot.pause()
        assert isinstance(app.screen, HelpScreen)
        lines = screen_lines(app)

        def heading(name: str) -> int:
            return next(i for i, line in enumerate(lines) if re.search(rf"│  {name}\s+│", line))

        assert heading("Look") < heading("Act") < heading("Move")
        text = "\n".join(screen_lines(app))
        assert "Focus Next" not in text and "Focus Previous" not in text
        assert "l/tab" in text and "h/shift+tab" in text
        assert "scroll_left" not in text and "Scroll left" not in text
        below = "\n".join(lines[heading("Move") :])
        for move_key in ("Next pane", "Previous pane"):
            assert move_key in below


async def test_the_palette_starts_with_what_an_operator_opens_it_for() -> None:
    app = make_app(ScriptedSource(make_snapshot()))
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_until(pilot, lambda: app.polls_applied == 1)
        await pilot.press("tab", "tab")  # the services pane: its cursor keys come first in the binding chain
        titles = [hit.text async for hit in HeartbeatCommands(app.screen).discover()]
        assert titles[:4] == ["Fleet-wide", "Filter", "Notifications", "Refresh"]
        assert "Down" not in titles and "Up" not in titles


async def test_in_a_services_table_tab_is_the_next_pane_and_l_the_logs() -> None:
    app = make_app(ScriptedSource(make_snapshot()))
    async with app.run_test(size=(120, 50)) as pilot:
        await wait_until(pilot, lambda: app.polls_applied == 1)
        await pilot.press("tab", "tab", "question_mark")  # nothing is right of the services pane
        await pilot.pause()
        text = "\n".join(screen_lines(app))
        assert "Focus Next" not in text and "Focus Previous" not in text
        assert re.search(r"│\s+tab\s+Next pane\s", text) and re.search(r"│\s+l\s+Logs\s", text), text
