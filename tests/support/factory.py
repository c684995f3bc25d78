"""Deterministic synthetic fleets for the TUI tests and the TUI benchmark.

No AWS and no randomness: everything derives from indices, so snapshot tests
are stable and a "next poll" changes exactly what the caller asks for.
"""

from __future__ import annotations

import math
from array import array
from datetime import datetime, timedelta, timezone
from types import SimpleNamespace

from heartbeat_tui.models import (
    AccountSnapshot,
    AccountStatus,
    Cluster,
    Container,
    ContainerDefinition,
    Deployment,
    DeploymentConfiguration,
    FleetSnapshot,
    LoadBalancer,
    LogConfiguration,
    MetricSeries,
    NetworkConfiguration,
    PollStats,
    PortMapping,
    RegionSnapshot,
    ScalableTarget,
    ScalingActivity,
    ScalingPolicy,
    Service,
    ServiceDetail,
    ServiceEvent,
    ServiceMetrics,
    Task,
    TaskDefinition,
)

FIXED_NOW = datetime(2026, 11, 28, 12, 0, 0, tzinfo=timezone.utc)
ACCOUNT_NAMES = ("shared-services", "payments-prod", "checkout-staging", "data-platform", "legacy-billing", "ml-prod")
REGIONS = ("us-east-1", "eu-west-1", "us-west-2")
WORDS = ("api", "worker", "gateway", "ledger", "billing", "search", "cart", "auth", "ingest", "reports", "risk", "tax")


def account_id(index: int) -> str:
    return f"{210987654321 + index * 111111111:012d}"[-12:]


def _series(seed: int, end: int, minutes: int, base: float, swing: float) -> MetricSeries:
    start = end - minutes * 60
    stamps = array("I", range(start + 60, end + 1, 60))
    values = array("d", (max(0.0, min(100.0, base + swing * math.sin((i + seed) / 9.0))) for i in range(len(stamps))))
    return MetricSeries(stamps, values)


def make_service(
    account: str, region: str, cluster: str, index: int, *, end: int, minutes: int, bump: float = 0.0
) -> Service:
    name = f"{WORDS[index % len(WORDS)]}-{index:04d}"
    cluster_arn = f"arn:aws:ecs:{region}:{account}:cluster/{cluster}"
    desired = 2 + index % 4
    running = desired - (1 if index % 11 == 3 else 0)
    rollout = "FAILED" if index % 17 == 5 else ("IN_PROGRESS" if index % 13 == 7 else "COMPLETED")
    cpu_base = (index * 37) % 95 + bump
    mem_base = (index * 53) % 90
    created = datetime.fromtimestamp(end - 86400, tz=timezone.utc)
    deployment = Deployment(
        id=f"ecs-svc/{index:019d}",
        status="PRIMARY",
        task_definition=f"arn:aws:ecs:{region}:{account}:task-definition/{name}:{3 + index % 5}",
        desired_count=desired,
        running_count=running,
        pending_count=desired - running,
        failed_tasks=2 if rollout == "FAILED" else 0,
        rollout_state=rollout,
        rollout_state_reason="ECS deployment circuit breaker: tasks failed to start." if rollout == "FAILED" else None,
        launch_type="FARGATE",
        created_at=created,
        updated_at=created + timedelta(hours=1),
    )
    activities = ()
    if index % 3 == 0:
        activities = (
            ScalingActivity(
                activity_id=f"act-{index}",
                resource_id=f"service/{cluster}/{name}",
                description=f"Setting desired count to {desired}.",
                cause=f"monitor alarm TargetTracking-{name}-AlarmHigh in state ALARM triggered policy cpu-target",
                status_code="Successful",
                start_time=datetime.fromtimestamp(end - 600 - index % 50 * 60, tz=timezone.utc),
                end_time=datetime.fromtimestamp(end - 540 - index % 50 * 60, tz=timezone.utc),
            ),
        )
    events = tuple(
        ServiceEvent(
            id=f"ev-{index}-{k}",
            created_at=datetime.fromtimestamp(end - 300 * (k + 1), tz=timezone.utc),
            message=f"(service {name}) has reached a steady state." if k else f"(service {name}) registered 1 targets",
        )
        for k in range(3)
    )
    return Service(
        arn=f"arn:aws:ecs:{region}:{account}:service/{cluster}/{name}",
        name=name,
        cluster_arn=cluster_arn,
        status="ACTIVE",
        desired_count=desired,
        running_count=running,
        pending_count=desired - running,
        launch_type="FARGATE",
        task_definition=deployment.task_definition,
        created_at=created,
        platform_version="LATEST",
        deployment_configuration=DeploymentConfiguration(
            minimum_healthy_percent=100, maximum_percent=200, circuit_breaker=True, rollback=index % 2 == 1
        ),
        load_balancers=(
            LoadBalancer(
                target_group_arn=f"arn:aws:elasticloadbalancing:{region}:{account}:targetgroup/{name}-tg/{index:016x}",
                container_name=name,
                container_port=8080,
            ),
        )
        if index % 2 == 1
        else (),
        network=NetworkConfiguration(
            subnets=(f"subnet-{index:017x}", f"subnet-{index + 1:017x}"),
            security_groups=(f"sg-{index:017x}",),
            assign_public_ip="DISABLED",
        ),
        deployments=(deployment,),
        events=events,
        scalable_target=ScalableTarget(resource_id=f"service/{cluster}/{name}", min_capacity=1, max_capacity=10)
        if index % 2 == 0
        else None,
        scaling_activities=activities,
        metrics=ServiceMetrics(
            cpu_average=_series(index, end, minutes, cpu_base, 6),
            cpu_maximum=_series(index + 3, end, minutes, min(100, cpu_base + 8), 8),
            memory_average=_series(index + 7, end, minutes, mem_base, 3),
            memory_maximum=_series(index + 9, end, minutes, min(100, mem_base + 4), 4),
        ),
    )


def make_snapshot(
    *,
    accounts: int = 3,
    clusters: int = 2,
    services: int = 6,
    poll: int = 1,
    now: datetime = FIXED_NOW,
    errors: dict[int, str] | None = None,
    minutes: int = 180,
    bump: dict[int, float] | None = None,
) -> FleetSnapshot:
    """`accounts` x `clusters` x `services`; `errors` maps account index to a reason
    (the account keeps its data, stale since an hour); `bump` adds CPU to services
    by their global index (to make a refresh change some rows)."""

    errors = errors or {}
    bump = bump or {}
    end = int(now.timestamp())
    out = []
    counter = 0
    for a in range(accounts):
        ident = account_id(a)
        region = REGIONS[a % len(REGIONS)]
        cluster_list = []
        for c in range(clusters):
            cname = f"{ACCOUNT_NAMES[a % len(ACCOUNT_NAMES)].split('-')[0]}-{c}"
            svc = []
            for _ in range(services):
                svc.append(
                    make_service(ident, region, cname, counter, end=end, minutes=minutes, bump=bump.get(counter, 0.0))
                )
                counter += 1
            cluster_list.append(
                Cluster(
                    arn=f"arn:aws:ecs:{region}:{ident}:cluster/{cname}",
                    name=cname,
                    status="ACTIVE",
                    active_services_count=len(svc),
                    running_tasks_count=sum(x.running_count for x in svc),
                    services=tuple(svc),
                )
            )
        failed = a in errors
        out.append(
            AccountSnapshot(
                id=ident,
                alias=ACCOUNT_NAMES[a % len(ACCOUNT_NAMES)] + ("" if a < len(ACCOUNT_NAMES) else f"-{a}"),
                status=AccountStatus.ERROR if failed else AccountStatus.OK,
                error=errors.get(a),
                last_success_at=now - timedelta(hours=1) if failed else now,
                regions=(
                    RegionSnapshot(
                        region=region,
                        clusters=tuple(cluster_list),
                        fetched_at=now - timedelta(hours=1) if failed else now,
                        errors=(errors[a],) if failed else (),
                        stale=("ecs", "metrics", "scaling") if failed else (),
                    ),
                ),
            )
        )
    return FleetSnapshot(
        generated_at=now,
        poll_number=poll,
        accounts=tuple(out),
        stats=PollStats(calls=(("ecs.ListClusters", accounts),), http_requests=accounts, duration_seconds=0.8),
    )


class ScriptedSource:
    """A FleetSource that returns the snapshots it is given, in order (the last repeats)."""

    def __init__(
        self, *snapshots: FleetSnapshot, detail=None, detail_error: Exception | None = None, logs=None
    ) -> None:
        self.snapshots = list(snapshots)
        self.polls = 0
        self.detail = detail
        self.detail_error = detail_error
        self.detail_calls: list[tuple[str, str, str, str]] = []
        self.logs = logs
        self.log_queries: list = []
        self.relists = 0

    def push(self, snapshot: FleetSnapshot) -> None:
        self.snapshots.append(snapshot)

    async def poll(self, only=None) -> FleetSnapshot:
        index = min(self.polls, len(self.snapshots) - 1)
        self.polls += 1
        return self.snapshots[index]

    async def fetch_service_detail(self, account_id: str, region: str, cluster_arn: str, service_name: str):
        self.detail_calls.append((account_id, region, cluster_arn, service_name))
        if self.detail_error is not None:
            raise self.detail_error
        return self.detail

    async def fetch_logs(self, query):
        """Scripted logs: `logs(query)` makes the batch (a callable, so a test can add lines between reads)."""

        self.log_queries.append(query)
        if self.logs is None:
            raise RuntimeError("no logs scripted")
        return self.logs(query)

    def relist_next_poll(self) -> None:
        self.relists += 1

    async def prepare(self) -> None:
        return None

    async def aclose(self) -> None:
        return None


TASK_DEFINITION_ARN = "arn:aws:ecs:us-east-1:210987654321:task-definition/ledger-0003:6"


def sample_task_definition() -> TaskDefinition:
    def awslogs(prefix: str = "ecs") -> LogConfiguration:
        return LogConfiguration(
            driver="awslogs",
            options=(
                ("awslogs-group", "/ecs/ledger-0003"),
                ("awslogs-region", "us-east-1"),
                ("awslogs-stream-prefix", prefix),
            ),
        )

    return TaskDefinition(
        arn=TASK_DEFINITION_ARN,
        family="ledger-0003",
        revision=6,
        cpu="512",
        memory="1024",
        network_mode="awsvpc",
        containers=(
            ContainerDefinition(
                name="ledger-0003",
                image="210987654321.dkr.ecr.us-east-1.amazonaws.com/ledger-0003:9f17c5d",
                cpu=384,
                memory=768,
                ports=(PortMapping(container_port=8080, host_port=8080, protocol="tcp"),),
                log=awslogs(),
            ),
            ContainerDefinition(
                name="envoy",
                image="public.ecr.aws/appmesh/aws-appmesh-envoy:v1.29.4.0-prod",
                cpu=128,
                memory=256,
                memory_reservation=128,
                essential=False,
                ports=(PortMapping(container_port=9901, protocol="tcp"),),
                log=awslogs(),
            ),
        ),
    )


def sample_detail() -> ServiceDetail:
    return ServiceDetail(
        account_id="210987654321",
        region="us-east-1",
        cluster_arn="arn:aws:ecs:us-east-1:210987654321:cluster/shared-0",
        service_name="ledger-0003",
        fetched_at=FIXED_NOW,
        tasks=(
            Task(
                arn="arn:aws:ecs:us-east-1:210987654321:task/shared-0/0123456789abcdef",
                id="0123456789abcdef",
                last_status="RUNNING",
                desired_status="RUNNING",
                health_status="HEALTHY",
                availability_zone="us-east-1a",
                task_definition=TASK_DEFINITION_ARN,
                started_at=FIXED_NOW - timedelta(hours=2),
                containers=(
                    Container(name="ledger-0003", last_status="RUNNING", health_status="HEALTHY"),
                    Container(name="envoy", last_status="RUNNING", health_status="HEALTHY"),
                ),
            ),
            Task(
                arn="arn:aws:ecs:us-east-1:210987654321:task/shared-0/fedcba9876543210",
                id="fedcba9876543210",
                last_status="STOPPED",
                desired_status="STOPPED",
                health_status="UNHEALTHY",
                stop_code="TaskFailedToStart",
                stopped_reason="CannotPullContainerError: image not found",
                availability_zone="us-east-1b",
                task_definition=TASK_DEFINITION_ARN,
                containers=(
                    Container(name="ledger-0003", last_status="STOPPED", exit_code=1, reason="OutOfMemoryError"),
                    Container(name="envoy", last_status="STOPPED", exit_code=137),
                ),
            ),
        ),
        task_definition=sample_task_definition(),
        policies=(
            ScalingPolicy(
                name="cpu-target",
                policy_type="TargetTrackingScaling",
                resource_id="service/shared-0/ledger-0003",
                target_value=60.0,
                metric="ECSServiceAverageCPUUtilization",
            ),
        ),
    )


def filter_row(**kw):  # a stand-in ServiceRow for filters
    base = dict(
        name="payments-api",
        status="ACTIVE",
        rollout="COMPLETED",
        account="payments-prod",
        account_id="210987654321",
        region="us-east-1",
        cluster="payments-core",
        launch_type="FARGATE",
        cpu=42.4,
        mem=71.0,
        running=3,
        desired=3,
        pending=0,
        problem=False,
    )
    base.update(kw)
    base["haystack"] = (
        f"{base['name']} {base['cluster']} {base['account']} {base['account_id']} {base['region']}".lower()
    )
    return SimpleNamespace(**base)


def sample_logs(query):
    """A logs read for the snapshots: two containers, two tasks, a warning and an error burst."""

    from heartbeat_tui.models import LogBatch, LogLine

    messages = [
        ("ledger-0003", "INFO  GET /v1/orders 200 12ms"),
        ("envoy", "[info][upstream] cds: add 3 cluster(s), remove 0 cluster(s)"),
        ("ledger-0003", "INFO  POST /v1/orders 201 48ms"),
        ("ledger-0003", "WARN  slow upstream call to ledger-db: 1840ms"),
        ("ledger-0003", "ERROR connection to ledger-db.internal:5432 refused: ECONNREFUSED"),
        ("ledger-0003", "Traceback (most recent call last):"),
        ("ledger-0003", "ConnectionRefusedError: [Errno 111] Connection refused"),
        ("ledger-0003", "FATAL task fedcba98 exiting with code 1"),
    ]
    lines = tuple(
        LogLine(
            timestamp=FIXED_NOW - timedelta(seconds=90 - 7 * i),
            container=container,
            task_id="0123456789abcdef" if i < 3 else "fedcba9876543210",
            message=message,
            event_id=f"e{i}",
        )
        for i, (container, message) in enumerate(messages)
        if query.container in (None, container)
    )
    return LogBatch(query=query, lines=lines, task_definition=TASK_DEFINITION_ARN, containers=("ledger-0003", "envoy"))
