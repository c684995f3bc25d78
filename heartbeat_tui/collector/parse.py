"""AWS responses -> snapshot models. Tolerant of missing fields and unknown
enum values: a malformed item is described, never a crash of the whole poll.

Every value is converted here to the type its model declares, so the models a
poll makes often (services and their parts, clusters, scaling targets and
activities) are made without validating them again (`collector.construct`)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime, timezone
from typing import Any, TypeVar

import orjson

from heartbeat_tui.aws.errors import BadResponse
from heartbeat_tui.collector.construct import maker
from heartbeat_tui.models import (
    Cluster,
    Container,
    ContainerDefinition,
    Deployment,
    DeploymentConfiguration,
    LoadBalancer,
    LogConfiguration,
    NetworkConfiguration,
    PortMapping,
    ScalableTarget,
    ScalingActivity,
    ScalingPolicy,
    Service,
    ServiceEvent,
    Task,
    TaskDefinition,
    canonical_of,
)
from heartbeat_tui.timeutil import to_datetime

_T = TypeVar("_T")


def _int(value: Any, default: int = 0) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return default


def _str(value: Any) -> str | None:
    return None if value is None else str(value)


def _opt_int(value: Any) -> int | None:
    if value is None or isinstance(value, bool):
        return None
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _opt_bool(value: Any) -> bool | None:
    return value if isinstance(value, bool) else None


def _mapping(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _strings(value: Any) -> tuple[str, ...]:
    return tuple(str(v) for v in _list(value) if v is not None)


def _required(item: Mapping[str, Any], key: str, what: str) -> Any:
    """A field without which the item cannot be shown truthfully."""

    value = item.get(key)
    if value is None:
        raise BadResponse(f"{what} without {key}")
    return value


def fingerprint(item: Any) -> int:
    """What an answer's item holds, to know an unchanged one (most items, most
    polls) without parsing it again: the hash of its JSON.

    Python's hash of the bytes (SipHash, 64 bits, keyed afresh in each process)
    costs a third of a 128-bit BLAKE2 digest (1.1 against 2.7 us for a service
    with its events), and two different items of one service, a poll apart,
    have the same one with a chance of 2**-64: a service shown as it was one
    change ago, until its next change.
    """

    return hash(orjson.dumps(item))


def name_from_arn(arn: str) -> str:
    return arn.rsplit("/", 1)[-1]


def cluster_name_from_service_arn(arn: str) -> str | None:
    """`arn:aws:ecs:r:a:service/CLUSTER/NAME` -> CLUSTER (None for the old short form)."""

    resource = arn.split(":", 5)[-1]
    parts = resource.split("/")
    return parts[1] if len(parts) == 3 else None


# Each model the parser makes, from the fields it gives (`collector.construct`:
# the values are already of the declared types, so not validated again).
_CLUSTER = maker(
    Cluster, "arn", "name", "status", "active_services_count", "running_tasks_count", "pending_tasks_count"
)
_DEPLOYMENT = maker(
    Deployment,
    "id",
    "status",
    "task_definition",
    "desired_count",
    "running_count",
    "pending_count",
    "failed_tasks",
    "rollout_state",
    "rollout_state_reason",
    "launch_type",
    "platform_version",
    "created_at",
    "updated_at",
)
_DEPLOYMENT_CONFIGURATION = maker(
    DeploymentConfiguration, "minimum_healthy_percent", "maximum_percent", "circuit_breaker", "rollback"
)
_LOAD_BALANCER = maker(LoadBalancer, "target_group_arn", "load_balancer_name", "container_name", "container_port")
_NETWORK = maker(NetworkConfiguration, "subnets", "security_groups", "assign_public_ip")
_EVENT = maker(ServiceEvent, "id", "created_at", "message")
_SERVICE = maker(
    Service,
    "arn",
    "name",
    "cluster_arn",
    "status",
    "desired_count",
    "running_count",
    "pending_count",
    "launch_type",
    "task_definition",
    "created_at",
    "platform_version",
    "deployment_configuration",
    "load_balancers",
    "network",
    "deployments",
    "events",
)
_SCALABLE_TARGET = maker(
    ScalableTarget, "resource_id", "scalable_dimension", "min_capacity", "max_capacity", "suspended", "created_at"
)
_SCALING_ACTIVITY = maker(
    ScalingActivity,
    "activity_id",
    "resource_id",
    "description",
    "cause",
    "status_code",
    "status_message",
    "start_time",
    "end_time",
)


def parse_cluster(item: Mapping[str, Any]) -> Cluster:
    arn = str(_required(item, "clusterArn", "a cluster"))
    name = str(item.get("clusterName") or name_from_arn(arn))
    return _CLUSTER(
        arn=arn,
        name=name,
        status=str(item.get("status") or "UNKNOWN"),
        # It decides whether the cluster's services are listed: never guess 0.
        active_services_count=_int(_required(item, "activeServicesCount", f"cluster {name}")),
        running_tasks_count=_int(item.get("runningTasksCount")),
        pending_tasks_count=_int(item.get("pendingTasksCount")),
    )


def parse_deployment(item: Mapping[str, Any]) -> Deployment:
    return _DEPLOYMENT(
        id=str(item.get("id") or "?"),
        status=str(item.get("status") or "UNKNOWN"),
        task_definition=_str(item.get("taskDefinition")),
        desired_count=_int(item.get("desiredCount")),
        running_count=_int(item.get("runningCount")),
        pending_count=_int(item.get("pendingCount")),
        failed_tasks=_int(item.get("failedTasks")),
        rollout_state=_str(item.get("rolloutState")),
        rollout_state_reason=_str(item.get("rolloutStateReason")),
        launch_type=_str(item.get("launchType")),
        platform_version=_str(item.get("platformVersion")),
        created_at=to_datetime(item.get("createdAt")),
        updated_at=to_datetime(item.get("updatedAt")),
    )


class _Parts:
    """Small immutable parts of one kind that most services of a real fleet repeat
    (one network for a whole team), built once per distinct value:
    building a model costs a validation, and a cold poll of 40,000 services built
    80,000 of these. Bounded: cleared when full."""

    __slots__ = ("_built", "_limit")

    def __init__(self, limit: int = 4096) -> None:
        self._built: dict[tuple[Any, ...], Any] = {}
        self._limit = limit

    def get(self, key: tuple[Any, ...], build: Callable[[], _T]) -> _T:
        part: _T | None = self._built.get(key)
        if part is None:
            if len(self._built) >= self._limit:
                self._built.clear()
            part = self._built[key] = build()
        return part


_NETWORKS = _Parts()


def parse_deployment_configuration(item: Any) -> DeploymentConfiguration | None:
    if not isinstance(item, Mapping):
        return None
    breaker = _mapping(item.get("deploymentCircuitBreaker"))
    # Each position holds one type (int or bool), so 1 and True never meet in a key.
    values = (
        _opt_int(item.get("minimumHealthyPercent")),
        _opt_int(item.get("maximumPercent")),
        _opt_bool(breaker.get("enable")),
        _opt_bool(breaker.get("rollback")),
    )
    # One object for every service alive with these values (`models.canonical`,
    # which the model's own validation applies too): no table of its own to bound.
    return canonical_of(
        DeploymentConfiguration,
        values,
        lambda: _DEPLOYMENT_CONFIGURATION(
            minimum_healthy_percent=values[0], maximum_percent=values[1], circuit_breaker=values[2], rollback=values[3]
        ),
    )


def parse_load_balancer(item: Mapping[str, Any]) -> LoadBalancer:
    # Not shared: a target group usually belongs to one service.
    return _LOAD_BALANCER(
        target_group_arn=_str(item.get("targetGroupArn")),
        load_balancer_name=_str(item.get("loadBalancerName")),
        container_name=_str(item.get("containerName")),
        container_port=_opt_int(item.get("containerPort")),
    )


def parse_network(item: Any) -> NetworkConfiguration | None:
    vpc = _mapping(_mapping(item).get("awsvpcConfiguration"))
    if not vpc:
        return None
    values = (_strings(vpc.get("subnets")), _strings(vpc.get("securityGroups")), _str(vpc.get("assignPublicIp")))
    return _NETWORKS.get(
        values,
        lambda: _NETWORK(subnets=values[0], security_groups=values[1], assign_public_ip=values[2]),
    )


def parse_service(item: Mapping[str, Any], *, cluster_arn: str, max_events: int) -> Service:
    arn = str(_required(item, "serviceArn", "a service"))
    events = [
        _EVENT(
            id=str(event.get("id") or ""),
            created_at=to_datetime(event.get("createdAt")),
            message=str(event.get("message") or ""),
        )
        for event in (item.get("events") or [])[:max_events]
    ]
    # AWS returns events newest first; make sure, whatever the source did.
    events.sort(key=lambda e: e.created_at or datetime.min.replace(tzinfo=timezone.utc), reverse=True)
    return _SERVICE(
        arn=arn,
        name=str(item.get("serviceName") or name_from_arn(arn)),
        cluster_arn=str(item.get("clusterArn") or cluster_arn),
        status=str(item.get("status") or "UNKNOWN"),
        desired_count=_int(item.get("desiredCount")),
        running_count=_int(item.get("runningCount")),
        pending_count=_int(item.get("pendingCount")),
        launch_type=_str(item.get("launchType")),
        task_definition=_str(item.get("taskDefinition")),
        created_at=to_datetime(item.get("createdAt")),
        platform_version=_str(item.get("platformVersion")),
        deployment_configuration=parse_deployment_configuration(item.get("deploymentConfiguration")),
        load_balancers=tuple(
            parse_load_balancer(lb) for lb in _list(item.get("loadBalancers")) if isinstance(lb, Mapping)
        ),
        network=parse_network(item.get("networkConfiguration")),
        deployments=tuple(parse_deployment(d) for d in item.get("deployments") or ()),
        events=tuple(events),
    )


def parse_scalable_target(item: Mapping[str, Any]) -> ScalableTarget:
    suspended = item.get("SuspendedState") or {}
    return _SCALABLE_TARGET(
        resource_id=str(_required(item, "ResourceId", "a scalable target")),
        scalable_dimension=str(item.get("ScalableDimension") or "ecs:service:DesiredCount"),
        min_capacity=_int(item.get("MinCapacity")),
        max_capacity=_int(item.get("MaxCapacity")),
        suspended=any(bool(v) for v in suspended.values()) if isinstance(suspended, Mapping) else False,
        created_at=to_datetime(item.get("CreationTime")),
    )


def parse_scaling_activity(item: Mapping[str, Any]) -> ScalingActivity:
    return _SCALING_ACTIVITY(
        activity_id=str(_required(item, "ActivityId", "a scaling activity")),
        resource_id=str(item.get("ResourceId") or ""),
        description=str(item.get("Description") or ""),
        cause=str(item.get("Cause") or ""),
        status_code=str(item.get("StatusCode") or ""),
        status_message=_str(item.get("StatusMessage")),
        start_time=to_datetime(item.get("StartTime")),
        end_time=to_datetime(item.get("EndTime")),
    )


def parse_scaling_policy(item: Mapping[str, Any]) -> ScalingPolicy:
    tracking = item.get("TargetTrackingScalingPolicyConfiguration") or {}
    predefined = tracking.get("PredefinedMetricSpecification") or {}
    custom = tracking.get("CustomizedMetricSpecification") or {}
    return ScalingPolicy(
        name=str(item.get("PolicyName") or "?"),
        arn=_str(item.get("PolicyARN")),
        policy_type=str(item.get("PolicyType") or "?"),
        resource_id=str(item.get("ResourceId") or ""),
        target_value=float(tracking["TargetValue"]) if "TargetValue" in tracking else None,
        metric=_str(predefined.get("PredefinedMetricType") or custom.get("MetricName")),
        alarms=tuple(str(a.get("AlarmName")) for a in item.get("Alarms") or () if a.get("AlarmName")),
    )


def parse_task(item: Mapping[str, Any]) -> Task:
    arn = str(_required(item, "taskArn", "a task"))
    containers = []
    for c in item.get("containers") or ():
        exit_code = c.get("exitCode")
        containers.append(
            Container(
                name=str(c.get("name") or "?"),
                last_status=_str(c.get("lastStatus")),
                exit_code=_int(exit_code) if exit_code is not None else None,
                reason=_str(c.get("reason")),
                health_status=_str(c.get("healthStatus")),
            )
        )
    return Task(
        arn=arn,
        id=name_from_arn(arn),
        last_status=_str(item.get("lastStatus")),
        desired_status=_str(item.get("desiredStatus")),
        health_status=_str(item.get("healthStatus")),
        launch_type=_str(item.get("launchType")),
        task_definition=_str(item.get("taskDefinitionArn")),
        availability_zone=_str(item.get("availabilityZone")),
        cpu=_str(item.get("cpu")),
        memory=_str(item.get("memory")),
        created_at=to_datetime(item.get("createdAt")),
        started_at=to_datetime(item.get("startedAt")),
        stopping_at=to_datetime(item.get("stoppingAt")),
        stopped_at=to_datetime(item.get("stoppedAt")),
        stop_code=_str(item.get("stopCode")),
        stopped_reason=_str(item.get("stoppedReason")),
        containers=tuple(containers),
    )


def parse_container_definition(item: Mapping[str, Any]) -> ContainerDefinition:
    log = _mapping(item.get("logConfiguration"))
    options = _mapping(log.get("options"))
    return ContainerDefinition(
        name=str(item.get("name") or "?"),
        image=_str(item.get("image")),
        cpu=_opt_int(item.get("cpu")),
        memory=_opt_int(item.get("memory")),
        memory_reservation=_opt_int(item.get("memoryReservation")),
        essential=item.get("essential") is not False,  # AWS's default is essential
        ports=tuple(
            PortMapping(
                container_port=_opt_int(p.get("containerPort")),
                host_port=_opt_int(p.get("hostPort")),
                protocol=_str(p.get("protocol")),
            )
            for p in _list(item.get("portMappings"))
            if isinstance(p, Mapping)
        ),
        log=(
            LogConfiguration(
                driver=str(log["logDriver"]), options=tuple(sorted((str(k), str(v)) for k, v in options.items()))
            )
            if log.get("logDriver")
            else None
        ),
    )


def parse_task_definition(item: Mapping[str, Any]) -> TaskDefinition:
    arn = str(_required(item, "taskDefinitionArn", "a task definition"))
    return TaskDefinition(
        arn=arn,
        family=str(item.get("family") or name_from_arn(arn).split(":", 1)[0]),
        revision=_opt_int(item.get("revision")),
        cpu=_str(item.get("cpu")),
        memory=_str(item.get("memory")),
        network_mode=_str(item.get("networkMode")),
        containers=tuple(
            parse_container_definition(c) for c in _list(item.get("containerDefinitions")) if isinstance(c, Mapping)
        ),
    )
