"""Issue 14 part 4: a refresh of the fleet view costs the UI loop the rows on
screen, not the fleet. A view reuses the rows of unchanged services; a table's
next order is worked out off the loop (`plan_order`) and taken only if the
table still shows what it was worked out against."""

from __future__ import annotations

from datetime import timedelta

from heartbeat_tui.filters import EMPTY_FILTER, parse_filter
from heartbeat_tui.models import FleetSnapshot, Service
from heartbeat_tui.severity import Thresholds
from heartbeat_tui.tui.table_order import TableQuery, plan_order
from heartbeat_tui.tui.view import SEVERITY, build_view, sort_rows
from heartbeat_tui.tui.widgets.service_table import ServiceTable
from tests.support.factory import ScriptedSource, make_snapshot
from tests.support.pilot import make_app, wait_until


def with_services(snapshot: FleetSnapshot, change: dict[str, dict]) -> FleetSnapshot:
    """The next poll as the collector makes it: the services named (by name)
    changed, every other object shared."""

    def service(s: Service) -> Service:
        return s.model_copy(update=change[s.name]) if s.name in change else s

    return snapshot.model_copy(
        update={
            "poll_number": snapshot.poll_number + 1,
            "accounts": tuple(
                a.model_copy(
                    update={
                        "regions": tuple(
                            r.model_copy(
                                update={
                                    "clusters": tuple(
                                        c.model_copy(update={"services": tuple(service(s) for s in c.services)})
                                        for c in r.clusters
                                    )
                                }
                            )
                            for r in a.regions
                        )
                    }
                )
                for a in snapshot.accounts
            ),
        }
    )


def test_an_unchanged_service_keeps_its_row_and_a_changed_one_gets_a_new_one() -> None:
    first = make_snapshot(accounts=2, clusters=2, services=5)
    view = build_view(first)
    names = [row.name for row in view.services.values()]
    second = with_services(first, {names[0]: {"desired_count": 9}})
    again = build_view(second, previous=view)
    for key, row in again.services.items():
        if row.name == names[0]:
            assert row is not view.services[key] and row.desired == 9
        else:
            assert row is view.services[key]
    # Other thresholds judge every service again.
    strict = build_view(second, thresholds=Thresholds(warning=1, critical=2), previous=again)
    assert all(strict.services[k] is not again.services[k] for k in strict.services)


def test_a_value_that_ages_out_of_being_current_makes_a_new_row() -> None:
    first = make_snapshot(accounts=1, clusters=1, services=3)
    view = build_view(first)
    assert all(row.cpu is not None for row in view.services.values())
    later = first.model_copy(update={"generated_at": first.generated_at + timedelta(minutes=10)})
    aged = build_view(later, previous=view)
    for key, row in aged.services.items():
        assert row is not view.services[key] and row.cpu is None and row.mem is None


def test_a_plan_orders_as_sorting_from_scratch() -> None:
    first = make_snapshot(accounts=3, clusters=2, services=10)
    view = build_view(first)
    names = sorted(row.name for row in view.services.values())
    hot = {name: {"metrics": _hot(first, name)} for name in names[::7]}
    second = build_view(with_services(first, hot), previous=view)
    for query in (
        TableQuery("cpu", False, EMPTY_FILTER, False),
        TableQuery(SEVERITY, True, EMPTY_FILTER, False),
        TableQuery("name", False, parse_filter("cpu:>50"), False),
        TableQuery(SEVERITY, False, EMPTY_FILTER, True),
    ):
        plan = plan_order(view.services, second.services, query)
        wanted = [k for k in sort_rows(second.services.values(), query.sort_column, query.sort_reverse)]
        wanted = [k for k in wanted if query.shows(second.services[k])]
        assert plan.order == wanted, query
        assert plan.changed == len(hot)
    # Nothing changed: every row keeps its place, nothing to sort.
    same = plan_order(second.services, dict(second.services), TableQuery("cpu", False, EMPTY_FILTER, False))
    assert same.order is None and same.changed == 0 and same.widths is None


def _hot(snapshot: FleetSnapshot, name: str):
    for account in snapshot.accounts:
        for _, _, service in account.services():
            if service.name == name:
                m = service.metrics
                stamps = m.cpu_average.timestamps.tolist()
                return m.model_copy(
                    update={"cpu_average": m.cpu_average.merged(stamps[-1:], [99.0], oldest=stamps[0], ordered=True)}
                )
    raise AssertionError(name)


async def test_a_plan_made_before_the_operator_re_sorted_is_not_taken() -> None:
    first = make_snapshot(accounts=3, clusters=2, services=10)
    app = make_app(ScriptedSource(first))
    async with app.run_test(size=(120, 30)) as pilot:
        await wait_until(pilot, lambda: app.polls_applied == 1)
        await pilot.press("f")
        await pilot.pause()
        table = app.screen.query_one(ServiceTable)
        view = app.view
        assert view is not None
        names = sorted(row.name for row in view.services.values())
        second = build_view(with_services(first, {names[3]: {"metrics": _hot(first, names[3])}}), previous=view)
        # Taken when nothing changed in between: the same order as sorting from scratch.
        plan = table.planner()(second.services)
        table.set_rows(second.services, plan)
        assert table.order == sort_rows(second.services.values(), SEVERITY, False)
        assert table.last_changed == 1
        # Worked out against the severity order, applied after `E` sorted by name: not taken.
        third = build_view(with_services(first, {names[5]: {"desired_count": 30}}), previous=second)
        stale_plan = table.planner()(third.services)
        await pilot.press("E")
        await pilot.pause()
        table.set_rows(third.services, stale_plan)
        assert table.sort_column == "name"
        assert table.order == sort_rows(third.services.values(), "name", False)
        assert table.rows[table.order[0]] is third.services[table.order[0]]
