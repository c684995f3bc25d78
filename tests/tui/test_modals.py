"""The help screen and the account-error view are one kind of modal (`PanelModal`):
a framed panel that `j`/`k` and the arrows scroll, closed by its own keys."""

from __future__ import annotations

import pytest
from textual.containers import VerticalScroll

from heartbeat_tui.tui.screens.account_error import AccountErrorScreen
from heartbeat_tui.tui.screens.help import HelpScreen
from heartbeat_tui.tui.screens.modal import PanelModal
from tests.support.factory import ScriptedSource, make_snapshot
from tests.support.pilot import make_app, wait_until

# Long enough to wrap into more lines than an 80x24 terminal has.
LONG_REASON = "STS AssumeRole: " + " ".join(f"word{n}" for n in range(600))

MODALS = [
    # (screen, keys that open it from the dashboard, keys that close it, its binding id prefix)
    (HelpScreen, ("question_mark",), ("escape", "q", "question_mark"), "help"),
    (AccountErrorScreen, ("j", "j", "j", "e"), ("escape", "q", "e"), "account_error"),
]


@pytest.mark.parametrize(("screen_type", "open_keys", "close_keys", "name"), MODALS, ids=["help", "account_error"])
async def test_panel_modals_scroll_and_close(
    screen_type: type[PanelModal], open_keys: tuple[str, ...], close_keys: tuple[str, ...], name: str
) -> None:
    assert [b.id for b in screen_type.BINDINGS] == [f"{name}.close", f"{name}.down", f"{name}.up"]  # type: ignore[union-attr]
    app = make_app(ScriptedSource(make_snapshot(accounts=4, services=40, errors={3: LONG_REASON})))
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_until(pilot, lambda: app.polls_applied == 1)
        dashboard = app.screen
        await pilot.press(*open_keys)
        await wait_until(pilot, lambda: isinstance(app.screen, screen_type))
        screen = app.screen
        assert isinstance(screen, PanelModal)
        panel = screen.query_one(VerticalScroll)
        assert panel.border_subtitle == "Esc closes"
        assert panel.max_scroll_y >= 3, panel.max_scroll_y
        for key, expected in (("j", 1), ("down", 2), ("j", 3), ("k", 2), ("up", 1)):
            await pilot.press(key)
            await wait_until(pilot, lambda expected=expected: panel.scroll_y == expected)
        for key in close_keys:
            if not isinstance(app.screen, screen_type):
                await pilot.press(open_keys[-1])
                await wait_until(pilot, lambda: isinstance(app.screen, screen_type))
            await pilot.press(key)
            await wait_until(pilot, lambda: app.screen is dashboard)
        assert app.is_running  # `q` closed the modal, not the app
