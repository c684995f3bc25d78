"""Find the problem first: the severity order as the default sort, ctrl+z for
problems only, k9s sort keys, colours that keep their meaning under the cursor,
stale data dimmed in every pane, and filter messages shown whole."""

from __future__ import annotations

import math

import pytest
from rich.color import Color
from textual.widgets import Static

from heartbeat_tui.models import AccountSnapshot, AccountStatus
from heartbeat_tui.tui.screens.fleet import FleetServicesScreen
from heartbeat_tui.tui.styles import Status
from heartbeat_tui.tui.view import Thresholds
from heartbeat_tui.tui.widgets.pane_table import PaneTable
from heartbeat_tui.tui.widgets.service_table import ServiceTable
from tests.support.factory import ScriptedSource, make_snapshot
from tests.support.pilot import make_app, wait_until
from tests.support.screen_text import screen_text

# Services 0-17 over 3 accounts of 2 clusters of 3: shared-services has a FAILED
# rollout (search-0005) and one below desired (ledger-0003), payments-prod has
# nothing past the warning threshold, checkout-staging one below desired.
LIMITS = Thresholds(warning=70, critical=99)


def fleet():
    return make_snapshot(accounts=3, clusters=2, services=3)


def problems_app(snapshot=None, **kwargs):
    return make_app(ScriptedSource(snapshot or fleet()), thresholds=LIMITS, **kwargs)


def keys(table: PaneTable) -> list[str]:
    return [key.value for key in table.rows]


async def test_ctrl_z_shows_only_problems_in_every_table_and_says_so() -> None:
    app = problems_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_until(pilot, lambda: app.polls_applied == 1)
        accounts = app.screen.query_one("#accounts", PaneTable)
        clusters = app.screen.query_one("#clusters", PaneTable)
        services = app.screen.query_one("#services", ServiceTable)
        assert accounts.row_count == 3 and clusters.row_count == 2
        assert "problems only" not in screen_text(app)

        await pilot.press("ctrl+z")
        await pilot.pause()
        view = app.state.view
        assert [view.accounts[k].name for k in keys(accounts)] == ["shared-services", "checkout-staging"]
        # shared-0 (api, worker, gateway) has no problem; shared-1 has two.
        assert [k.rsplit("/", 1)[-1] for k in keys(clusters)] == ["shared-1"]
        assert [services.rows[k].name for k in services.order] == ["search-0005", "ledger-0003"]
        assert "Services · shared-1 · 2/3 · sort worst first · problems only" in screen_text(app)
        assert "problems only (ctrl+z)" in screen_text(app)  # the header

        # The switch is the app's: the fleet view opens with it on.
        await pilot.press("f")
        await wait_until(pilot, lambda: isinstance(app.screen, FleetServicesScreen))
        table = app.screen.query_one(ServiceTable)
        assert [table.rows[k].name for k in table.order] == ["search-0005", "ledger-0003", "gateway-0014"]
        await pilot.press("ctrl+z")
        await pilot.pause()
        assert len(table.order) == 18 and "problems only" not in screen_text(app)
        await pilot.press("escape")
        await pilot.pause()
        assert accounts.row_count == 3 and services.problems_only is False


async def test_the_header_and_the_accounts_pane_name_the_worst_thing() -> None:
    app = problems_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_until(pilot, lambda: app.polls_applied == 1)
        text = screen_text(app)
        assert "3 accounts ok · shared-services: search-0005 rollout FAILED │" in text.splitlines()[0]
        assert "210987654321 · ok · 6 services · 2 with" in text  # under the pane, wrapped:
        assert "problems · worst: search-0005 rollout FAILED" in text
        accounts = app.screen.query_one("#accounts", PaneTable)
        problems = accounts.get_cell(keys(accounts)[0], "problems")
        assert problems.plain.strip() == "2"
        assert problems.style.color == app.status_style(Status.FAILED).color


async def test_shift_letters_sort_as_in_k9s_and_the_cursor_goes_to_the_top() -> None:
    app = problems_app(make_snapshot(accounts=3, clusters=2, services=10))
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_until(pilot, lambda: app.polls_applied == 1)
        await pilot.press("f")
        await wait_until(pilot, lambda: isinstance(app.screen, FleetServicesScreen))
        table = app.screen.query_one(ServiceTable)
        assert table.sort_column == "severity" and table.cursor_index == 0
        await pilot.press("j", "j", "j", "j", "j", "M")
        assert table.sort_column == "mem" and table.cursor_index == 0
        mems = [table.rows[k].mem for k in table.order]
        assert mems == sorted(mems, reverse=True)
        await pilot.press("j", "j", "M")  # again: reversed
        assert table.cursor_index == 0 and [table.rows[k].mem for k in table.order] == sorted(mems)
        await pilot.press("j", "s")  # s and S too
        assert table.cursor_index == 0
        await pilot.press("A")
        accounts = [table.rows[k].account for k in table.order]
        assert table.sort_column == "account" and accounts == sorted(accounts)
        await pilot.press("P")
        assert table.sort_column == "severity"
        assert table.rows[table.order[0]].rollout == "FAILED"
        assert "sort worst first" in screen_text(app)
        # Each column's letter is underlined in its header.
        header = table.render_line(0)
        underlined = "".join(s.text for s in header if s.style is not None and s.style.underline)
        assert underlined == "AUETROCMI"  # the fleet view's columns are sized to fit LAST SCALING too
        assert table.render_line(0).text.startswith("ACCOUNT")


def _contrast(a: Color, b: Color) -> float:
    def luminance(color: Color) -> float:
        channels = []
        for value in color.get_truecolor():
            c = value / 255
            channels.append(c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4)
        r, g, b_ = channels
        return 0.2126 * r + 0.7152 * g + 0.0722 * b_

    high, low = sorted((luminance(a), luminance(b)), reverse=True)
    return (high + 0.05) / (low + 0.05)


def _distance(a: Color, b: Color) -> float:
    return math.dist(a.get_truecolor(), b.get_truecolor())


def _segment(table: ServiceTable, y: int, text: str):
    return next(s for s in table.render_line(y) if text in s.text)


@pytest.mark.parametrize("theme", ["heartbeat-dark", "heartbeat-light"])
async def test_colour_keeps_its_meaning_under_the_cursor(theme: str) -> None:
    app = problems_app(theme=theme)
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_until(pilot, lambda: app.polls_applied == 1)
        await pilot.press("j", "tab", "tab")  # payments-prod has none: shared-services again
        await pilot.press("shift+tab", "shift+tab", "k", "tab", "j", "tab")
        await pilot.pause()
        table = app.screen.query_one("#services", ServiceTable)
        assert app.screen.focused is table
        assert table.cursor_row.rollout == "FAILED" and table.cursor_index == 0
        failed = app.status_style(Status.FAILED).color
        focused = _segment(table, 1, "FAILED").style
        assert focused.color == failed
        assert _contrast(focused.color, focused.bgcolor) >= 3.0
        plain_row = _segment(table, 2, "COMPLETED").style
        surface = plain_row.bgcolor
        await pilot.press("shift+tab")  # the clusters pane takes the focus
        await pilot.pause()
        blurred = _segment(table, 1, "FAILED").style
        assert blurred.color == failed
        # Dim: nearer the table's own background than the focused cursor, but still there.
        assert 0 < _distance(blurred.bgcolor, surface) < _distance(focused.bgcolor, surface)
        # The accounts pane too: its "ok" badge stays green on the selected row.
        await pilot.press("shift+tab")
        await pilot.pause()
        accounts = app.screen.query_one("#accounts", PaneTable)
        badge = next(s for s in accounts.render_line(1) if s.text.strip() == "ok").style
        assert accounts.cursor_row == 0 and badge.color == app.status_style(Status.OK).color
        # The same cursor as the services pane (up to DataTable's 5% focus tint).
        assert _distance(badge.bgcolor, focused.bgcolor) < 16


async def test_stale_data_is_dimmed_everywhere_and_an_account_never_read_is_not() -> None:
    snapshot = make_snapshot(accounts=3, clusters=2, services=3, errors={1: "STS AssumeRole: AccessDenied"})
    never = AccountSnapshot(id="999999999999", alias="never-read", status=AccountStatus.ERROR, error="no route")
    snapshot = snapshot.model_copy(update={"accounts": (*snapshot.accounts, never)})
    app = problems_app(snapshot)
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_until(pilot, lambda: app.polls_applied == 1)
        accounts = app.screen.query_one("#accounts", PaneTable)
        ids = keys(accounts)
        stale_name = accounts.get_cell(ids[1], "name")
        never_name = accounts.get_cell(ids[3], "name")
        assert stale_name.style.color == app.status_style(Status.STALE).color
        assert never_name.style.color == app.status_style(Status.CRITICAL).color
        await pilot.press("j")  # payments-prod, stale since an hour
        await pilot.pause()
        clusters = app.screen.query_one("#clusters", PaneTable)
        for key in keys(clusters):
            for column in ("name", "tasks", "cpu", "region"):
                assert accounts.app is app and clusters.get_cell(key, column).style.dim, (key, column)
        services = app.screen.query_one("#services", ServiceTable)
        row = _segment(services, 1, services.rows[services.order[0]].name).style
        assert row.dim


async def test_filter_errors_are_shown_whole_and_cpu_gt_80_gets_a_hint() -> None:
    app = problems_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_until(pilot, lambda: app.polls_applied == 1)
        await pilot.press("f")
        await wait_until(pilot, lambda: isinstance(app.screen, FleetServicesScreen))
        await pilot.press("slash", *"foo:1")
        await pilot.pause()
        message = app.screen.query_one(".filter-message", Static)
        full = "unknown field 'foo' in 'foo:1'; fields: " + (
            "name, status, rollout, account, region, cluster, launch, cpu, mem, running, desired, pending, problem"
        )
        assert str(message.render()) == full
        region = message.content_region
        assert region.height >= 2 and region.width * region.height >= len(full)
        assert region.bottom <= app.screen.region.bottom - 1  # above the footer
        shown = " ".join(" ".join(screen_text(app).split()).split())
        assert full in shown
        await pilot.press(*["backspace"] * 5, *"cpu>80")
        await pilot.pause()
        assert "'cpu>80': a field needs a colon before the comparison: cpu:>80" in screen_text(app)
        await pilot.press(*["backspace"] * 6, *"problem:yes", "enter")
        await pilot.pause()
        table = app.screen.query_one(ServiceTable)
        assert [table.rows[k].name for k in table.order] == ["search-0005", "ledger-0003", "gateway-0014"]
