"""Pure functions from a FleetSnapshot to what the panes show.

No Textual here: everything is plain data, unit-testable and cheap. One
`FleetView` is built per snapshot and shared by every pane and screen.

Rows keep a `signature` (what they show) so a table can tell in O(1) whether
a row changed; sparklines are computed lazily when a row is first painted
(only visible rows are ever painted).

Which columns the tables have and how they sort is columns.py's; which
changes between two polls are worth a notice, changes.py's.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

from heartbeat_tui.models import (
    AccountSnapshot,
    AccountStatus,
    FleetSnapshot,
    MetricSeries,
    Service,
)
from heartbeat_tui.severity import FINE, Finding, Severity, Thresholds, account_in_trouble, assess, rank
from heartbeat_tui.tui.changes import Change, changes
from heartbeat_tui.tui.columns import (
    CLUSTER_TABLE_COLUMNS,
    COMPACT_DROP,
    FLEET_TABLE_COLUMNS,
    SERVICE_COLUMNS,
    SEVERITY,
    SORT_HELP,
    SORT_LETTERS,
    Column,
    sort_rows,
)

SPARK_BLOCKS = "▁▂▃▄▅▆▇█"
HOUR = 3600

Badge = Literal["ok", "stale", "error"]


# -- formatting helpers ---------------------------------------------------------


def age_text(seconds: float | None) -> str:
    """`42s`, `5m`, `3h`, `2d` (None: `never`)."""

    if seconds is None:
        return "never"
    seconds = max(0, int(seconds))
    if seconds < 60:
        return f"{seconds}s"
    if seconds < HOUR:
        return f"{seconds // 60}m"
    if seconds < 86400:
        return f"{seconds // HOUR}h"
    return f"{seconds // 86400}d"


def percent_text(value: float | None) -> str:
    return "  - " if value is None else f"{value:3.0f}%"


def sparkline(series: MetricSeries, end: float, width: int, *, seconds: int = HOUR) -> str:
    """The last `seconds` of a percent series as `width` block characters.

    Time-bucketed (each character covers seconds/width), the highest point of
    each bucket, on a fixed 0-100 % scale so equal heights mean equal load
    across rows. A bucket without data is a space.
    """

    if width <= 0:
        return ""
    start = end - seconds
    stamps = series.timestamps
    if not stamps or stamps[-1] < start:
        return " " * width
    out = []
    for value in series.buckets(start, end, width, "max"):
        if value is None or value < 0:
            out.append(" ")
        else:
            level = int(value / 100 * 8)
            out.append(SPARK_BLOCKS[0 if level < 0 else 7 if level > 7 else level])
    return "".join(out)


_DESIRED = re.compile(r"desired count (?:from \d+ )?to (\d+)", re.IGNORECASE)


def scaling_text(service: Service) -> str:
    """The newest scaling activity in a few characters: `→4 13:02`."""

    if not service.scaling_activities:
        return ""
    activity = service.scaling_activities[0]
    when = activity.start_time.strftime("%H:%M") if activity.start_time else "?"
    match = _DESIRED.search(activity.description)
    what = f"→{match.group(1)}" if match else (activity.status_code or "activity")
    if activity.status_code and activity.status_code not in ("Successful", "InProgress", "Pending"):
        what += f" {activity.status_code}"
    return f"{what} {when}"


# -- rows -----------------------------------------------------------------------


@dataclass(eq=False, slots=True)
class ServiceRow:
    """One service as the tables show it; `key` is the service ARN."""

    key: str
    name: str
    status: str
    running: int
    desired: int
    pending: int
    rollout: str | None
    launch_type: str | None
    cpu: float | None
    mem: float | None
    account_id: str
    account: str
    region: str
    cluster: str
    cluster_arn: str
    scaling: str
    stale_seconds: float | None  # None: fresh
    end: float  # epoch seconds the sparklines end at
    service: Service
    # Its own worst finding, and whether its account is in error or stale (severity.py).
    finding: Finding = FINE
    account_trouble: bool = False
    signature: tuple[Any, ...] = ()
    haystack: str = ""
    _sparks: dict[tuple[str, int], str] = field(default_factory=dict)

    def spark(self, which: Literal["cpu", "mem"], width: int) -> str:
        cached = self._sparks.get((which, width))
        if cached is None:
            metrics = self.service.metrics
            series = metrics.cpu_average if which == "cpu" else metrics.memory_average
            cached = sparkline(series, self.end, width)
            self._sparks[(which, width)] = cached
        return cached

    @property
    def problem(self) -> bool:
        """Something about the service itself needs the operator (a warning does not)."""
        return self.finding.problem

    @property
    def severity(self) -> Severity:
        return self.finding.severity

    @property
    def rank(self) -> tuple[int, int, float]:
        """Its place in the severity order (smaller: worse)."""
        return rank(self.account_trouble, self.finding, self.cpu, self.mem)

    @property
    def stale(self) -> bool:
        return self.stale_seconds is not None


def _service_row(
    account: AccountSnapshot,
    account_name: str,
    region: str,
    cluster_name: str,
    service: Service,
    stale_seconds: float | None,
    end: float,
    as_of: float,
    thresholds: Thresholds,
    account_trouble: bool,
) -> ServiceRow:
    metrics = service.metrics
    cpu_series, mem_series = metrics.cpu_average, metrics.memory_average
    # A newest point too old to be current (a service scaled to zero) is no value.
    cpu, mem = cpu_series.current(as_of), mem_series.current(as_of)
    primary = service.primary_deployment
    rollout = primary.rollout_state if primary else None
    scaling = scaling_text(service)
    finding = assess(service, cpu, mem, thresholds)
    stale_minutes = None if stale_seconds is None else int(stale_seconds // 60)
    signature = (
        service.status,
        service.running_count,
        service.desired_count,
        service.pending_count,
        rollout,
        cpu,
        mem,
        cpu_series.latest_timestamp,
        mem_series.latest_timestamp,
        len(cpu_series),
        scaling,
        stale_minutes,
        account_name,
        finding,
        account_trouble,
    )
    return ServiceRow(
        key=service.arn,
        name=service.name,
        status=service.status,
        running=service.running_count,
        desired=service.desired_count,
        pending=service.pending_count,
        rollout=rollout,
        launch_type=service.launch_type,
        cpu=cpu,
        mem=mem,
        account_id=account.id,
        account=account_name,
        region=region,
        cluster=cluster_name,
        cluster_arn=service.cluster_arn,
        scaling=scaling,
        stale_seconds=stale_seconds,
        end=end,
        service=service,
        finding=finding,
        account_trouble=account_trouble,
        signature=signature,
        haystack=f"{service.name} {cluster_name} {account_name} {account.id} {region}".lower(),
    )


@dataclass(frozen=True, slots=True)
class AccountRow:
    key: str  # account id
    name: str
    badge: Badge
    services: int
    problems: int
    reason: str | None
    warnings: tuple[str, ...]
    stale_seconds: float | None
    # Its worst service's finding, as "api-0001 rollout FAILED" (None: no problem).
    worst: str | None = None
    worst_severity: Severity = Severity.OK

    @property
    def trouble(self) -> bool:
        """In error or stale, or a service with a problem: what problems-only keeps."""
        return self.badge != "ok" or self.problems > 0

    @property
    def cells(self) -> tuple[str, ...]:
        status = self.badge if self.stale_seconds in (None, 0.0) else f"{self.badge} {age_text(self.stale_seconds)}"
        return (self.name, status, str(self.services), str(self.problems) if self.problems else "")


@dataclass(frozen=True, slots=True)
class ClusterRow:
    key: str  # cluster ARN
    account_id: str
    name: str
    region: str
    services: int
    running: int
    desired: int
    cpu: float | None
    mem: float | None
    problems: int

    @property
    def cells(self) -> tuple[str, ...]:
        return (
            self.name,
            self.region,
            str(self.services),
            f"{self.running}/{self.desired}",
            percent_text(self.cpu),
            percent_text(self.mem),
        )


@dataclass
class FleetView:
    """Everything the panes show for one snapshot."""

    snapshot: FleetSnapshot
    now: datetime
    accounts: dict[str, AccountRow]
    clusters: dict[str, dict[str, ClusterRow]]  # account id -> cluster ARN -> row
    services: dict[str, ServiceRow]  # service ARN -> row
    by_cluster: dict[str, dict[str, ServiceRow]]  # cluster ARN -> service ARN -> row
    account_snapshots: dict[str, AccountSnapshot]
    # The fleet's worst service problem: (account name, "api-0001 rollout FAILED", how bad); None: none.
    worst: tuple[str, str, Severity] | None = None
    thresholds: Thresholds | None = None

    @property
    def error_accounts(self) -> list[AccountRow]:
        return [a for a in self.accounts.values() if a.badge == "error"]

    @property
    def stale_accounts(self) -> list[AccountRow]:
        return [a for a in self.accounts.values() if a.badge == "stale"]


def account_badge(account: AccountSnapshot) -> Badge:
    """`ok`; `stale` when the inventory is current but metrics or scaling data
    are from an earlier poll; `error` when the account (or its ECS inventory)
    could not be read."""

    if account.status is AccountStatus.OK:
        return "ok"
    if account.regions and all(r.fetched_at is not None and "ecs" not in r.stale for r in account.regions):
        return "stale"
    return "error"


def _mean(values: Iterable[float | None]) -> float | None:
    present = [v for v in values if v is not None]
    return sum(present) / len(present) if present else None


def _worse(row: ServiceRow, than: ServiceRow | None) -> bool:
    return than is None or (row.severity, row.rank[2], row.name) < (than.severity, than.rank[2], than.name)


def _reusable(
    prev: ServiceRow,
    service: Service,
    account_name: str,
    cluster_name: str,
    stale_seconds: float | None,
    trouble: bool,
    as_of: float,
) -> bool:
    """The last view's row still says everything about `service`: the same object
    (the collector keeps an unchanged service's identity), in the same context,
    with the same current values (a newest point can age out of being current).
    Its sparklines, like those of a row that looks the same, end where they were
    drawn; the next point of its series makes a new row."""

    if prev.service is not service:
        return False
    metrics = service.metrics
    return (
        prev.account == account_name
        and prev.cluster == cluster_name
        and prev.stale_seconds == stale_seconds
        and prev.account_trouble == trouble
        and prev.cpu == metrics.cpu_average.current(as_of)
        and prev.mem == metrics.memory_average.current(as_of)
    )


def build_view(
    snapshot: FleetSnapshot,
    now: datetime | None = None,
    thresholds: Thresholds | None = None,
    *,
    previous: FleetView | None = None,
) -> FleetView:
    """One pass over the snapshot; O(services). With the `previous` view, the row
    of a service that did not change is that view's row (tables skip it by identity)."""

    now = now or snapshot.generated_at
    thresholds = thresholds or Thresholds()
    last_rows = previous.services if previous is not None and previous.thresholds == thresholds else {}
    fleet_worst: tuple[AccountSnapshot, ServiceRow] | None = None
    end = snapshot.generated_at.timestamp()
    accounts: dict[str, AccountRow] = {}
    clusters: dict[str, dict[str, ClusterRow]] = {}
    services: dict[str, ServiceRow] = {}
    by_cluster: dict[str, dict[str, ServiceRow]] = {}
    account_snapshots: dict[str, AccountSnapshot] = {}
    for account in snapshot.accounts:
        account_snapshots[account.id] = account
        name = account.display_name
        stale = account.stale_seconds(now)
        stale_seconds = None if account.status is AccountStatus.OK else stale
        trouble = account_in_trouble(account)
        account_clusters: dict[str, ClusterRow] = {}
        total = problems = 0
        worst: ServiceRow | None = None
        for region in account.regions:
            as_of = region.metrics_as_of(snapshot.generated_at)
            for cluster in region.clusters:
                rows: dict[str, ServiceRow] = {}
                for service in cluster.services:
                    last = last_rows.get(service.arn)
                    if last is not None and _reusable(last, service, name, cluster.name, stale_seconds, trouble, as_of):
                        row = last
                    else:
                        row = _service_row(
                            account,
                            name,
                            region.region,
                            cluster.name,
                            service,
                            stale_seconds,
                            end,
                            as_of,
                            thresholds,
                            trouble,
                        )
                    rows[row.key] = row
                    services[row.key] = row
                    if row.problem and _worse(row, worst):
                        worst = row
                cluster_problems = sum(1 for r in rows.values() if r.problem)
                by_cluster[cluster.arn] = rows
                account_clusters[cluster.arn] = ClusterRow(
                    key=cluster.arn,
                    account_id=account.id,
                    name=cluster.name,
                    region=region.region,
                    services=len(rows),
                    running=sum(r.running for r in rows.values()),
                    desired=sum(r.desired for r in rows.values()),
                    cpu=_mean(r.cpu for r in rows.values()),
                    mem=_mean(r.mem for r in rows.values()),
                    problems=cluster_problems,
                )
                total += len(rows)
                problems += cluster_problems
        clusters[account.id] = account_clusters
        # An account in error shows last-good data: the header names its error instead.
        if worst is not None and not trouble and (fleet_worst is None or _worse(worst, fleet_worst[1])):
            fleet_worst = (account, worst)
        accounts[account.id] = AccountRow(
            key=account.id,
            name=name,
            badge=account_badge(account),
            services=total,
            problems=problems,
            reason=account.error,
            warnings=account.warnings,
            stale_seconds=stale_seconds,
            worst=None if worst is None else f"{worst.name} {worst.finding.text}",
            worst_severity=Severity.OK if worst is None else worst.severity,
        )
    headline = None
    if fleet_worst is not None:
        account_row = accounts[fleet_worst[0].id]
        headline = (account_row.name, account_row.worst or "", account_row.worst_severity)
    return FleetView(snapshot, now, accounts, clusters, services, by_cluster, account_snapshots, headline, thresholds)


_DIRECTIONS = {
    "north": "n",
    "south": "s",
    "east": "e",
    "west": "w",
    "central": "c",
    "northeast": "ne",
    "northwest": "nw",
    "southeast": "se",
    "southwest": "sw",
}


def short_region(region: str) -> str:
    """The usual short form of a region code: us-east-1 -> use1, ap-southeast-2 -> apse2."""

    parts = region.split("-")
    if len(parts) < 3 or not parts[-1].isdigit() or not all(parts):
        return region
    middle = "".join(_DIRECTIONS.get(part, part[0]) for part in parts[1:-1])
    return f"{parts[0]}{middle}{parts[-1]}"


# The columns (columns.py) and the changes worth a notice (changes.py) are
# named here too, where the screens and tests have always imported them.
__all__ = [
    "CLUSTER_TABLE_COLUMNS",
    "COMPACT_DROP",
    "FLEET_TABLE_COLUMNS",
    "SERVICE_COLUMNS",
    "SEVERITY",
    "SORT_HELP",
    "SORT_LETTERS",
    "AccountRow",
    "Change",
    "ClusterRow",
    "Column",
    "FleetView",
    "ServiceRow",
    "Thresholds",
    "age_text",
    "build_view",
    "changes",
    "sort_rows",
    "sparkline",
]
