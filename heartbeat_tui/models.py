"""The immutable snapshot one poll produces.

Every model is frozen and every collection is a tuple, so a snapshot can be
handed to the UI (or to another thread) and never changes underneath it.
Unchanged parts are shared between consecutive snapshots (metric history in
particular), which keeps a long session's memory flat.

Times are timezone-aware UTC datetimes, except metric timestamps, which are
epoch seconds (ints) because there are millions of them (`MetricSeries`, in
series.py: compact arrays, re-exported here as part of the snapshot).
"""

from __future__ import annotations

import sys
import threading
import weakref
from collections.abc import Callable, Iterable, Mapping
from datetime import datetime, timezone
from enum import Enum
from typing import Annotated, Any, Literal, Self, TypeVar

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from heartbeat_tui.fieldsets import compact, share_fields_set
from heartbeat_tui.series import CURRENT_MAX_AGE_SECONDS as CURRENT_MAX_AGE_SECONDS
from heartbeat_tui.series import EMPTY_SERIES as EMPTY_SERIES
from heartbeat_tui.series import MetricSeries as MetricSeries


class Frozen(BaseModel):
    """Immutable, and compact (`fieldsets`): no set of field names of its own, and
    its values in a key-sharing dict. A fleet of 40,000 services has half a million
    of these objects."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    def model_post_init(self, context: Any, /) -> None:
        compact(self)

    def __setstate__(self, state: dict[Any, Any]) -> None:
        # Unpickled: what a worker process sends its parent (`collector.wire`).
        super().__setstate__(state)
        compact(self)

    def model_copy(self, *, update: Mapping[str, Any] | None = None, deep: bool = False) -> Self:
        copied = super().model_copy(update=update, deep=deep)
        share_fields_set(copied)
        return copied


# A value many objects repeat (a status, a launch type, the cluster's ARN, the task
# definition a service and its deployment both name): one string for all, not one
# per object read from an answer.
Shared = Annotated[str, AfterValidator(sys.intern)]

_canonical: weakref.WeakValueDictionary[tuple[Any, ...], Frozen] = weakref.WeakValueDictionary()
_canonical_lock = threading.Lock()
_F = TypeVar("_F", bound=Frozen)


def canonical(value: _F | None) -> _F | None:
    """The one object equal to `value` that is alive (`value` itself if none is).

    For parts most services repeat (a deployment configuration); a part that is
    often a service's own costs more here (its entry) than it saves. Known by its
    type and values: a key holding the object itself would keep it alive for ever.
    """

    if value is None:
        return value
    key = (type(value), *value.__dict__.values())
    with _canonical_lock:
        return _canonical.setdefault(key, value)  # type: ignore[return-value]  # equal: the same type


def canonical_of(kind: type[_F], values: tuple[Any, ...], build: Callable[[], _F]) -> _F:
    """The alive object of `kind` whose field values are `values` (in field order),
    built by `build` only when there is none: the parser's way past a validation
    for a part that thousands of services repeat (a cold poll of 40,000 services
    had 40,000 deployment configurations to build, a few of them distinct)."""

    with _canonical_lock:
        found = _canonical.get((kind, *values))
    if found is not None:
        return found  # type: ignore[return-value]  # keyed by its type
    shared = canonical(build())
    assert shared is not None
    return shared


# A part many services have equal: one object for all of them.
SharedPart = AfterValidator(canonical)


class AccountStatus(str, Enum):
    OK = "ok"
    ERROR = "error"


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


def metrics_as_of(fetched_at: datetime | None, generated_at: datetime) -> float:
    """The moment (epoch seconds) a region's metric values are current as of: when
    they were last fetched (a failed fetch keeps them, stale, as of then), else
    the snapshot's time. With `MetricSeries.current`, the one rule for "current
    CPU" that the dashboard, the detail, the demo and the export all use."""

    return (fetched_at or generated_at).timestamp()


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
    status: Shared  # PRIMARY | ACTIVE | INACTIVE
    task_definition: Shared | None = None
    desired_count: int = 0
    running_count: int = 0
    pending_count: int = 0
    failed_tasks: int = 0
    rollout_state: Shared | None = None  # COMPLETED | FAILED | IN_PROGRESS
    rollout_state_reason: str | None = None
    launch_type: Shared | None = None
    platform_version: Shared | None = None
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
    container_name: Shared | None = None
    container_port: int | None = None


class NetworkConfiguration(Frozen):
    subnets: tuple[Shared, ...] = ()
    security_groups: tuple[Shared, ...] = ()
    assign_public_ip: Shared | None = None  # ENABLED | DISABLED


class ServiceEvent(Frozen):
    id: str
    created_at: datetime | None
    message: str


class ScalableTarget(Frozen):
    resource_id: str
    scalable_dimension: Shared = "ecs:service:DesiredCount"
    min_capacity: int
    max_capacity: int
    suspended: bool = False
    created_at: datetime | None = None


class ScalingActivity(Frozen):
    activity_id: str
    resource_id: str
    description: Shared = ""
    cause: str = ""
    status_code: Shared = ""
    status_message: Shared | None = None
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
    name: Shared
    cluster_arn: Shared
    status: Shared
    desired_count: int = 0
    running_count: int = 0
    pending_count: int = 0
    launch_type: Shared | None = None
    task_definition: Shared | None = None
    created_at: datetime | None = None
    platform_version: Shared | None = None
    deployment_configuration: Annotated[DeploymentConfiguration | None, SharedPart] = None
    load_balancers: tuple[LoadBalancer, ...] = ()
    network: NetworkConfiguration | None = None  # not shared: security groups are often a service's own
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
