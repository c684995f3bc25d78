"""SVG snapshots (pytest-textual-snapshot) of the dashboard, the detail screen
and help, at 120x40 and 80x24. Time is frozen and the data deterministic.

Update after an intended change: `python -m pytest tests/tui/test_snapshots.py --snapshot-update`.
"""

from __future__ import annotations

import pytest

from heartbeat_tui.tui.screens.detail import ServiceDetailScreen
from heartbeat_tui.tui.screens.logs import LogsScreen
from tests.support.factory import ScriptedSource, make_snapshot, sample_detail, sample_logs
from tests.support.pilot import make_app

SIZES = [(120, 40), (80, 24)]


def snapshot_app():
    source = ScriptedSource(
        make_snapshot(accounts=4, clusters=2, services=14, errors={3: "STS AssumeRole: AccessDenied"}),
        detail=sample_detail(),
    )
    return make_app(source)


async def _first_poll(pilot) -> None:
    app = pilot.app
    for _ in range(250):
        if app.polls_applied >= 1:
            break
        await pilot.pause(0.02)
    await pilot.pause()


async def _detail_loaded(pilot) -> None:
    await _first_poll(pilot)
    await pilot.press("tab", "tab", "E", "j", "j", "j", "enter")  # by name: the same service as ever
    app = pilot.app
    for _ in range(250):
        screen = app.screen
        if isinstance(screen, ServiceDetailScreen) and screen.detail is not None:
            break
        await pilot.pause(0.02)
    await pilot.pause()


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_dashboard(snap_compare, size) -> None:
    assert snap_compare(snapshot_app(), terminal_size=size, run_before=_first_poll)


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_fleet_view_filtered(snap_compare, size) -> None:
    async def run_before(pilot) -> None:
        await _first_poll(pilot)
        await pilot.press("f", "slash", *"mem:>=50", "enter")
        await pilot.pause()

    assert snap_compare(snapshot_app(), terminal_size=size, run_before=run_before)


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_fleet_view_worst_first(snap_compare, size) -> None:
    """The default order: the account in error, then FAILED rollouts, below desired, ..."""

    async def run_before(pilot) -> None:
        await _first_poll(pilot)
        await pilot.press("f")
        await pilot.pause()

    assert snap_compare(snapshot_app(), terminal_size=size, run_before=run_before)


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_problems_only(snap_compare, size) -> None:
    """ctrl+z: every pane shows only what has a problem, and says so."""

    async def run_before(pilot) -> None:
        await _first_poll(pilot)
        await pilot.press("ctrl+z", "tab", "tab")
        await pilot.pause()

    assert snap_compare(snapshot_app(), terminal_size=size, run_before=run_before)


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_detail(snap_compare, size) -> None:
    assert snap_compare(snapshot_app(), terminal_size=size, run_before=_detail_loaded)


DENIED = (
    "STS AssumeRole: access denied (AccessDenied: User: arn:aws:sts::123456789012:assumed-role/HeartbeatHub/"
    "heartbeat is not authorized to perform: sts:AssumeRole on resource: "
    "arn:aws:iam::{account}:role/platform/HeartbeatReadOnlyCrossAccount)"
)


def denied_app():
    from tests.support.factory import account_id

    snapshot = make_snapshot(accounts=4, clusters=2, services=14, errors={3: DENIED.format(account=account_id(3))})
    return make_app(ScriptedSource(snapshot, detail=sample_detail()))


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_denied_account_selected(snap_compare, size) -> None:
    """Its reason cut to the banner's and the pane's width, the role still readable."""

    async def run_before(pilot) -> None:
        await _first_poll(pilot)
        await pilot.press("j", "j", "j")
        await pilot.pause()

    assert snap_compare(denied_app(), terminal_size=size, run_before=run_before)


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_account_error_view(snap_compare, size) -> None:
    """`e`: the whole reason, wrapped."""

    async def run_before(pilot) -> None:
        await _first_poll(pilot)
        await pilot.press("j", "j", "j", "e")
        await pilot.pause()

    assert snap_compare(denied_app(), terminal_size=size, run_before=run_before)


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_help(snap_compare, size) -> None:
    async def run_before(pilot) -> None:
        await _first_poll(pilot)
        await pilot.press("tab", "tab", "question_mark")
        await pilot.pause()

    assert snap_compare(snapshot_app(), terminal_size=size, run_before=run_before)


async def _notices(pilot) -> None:
    """A poll's worth of notices: an error, then a burst summarised per account, then paused."""
    await _first_poll(pilot)
    app = pilot.app
    app.notify("checkout-staging went to error: STS AssumeRole: AccessDenied", severity="error")
    app.notify("payments-prod: 3 services scaled: payments-0/api-0000 2→4, payments-0/billing-0004 2→3, …")
    await pilot.press("p")
    await pilot.pause()


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_flash_bar_paused(snap_compare, size) -> None:
    assert snap_compare(snapshot_app(), terminal_size=size, run_before=_notices)


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_notification_history(snap_compare, size) -> None:
    async def run_before(pilot) -> None:
        await _notices(pilot)
        await pilot.press("n")
        await pilot.pause()

    assert snap_compare(snapshot_app(), terminal_size=size, run_before=run_before)


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_fleet_view_paused(snap_compare, size) -> None:
    async def run_before(pilot) -> None:
        await _notices(pilot)
        await pilot.press("f")
        await pilot.pause()

    assert snap_compare(snapshot_app(), terminal_size=size, run_before=run_before)


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_new_user_form(snap_compare, size) -> None:
    """The New-user form over the users screen (no users store here: the table
    stays empty): allowed accounts a pick list of the polled accounts, the
    flash line below, nothing on top of the form."""

    async def run_before(pilot) -> None:
        from heartbeat_tui.tui.screens.admin import AdminScreen

        await _first_poll(pilot)
        await pilot.app.push_screen(AdminScreen())
        await pilot.pause()
        await pilot.press("n")
        await pilot.pause()
        await pilot.press(*"carol", "enter", "tab", "tab", "tab")  # to the account picks
        await pilot.press("down", "space")
        await pilot.pause()

    assert snap_compare(snapshot_app(), terminal_size=size, run_before=run_before)


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_logs(snap_compare, size) -> None:
    """`l` on a service: two containers, two tasks, a warning and an error burst."""

    async def run_before(pilot) -> None:
        await _first_poll(pilot)
        await pilot.press("tab", "tab", "E", "j", "j", "j", "l")  # by name: ledger-0003
        app = pilot.app
        for _ in range(250):
            if isinstance(app.screen, LogsScreen) and app.screen.reads:
                break
            await pilot.pause(0.02)
        await pilot.pause()

    app = make_app(ScriptedSource(make_snapshot(accounts=4, clusters=2, services=14), logs=sample_logs))
    assert snap_compare(app, terminal_size=size, run_before=run_before)
