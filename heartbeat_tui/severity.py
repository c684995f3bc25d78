"""What is wrong with a service, and how bad: the one severity order.

At 3 a.m. the operator wants what is failing on top. Every place that ranks
services (the default sort of the services pane and the fleet view, the
problems-only toggle, the `problem:` filter field, the accounts pane's PROBS
and the header's "worst thing") asks here, so they never disagree.

Worst first:

1. the account is in error or stale (its rows are last-good data);
2. the rollout FAILED;
3. fewer tasks running than desired;
4. the service is not ACTIVE (DRAINING, INACTIVE);
5. tasks failing to start (a deployment still rolling out has failed tasks);
6. CPU or memory at or above the critical threshold;
7. CPU or memory at or above the warning threshold (a warning, not a problem);
8. nothing.

Engine-level and pure: no Textual, no Rich.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum
from typing import Literal

from heartbeat_tui.config import DEFAULT_CRITICAL_PERCENT, DEFAULT_WARNING_PERCENT
from heartbeat_tui.models import AccountSnapshot, AccountStatus, Service

Level = Literal["ok", "warning", "critical"]


class Severity(IntEnum):
    """Lower is worse; `sorted` by it puts the worst first."""

    ACCOUNT = 0
    ROLLOUT_FAILED = 1
    BELOW_DESIRED = 2
    NOT_ACTIVE = 3
    TASKS_FAILING = 4
    CRITICAL = 5
    WARNING = 6
    OK = 7

    @property
    def problem(self) -> bool:
        """A problem needs the operator; a warning (or nothing) does not."""
        return self < Severity.WARNING


@dataclass(frozen=True)
class Thresholds:
    """The `[thresholds]` percentages: CPU or memory at or above them is a warning or critical."""

    warning: float = DEFAULT_WARNING_PERCENT
    critical: float = DEFAULT_CRITICAL_PERCENT

    def level(self, percent: float | None) -> Level:
        """`ok`, `warning` or `critical`."""
        if percent is None or percent < self.warning:
            return "ok"
        return "critical" if percent >= self.critical else "warning"


@dataclass(frozen=True, slots=True)
class Finding:
    """The worst thing about one service: how bad, and a few words saying what
    (`rollout FAILED`, `2/3 running`, `CPU 95%`), empty when nothing is wrong."""

    severity: Severity
    text: str = ""

    @property
    def problem(self) -> bool:
        return self.severity.problem


FINE = Finding(Severity.OK)


def account_in_trouble(account: AccountSnapshot) -> bool:
    """In error or stale: some of what it shows is from an earlier poll, or missing."""
    return account.status is AccountStatus.ERROR


def tasks_failing(service: Service) -> int:
    """Failed tasks of deployments still rolling out (a finished one's count is history)."""
    return sum(d.failed_tasks for d in service.deployments if d.rollout_state not in ("COMPLETED", "FAILED"))


def assess(service: Service, cpu: float | None, mem: float | None, thresholds: Thresholds) -> Finding:
    """The service's own worst finding. `cpu` and `mem` are its current percents
    (None: no current value), as `MetricSeries.current` gives them. The
    account's state is not in it: `rank` puts the two together."""

    if service.rollout_state == "FAILED":
        return Finding(Severity.ROLLOUT_FAILED, "rollout FAILED")
    if service.running_count < service.desired_count:
        return Finding(Severity.BELOW_DESIRED, f"{service.running_count}/{service.desired_count} running")
    if service.status != "ACTIVE":
        return Finding(Severity.NOT_ACTIVE, service.status)
    failing = tasks_failing(service)
    if failing:
        return Finding(Severity.TASKS_FAILING, f"{failing} tasks failed to start")
    worst = None
    for label, value in (("CPU", cpu), ("memory", mem)):
        level = thresholds.level(value)
        if level != "ok" and value is not None and (worst is None or value > worst[1]):
            worst = (label, value, level)
    if worst is not None:
        label, value, level = worst
        severity = Severity.CRITICAL if level == "critical" else Severity.WARNING
        return Finding(severity, f"{label} {value:.0f}%")
    return FINE


def rank(account_trouble: bool, finding: Finding, cpu: float | None, mem: float | None) -> tuple[int, int, float]:
    """The sort key of the severity order (compare with `<`: worst first). Within
    one severity the hotter service comes first."""

    hottest = max(cpu if cpu is not None else -1.0, mem if mem is not None else -1.0)
    return (0 if account_trouble else 1, finding.severity, -hottest)


__all__ = [
    "FINE",
    "Finding",
    "Level",
    "Severity",
    "Thresholds",
    "account_in_trouble",
    "assess",
    "rank",
    "tasks_failing",
]
