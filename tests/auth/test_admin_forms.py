"""Issue 15, the admin screens: allowed accounts are picked from the polled
accounts (and the field has a size of its own), Enter reaches the Role select,
the role column shows whole roles, `j`/`k` move in the users table."""

from __future__ import annotations

from typing import Any

from textual.widgets import DataTable, Select, SelectionList

from heartbeat_tui.auth.service import AuthService, Session
from heartbeat_tui.tui.screens.admin import AdminScreen, FormScreen
from tests.support.auth import PASSWORD
from tests.support.factory import account_id
from tests.support.pilot import wait_until
from tests.support.screen_text import screen_text

from .tui_support import FilteringSource, logged_in, make_secure_app


async def open_users(pilot: Any, app: Any) -> AdminScreen:
    await logged_in(pilot, app)
    await wait_until(pilot, lambda: app.snapshot is not None)
    await pilot.press("a")
    await wait_until(pilot, lambda: isinstance(app.screen, AdminScreen) and app.screen.users)
    return app.screen


async def test_new_user_form_at_80x24(config: Any, service: AuthService, admin: Session) -> None:
    source = FilteringSource()
    app = make_secure_app(config, source)
    async with app.run_test(size=(80, 24)) as pilot:
        await open_users(pilot, app)
        await pilot.press("n")
        await wait_until(pilot, lambda: isinstance(app.screen, FormScreen))
        form = app.screen
        await pilot.press(*"carol", "enter", *PASSWORD, "enter", *PASSWORD, "enter")
        assert isinstance(app.focused, Select) and app.focused.id == "role"  # Enter no longer skips it
        picks = form.query_one("#accounts", SelectionList)
        # A list of its own height, not an empty box nor the whole modal.
        assert 0 < picks.region.height <= 8
        labels = [str(picks.get_option_at_index(i).prompt) for i in range(picks.option_count)]
        assert labels == [f"{a.display_name} ({a.id})" for a in source.snapshot.accounts]
        app.set_focus(picks)
        await pilot.press("down", "space")  # the second account
        await pilot.press("ctrl+s")
        await wait_until(pilot, lambda: not isinstance(app.screen, FormScreen))
        carol = await service.get_user(admin, "carol")
        assert carol.accounts == (account_id(1),)


async def test_users_table_moves_with_j_k_and_shows_whole_roles(
    config: Any, service: AuthService, admin: Session
) -> None:
    for name in ("dave", "erin"):
        await service.create_user(admin, username=name, password=PASSWORD, role="user", accounts=[account_id(0)])
    app = make_secure_app(config)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_users(pilot, app)
        table = screen.query_one(DataTable)
        table.move_cursor(row=0)
        first = screen.selected()
        await pilot.press("j")
        assert screen.selected() != first and table.cursor_row == 1
        await pilot.press("k")
        assert screen.selected() == first
        table.move_cursor(row=table.get_row_index("dave"))
        await pilot.press("o")
        await wait_until(pilot, lambda: isinstance(app.screen, FormScreen))
        app.screen.query_one("#role", Select).value = "monitor"
        await pilot.press("ctrl+s")
        await wait_until(pilot, lambda: screen.users["dave"].role.value == "monitor")
        await pilot.pause()
        row = next(line for line in screen_text(app).splitlines() if " dave " in f" {line} ")
        assert " monitor " in row
