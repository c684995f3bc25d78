"""The one severity order (heartbeat_tui.severity): what is wrong, worst first."""

from __future__ import annotations

from datetime import timedelta

import pytest

from heartbeat_tui.models import AccountSnapshot, AccountStatus, Deployment, Service
from heartbeat_tui.severity import Severity, Thresholds, account_in_trouble, assess, rank, tasks_failing
from heartbeat_tui.tui.view import SERVICE_COLUMNS, SEVERITY, build_view, sort_rows
from tests.support.factory import FIXED_NOW, make_snapshot

LIMITS = Thresholds(warning=70, critical=90)


def service(
    *,
    status: str = "ACTIVE",
    running: int = 2,
    desired: int = 2,
    rollout: str | None = "COMPLETED",
    failed: int = 0,
    name: str = "api",
) -> Service:
    return Service(
        arn=f"arn:aws:ecs:us-east-1:111111111111:service/core/{name}",
        name=name,
        cluster_arn="arn:aws:ecs:us-east-1:111111111111:cluster/core",
        status=status,
        desired_count=desired,
        running_count=running,
        deployments=(Deployment(id="ecs-svc/1", status="PRIMARY", rollout_state=rollout, failed_tasks=failed),),
    )


@pytest.mark.parametrize(
    ("kwargs", "cpu", "mem", "severity", "text"),
    [
        (
            {"rollout": "FAILED", "running": 1, "status": "DRAINING"},
            95.0,
            None,
            Severity.ROLLOUT_FAILED,
            "rollout FAILED",
        ),
        ({"running": 1, "desired": 3, "status": "DRAINING"}, 95.0, None, Severity.BELOW_DESIRED, "1/3 running"),
        ({"status": "DRAINING", "rollout": "IN_PROGRESS", "failed": 3}, None, None, Severity.NOT_ACTIVE, "DRAINING"),
        ({"rollout": "IN_PROGRESS", "failed": 3}, 95.0, None, Severity.TASKS_FAILING, "3 tasks failed to start"),
        ({}, 90.0, 20.0, Severity.CRITICAL, "CPU 90%"),
        ({}, 50.0, 93.4, Severity.CRITICAL, "memory 93%"),
        ({}, 70.0, 10.0, Severity.WARNING, "CPU 70%"),
        ({}, 69.9, None, Severity.OK, ""),
        ({}, None, None, Severity.OK, ""),
    ],
)
def test_each_step_of_the_order_outranks_the_next(kwargs, cpu, mem, severity, text) -> None:
    finding = assess(service(**kwargs), cpu, mem, LIMITS)
    assert finding.severity is severity
    assert finding.text == text
    assert finding.problem is (severity < Severity.WARNING)


def test_a_finished_deployment_s_failed_tasks_are_history() -> None:
    assert tasks_failing(service(rollout="COMPLETED", failed=4)) == 0
    assert assess(service(rollout="COMPLETED", failed=4), None, None, LIMITS).severity is Severity.OK


def test_the_thresholds_are_the_configured_ones() -> None:
    strict = Thresholds(warning=30, critical=50)
    assert assess(service(), 55.0, None, strict).severity is Severity.CRITICAL
    assert assess(service(), 55.0, None, LIMITS).severity is Severity.OK


def test_an_account_in_error_or_stale_comes_before_anything_of_a_healthy_one() -> None:
    failed = assess(service(rollout="FAILED"), None, None, LIMITS)
    calm = assess(service(), 10.0, 10.0, LIMITS)
    assert rank(True, calm, 10.0, 10.0) < rank(False, failed, None, None)
    # Within one step, the hotter first.
    hot = assess(service(), 99.0, None, LIMITS)
    hotter = assess(service(), 95.0, 99.5, LIMITS)
    assert rank(False, hotter, 95.0, 99.5) < rank(False, hot, 99.0, None)
    ok = AccountSnapshot(id="1")
    assert not account_in_trouble(ok)
    assert account_in_trouble(ok.model_copy(update={"status": AccountStatus.ERROR}))


def test_the_default_sort_puts_the_worst_first_and_counts_problems() -> None:
    snapshot = make_snapshot(accounts=3, clusters=1, services=12, errors={2: "STS AssumeRole: AccessDenied"})
    view = build_view(snapshot, FIXED_NOW + timedelta(seconds=5), LIMITS)
    order = [view.services[k] for k in sort_rows(view.services.values(), SEVERITY, False)]
    ranks = [(row.account_trouble, row.severity) for row in order]
    # The account in error first, then FAILED rollouts, below desired, ..., warnings, the rest.
    assert ranks == sorted(ranks, key=lambda r: (not r[0], r[1]))
    assert order[0].account_trouble and not order[-1].account_trouble
    first_healthy = next(row for row in order if not row.account_trouble)
    assert first_healthy.severity is Severity.ROLLOUT_FAILED
    # PROBS counts the services with a problem, and the account names its worst.
    for account in view.accounts.values():
        rows = [r for r in view.services.values() if r.account_id == account.key]
        assert account.problems == sum(1 for r in rows if r.problem)
        assert account.problems > 0 and account.worst is not None
    payments = next(a for a in view.accounts.values() if a.name == "payments-prod")
    assert payments.worst_severity is Severity.ROLLOUT_FAILED
    assert payments.worst.endswith("rollout FAILED")
    # The header's worst thing is from an account that is not in error.
    assert view.worst is not None
    name, what, severity = view.worst
    assert name != "checkout-staging" and severity is Severity.ROLLOUT_FAILED and what.endswith("rollout FAILED")
    # Reversed: worst last.
    assert sort_rows(view.services.values(), SEVERITY, True)[-1] == order[0].key
    assert SERVICE_COLUMNS[SEVERITY].letter == "P"


def test_a_fleet_without_problems_has_no_worst_thing() -> None:
    view = build_view(
        make_snapshot(accounts=1, clusters=1, services=1), FIXED_NOW, Thresholds(warning=99, critical=100)
    )
    assert view.worst is None
    assert next(iter(view.accounts.values())).worst is None
