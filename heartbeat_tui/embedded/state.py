"""The simulator's model of the fleet (child process only, no moto import).

Moto's ECS objects never change by themselves, so the embedded AWS keeps its
own, richer model of every seeded service: deployments, events, tasks and the
scaling activity log.  The middleware answers the ECS read API from this model;
the simulator mutates it; seeded services also exist in moto and their counts
are mirrored there (see ``World.sync_moto``) so moto's own calls stay coherent.

All timestamps are epoch seconds (floats): that is what awsJson puts on the wire.
"""

from __future__ import annotations

import enum
import random
import uuid
from collections import deque
from dataclasses import dataclass, field
from typing import Any

MAX_SERVICE_EVENTS = 100  # DescribeServices returns at most the 100 newest events
MAX_STOPPED_TASKS = 30  # AWS keeps stopped tasks visible for about an hour
TROUBLESHOOTING = "For more information, see the Troubleshooting section of the Amazon ECS Developer Guide."


class ServiceKind(str, enum.Enum):
    """What a seeded service is doing; drives the simulator's step."""

    STEADY = "steady"
    DEPLOYING = "deploying"
    FAILING = "failing"
    SCALED_TO_ZERO = "scaled_to_zero"
    UNDER_RUNNING = "under_running"  # running < desired: no capacity to place tasks
    DRAINING = "draining"


def task_id(rng: random.Random) -> str:
    """A 32-hex-digit ECS task id."""
    return f"{rng.getrandbits(128):032x}"


def deployment_id(rng: random.Random) -> str:
    """An ``ecs-svc/`` + 19 digits deployment id, as ECS prints them."""
    return f"ecs-svc/{rng.randrange(10**18, 10**19)}"


def event_id(rng: random.Random) -> str:
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


# -- messages, worded like the ECS service scheduler ---------------------------


def msg_started(service: str, ids: list[str]) -> str:
    tasks = " ".join(f"(task {i})" for i in ids)
    return f"(service {service}) has started {len(ids)} tasks: {tasks}."


def msg_stopped(service: str, ids: list[str]) -> str:
    tasks = " ".join(f"(task {i})" for i in ids)
    return f"(service {service}) has stopped {len(ids)} running tasks: {tasks}."


def msg_draining(service: str, count: int) -> str:
    return f"(service {service}) has begun draining connections on {count} tasks."


def msg_steady(service: str) -> str:
    return f"(service {service}) has reached a steady state."


def msg_deployment_completed(service: str, deployment: str) -> str:
    return f"(service {service}) (deployment {deployment}) deployment completed."


def msg_deployment_failed(service: str, deployment: str) -> str:
    return f"(service {service}) (deployment {deployment}) deployment failed: tasks failed to start."


def msg_unable_to_start(service: str) -> str:
    return f"(service {service}) is unable to consistently start tasks successfully. {TROUBLESHOOTING}"


def msg_unable_to_place(service: str, launch_type: str, instance_id: str) -> str:
    if launch_type == "EC2":
        return (
            f"(service {service}) was unable to place a task because no container instance met "
            f"all of its requirements. The closest matching (container-instance {instance_id}) "
            f"has insufficient memory available. {TROUBLESHOOTING}"
        )
    return (
        f"(service {service}) was unable to place a task. Reason: Capacity is unavailable at "
        f"this time. Please try again later or in a different availability zone. {TROUBLESHOOTING}"
    )


# -- model ----------------------------------------------------------------------


@dataclass
class Container:
    name: str
    image: str
    last_status: str
    health_status: str = "UNKNOWN"
    exit_code: int | None = None
    reason: str | None = None


@dataclass
class SimTask:
    """One ECS task of a seeded service.  Never changes when described."""

    id: str
    arn: str
    cluster_arn: str
    service: str
    deployment: str
    task_definition_arn: str
    launch_type: str
    cpu: str
    memory: str
    availability_zone: str
    created_at: float
    containers: list[Container]
    last_status: str = "PENDING"
    desired_status: str = "RUNNING"
    health_status: str = "UNKNOWN"
    started_at: float | None = None
    stopping_at: float | None = None
    stopped_at: float | None = None
    stop_code: str | None = None
    stopped_reason: str | None = None

    def start(self, now: float) -> None:
        self.last_status = "RUNNING"
        self.started_at = now
        self.health_status = "HEALTHY"
        for container in self.containers:
            container.last_status = "RUNNING"
            container.health_status = "HEALTHY"

    def stop(
        self,
        now: float,
        *,
        stop_code: str,
        reason: str,
        exit_code: int | None = 0,
        container_reason: str | None = None,
    ) -> None:
        self.last_status = "STOPPED"
        self.desired_status = "STOPPED"
        self.health_status = "UNKNOWN"
        self.stopping_at = now - 30.0 if self.started_at else now
        self.stopped_at = now
        self.stop_code = stop_code
        self.stopped_reason = reason
        for index, container in enumerate(self.containers):
            container.last_status = "STOPPED"
            container.health_status = "UNKNOWN"
            # The essential container exits; a sidecar is then killed by the agent (SIGKILL).
            container.exit_code = exit_code if index == 0 or not exit_code else 137
            container.reason = container_reason


@dataclass
class Deployment:
    id: str
    status: str  # PRIMARY | ACTIVE
    task_definition: str
    desired_count: int
    launch_type: str
    created_at: float
    updated_at: float
    rollout_state: str  # IN_PROGRESS | COMPLETED | FAILED
    rollout_state_reason: str
    running_count: int = 0
    pending_count: int = 0
    failed_tasks: int = 0


@dataclass
class ScalingConfig:
    """The scalable target and policy seeded in moto for one service."""

    min_capacity: int
    max_capacity: int
    policy_name: str
    policy_type: str  # TargetTrackingScaling | StepScaling
    alarm_high: str
    alarm_low: str


@dataclass
class ScalingActivity:
    activity_id: str
    account: str
    region: str
    resource_id: str
    description: str
    cause: str
    start_time: float
    end_time: float
    status_code: str = "Successful"
    status_message: str = ""

    def to_json(self) -> dict[str, Any]:
        return {
            "ActivityId": self.activity_id,
            "ServiceNamespace": "ecs",
            "ResourceId": self.resource_id,
            "ScalableDimension": "ecs:service:DesiredCount",
            "Description": self.description,
            "Cause": self.cause,
            "StartTime": self.start_time,
            "EndTime": self.end_time,
            "StatusCode": self.status_code,
            "StatusMessage": self.status_message,
        }


@dataclass
class MetricProfile:
    """Per-service parameters of the CPU/memory generator (see metrics.py)."""

    cpu_base: float  # per-task average CPU at ``base_count`` running tasks
    mem_base: float
    base_count: int
    phases: tuple[float, float, float]
    hot: bool
    noise_key: float


@dataclass
class SimService:
    account: str
    region: str
    cluster: str
    cluster_arn: str
    name: str
    arn: str
    kind: ServiceKind
    launch_type: str
    family: str
    task_definition: str  # the PRIMARY deployment's task definition ARN
    created_at: float
    desired_count: int
    cpu: str
    memory: str
    image: str
    metrics: MetricProfile
    status: str = "ACTIVE"
    failure_mode: str = "exit"  # exit | pull (how a FAILING service's tasks fail)
    deployments: list[Deployment] = field(default_factory=list)
    events: deque[dict[str, Any]] = field(default_factory=lambda: deque(maxlen=MAX_SERVICE_EVENTS))
    tasks: dict[str, SimTask] = field(default_factory=dict)  # not stopped
    stopped: deque[SimTask] = field(default_factory=lambda: deque(maxlen=MAX_STOPPED_TASKS))
    scaling: ScalingConfig | None = None
    needs_steady_event: bool = False
    moto_service: Any = None  # moto's Service object, mirrored by World.sync_moto
    # What the detail view shows besides counts (seeded once, see task_definitions.service_extras).
    sidecar: str | None = None  # a second container in every task (its own log stream)
    log_driver: str = "awslogs"
    load_balancers: list[dict[str, Any]] = field(default_factory=list)
    network: dict[str, Any] | None = None
    deployment_config: dict[str, Any] = field(default_factory=dict)
    # The running count as of the last World.sync_moto: what the metric store
    # reads, without the world lock (an int attribute is read atomically; the
    # tasks dict may be changing under the simulator).
    metrics_running: int = 0

    @property
    def resource_id(self) -> str:
        return f"service/{self.cluster}/{self.name}"

    @property
    def primary(self) -> Deployment | None:
        return self.deployments[0] if self.deployments else None

    @property
    def running_count(self) -> int:
        return sum(1 for t in self.tasks.values() if t.last_status == "RUNNING")

    @property
    def pending_count(self) -> int:
        return sum(1 for t in self.tasks.values() if t.last_status == "PENDING")

    def counts(self) -> tuple[int, int]:
        """(running, pending) in one pass over the tasks, for whoever needs both."""
        running = pending = 0
        for task in self.tasks.values():
            status = task.last_status
            if status == "RUNNING":
                running += 1
            elif status == "PENDING":
                pending += 1
        return running, pending

    def add_event(self, rng: random.Random, when: float, message: str) -> None:
        """Events are kept newest first, capped at 100 like DescribeServices."""
        self.events.appendleft({"id": event_id(rng), "createdAt": when, "message": message})

    def recount(self) -> None:
        """Derive deployment counts from the tasks (the tasks are the truth)."""
        for deployment in self.deployments:
            deployment.running_count = 0
            deployment.pending_count = 0
        by_id = {d.id: d for d in self.deployments}
        for task in self.tasks.values():
            owner = by_id.get(task.deployment)
            if owner is None:
                continue
            if task.last_status == "RUNNING":
                owner.running_count += 1
            elif task.last_status == "PENDING":
                owner.pending_count += 1


@dataclass
class SimCluster:
    account: str
    region: str
    name: str
    arn: str
    default_launch_type: str
    container_instances: int
    services: dict[str, SimService] = field(default_factory=dict)
    moto_cluster: Any = None  # moto's Cluster, whose counts World.sync_cluster mirrors
