"""Seed moto and the simulator's model from a FleetSpec (child process only).

Seeding calls moto's backends in-process (``moto.backends.get_backend``), not
over HTTP: the child must report ready within ~2 s, and 185 services with
scalable targets, policies and roles take ~0.1 s this way.

Every choice (kinds, counts, CPU profiles, history) comes from
``random.Random`` seeded with strings derived from ``spec.seed`` and the
resource's name, so the same spec always gives the same fleet.

This module builds the world, one service at a time with its history; which
service does what is planning.py's, the accounts in moto moto_seeder.py's,
task definitions and what a service shows task_definitions.py's, and how
tasks and scaling activities read lifecycle.py's (the simulator's too).
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable
from typing import Any

from heartbeat_tui.embedded.fleet import FleetSpec
from heartbeat_tui.embedded.lifecycle import fail_task, make_activity, new_task
from heartbeat_tui.embedded.metrics import MetricStore
from heartbeat_tui.embedded.moto_seeder import MotoSeeder
from heartbeat_tui.embedded.planning import ServicePlan, plan_fleet, rng_for
from heartbeat_tui.embedded.state import (
    Deployment,
    MetricProfile,
    ScalingConfig,
    ServiceKind,
    SimCluster,
    SimService,
    deployment_id,
    msg_deployment_failed,
    msg_draining,
    msg_started,
    msg_steady,
    msg_stopped,
    msg_unable_to_place,
    msg_unable_to_start,
    task_id,
)
from heartbeat_tui.embedded.task_definitions import register_task_definition, service_extras
from heartbeat_tui.embedded.world import World

__all__ = ["build_world", "plan_fleet"]

DIMENSION = "ecs:service:DesiredCount"
TASK_SIZES = (("256", "512"), ("512", "1024"), ("1024", "2048"), ("2048", "4096"))


def running_of(service: SimService) -> Callable[[], int]:
    """The running count the metric store reads for `service`, at each minute it fills."""

    return lambda: service.metrics_running


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
