"""The immutable snapshot one poll produces.

Every model is frozen and every collection is a tuple, so a snapshot can be
handed to the UI (or to another thread) and never changes underneath it.
Unchanged parts are shared between consecutive snapshots (metric history in
particular), which keeps a long session's memory flat.

Times are timezone-aware UTC datetimes, except metric timestamps, which are
epoch seconds (ints) because there are hundreds of thousands of them.
"""

from __future__ import annotations

import bisect
import math
from array import array
from collections.abc import Iterable
from datetime import datetime, timezone
from enum import Enum
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field


class Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class AccountStatus(str, Enum):
    OK = "ok"
    ERROR = "error"


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


# CloudWatch publishes ECS metrics one to three minutes late: a newest point
# older than this at the time of the fetch means the service has no current value.
CURRENT_MAX_AGE_SECONDS = 5 * 60


def metrics_as_of(fetched_at: datetime | None, generated_at: datetime) -> float:
    """The moment (epoch seconds) a region's metric values are current as of: when
    they were last fetched (a failed fetch keeps them, stale, as of then), else
    the snapshot's time. With `MetricSeries.current`, the one rule for "current
    CPU" that the dashboard, the detail, the demo and the export all use."""

    return (fetched_at or generated_at).timestamp()


class MetricSeries:
    """One CloudWatch series at 60-second resolution, oldest point first.

    Immutable and compact: points live in two private arrays (uint32 epoch
    seconds, float64 values), exposed only as read-only memoryviews. A fleet of
    5,000 services keeps 3.6 million points of history; as Python tuples of
    ints and floats that was about 70 bytes a point, here it is 12.
    """

    __slots__ = ("_timestamps", "_values")

    def __init__(self, timestamps: Iterable[int] = (), values: Iterable[float] = ()) -> None:
        ts = timestamps if isinstance(timestamps, array) and timestamps.typecode == "I" else array("I", timestamps)
        vs = values if isinstance(values, array) and values.typecode == "d" else array("d", values)
        if len(ts) != len(vs):
            raise ValueError("a metric series needs as many timestamps as values")
        # Private copies: nobody else holds a reference that could mutate them.
        self._timestamps = array("I", ts)
        self._values = array("d", vs)

    def __setattr__(self, name: str, value: Any) -> None:
        if hasattr(self, "_values"):
            raise AttributeError("MetricSeries is immutable")
        object.__setattr__(self, name, value)

    @property
    def timestamps(self) -> memoryview:
        return memoryview(self._timestamps).toreadonly()

    @property
    def values(self) -> memoryview:
        return memoryview(self._values).toreadonly()

    def __len__(self) -> int:
        return len(self._timestamps)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, MetricSeries):
            return NotImplemented
        return self._timestamps == other._timestamps and self._values == other._values

    def __hash__(self) -> int:
        return hash((self._timestamps.tobytes(), self._values.tobytes()))

    def __repr__(self) -> str:
        return f"MetricSeries({len(self)} points, newest at {self.latest_timestamp})"

    def __reduce__(self) -> tuple[Any, ...]:
        return (MetricSeries, (self.timestamps.tolist(), self.values.tolist()))

    def current(self, as_of: float, max_age: float = CURRENT_MAX_AGE_SECONDS) -> float | None:
        """The newest value if it is recent at `as_of` (epoch seconds), else None.

        A service scaled to zero an hour ago has a last datapoint, but no
        current CPU: showing that old value as "latest" would be a lie.
        """

        if not self._timestamps or self._timestamps[-1] < as_of - max_age:
            return None
        return self._values[-1]

    @property
    def latest_timestamp(self) -> int | None:
        return self._timestamps[-1] if self._timestamps else None

    def buckets(
        self, start: float, end: float, count: int, aggregate: Literal["max", "mean"] = "max"
    ) -> list[float | None]:
        """The points from `start` on in `count` equal time buckets up to `end` (a
        point at or past `end` counts in the last), each the highest or the mean
        of its points, None without any: the one time-bucketing of the
        dashboard's sparklines and the detail's plots."""

        stamps, values = self._timestamps, self._values
        span = (end - start) / count
        totals = [0.0] * count
        seen = [0] * count
        peaks = [-math.inf] * count
        last = count - 1
        for i in range(bisect.bisect_left(stamps, start), len(stamps)):
            x = int((stamps[i] - start) / span)
            if x > last:
                x = last
            value = values[i]
            totals[x] += value
            seen[x] += 1
            if value > peaks[x]:
                peaks[x] = value
        if aggregate == "max":
            return [peaks[x] if seen[x] else None for x in range(count)]
        return [totals[x] / seen[x] if seen[x] else None for x in range(count)]

    def _first_index_since(self, epoch_seconds: float) -> int:
        return bisect.bisect_left(self._timestamps, epoch_seconds)

    def since(self, epoch_seconds: float) -> tuple[float, ...]:
        return tuple(self._values[self._first_index_since(epoch_seconds) :])

    def max_since(self, epoch_seconds: float) -> float | None:
        recent = self._values[self._first_index_since(epoch_seconds) :]
        return max(recent) if len(recent) else None

    def merged(
        self, timestamps: Iterable[int], values: Iterable[float], *, oldest: int, ordered: bool = False
    ) -> MetricSeries:
        """A new series with the given points merged in (newer values win) and
        everything older than `oldest` dropped, so the history stays bounded.
        Returns `self` when nothing changed.

        Cheap for the two usual cases, which stay in C loops: the first load
        (no history yet) and a few new minutes that overlap the end of the
        history (the re-read of the newest, possibly partial, minutes).
        `ordered=True`: the caller has checked that the timestamps strictly
        increase. The given arrays are only read, never kept.
        """

        new_ts = _uint_array(timestamps)
        new_vs = values if isinstance(values, array) and values.typecode == "d" else array("d", values)
        if len(new_ts) != len(new_vs):
            raise ValueError("a metric series needs as many timestamps as values")
        if not (ordered or strictly_increasing(new_ts)):
            points = dict(zip(new_ts.tolist(), new_vs.tolist()))  # a later duplicate wins
            keys = sorted(points)
            new_ts, new_vs = array("I", keys), array("d", (points[t] for t in keys))
        old_ts, old_values = self._timestamps, self._values
        if not old_ts:  # the first load
            first = bisect.bisect_left(new_ts, oldest)
            return self if first == len(new_ts) else MetricSeries._adopt(new_ts[first:], new_vs[first:])
        count = len(new_ts)
        if count and old_ts[0] >= oldest and old_ts[-count:] == new_ts and old_values[-count:] == new_vs:
            return self  # the re-read of the newest minutes found nothing new
        if not count:
            ts, vs = old_ts[:], old_values[:]
        else:
            cut = bisect.bisect_left(old_ts, new_ts[0])
            old_tail = old_ts[cut:].tolist()
            if not old_tail or set(old_tail) <= set(new_ts):
                ts, vs = old_ts[:cut], old_values[:cut]
                ts.extend(new_ts)
                vs.extend(new_vs)
            else:
                # Old points inside the new range that the new data lacks: keep them.
                tail = dict(zip(old_tail, old_values[cut:].tolist()))
                tail.update(zip(new_ts.tolist(), new_vs.tolist()))
                keys = sorted(tail)
                ts, vs = old_ts[:cut], old_values[:cut]
                ts.extend(keys)
                vs.extend(tail[k] for k in keys)
        first = bisect.bisect_left(ts, oldest)
        if first:
            del ts[:first]
            del vs[:first]
        if ts == old_ts and vs == old_values:
            return self
        return MetricSeries._adopt(ts, vs)

    @classmethod
    def _adopt(cls, timestamps: array[int], values: array[float]) -> MetricSeries:
        """A series over arrays that nobody else holds (made by the caller just now)."""

        series = object.__new__(cls)
        object.__setattr__(series, "_timestamps", timestamps)
        object.__setattr__(series, "_values", values)
        return series


def strictly_increasing(stamps: array[int]) -> bool:
    """True when every timestamp is greater than the one before (C loops only:
    sorting a sorted list is one pass, and a duplicate shrinks the set)."""

    as_list = stamps.tolist()
    return as_list == sorted(as_list) and len(set(as_list)) == len(as_list)


def _uint_array(values: Iterable[int]) -> array[int]:
    if isinstance(values, array) and values.typecode == "I":
        return values
    try:
        return array("I", values)
    except TypeError:  # floats from the wire
        return array("I", map(int, values))


EMPTY_SERIES = MetricSeries()


class ServiceMetrics(Frozen):
    model_config = ConfigDict(frozen=True, extra="forbid", arbitrary_types_allowed=True)

    cpu_average: MetricSeries = EMPTY_SERIES
    cpu_maximum: MetricSeries = EMPTY_SERIES
    memory_average: MetricSeries = EMPTY_SERIES
    memory_maximum: MetricSeries = EMPTY_SERIES

    @property
    def newest_timestamp(self) -> int | None:
        stamps = [
            s.latest_timestamp
            for s in (self.cpu_average, self.cpu_maximum, self.memory_average, self.memory_maximum)
            if s.latest_timestamp is not None
        ]
        return max(stamps) if stamps else None


EMPTY_METRICS = ServiceMetrics()


class Deployment(Frozen):
    id: str
    status: str  # PRIMARY | ACTIVE | INACTIVE
    task_definition: str | None = None
    desired_count: int = 0
    running_count: int = 0
    pending_count: int = 0
    failed_tasks: int = 0
    rollout_state: str | None = None  # COMPLETED | FAILED | IN_PROGRESS
    rollout_state_reason: str | None = None
    launch_type: str | None = None
    platform_version: str | None = None
    created_at: datetime | None = None
    updated_at: datetime | None = None


class DeploymentConfiguration(Frozen):
    """How a rollout may proceed: what an operator checks when a deployment stalls or rolls back."""

    minimum_healthy_percent: int | None = None
    maximum_percent: int | None = None
    circuit_breaker: bool | None = None  # None: not reported
    rollback: bool | None = None


class LoadBalancer(Frozen):
    target_group_arn: str | None = None
    load_balancer_name: str | None = None  # Classic Load Balancers only
    container_name: str | None = None
    container_port: int | None = None


class NetworkConfiguration(Frozen):
    subnets: tuple[str, ...] = ()
    security_groups: tuple[str, ...] = ()
    assign_public_ip: str | None = None  # ENABLED | DISABLED


class ServiceEvent(Frozen):
    id: str
    created_at: datetime | None
    message: str


class ScalableTarget(Frozen):
    resource_id: str
    scalable_dimension: str = "ecs:service:DesiredCount"
    min_capacity: int
    max_capacity: int
    suspended: bool = False
    created_at: datetime | None = None


class ScalingActivity(Frozen):
    activity_id: str
    resource_id: str
    description: str = ""
    cause: str = ""
    status_code: str = ""
    status_message: str | None = None
    start_time: datetime | None = None
    end_time: datetime | None = None


class ScalingPolicy(Frozen):
    name: str
    arn: str | None = None
    policy_type: str
    resource_id: str
    target_value: float | None = None
    metric: str | None = None
    alarms: tuple[str, ...] = ()


class Container(Frozen):
    name: str
    last_status: str | None = None
    exit_code: int | None = None
    reason: str | None = None
    health_status: str | None = None


class PortMapping(Frozen):
    container_port: int | None = None
    host_port: int | None = None
    protocol: str | None = None


class LogConfiguration(Frozen):
    driver: str
    options: tuple[tuple[str, str], ...] = ()

    def option(self, key: str) -> str | None:
        return next((value for name, value in self.options if name == key), None)


class ContainerDefinition(Frozen):
    """One container of a task definition, as registered (immutable, like its task definition)."""

    name: str
    image: str | None = None
    cpu: int | None = None
    memory: int | None = None  # hard limit, MiB
    memory_reservation: int | None = None  # soft limit, MiB
    essential: bool = True
    ports: tuple[PortMapping, ...] = ()
    log: LogConfiguration | None = None


class TaskDefinition(Frozen):
    arn: str
    family: str = ""
    revision: int | None = None
    cpu: str | None = None
    memory: str | None = None
    network_mode: str | None = None
    containers: tuple[ContainerDefinition, ...] = ()


class Task(Frozen):
    arn: str
    id: str
    last_status: str | None = None
    desired_status: str | None = None
    health_status: str | None = None
    launch_type: str | None = None
    task_definition: str | None = None
    availability_zone: str | None = None
    cpu: str | None = None
    memory: str | None = None
    created_at: datetime | None = None
    started_at: datetime | None = None
    stopping_at: datetime | None = None
    stopped_at: datetime | None = None
    stop_code: str | None = None
    stopped_reason: str | None = None
    containers: tuple[Container, ...] = ()


class ServiceDetail(Frozen):
    """What the detail view fetches on demand for one service."""

    account_id: str
    region: str
    cluster_arn: str
    service_name: str
    fetched_at: datetime
    tasks: tuple[Task, ...] = ()
    policies: tuple[ScalingPolicy, ...] = ()
    # The service's current task definition (read once per ARN: they are immutable).
    task_definition: TaskDefinition | None = None
    errors: tuple[str, ...] = ()
    # What this fetch cost; on-demand calls are never counted in a poll's stats.
    stats: PollStats = Field(default_factory=lambda: PollStats())


class Service(Frozen):
    arn: str
    name: str
    cluster_arn: str
    status: str
    desired_count: int = 0
    running_count: int = 0
    pending_count: int = 0
    launch_type: str | None = None
    task_definition: str | None = None
    created_at: datetime | None = None
    platform_version: str | None = None
    deployment_configuration: DeploymentConfiguration | None = None
    load_balancers: tuple[LoadBalancer, ...] = ()
    network: NetworkConfiguration | None = None
    deployments: tuple[Deployment, ...] = ()
    events: tuple[ServiceEvent, ...] = ()  # newest first
    scalable_target: ScalableTarget | None = None
    scaling_activities: tuple[ScalingActivity, ...] = ()  # newest first
    metrics: ServiceMetrics = EMPTY_METRICS

    @property
    def primary_deployment(self) -> Deployment | None:
        for deployment in self.deployments:
            if deployment.status == "PRIMARY":
                return deployment
        return self.deployments[0] if self.deployments else None

    @property
    def rollout_state(self) -> str | None:
        primary = self.primary_deployment
        return primary.rollout_state if primary else None

    @property
    def autoscaling_resource_id(self) -> str:
        cluster = self.cluster_arn.rsplit("/", 1)[-1]
        return f"service/{cluster}/{self.name}"


class Cluster(Frozen):
    arn: str
    name: str
    status: str
    active_services_count: int = 0
    running_tasks_count: int = 0
    pending_tasks_count: int = 0
    services: tuple[Service, ...] = ()


StaleKind = Literal["ecs", "metrics", "scaling"]


class RegionSnapshot(Frozen):
    region: str
    clusters: tuple[Cluster, ...] = ()
    # When each kind of data was last fetched successfully (None: never).
    fetched_at: datetime | None = None  # ECS: clusters, services, deployments, events
    metrics_fetched_at: datetime | None = None
    scaling_fetched_at: datetime | None = None
    # What failed in this poll, one readable sentence each.
    errors: tuple[str, ...] = ()
    # Which kinds of data are from an earlier poll because this one failed.
    stale: tuple[StaleKind, ...] = ()

    def metrics_as_of(self, generated_at: datetime) -> float:
        """See `metrics_as_of`."""

        return metrics_as_of(self.metrics_fetched_at, generated_at)

    def fetched_at_of(self, kind: StaleKind) -> datetime | None:
        return {"ecs": self.fetched_at, "metrics": self.metrics_fetched_at, "scaling": self.scaling_fetched_at}[kind]

    @property
    def ok(self) -> bool:
        return not self.errors and not self.stale


class AccountSnapshot(Frozen):
    id: str
    alias: str | None = None
    status: AccountStatus = AccountStatus.OK
    error: str | None = None
    # Non-fatal problems (for example no permission to read the account alias).
    warnings: tuple[str, ...] = ()
    # When this account last polled completely without error (None: never).
    last_success_at: datetime | None = None
    regions: tuple[RegionSnapshot, ...] = ()

    @property
    def display_name(self) -> str:
        return self.alias or self.id

    def stale_seconds(self, now: datetime) -> float | None:
        """Age of the oldest data shown: 0 when everything is from this poll, None
        when something failed and there was never any data to show instead."""

        if self.status is AccountStatus.OK:
            return 0.0
        times: list[datetime] = []
        missing = not self.regions
        for region in self.regions:
            for kind in region.stale:
                fetched = region.fetched_at_of(kind)
                if fetched is None:
                    missing = True
                else:
                    times.append(fetched)
        if times:
            return max(0.0, (now - min(times)).total_seconds())
        return None if missing else 0.0

    def services(self) -> Iterable[tuple[RegionSnapshot, Cluster, Service]]:
        for region in self.regions:
            for cluster in region.clusters:
                for service in cluster.services:
                    yield region, cluster, service


class PollStats(Frozen):
    """What one poll cost: API calls by operation, HTTP attempts, wall time."""

    calls: tuple[tuple[str, int], ...] = ()
    http_requests: int = 0
    duration_seconds: float = 0.0

    @property
    def total_calls(self) -> int:
        return sum(count for _, count in self.calls)

    def calls_of(self, operation: str) -> int:
        return sum(count for name, count in self.calls if name == operation or name.endswith("." + operation))


class FleetSnapshot(Frozen):
    generated_at: datetime
    poll_number: int = 0
    accounts: tuple[AccountSnapshot, ...] = ()
    stats: PollStats = Field(default_factory=PollStats)

    def account(self, key: str) -> AccountSnapshot | None:
        for account in self.accounts:
            if key in (account.id, account.alias):
                return account
        return None

    @property
    def failed_accounts(self) -> tuple[AccountSnapshot, ...]:
        return tuple(a for a in self.accounts if a.status is AccountStatus.ERROR)

    @property
    def service_count(self) -> int:
        return sum(1 for account in self.accounts for _ in account.services())


# -- CloudWatch Logs (read on demand, never by a poll) ---------------------------------------------


class LogSource(Frozen):
    """Where one container's lines go, from its task definition's log configuration."""

    container: str
    driver: str | None  # None: no log configuration at all
    group: str | None = None
    region: str | None = None
    stream_prefix: str | None = None

    @property
    def readable(self) -> bool:
        """CloudWatch Logs holds this container's lines under names HeartBeat can tie to a task."""

        return self.driver == "awslogs" and bool(self.group) and bool(self.stream_prefix)

    def stream(self, task_id: str) -> str:
        """The awslogs driver's stream name: `prefix/container/task-id`."""

        return f"{self.stream_prefix}/{self.container}/{task_id}"

    def why_unreadable(self) -> str:
        if self.driver is None:
            return f"{self.container}: no log configuration, so its output is not kept anywhere HeartBeat can read"
        if self.driver != "awslogs":
            return (
                f"{self.container}: log driver {self.driver}: its lines go to {self.driver}, not to CloudWatch Logs,"
                " which is all HeartBeat reads"
            )
        if not self.group:
            return f"{self.container}: awslogs without awslogs-group"
        return (
            f"{self.container}: awslogs without awslogs-stream-prefix: its streams are named by container id,"
            " which HeartBeat cannot tie to a task"
        )


class LogLine(Frozen):
    timestamp: datetime
    container: str
    task_id: str
    message: str  # untrusted: shown only through heartbeat_tui.untrusted
    event_id: str


class LogQuery(Frozen):
    """Which lines: one service's (every task listed now, running or recently stopped),
    or one task's; every container or one; from `start` on."""

    account_id: str
    region: str
    cluster_arn: str
    service_name: str
    start: datetime
    end: datetime | None = None
    task_id: str | None = None
    container: str | None = None
    task_definition: str | None = None  # when known (the detail); read otherwise


class LogBatch(Frozen):
    query: LogQuery
    lines: tuple[LogLine, ...] = ()  # oldest first: newest at the bottom
    task_definition: str | None = None
    containers: tuple[str, ...] = ()  # every container of the task definition (a picker's choices)
    sources: tuple[LogSource, ...] = ()  # the ones asked for
    notes: tuple[str, ...] = ()  # why a container has no lines here
    errors: tuple[str, ...] = ()
    truncated: bool = False  # more lines than kept: the oldest were dropped
    stats: PollStats = Field(default_factory=lambda: PollStats())
