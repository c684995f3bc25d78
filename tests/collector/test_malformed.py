"""Matrix 6: malformed or partial API responses (missing fields, unknown enum
values, empty pages with a next token, pages that never end). The collector
runs its real paging and parsing against the embedded AWS's `malformed` fault:
it never crashes or loops, says what is missing, and keeps the good data."""

from __future__ import annotations

import re
import time
from collections.abc import AsyncIterator
from typing import Any

import pytest

from heartbeat_tui.collector import Collector
from heartbeat_tui.collector.limits import MAX_EMPTY_PAGES
from heartbeat_tui.embedded.faults import UNKNOWN_ENUM_VALUE
from heartbeat_tui.models import AccountStatus, FleetSnapshot
from heartbeat_tui.tui.view import account_badge
from tests.support.real_fleet import PAYMENTS, account, assert_kept, assert_whole, dashboard, make_config, service_arns


class Spoiler:
    """One collector, one good poll; then, per variant, a poll with payments-prod's
    answers spoiled and a poll after the fault is cleared (whole again)."""

    def __init__(self, aws: Any, collector: Collector, good: FleetSnapshot) -> None:
        self.aws, self.collector, self.good = aws, collector, good
        self.before = good  # the last good poll before the spoiled one

    async def poll(self, operation: str, code: str | None, service: str = "ecs") -> FleetSnapshot:
        self.aws.add_fault("malformed", account=PAYMENTS, service=service, operation=operation, code=code)
        if operation == "ListServices":
            # Later polls list a cluster's services only when its counts say so.
            self.collector.relist_next_poll()
        bad = await self.collector.poll()
        self.aws.clear_faults()
        after = await self.collector.poll()
        assert_whole(bad, self.good, skip=(PAYMENTS,))  # the others never notice
        assert_whole(after, self.good)  # and payments-prod is whole again once the answers are
        return bad

    async def spoil(
        self, operation: str, code: str | None, service: str = "ecs"
    ) -> tuple[FleetSnapshot, FleetSnapshot]:
        """(the last good poll, the spoiled poll)."""

        before = self.before
        bad = await self.poll(operation, code, service)
        self.before = self.collector.last_snapshot  # the poll after: whole again
        return before, bad


@pytest.fixture
async def spoiler(aws: Any) -> AsyncIterator[Spoiler]:
    async with Collector(make_config(aws)) as collector:
        yield Spoiler(aws, collector, await collector.poll())


def error_of(snapshot: FleetSnapshot, variant: object) -> str:
    payments = account(snapshot, PAYMENTS)
    assert payments.status is AccountStatus.ERROR, f"{variant}: the spoiled answer went unnoticed"
    assert payments.error is not None
    return payments.error


# -- missing fields -------------------------------------------------------------------------------

MISSING = [
    # (service, operation, field, the kind of data kept stale, what the error says)
    ("ecs", "DescribeClusters", "activeServicesCount", "ecs", "cluster payments-core without activeServicesCount"),
    ("ecs", "DescribeServices", "serviceArn", "ecs", "a service without serviceArn"),
    ("ecs", "ListServices", "nextToken", "ecs", r"ListServices: payments-core: listed 100 of the \d+ active services"),
    (
        "cloudwatch",
        "GetMetricData",
        "Timestamps",
        "metrics",
        r"GetMetricData result q\d+ has 0 timestamps but \d+ values",
    ),
    (
        "application-autoscaling",
        "DescribeScalingActivities",
        "ActivityId",
        "scaling",
        "a scaling activity without ActivityId",
    ),
]


async def test_a_missing_field_is_named_and_the_last_good_data_kept(spoiler: Spoiler) -> None:
    for service, operation, field, stale, says in MISSING:
        before, bad = await spoiler.spoil(operation, f"drop:{field}", service)
        error = error_of(bad, field)
        assert re.search(says, error), error
        assert all(stale in r.stale for r in account(bad, PAYMENTS).regions if r.errors), error
        # What failed is kept exactly; the other kinds were read in this very poll
        # (metrics do not wait for the inventory) and may hold a newer minute.
        assert_kept(before, bad, PAYMENTS, metrics=stale == "metrics")


async def test_fields_the_dashboard_can_do_without_are_just_absent(spoiler: Spoiler) -> None:
    _, bad = await spoiler.spoil("DescribeServices", "drop:deployments")
    payments = account(bad, PAYMENTS)
    assert payments.status is AccountStatus.OK, payments.error
    assert all(s.deployments == () and s.rollout_state is None for _, _, s in payments.services())
    assert service_arns(bad, PAYMENTS) == service_arns(spoiler.good, PAYMENTS)


# -- unknown enum values --------------------------------------------------------------------------

ENUMS = [
    ("ecs", "DescribeClusters", "status"),
    ("ecs", "DescribeServices", "status"),
    ("ecs", "DescribeServices", "rolloutState"),
    ("ecs", "DescribeServices", "launchType"),
    ("cloudwatch", "GetMetricData", "StatusCode"),
    ("application-autoscaling", "DescribeScalingActivities", "StatusCode"),
]


async def test_an_unknown_enum_value_is_shown_as_it_came(spoiler: Spoiler) -> None:
    for service, operation, field in ENUMS:
        before, bad = await spoiler.spoil(operation, f"enum:{field}", service)
        payments = account(bad, PAYMENTS)
        assert payments.status is AccountStatus.OK, f"{operation} {field}: {payments.error}"
        assert_kept(before, bad, PAYMENTS, metrics=False)  # every cluster, service and series
        if (operation, field) == ("DescribeClusters", "status"):
            assert {c.status for r in payments.regions for c in r.clusters} == {UNKNOWN_ENUM_VALUE}
        elif (operation, field) == ("DescribeServices", "status"):
            assert {s.status for _, _, s in payments.services()} == {UNKNOWN_ENUM_VALUE}
        elif field == "rolloutState":
            assert {s.rollout_state for _, _, s in payments.services()} == {UNKNOWN_ENUM_VALUE}


# -- pages ------------------------------------------------------------------------------------------

PAGED = [
    ("ecs", "ListClusters"),
    ("ecs", "ListServices"),
    ("cloudwatch", "GetMetricData"),
    ("application-autoscaling", "DescribeScalableTargets"),
    ("application-autoscaling", "DescribeScalingActivities"),
]


async def test_an_empty_page_with_a_next_token_is_followed(spoiler: Spoiler) -> None:
    good = account(spoiler.good, PAYMENTS)
    for service, operation in PAGED:
        before, bad = await spoiler.spoil(operation, "empty_page", service)
        payments = account(bad, PAYMENTS)
        assert payments.status is AccountStatus.OK, f"{operation}: {payments.error}"
        assert_kept(before, bad, PAYMENTS, metrics=False)
        assert [s.scalable_target for _, _, s in payments.services()] == [
            s.scalable_target for _, _, s in good.services()
        ]


async def test_pages_that_never_end_are_given_up(spoiler: Spoiler) -> None:
    for service, operation in PAGED:
        started = time.monotonic()
        before, bad = await spoiler.spoil(operation, "endless_pages", service)
        assert time.monotonic() - started < 30, operation  # two polls, not a loop
        error = error_of(bad, operation)
        assert f"{operation}: {MAX_EMPTY_PAGES} empty pages in a row" in error, error
        # Not blanked; not compared point by point: the polls follow the wall clock, and a minute may turn.
        assert_kept(before, bad, PAYMENTS, metrics=False)
        # Bounded: a handful of paged calls per region, each cut after MAX_EMPTY_PAGES pages.
        assert bad.stats.calls_of(operation) <= 8 * MAX_EMPTY_PAGES, operation


# -- partial answers and broken bodies --------------------------------------------------------------


async def test_partial_answers_and_broken_bodies_are_readable_errors(spoiler: Spoiler) -> None:
    before, bad = await spoiler.spoil("DescribeServices", "partial")
    error = error_of(bad, "partial")
    assert re.search(r"ECS DescribeServices: answered 5 of the 10 services asked for \(missing: [\w-]+, ", error), error
    assert_kept(before, bad, PAYMENTS, metrics=False)  # ECS failed; the metrics were read (a minute may turn)

    before, bad = await spoiler.spoil("DescribeClusters", None)  # the body cut in half
    error = error_of(bad, "truncated")
    assert "DescribeClusters" in error and "Traceback" not in error and len(error) < 600, error
    assert_kept(before, bad, PAYMENTS, metrics=False)


# -- on the dashboard ----------------------------------------------------------------------------------


async def test_dashboard_says_what_is_missing_and_keeps_the_rows(aws: Any) -> None:
    async with dashboard(aws) as board:
        before = {k for k, r in board.app.view.services.items() if r.account_id == PAYMENTS}
        aws.add_fault("malformed", account=PAYMENTS, service="ecs", operation="ListServices", code="endless_pages")
        aws.add_fault("malformed", account=PAYMENTS, service="ecs", operation="DescribeServices", code="enum:status")
        await board.poll()  # `r`: a manual refresh lists every cluster's services again
        view = board.app.view
        assert board.app.last_poll_error is None
        assert account_badge(view.account_snapshots[PAYMENTS]) == "error"
        assert {k for k, r in view.services.items() if r.account_id == PAYMENTS} == before
        await board.select_account(PAYMENTS)
        text = board.text()
        assert f"ListServices: {MAX_EMPTY_PAGES} empty pages in a row" in text, text
        aws.clear_faults()
        aws.add_fault("malformed", account=PAYMENTS, service="ecs", operation="DescribeServices", code="enum:status")
        await board.poll()
        # Complete again, and an unknown status is shown as it came, not hidden.
        assert board.app.view.accounts[PAYMENTS].badge == "ok"
        assert {r.status for r in board.app.view.services.values() if r.account_id == PAYMENTS} == {UNKNOWN_ENUM_VALUE}
