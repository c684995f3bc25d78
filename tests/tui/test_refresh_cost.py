"""Issue 14 part 4: a refresh tick repaints what changed, and what it replaced
is freed off the UI's loop.

At 40,000 services a tick's event-loop time went to whole-screen repaints set
off by notices (Textual's toasts) and by the screen hidden under the fleet view,
to a whole services table repainted when most of its lines kept their row, and
to freeing the replaced snapshot and view. Each is shown here through what the
app paints and on which thread its old data is freed."""

from __future__ import annotations

import asyncio
import threading
import weakref

import pytest

from heartbeat_tui.models import FleetSnapshot
from heartbeat_tui.tui.screens.fleet import FleetServicesScreen
from heartbeat_tui.tui.view import build_view, sort_rows
from heartbeat_tui.tui.widgets.flash_bar import FlashBar
from heartbeat_tui.tui.widgets.header import HeaderBar
from heartbeat_tui.tui.widgets.service_table import ServiceTable
from tests.support.factory import FIXED_NOW, ScriptedSource, make_snapshot
from tests.support.pilot import make_app, wait_until
from tests.tui.test_table_order import with_services


def note_thread(into: list[str]) -> None:
    into.append(threading.current_thread().name)


class DroppingSource(ScriptedSource):
    """Returns each snapshot once and keeps no reference to it (as the collector lets go of its last one)."""

    async def poll(self, only=None) -> FleetSnapshot:
        self.polls += 1
        return self.snapshots.pop(0)


async def test_a_notice_goes_to_the_flash_line_and_never_becomes_a_toast() -> None:
    app = make_app(ScriptedSource(make_snapshot()))
    async with app.run_test(size=(120, 30)) as pilot:
        await wait_until(pilot, lambda: app.polls_applied == 1)
        app.notify("payments-prod: 3 services scaled", severity="warning")
        await pilot.pause()
        # Textual mounts a toast per notice (into the layout, then out again when it
        # expires): two relayouts and whole-screen repaints per notice, and drawn
        # over the tables. The flash line says it instead.
        assert not app.screen.query("Toast")
        assert "3 services scaled" in str(app.screen.query_one(FlashBar).render())
        assert app.flash is not None and app.flash.notice.text == "payments-prod: 3 services scaled"


async def test_the_screen_under_the_fleet_view_repaints_nothing_until_it_is_shown_again(monkeypatch) -> None:
    app = make_app(ScriptedSource(make_snapshot(accounts=2, clusters=2, services=4)))
    async with app.run_test(size=(120, 30)) as pilot:
        await wait_until(pilot, lambda: app.polls_applied == 1)
        dashboard = app.screen
        await pilot.press("f")
        await wait_until(pilot, lambda: isinstance(app.screen, FleetServicesScreen))
        await pilot.pause()
        fleet = app.screen
        repainted: list[tuple] = []
        refresh = FleetServicesScreen.refresh

        def spy(self, *regions, **kwargs):
            if self is fleet:
                repainted.append(regions)
            return refresh(self, *regions, **kwargs)

        monkeypatch.setattr(FleetServicesScreen, "refresh", spy)
        # Pause and resume: the state and the flash line change on every screen.
        for _ in range(2):
            await pilot.press("p")
            await pilot.pause()
            await pilot.pause()
        app.notify("a notice while the fleet view is up")
        await pilot.pause()
        await pilot.pause()
        # The fleet view's own header and flash line are repainted, nothing else: Textual
        # passes whatever the screen under it repaints on to the top screen as regions
        # to repaint (its header every second, then its whole screen), though none of it shows.
        assert "a notice while the fleet view is up" in str(app.screen.query_one(FlashBar).render())
        assert repainted == []
        await pilot.press("escape")
        await wait_until(pilot, lambda: app.screen is dashboard)
        await pilot.pause()
        # Shown again, it paints what it missed.
        assert "a notice while the fleet view is up" in app.export_screenshot().replace("&#160;", " ")
        assert "next in" in str(dashboard.query_one(HeaderBar).render())


async def test_a_re_sort_that_keeps_the_lines_on_screen_repaints_only_the_changed_row(monkeypatch) -> None:
    first = make_snapshot(accounts=3, clusters=2, services=10)
    app = make_app(ScriptedSource(first))
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_until(pilot, lambda: app.polls_applied == 1)
        await pilot.press("f", "C")  # the fleet view, by CPU
        await pilot.pause()
        table = app.screen.query_one(ServiceTable)
        view = app.view
        assert view is not None and table.sort_column == "cpu"
        rows = [table.rows[key] for key in table.order]
        # A row on screen whose CPU can rise by a point and still sort between its neighbours.
        index = next(
            i for i in range(1, 20) if (rows[i - 1].cpu or 0) - (rows[i].cpu or 0) >= 2 and rows[i].cpu is not None
        )
        target = rows[index]
        service = target.service
        m = service.metrics
        stamps = m.cpu_average.timestamps.tolist()
        metrics = m.model_copy(
            update={
                "cpu_average": m.cpu_average.merged(
                    stamps[-1:], [(target.cpu or 0) + 1], oldest=stamps[0], ordered=True
                )
            }
        )
        second = build_view(with_services(first, {service.name: {"metrics": metrics}}), FIXED_NOW, previous=view)
        lines: list[int] = []
        render_line = ServiceTable.render_line

        def spy(self, y):
            lines.append(y)
            return render_line(self, y)

        monkeypatch.setattr(ServiceTable, "render_line", spy)
        table.set_rows(second.services, table.planner()(second.services))
        await pilot.pause()
        # The CPU sort key changed (the order was worked out again), but every row
        # kept its line: only the changed one is painted, not the 35 on screen.
        assert table.last_resorted and table.order == [r.key for r in rows]
        assert set(lines) == {index + 1 - int(table.scroll_offset.y)}


@pytest.mark.parametrize("fleet_view", [False, True])
async def test_what_a_poll_replaced_is_freed_on_the_reaper_thread_not_the_ui_loop(fleet_view: bool) -> None:
    first = make_snapshot(accounts=2, clusters=2, services=5)
    freed_on: list[str] = []
    for account in first.accounts:
        for service in account.regions[0].clusters[0].services + account.regions[0].clusters[1].services:
            weakref.finalize(service, note_thread, freed_on)
    del account, service  # the test keeps no reference either
    services = first.service_count
    source = DroppingSource(first, make_snapshot(accounts=2, clusters=2, services=5, poll=2))
    del first
    app = make_app(source)
    async with app.run_test(size=(120, 30)) as pilot:
        await wait_until(pilot, lambda: app.polls_applied == 1)
        if fleet_view:
            await pilot.press("f")
            await pilot.pause()
        assert app.start_poll()
        await wait_until(pilot, lambda: app.polls_applied == 2 and not app.polling)
        # Freed once the loop has let go of the old state, message and rows.
        assert await asyncio.to_thread(app.reaper.wait_freed, 10)
        # Under the fleet view the dashboard still shows one cluster's rows (5 services) until it is back.
        await wait_until(pilot, lambda: len(freed_on) == services - (5 if fleet_view else 0))
    assert set(freed_on) == {"heartbeat-reaper"}


@pytest.mark.parametrize("pushed", [False, True])
async def test_the_view_a_hidden_screen_held_is_freed_off_the_loop_when_it_catches_up(pushed: bool) -> None:
    snapshots = [make_snapshot(accounts=1, clusters=1, services=3, poll=n) for n in (1, 2, 3)]
    freed_on: list[str] = []
    app = make_app(DroppingSource(*snapshots))
    del snapshots
    async with app.run_test(size=(120, 30)) as pilot:
        await wait_until(pilot, lambda: app.polls_applied == 1)
        view = app.view
        assert view is not None
        weakref.finalize(view, note_thread, freed_on)
        del view
        if pushed:
            await pilot.press("f")  # the dashboard keeps showing the first view, hidden
            await pilot.pause()
        for polls in (2, 3):
            assert app.start_poll()
            await wait_until(pilot, lambda polls=polls: app.polls_applied == polls and not app.polling)
        if pushed:
            await pilot.press("escape")  # it catches up, and lets go of the first view
            await pilot.pause()
        await wait_until(pilot, lambda: bool(freed_on))
    assert freed_on == ["heartbeat-reaper"]


async def test_a_big_table_re_sorts_in_a_thread_and_the_last_key_wins(monkeypatch) -> None:
    from heartbeat_tui.tui.widgets import service_table

    sorted_on: list[str] = []
    order_of = service_table.order_of

    def spy(rows, query):
        sorted_on.append(threading.current_thread().name)
        return order_of(rows, query)

    monkeypatch.setattr(service_table, "order_of", spy)
    monkeypatch.setattr(ServiceTable, "SORT_ON_LOOP_ROWS", 10)  # 40 rows: a "big" table here
    app = make_app(ScriptedSource(make_snapshot(accounts=2, clusters=2, services=10)))
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_until(pilot, lambda: app.polls_applied == 1)
        await pilot.press("f")
        await pilot.pause()
        table = app.screen.query_one(ServiceTable)
        rows = list(table.rows.values())
        # By name, then at once by CPU: whichever sort finishes last, the table ends in the CPU order.
        await pilot.press("E", "C")
        await wait_until(pilot, lambda: table.order == sort_rows(rows, "cpu", False))
        await pilot.pause(0.2)
        assert table.order == sort_rows(rows, "cpu", False) and table.cursor_index == 0
        assert sorted_on and "MainThread" not in sorted_on
        # A filter too.
        await pilot.press("slash", *"api", "enter")
        await wait_until(pilot, lambda: len(table.order) < len(rows))
        assert {table.rows[key].name.split("-")[0] for key in table.order} == {"api"}
        assert "MainThread" not in sorted_on


async def test_a_due_full_collection_waits_until_the_operator_stops_typing(monkeypatch) -> None:
    from heartbeat_tui import heap

    full: list[bool] = []
    hold = heap.hold

    def spy(*, collect_first: bool = False) -> None:
        full.append(collect_first)
        hold(collect_first=collect_first)

    monkeypatch.setattr(heap, "hold", spy)
    clock = [100.0]
    app = make_app(ScriptedSource(make_snapshot()), monotonic=lambda: clock[0])
    app.GC_FULL_EVERY = 1  # due after every poll
    app.GC_AT_ONCE_SERVICES = 0  # and as dear as at 40,000 services: it waits for a quiet moment
    app.GC_QUIET_SECONDS = 0.3
    async with app.run_test(size=(120, 30)) as pilot:
        await wait_until(pilot, lambda: app.polls_applied == 1)
        # Nothing typed yet: collected once the refresh is painted, not inside it.
        await wait_until(pilot, lambda: True in full)
        assert full.index(True) > full.index(False)
        full.clear()
        await pilot.press("j")  # at 100.0 on the app's clock
        assert app.start_poll()
        await wait_until(pilot, lambda: app.polls_applied == 2 and not app.polling)
        await pilot.pause(0.8)  # timers fire; the clock still says a key came just now
        assert True not in full
        clock[0] += 1.0
        await wait_until(pilot, lambda: True in full)
