"""How a task starts and dies, and how a scaling activity reads: the same when the
fleet is seeded (its history) as at every step of the simulator (its present).
"""

from __future__ import annotations

import random

from heartbeat_tui.embedded.state import (
    Container,
    Deployment,
    ScalingActivity,
    SimService,
    SimTask,
    event_id,
    task_id,
)

# How a FAILING service's tasks die.
EXIT_REASON = "Essential container in task exited"


def pull_error(image: str) -> str:
    return (
        "CannotPullContainerError: pull image manifest has been retried 5 time(s): "
        f"failed to resolve ref {image}: not found"
    )


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
