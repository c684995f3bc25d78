"""A seeded service's task definition and what DescribeServices shows besides its counts.

Shared by the seeding and by the simulator (a deployment registers a new
revision the same way), and each with its own random stream, so a change of
what a service shows leaves the rest of the seeded fleet as it was.
"""

from __future__ import annotations

from typing import Any

from heartbeat_tui.embedded.fleet import FleetSpec
from heartbeat_tui.embedded.planning import rng_for
from heartbeat_tui.embedded.state import SimCluster

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
