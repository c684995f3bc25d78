"""Issue 15: the fleet view sizes account and cluster to their names, keeps the
selected row's full names visible at 80 columns, and uses a wide terminal."""

from __future__ import annotations

from heartbeat_tui.tui.screens.fleet import FleetServicesScreen
from heartbeat_tui.tui.widgets.service_table import ServiceTable
from tests.support.factory import ScriptedSource, make_snapshot
from tests.support.pilot import make_app, wait_until
from tests.support.screen_text import screen_lines, screen_text


async def test_full_names_at_120_columns() -> None:
    app = make_app(ScriptedSource(make_snapshot(accounts=4, clusters=2, services=14)))
    async with app.run_test(size=(120, 30)) as pilot:
        await wait_until(pilot, lambda: app.polls_applied == 1)
        app.push_screen(FleetServicesScreen())
        await pilot.pause()
        text = screen_text(app)
        accounts = {a.display_name for a in app.snapshot.accounts}
        assert "checkout-staging" in accounts
        for name in accounts:
            assert f"│{name} " in text or f" {name} " in text, name
        assert "…" not in "".join(line[:40] for line in screen_lines(app)[3:20])


async def test_the_selected_rows_names_are_whole_at_80_columns() -> None:
    app = make_app(ScriptedSource(make_snapshot(accounts=4, clusters=2, services=14)))
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_until(pilot, lambda: app.polls_applied == 1)
        app.push_screen(FleetServicesScreen())
        await pilot.pause()
        table = app.screen.query_one(ServiceTable)
        for _ in range(3):
            row = table.cursor_row
            assert row is not None
            bottom = screen_lines(app)[table.region.bottom - 1]
            assert f"{row.account} · {row.cluster} · {row.name}" in bottom
            await pilot.press("j")
            await pilot.pause()


async def test_a_wide_terminal_gives_the_sparklines_its_width() -> None:
    app = make_app(ScriptedSource(make_snapshot(accounts=4, clusters=2, services=14)))
    async with app.run_test(size=(200, 30)) as pilot:
        await wait_until(pilot, lambda: app.polls_applied == 1)
        app.push_screen(FleetServicesScreen())
        await pilot.pause()
        header = next(line for line in screen_lines(app) if "ACCOUNT" in line)
        # CPU's column reaches MEM's label 25 cells on: a 20-cell sparkline, not 10.
        assert header.index("MEM") - header.index("CPU") == 26
