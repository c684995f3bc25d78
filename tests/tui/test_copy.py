"""`y` copies the selection's ARN (an account: its id), `Y` its AWS console page,
to the clipboard: from each dashboard pane, the fleet-wide view and the detail."""

from __future__ import annotations

from heartbeat_tui.tui.screens.detail import ServiceDetailScreen
from tests.support.factory import ScriptedSource, make_snapshot
from tests.support.pilot import make_app, wait_until


def console(region: str, cluster: str, service: str | None = None) -> str:
    base = f"https://{region}.console.aws.amazon.com/ecs/v2/clusters/{cluster}"
    tail = f"/services/{service}/health" if service else "/services"
    return f"{base}{tail}?region={region}"


async def test_y_and_shift_y_copy_what_each_pane_has_selected() -> None:
    snapshot = make_snapshot(accounts=3, clusters=2, services=4)
    app = make_app(ScriptedSource(snapshot))
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_until(pilot, lambda: app.polls_applied == 1)
        first = snapshot.accounts[0]
        cluster = first.regions[0].clusters[0]

        await pilot.press("y")  # the accounts pane has the focus
        assert app.clipboard == first.id
        await pilot.press("Y")  # an account has no console page: nothing copied, said so
        assert app.clipboard == first.id

        await pilot.press("tab", "y")
        assert app.clipboard == cluster.arn
        await pilot.press("Y")
        assert app.clipboard == console(first.regions[0].region, cluster.name)

        await pilot.press("tab", "j", "y")  # the second service of the cluster, by name
        service = sorted(cluster.services, key=lambda s: s.name)[1]
        assert app.clipboard == service.arn
        await pilot.press("Y")
        assert app.clipboard == console(first.regions[0].region, cluster.name, service.name)

        await pilot.press("enter")
        await wait_until(pilot, lambda: isinstance(app.screen, ServiceDetailScreen))
        await pilot.press("Y")
        assert app.clipboard == console(first.regions[0].region, cluster.name, service.name)
        await pilot.press("y")
        assert app.clipboard == service.arn


async def test_the_fleet_view_copies_its_selected_service() -> None:
    snapshot = make_snapshot(accounts=2, clusters=1, services=3)
    app = make_app(ScriptedSource(snapshot))
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_until(pilot, lambda: app.polls_applied == 1)
        await pilot.press("f")
        await wait_until(pilot, lambda: app.screen.id != "dashboard")
        await pilot.press("slash", *"ledger", "enter")  # narrow to one service
        table = app.screen.services_table()  # type: ignore[attr-defined]
        await wait_until(pilot, lambda: len(table.order) >= 1)
        row = table.cursor_row
        assert row is not None
        await pilot.press("y")
        assert app.clipboard == row.key
        await pilot.press("slash", *"no-such-service", "enter")
        await wait_until(pilot, lambda: table.cursor_row is None)
        await pilot.press("Y")  # nothing selected: the clipboard keeps what it had
        assert app.clipboard == row.key
