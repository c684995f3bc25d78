"""Seed moto and the simulator's model from a FleetSpec (child process only).

Seeding calls moto's backends in-process (``moto.backends.get_backend``), not
over HTTP: the child must report ready within ~2 s, and 185 services with
scalable targets, policies and roles take ~0.1 s this way.

Every choice (kinds, counts, CPU profiles, history) comes from
``random.Random`` seeded with strings derived from ``spec.seed`` and the
resource's name, so the same spec always gives the same fleet.
"""

from __future__ import annotations

import json
import math
import random
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from heartbeat_tui.embedded.fleet import DEFAULT_HUB_ACCOUNT, FleetSpec
from heartbeat_tui.embedded.metrics import MetricStore
from heartbeat_tui.embedded.state import (
    Container,
    Deployment,
    MetricProfile,
    ScalingActivity,
    ScalingConfig,
    ServiceKind,
    SimCluster,
    SimService,
    SimTask,
    deployment_id,
    event_id,
    msg_deployment_failed,
    msg_draining,
    msg_started,
    msg_steady,
    msg_stopped,
    msg_unable_to_place,
    msg_unable_to_start,
    task_id,
)
from heartbeat_tui.embedded.world import World

DIMENSION = "ecs:service:DesiredCount"
TASK_SIZES = (("256", "512"), ("512", "1024"), ("1024", "2048"), ("2048", "4096"))

# How a FAILING service's tasks die.
EXIT_REASON = "Essential container in task exited"


def running_of(service: SimService) -> Callable[[], int]:
    """The running count the metric store reads for `service`, at each minute it fills."""

    return lambda: service.metrics_running


def pull_error(image: str) -> str:
    return (
        "CannotPullContainerError: pull image manifest has been retried 5 time(s): "
        f"failed to resolve ref {image}: not found"
    )


@dataclass
class ServicePlan:
    kind: ServiceKind
    hot: bool = False
    warm: bool = False
    failure_mode: str = "exit"


def rng_for(spec: FleetSpec, *parts: object) -> random.Random:
    """A Random seeded by the fleet seed and a resource path (order-independent)."""
    return random.Random(":".join(["heartbeat", str(spec.seed), *map(str, parts)]))


# -- planning: which service does what ------------------------------------------

_KIND_WEIGHTS = (
    (ServiceKind.STEADY, 0.81),
    (ServiceKind.DEPLOYING, 0.08),
    (ServiceKind.FAILING, 0.01),
    (ServiceKind.SCALED_TO_ZERO, 0.05),
    (ServiceKind.UNDER_RUNNING, 0.045),
    (ServiceKind.DRAINING, 0.005),  # rare, as in life: a service being deleted
)

#: At least this many of each, among accounts the dashboard can reach.
_MINIMUMS = {
    ServiceKind.DEPLOYING: 3,
    ServiceKind.FAILING: 2,
    ServiceKind.SCALED_TO_ZERO: 2,
    ServiceKind.UNDER_RUNNING: 2,
    ServiceKind.DRAINING: 1,
}
_MIN_HOT, _MIN_WARM = 2, 3


def plan_fleet(spec: FleetSpec) -> dict[tuple[str, str, str, str], ServicePlan]:
    rng = rng_for(spec, "plan")
    plans: dict[tuple[str, str, str, str], ServicePlan] = {}
    reachable: list[tuple[str, str, str, str]] = []
    kinds = [k for k, _ in _KIND_WEIGHTS]
    weights = [w for _, w in _KIND_WEIGHTS]
    for account in spec.accounts:
        for region in account.regions:
            for cluster in region.clusters:
                for name in cluster.services:
                    key = (account.id, region.region, cluster.name, name)
                    kind = rng.choices(kinds, weights)[0]
                    plan = ServicePlan(kind=kind)
                    if kind in (ServiceKind.STEADY, ServiceKind.DEPLOYING):
                        roll = rng.random()
                        plan.hot = roll < 0.03
                        plan.warm = 0.03 <= roll < 0.09
                    plans[key] = plan
                    if not account.deny_assume_role:
                        reachable.append(key)

    def steady_pool() -> list[tuple[str, str, str, str]]:
        return [k for k in reachable if plans[k].kind is ServiceKind.STEADY and not plans[k].hot and not plans[k].warm]

    for kind, minimum in _MINIMUMS.items():
        missing = minimum - sum(1 for k in reachable if plans[k].kind is kind)
        pool = steady_pool()
        for key in rng.sample(pool, min(max(0, missing), len(pool))):
            plans[key].kind = kind
    for attr, minimum in (("hot", _MIN_HOT), ("warm", _MIN_WARM)):
        missing = minimum - sum(1 for k in reachable if getattr(plans[k], attr))
        pool = steady_pool()
        for key in rng.sample(pool, min(max(0, missing), len(pool))):
            setattr(plans[key], attr, True)
    failing = [k for k in plans if plans[k].kind is ServiceKind.FAILING]
    for index, key in enumerate(failing):
        plans[key].failure_mode = "exit" if index % 2 == 0 else "pull"
    return plans


# -- moto access -----------------------------------------------------------------


class MotoSeeder:
    """Thin wrapper over moto's in-process backends."""

    def __init__(self) -> None:
        from moto.backends import get_backend

        self.ecs = get_backend("ecs")
        self.autoscaling = get_backend("applicationautoscaling")
        self.iam = get_backend("iam")

    def iam_backend(self, account: str) -> Any:
        return self.iam[account]["aws"]

    def seed_account_iam(self, spec: FleetSpec, account_id: str, alias: str, role_name: str | None) -> None:
        iam = self.iam_backend(account_id)
        iam.create_account_alias(alias)
        if role_name is not None:
            trust = {
                "Version": "2012-10-17",
                "Statement": [
                    {
                        "Effect": "Allow",
                        "Principal": {"AWS": f"arn:aws:iam::{spec.hub_account}:root"},
                        "Action": "sts:AssumeRole",
                    }
                ],
            }
            iam.create_role(
                role_name=role_name,
                assume_role_policy_document=json.dumps(trust),
                path="/",
                permissions_boundary=None,
                description="Read-only access for the HeartBeat dashboard",
                tags=[],
                max_session_duration=None,
            )

    def seed_organization(self, spec: FleetSpec) -> None:
        """The hub manages an organization of every account of the fleet, each
        in its OU (created as needed) with its tags, named by its alias.

        moto's CreateAccount draws a random account id: the fleet's own is set
        on the account, and in moto's map of member to management account."""
        from moto.organizations.models import organizations_backends

        org = organizations_backends[spec.hub_account]["aws"]
        org.create_organization(region="us-east-1", FeatureSet="ALL")
        root_id = org.list_roots()["Roots"][0]["Id"]
        ous: dict[str, str] = {"": root_id}

        def ou_id(path: str) -> str:
            if path not in ous:
                parent, _, name = path.rpartition("/")
                created = org.create_organizational_unit(ParentId=ou_id(parent), Name=name)
                ous[path] = created["OrganizationalUnit"]["Id"]
            return ous[path]

        for account in spec.accounts:
            if account.id == spec.hub_account:
                member = org.get_account_by_id(spec.hub_account)
            else:
                org.create_account(AccountName=account.alias, Email=f"{account.alias}@example.com")
                member = org.accounts[-1]
                organizations_backends.master_accounts.pop(member.id, None)
                member.id = account.id
                organizations_backends.master_accounts[account.id] = (spec.hub_account, "aws")
            member.name = account.alias
            member.parent_id = ou_id(account.ou)
            member.tags = dict(account.tags)

    def hub_credentials(self, spec: FleetSpec) -> tuple[str, str]:
        """Base credentials acting in the hub.  moto maps unknown keys to its default
        account, so "testing" works when the hub is 123456789012; otherwise we
        create an IAM user with a key in the hub account."""
        if spec.hub_account == DEFAULT_HUB_ACCOUNT:
            return "testing", "testing"
        iam = self.iam_backend(spec.hub_account)
        iam.create_user(region_name="us-east-1", user_name="heartbeat-hub")
        key = iam.create_access_key("heartbeat-hub")
        return key.access_key_id, key.secret_access_key


# -- building ---------------------------------------------------------------------


def build_world(spec: FleetSpec, now: float) -> World:
    world = World(
        spec=spec,
        started_at=now,
        metrics=MetricStore(keep_minutes=max(360, spec.history_minutes + 60)),
    )
    moto = MotoSeeder()
    world.hub_access_key, world.hub_secret_key = moto.hub_credentials(spec)
    moto.seed_organization(spec)
    plans = plan_fleet(spec)
    current_minute = int(now // 60)
    for account in spec.accounts:
        is_hub = account.id == spec.hub_account
        moto.seed_account_iam(spec, account.id, account.alias, None if is_hub else account.role_name)
        for region in account.regions:
            try:
                ecs = moto.ecs[account.id][region.region]
            except KeyError:
                raise ValueError(f"unknown AWS region {region.region!r} in account {account.id}") from None
            autoscaling = moto.autoscaling[account.id][region.region]
            for cluster_spec in region.clusters:
                crng = rng_for(spec, "cluster", account.id, region.region, cluster_spec.name)
                launch_type = "EC2" if crng.random() < 0.3 else "FARGATE"
                moto_cluster = ecs.create_cluster(cluster_spec.name)
                cluster = SimCluster(
                    account=account.id,
                    region=region.region,
                    name=cluster_spec.name,
                    arn=moto_cluster.arn,
                    default_launch_type=launch_type,
                    container_instances=0,
                    moto_cluster=moto_cluster,
                )
                world.clusters[(account.id, region.region, cluster.name)] = cluster
                for name in cluster_spec.services:
                    key = (account.id, region.region, cluster.name, name)
                    service, timeline = _seed_service(world, spec, plans[key], cluster, name, ecs, autoscaling, now)
                    cluster.services[name] = service
                    world.services[key] = service
                    world.metrics.add_service(
                        key,
                        service.metrics,
                        running_of(service),
                        timeline,
                        current_minute - spec.history_minutes,
                        current_minute,
                    )
                if launch_type == "EC2":
                    tasks = sum(s.running_count for s in cluster.services.values())
                    cluster.container_instances = max(2, math.ceil(tasks / 6))
                    moto_cluster.registered_container_instances_count = cluster.container_instances
                world.sync_cluster(cluster)
    from heartbeat_tui.embedded.applogs import AppLogWriter

    world.applogs = AppLogWriter()  # seeded after the child reports ready (server.py): see AppLogWriter
    return world


LOG_STREAM_PREFIX = "ecs"
SIDECARS = ("envoy", "datadog-agent", "log-router")


def log_group_of(family: str) -> str:
    return f"/ecs/{family}"


def register_task_definition(
    ecs: Any,
    family: str,
    image: str,
    launch_type: str,
    cpu: str,
    memory: str,
    *,
    region: str = "us-east-1",
    sidecar: str | None = None,
    log_driver: str = "awslogs",
) -> str:
    fargate = launch_type == "FARGATE"

    def logging(container: str) -> dict[str, Any]:
        if log_driver != "awslogs":
            return {"logDriver": log_driver, "options": {"tag": f"{family}/{container}"}}
        return {
            "logDriver": "awslogs",
            "options": {
                "awslogs-group": log_group_of(family),
                "awslogs-region": region,
                "awslogs-stream-prefix": LOG_STREAM_PREFIX,
            },
        }

    containers: list[dict[str, Any]] = [
        {
            "name": family,
            "image": image,
            "essential": True,
            "cpu": int(cpu) - (128 if sidecar else 0),
            "memory": int(memory) - (256 if sidecar else 0),
            "portMappings": [{"containerPort": 8080, "hostPort": 8080 if fargate else 0, "protocol": "tcp"}],
            "logConfiguration": logging(family),
        }
    ]
    if sidecar:
        containers.append(
            {
                "name": sidecar,
                "image": f"public.ecr.aws/heartbeat-demo/{sidecar}:v1.29.4",
                "essential": sidecar == "envoy",
                "cpu": 128,
                "memory": 256,
                "memoryReservation": 128,
                "portMappings": [{"containerPort": 9901, "protocol": "tcp"}] if sidecar == "envoy" else [],
                "logConfiguration": logging(sidecar),
            }
        )
    definition = ecs.register_task_definition(
        family,
        containers,
        network_mode="awsvpc" if fargate else "bridge",
        requires_compatibilities=["FARGATE" if fargate else "EC2"],
        cpu=cpu,
        memory=memory,
    )
    return str(definition.arn)


def service_extras(spec: FleetSpec, cluster: SimCluster, name: str, launch_type: str) -> dict[str, Any]:
    """What DescribeServices shows besides counts: load balancers, network, the
    deployment configuration, a sidecar, the log driver. Its own random stream,
    so the rest of the seeded fleet stays what it was."""

    rng = rng_for(spec, "extras", cluster.account, cluster.region, cluster.name, name)
    account, region = cluster.account, cluster.region
    extras: dict[str, Any] = {
        "sidecar": rng.choice(SIDECARS) if rng.random() < 0.3 else None,
        # A few services ship their logs through a fluentd agent, not CloudWatch Logs.
        "log_driver": "fluentd" if rng.random() < 0.06 else "awslogs",
        "deployment_config": {
            "deploymentCircuitBreaker": {"enable": rng.random() < 0.8, "rollback": rng.random() < 0.7},
            "maximumPercent": rng.choice((200, 200, 150)),
            "minimumHealthyPercent": rng.choice((100, 100, 50)),
        },
        "load_balancers": [],
        "network": None,
    }
    if any(part in name for part in ("api", "web", "gateway", "frontend", "webhooks", "router", "backend")):
        target = f"{name[:24]}-tg"
        extras["load_balancers"] = [
            {
                "targetGroupArn": f"arn:aws:elasticloadbalancing:{region}:{account}:targetgroup/{target}/"
                f"{rng.getrandbits(64):016x}",
                "containerName": name,
                "containerPort": 8080,
            }
        ]
    if launch_type == "FARGATE":
        extras["network"] = {
            "awsvpcConfiguration": {
                "subnets": [f"subnet-{rng.getrandbits(68):017x}" for _ in range(rng.choice((2, 3)))],
                "securityGroups": [f"sg-{rng.getrandbits(68):017x}"],
                "assignPublicIp": "ENABLED" if rng.random() < 0.1 else "DISABLED",
            }
        }
    return extras


def _seed_service(
    world: World,
    spec: FleetSpec,
    plan: ServicePlan,
    cluster: SimCluster,
    name: str,
    ecs: Any,
    autoscaling: Any,
    now: float,
) -> tuple[SimService, list[tuple[int, int]]]:
    rng = rng_for(spec, "service", cluster.account, cluster.region, cluster.name, name)
    kind = plan.kind
    launch_type = cluster.default_launch_type
    if launch_type == "EC2" and rng.random() < 0.15:
        launch_type = "FARGATE"
    cpu, memory = rng.choice(TASK_SIZES)
    sha = f"{rng.getrandbits(28):07x}"
    image = f"{cluster.account}.dkr.ecr.{cluster.region}.amazonaws.com/{name}:{sha}"

    desired = rng.choice((1, 2, 2, 2, 3, 3, 4, 4, 6, 8, 12))
    if kind in (ServiceKind.SCALED_TO_ZERO, ServiceKind.DRAINING):
        desired = 0
    elif kind is ServiceKind.UNDER_RUNNING:
        desired = max(desired, 3)
    elif kind in (ServiceKind.DEPLOYING, ServiceKind.FAILING):
        desired = max(desired, 2)

    scaling: ScalingConfig | None = None
    scalable = kind in (ServiceKind.STEADY, ServiceKind.DEPLOYING) and (plan.hot or rng.random() < 0.75)
    if scalable:
        low = max(1, desired // 2)
        high = desired if plan.hot else max(desired + 2, desired * 2)
        step_policy = rng.random() < 0.12
        scaling = ScalingConfig(
            min_capacity=low,
            max_capacity=high,
            policy_name=f"{name}-{'cpu-step' if step_policy else 'cpu-target-tracking'}",
            policy_type="StepScaling" if step_policy else "TargetTrackingScaling",
            alarm_high=f"{name}-cpu-high",
            alarm_low=f"{name}-cpu-low",
        )

    extras = service_extras(spec, cluster, name, launch_type)
    logging = {"region": cluster.region, "sidecar": extras["sidecar"], "log_driver": extras["log_driver"]}
    old_def = register_task_definition(ecs, name, image, launch_type, cpu, memory, **logging)
    new_def = old_def
    if kind in (ServiceKind.DEPLOYING, ServiceKind.FAILING):
        new_sha = f"{rng.getrandbits(28):07x}"
        image = f"{cluster.account}.dkr.ecr.{cluster.region}.amazonaws.com/{name}:{new_sha}"
        new_def = register_task_definition(ecs, name, image, launch_type, cpu, memory, **logging)

    moto_service = ecs.create_service(cluster.name, name, desired, new_def, launch_type=launch_type)

    if plan.hot:
        cpu_base = rng.uniform(93.0, 97.0)
    elif plan.warm:
        cpu_base = rng.uniform(72.0, 84.0)
    else:
        cpu_base = rng.uniform(6.0, 55.0)
    base_count = max(1, desired if kind is not ServiceKind.UNDER_RUNNING else desired - 1)
    profile = MetricProfile(
        cpu_base=round(cpu_base, 2),
        mem_base=round(rng.uniform(22.0, 78.0), 2),
        base_count=base_count,
        phases=(rng.uniform(0, 6.283), rng.uniform(0, 6.283), rng.uniform(0, 6.283)),
        hot=plan.hot,
        noise_key=rng.uniform(1.0, 1000.0),
    )
    created_at = now - rng.uniform(20, 600) * 86400.0
    service = SimService(
        account=cluster.account,
        region=cluster.region,
        cluster=cluster.name,
        cluster_arn=cluster.arn,
        name=name,
        arn=str(moto_service.arn),
        kind=kind,
        launch_type=launch_type,
        family=name,
        task_definition=new_def,
        created_at=created_at,
        desired_count=desired,
        cpu=cpu,
        memory=memory,
        image=image,
        metrics=profile,
        failure_mode=plan.failure_mode,
        scaling=scaling,
        moto_service=moto_service,
        **extras,
    )
    if scaling is not None:
        _seed_scaling(autoscaling, service, scaling)

    events: list[tuple[float, str]] = []
    timeline = _seed_activities(world, spec, service, rng, now, events)
    _seed_deployments_and_tasks(world, service, rng, now, old_def, new_def, events)
    for when, message in sorted(events):
        service.add_event(rng, when, message)
    world.sync_moto(service)
    if kind is ServiceKind.DRAINING:
        service.status = "DRAINING"
        world.sync_moto(service)
    current_minute = int(now // 60)
    if not timeline:
        timeline = [(current_minute - spec.history_minutes, service.running_count)]
    return service, timeline


def _seed_scaling(autoscaling: Any, service: SimService, scaling: ScalingConfig) -> None:
    autoscaling.register_scalable_target(
        "ecs",
        service.resource_id,
        DIMENSION,
        scaling.min_capacity,
        scaling.max_capacity,
        f"arn:aws:iam::{service.account}:role/aws-service-role/ecs.application-autoscaling.amazonaws.com/"
        "AWSServiceRoleForApplicationAutoScaling_ECSService",
        None,
    )
    if scaling.policy_type == "TargetTrackingScaling":
        body: dict[str, Any] = {
            "TargetValue": 70.0,
            "PredefinedMetricSpecification": {"PredefinedMetricType": "ECSServiceAverageCPUUtilization"},
            "ScaleOutCooldown": 60,
            "ScaleInCooldown": 300,
        }
    else:
        body = {
            "AdjustmentType": "ChangeInCapacity",
            "StepAdjustments": [
                {"MetricIntervalLowerBound": 0.0, "MetricIntervalUpperBound": 15.0, "ScalingAdjustment": 1},
                {"MetricIntervalLowerBound": 15.0, "ScalingAdjustment": 2},
            ],
            "Cooldown": 120,
            "MetricAggregationType": "Average",
        }
    policy = autoscaling.put_scaling_policy(
        policy_name=scaling.policy_name,
        service_namespace="ecs",
        resource_id=service.resource_id,
        scalable_dimension=DIMENSION,
        policy_body=body,
        policy_type=scaling.policy_type,
    )
    alarms = [alarm.name for alarm in getattr(policy, "alarms", [])]
    high = next((a for a in alarms if "AlarmHigh" in a), None)
    low = next((a for a in alarms if "AlarmLow" in a), None)
    if high and low:  # target tracking: the alarms moto created for the policy
        scaling.alarm_high, scaling.alarm_low = high, low


def scaling_cause(service: SimService, scale_out: bool) -> str:
    assert service.scaling is not None
    alarm = service.scaling.alarm_high if scale_out else service.scaling.alarm_low
    return f"monitor alarm {alarm} in state ALARM triggered policy {service.scaling.policy_name}"


def make_activity(
    service: SimService, rng: random.Random, start: float, new_count: int, scale_out: bool
) -> ScalingActivity:
    return ScalingActivity(
        activity_id=event_id(rng),
        account=service.account,
        region=service.region,
        resource_id=service.resource_id,
        description=f"Setting desired count to {new_count}.",
        cause=scaling_cause(service, scale_out),
        start_time=start,
        end_time=start + rng.uniform(15.0, 75.0),
        status_code="Successful",
        status_message=f"Successfully set desired count to {new_count}. Change successfully fulfilled by ecs.",
    )


def _seed_activities(
    world: World,
    spec: FleetSpec,
    service: SimService,
    rng: random.Random,
    now: float,
    events: list[tuple[float, str]],
) -> list[tuple[int, int]]:
    """Scaling history for the last ``history_minutes``; returns the count timeline."""
    scaling = service.scaling
    current_minute = int(now // 60)
    if scaling is None or spec.history_minutes < 20:
        return []
    n = rng.choice((0, 0, 1, 1, 2, 3))
    if service.metrics.hot:
        n = max(n, 1)
    if n == 0 or scaling.max_capacity <= scaling.min_capacity:
        return []
    ago = sorted(rng.sample(range(8, spec.history_minutes - 5), n))  # newest first
    count = service.desired_count
    steps: list[tuple[int, int, int]] = []  # minutes ago, before, after
    for minutes_ago in ago:
        after = count
        if after >= scaling.max_capacity:
            scale_out = True
        elif after <= scaling.min_capacity:
            scale_out = False
        else:
            scale_out = rng.random() < 0.6
        delta = rng.choice((1, 1, 2))
        before = max(scaling.min_capacity, after - delta) if scale_out else min(scaling.max_capacity, after + delta)
        if before == after:
            continue
        steps.append((minutes_ago, before, after))
        count = before
    timeline = [(current_minute - spec.history_minutes, count)]
    for minutes_ago, before, after in reversed(steps):
        start = now - minutes_ago * 60.0 + rng.uniform(0.0, 40.0)
        scale_out = after > before
        activity = make_activity(service, rng, start, after, scale_out)
        world.add_activity(activity)
        ids = [task_id(rng) for _ in range(abs(after - before))]
        if scale_out:
            events.append((activity.end_time + 5.0, msg_started(service.name, ids)))
        else:
            events.append((activity.end_time + 5.0, msg_stopped(service.name, ids)))
        events.append((activity.end_time + rng.uniform(60.0, 150.0), msg_steady(service.name)))
        timeline.append((int(activity.end_time // 60) + 1, after))
    return timeline


def new_task(
    service: SimService,
    deployment: Deployment,
    rng: random.Random,
    created: float,
) -> SimTask:
    tid = task_id(rng)
    zone = service.region + "abc"[rng.randrange(3)]
    return SimTask(
        id=tid,
        arn=f"arn:aws:ecs:{service.region}:{service.account}:task/{service.cluster}/{tid}",
        cluster_arn=service.cluster_arn,
        service=service.name,
        deployment=deployment.id,
        task_definition_arn=deployment.task_definition,
        launch_type=service.launch_type,
        cpu=service.cpu,
        memory=service.memory,
        availability_zone=zone,
        created_at=created,
        containers=[
            Container(name=service.family, image=service.image, last_status="PENDING"),
            *(
                [
                    Container(
                        name=service.sidecar,
                        image=f"public.ecr.aws/heartbeat-demo/{service.sidecar}:v1.29.4",
                        last_status="PENDING",
                    )
                ]
                if service.sidecar
                else []
            ),
        ],
    )


def fail_task(service: SimService, task: SimTask, now: float) -> None:
    """Stop a task of a failing deployment, the way it fails in real life."""
    if service.failure_mode == "pull":
        reason = pull_error(service.image)
        task.stop(now, stop_code="TaskFailedToStart", reason=reason, exit_code=None, container_reason=reason)
    else:
        task.started_at = now - 25.0
        task.stop(now, stop_code="EssentialContainerExited", reason=EXIT_REASON, exit_code=1)


def _seed_deployments_and_tasks(
    world: World,
    service: SimService,
    rng: random.Random,
    now: float,
    old_def: str,
    new_def: str,
    events: list[tuple[float, str]],
) -> None:
    kind = service.kind
    desired = service.desired_count
    settled_at = now - rng.uniform(1.0, 30.0) * 86400.0
    old = Deployment(
        id=deployment_id(rng),
        status="PRIMARY",
        task_definition=old_def,
        desired_count=desired,
        launch_type=service.launch_type,
        created_at=settled_at,
        updated_at=settled_at + 300.0,
        rollout_state="COMPLETED",
        rollout_state_reason="",
    )
    old.rollout_state_reason = f"ECS deployment {old.id} completed."
    service.deployments = [old]

    def start_tasks(deployment: Deployment, count: int, started: float) -> list[str]:
        ids = []
        for _ in range(count):
            task = new_task(service, deployment, rng, started - 40.0)
            task.start(started)
            world.register_task(service, task)
            ids.append(task.id)
        return ids

    if kind is ServiceKind.STEADY or kind is ServiceKind.SCALED_TO_ZERO:
        start_tasks(old, desired, now - rng.uniform(0.5, 20.0) * 3600.0)
        events.append((now - rng.uniform(10.0, 170.0) * 60.0, msg_steady(service.name)))
    elif kind is ServiceKind.UNDER_RUNNING:
        running = desired - rng.choice((1, 2))
        start_tasks(old, running, now - rng.uniform(1.0, 20.0) * 3600.0)
        for minutes_ago in range(55, 0, -10):
            instance = f"{rng.getrandbits(128):032x}"
            events.append((now - minutes_ago * 60.0, msg_unable_to_place(service.name, service.launch_type, instance)))
    elif kind is ServiceKind.DRAINING:
        start_tasks(old, 1, now - rng.uniform(2.0, 20.0) * 3600.0)
        events.append((now - 200.0, msg_draining(service.name, 1)))
    elif kind in (ServiceKind.DEPLOYING, ServiceKind.FAILING):
        started = now - (rng.uniform(60.0, 240.0) if kind is ServiceKind.DEPLOYING else 1800.0)
        new = Deployment(
            id=deployment_id(rng),
            status="PRIMARY",
            task_definition=new_def,
            desired_count=desired,
            launch_type=service.launch_type,
            created_at=started,
            updated_at=started,
            rollout_state="IN_PROGRESS",
            rollout_state_reason="",
        )
        old.status = "ACTIVE"
        service.deployments = [new, old]
        if kind is ServiceKind.DEPLOYING:
            new.rollout_state_reason = f"ECS deployment {new.id} in progress."
            new_running = max(1, desired // 3)
            ids = start_tasks(new, new_running, started + 30.0)
            events.append((started + 5.0, msg_started(service.name, ids)))
            old_ids = start_tasks(old, desired - new_running, settled_at + 60.0)
            stopped = [task_id(rng) for _ in range(new_running)]
            events.append((started + 60.0, msg_stopped(service.name, stopped)))
            new.updated_at = started + 60.0
            del old_ids
        else:
            start_tasks(old, desired, settled_at + 60.0)
            failures = rng.randint(6, 10)
            for i in range(failures):
                when = started + 60.0 + i * (1500.0 / failures)
                task = new_task(service, new, rng, when - 20.0)
                fail_task(service, task, when)
                world.register_task(service, task)
                world.retire_task(service, task)
                events.append((when - 20.0, msg_started(service.name, [task.id])))
            new.failed_tasks = failures
            new.rollout_state = "FAILED"
            new.rollout_state_reason = "ECS deployment circuit breaker: tasks failed to start."
            new.updated_at = started + 1600.0
            events.append((started + 1600.0, msg_deployment_failed(service.name, new.id)))
            events.append((started + 1610.0, msg_unable_to_start(service.name)))
    service.recount()
