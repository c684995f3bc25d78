"""Pure functions from a FleetSnapshot to what the panes show.

No Textual here: everything is plain data, unit-testable and cheap. One
`FleetView` is built per snapshot and shared by every pane and screen.

Rows keep a `signature` (what they show) so a table can tell in O(1) whether
a row changed; sparklines are computed lazily when a row is first painted
(only visible rows are ever painted).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
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


# -- columns and sorting ----------------------------------------------------------


@dataclass(frozen=True)
class Column:
    key: str
    label: str
    width: int
    align: Literal["left", "right"] = "left"
    # Sort key for one row; numbers sort descending first (hottest on top).
    sort_key: Callable[[ServiceRow], Any] = lambda row: row.name
    descending_first: bool = False
    # Its sort key (shift+letter, as k9s has them): a letter of the label, underlined in the header.
    letter: str = ""
    # How the title names the order when it is no column's arrow (the severity order).
    order_text: tuple[str, str] | None = None


def _none_low(value: float | None) -> float:
    return -1.0 if value is None else value


_ROLLOUT_RANK = {"FAILED": 0, "IN_PROGRESS": 1, "COMPLETED": 2, None: 3}

# The default order of the services pane and the fleet view: worst first (severity.py).
SEVERITY = "severity"

SERVICE_COLUMNS: dict[str, Column] = {
    c.key: c
    for c in (
        Column("account", "ACCOUNT", 16, sort_key=lambda r: (r.account, r.name), letter="A"),
        Column("cluster", "CLUSTER", 16, sort_key=lambda r: (r.cluster, r.name), letter="U"),
        Column("name", "SERVICE", 28, sort_key=lambda r: r.name, letter="E"),
        Column("status", "STATUS", 8, sort_key=lambda r: (r.status, r.name), letter="T"),
        Column(
            "tasks",
            "RUN/DES",
            7,
            "right",
            sort_key=lambda r: (r.running - r.desired, -r.desired, r.name),
            letter="R",
        ),
        Column(
            "pending", "PEND", 4, "right", sort_key=lambda r: (r.pending, r.name), descending_first=True, letter="D"
        ),
        Column(
            "rollout",
            "ROLLOUT",
            11,
            sort_key=lambda r: (_ROLLOUT_RANK.get(r.rollout, 3), r.name),
            letter="O",
        ),
        Column("cpu", "CPU", 15, sort_key=lambda r: (_none_low(r.cpu), r.name), descending_first=True, letter="C"),
        Column("mem", "MEM", 15, sort_key=lambda r: (_none_low(r.mem), r.name), descending_first=True, letter="M"),
        Column(
            "scaling",
            "LAST SCALING",
            18,
            sort_key=lambda r: (r.scaling[-5:], r.name),
            descending_first=True,
            letter="I",
        ),
        # Not a column of its own: the rows' colours already say it.
        Column(
            SEVERITY,
            "SEVERITY",
            0,
            sort_key=lambda r: (*r.rank, r.name),
            letter="P",
            order_text=("worst first", "worst last"),
        ),
    )
}

# Shift+letter -> the column it sorts by.
SORT_LETTERS: dict[str, str] = {c.letter: c.key for c in SERVICE_COLUMNS.values() if c.letter}
SORT_HELP = (
    "Column sort keys (services tables): shift+letter, underlined in the column's header; again reverses: "
    + ", ".join(
        f"{c.letter} {c.order_text[0] if c.order_text else c.label.lower()}"
        for c in SERVICE_COLUMNS.values()
        if c.letter
    )
    + ". ctrl+z: problems only, in every table."
)

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


CLUSTER_TABLE_COLUMNS = ("name", "status", "tasks", "pending", "rollout", "cpu", "mem", "scaling")
FLEET_TABLE_COLUMNS = ("account", "cluster", "name", "status", "tasks", "rollout", "cpu", "mem", "scaling")
COMPACT_DROP = ("pending", "scaling", "status")


def sort_rows(rows: Iterable[ServiceRow], column: str, reverse: bool) -> list[str]:
    col = SERVICE_COLUMNS[column]
    descending = col.descending_first != reverse
    return [r.key for r in sorted(rows, key=col.sort_key, reverse=descending)]


# -- state changes worth a notification -----------------------------------------------


@dataclass(frozen=True)
class Change:
    severity: Literal["information", "warning", "error"]
    text: str


def changes(previous: FleetSnapshot | None, current: FleetSnapshot, *, limit: int = 4) -> list[Change]:
    """What changed between two consecutive snapshots that an operator must hear about.

    Deployments that failed, services that scaled, accounts that went to error
    or recovered. Every line names its account, and each service its cluster; a
    burst in one account is one line ("payments-prod: 3 services scaled: ...",
    at most `limit` named), and scaling in more than `limit` accounts is one line
    naming the busiest, so a busy poll does not bury the one line that matters.
    """

    if previous is None:
        return []
    failed: dict[str, list[str]] = {}
    scaled: dict[str, list[str]] = {}
    went_error: list[Change] = []
    recovered: list[str] = []
    before_accounts = {a.id: a for a in previous.accounts}
    for account in current.accounts:
        before = before_accounts.get(account.id)
        if before is None:
            continue
        if before.status is AccountStatus.OK and account.status is AccountStatus.ERROR:
            went_error.append(Change("error", f"{account.display_name} went to error: {account.error}"))
        elif before.status is AccountStatus.ERROR and account.status is AccountStatus.OK:
            recovered.append(account.display_name)
        if account.status is AccountStatus.ERROR:
            continue  # its services are last-good data: nothing new to say
        before_services = {s.arn: s for _, _, s in before.services()}
        for _, cluster, service in account.services():
            old = before_services.get(service.arn)
            if old is None:
                continue
            where = f"{cluster.name}/{service.name}"
            if service.rollout_state == "FAILED" and old.rollout_state != "FAILED":
                failed.setdefault(account.display_name, []).append(where)
            if service.desired_count != old.desired_count:
                scaled.setdefault(account.display_name, []).append(
                    f"{where} {old.desired_count}→{service.desired_count}"
                )
    out: list[Change] = list(went_error)
    if recovered:
        out.append(Change("information", f"recovered: {', '.join(recovered)}"))
    for account_name, items in failed.items():
        out.append(_summarise("error", account_name, "deployment failed", "deployments failed", items, limit))
    if len(scaled) > limit:
        # Scaling across many accounts at once (a fleet of hundreds): one line, not one per
        # account burying the rest of the flash line and the history (`n`).
        busiest = sorted(scaled.items(), key=lambda item: -len(item[1]))
        total = sum(len(items) for items in scaled.values())
        named = ", ".join(f"{name} ({len(items)})" for name, items in busiest[:limit])
        out.append(Change("information", f"{total} services scaled in {len(scaled)} accounts: {named}, …"))
        return out
    for account_name, items in scaled.items():
        out.append(_summarise("information", account_name, "scaled", "services scaled", items, limit))
    return out


def _summarise(severity: Any, account: str, one: str, many: str, items: list[str], limit: int) -> Change:
    if len(items) == 1:
        return Change(severity, f"{account}: {one}: {items[0]}")
    shown = ", ".join(items[:limit]) + (", …" if len(items) > limit else "")
    return Change(severity, f"{account}: {len(items)} {many}: {shown}")


__all__ = [
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
