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
