"""The simulator: ticking moves the fleet as ECS and autoscaling would."""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from typing import Any

from heartbeat_tui.embedded import EmbeddedAWS

from .helpers import DENIED, services_of


def describe(client: Callable[..., Any], account: str, region: str, cluster: str, name: str) -> dict[str, Any]:
    return client("ecs", account, region).describe_services(cluster=cluster, services=[name])["services"][0]


def test_paused_simulator_stands_still(aws: EmbeddedAWS) -> None:
    step = aws.health()["step"]
    time.sleep(0.3)
    assert aws.health()["step"] == step
    assert aws.health()["paused"] is True


def test_a_deploying_service_progresses_to_completion(aws: EmbeddedAWS, client: Callable[..., Any]) -> None:
    summary = aws.fleet_summary()
    account, region, cluster, name, _ = next(s for s in services_of(summary, "deploying") if s[0] != DENIED)
    before = describe(client, account, region, cluster, name)
    primary_before = before["deployments"][0]
    aws.tick(1)
    after = describe(client, account, region, cluster, name)
    primary_after = after["deployments"][0]
    assert primary_after["id"] == primary_before["id"]
    moved = (
        primary_after["runningCount"] + primary_after["pendingCount"]
        > primary_before["runningCount"] + primary_before["pendingCount"]
        or primary_after["runningCount"] > primary_before["runningCount"]
        or primary_after["rolloutState"] == "COMPLETED"
    )
    assert moved, (primary_before, primary_after)
    assert after["events"][0]["createdAt"] > before["events"][0]["createdAt"]
    for _ in range(8):
        if len(after["deployments"]) == 1:
            break
        aws.tick(1)
        after = describe(client, account, region, cluster, name)
    assert len(after["deployments"]) == 1
    done = after["deployments"][0]
    assert done["id"] == primary_before["id"] and done["rolloutState"] == "COMPLETED"
    assert done["runningCount"] == after["desiredCount"] == after["runningCount"]
    messages = [e["message"] for e in after["events"]]
    assert f"(service {name}) (deployment {done['id']}) deployment completed." in messages
    aws.tick(1)
    latest = describe(client, account, region, cluster, name)
    assert any(e["message"] == f"(service {name}) has reached a steady state." for e in latest["events"][:3])


def newest_activities(client: Callable[..., Any], summary: dict[str, Any]) -> dict[str, dict[str, Any]]:
    found: dict[str, dict[str, Any]] = {}
    for account in summary["accounts"]:
        for region in account["regions"]:
            aas = client("application-autoscaling", account["id"], region)
            for activity in aas.describe_scaling_activities(ServiceNamespace="ecs", MaxResults=10)["ScalingActivities"]:
                found[activity["ActivityId"]] = {**activity, "account": account["id"], "region": region}
    return found


def test_scaling_activity_appears_and_the_service_follows(aws: EmbeddedAWS, client: Callable[..., Any]) -> None:
    summary = aws.fleet_summary()
    summary["accounts"] = [a for a in summary["accounts"] if a["id"] != DENIED]
    before = newest_activities(client, summary)
    new: list[dict[str, Any]] = []
    for _ in range(5):
        aws.tick(1)
        new = [a for key, a in newest_activities(client, summary).items() if key not in before]
        if new:
            break
    assert new, "a few steps scale at least one service"
    activity = max(new, key=lambda a: a["StartTime"])
    desired = int(re.match(r"Setting desired count to (\d+)\.", activity["Description"]).group(1))  # type: ignore[union-attr]
    _, cluster, name = activity["ResourceId"].split("/")
    service = describe(client, activity["account"], activity["region"], cluster, name)
    target = client("application-autoscaling", activity["account"], activity["region"]).describe_scalable_targets(
        ServiceNamespace="ecs", ResourceIds=[activity["ResourceId"]]
    )["ScalableTargets"][0]
    assert target["MinCapacity"] <= desired <= target["MaxCapacity"]
    assert service["desiredCount"] == desired
    assert re.match(
        rf"\(service {name}\) has (started|stopped) \d+ (running )?tasks: \(task [0-9a-f]{{32}}\)",
        service["events"][0]["message"],
    ) or any("has started" in e["message"] or "has stopped" in e["message"] for e in service["events"][:3])
    for _ in range(3):
        aws.tick(1)
        service = describe(client, activity["account"], activity["region"], cluster, name)
        if service["runningCount"] == service["desiredCount"] and service["pendingCount"] == 0:
            break
    assert service["runningCount"] == service["desiredCount"]  # running converges to desired


def test_failing_service_keeps_failing(aws: EmbeddedAWS, client: Callable[..., Any]) -> None:
    account, region, cluster, name, _ = services_of(aws.fleet_summary(), "failing")[0]
    before = describe(client, account, region, cluster, name)["deployments"][0]
    aws.tick(2)
    after = describe(client, account, region, cluster, name)["deployments"][0]
    assert after["rolloutState"] == "FAILED"
    assert after["failedTasks"] == before["failedTasks"] + 2
    ecs = client("ecs", account, region)
    stopped = ecs.list_tasks(cluster=cluster, serviceName=name, desiredStatus="STOPPED")["taskArns"]
    assert len(stopped) <= 30  # bounded, like AWS's stopped-task retention


def test_writes_through_the_api_reach_the_model(aws: EmbeddedAWS, client: Callable[..., Any]) -> None:
    """UpdateService/DeleteService go to moto and are mirrored in what DescribeServices shows."""
    account, region, cluster, name, info = next(
        s
        for s in services_of(aws.fleet_summary(), "steady")
        if s[0] != DENIED and s[4]["desired"] > 0 and s[4]["pending"] == 0
    )
    ecs = client("ecs", account, region)
    ecs.update_service(cluster=cluster, service=name, desiredCount=info["desired"] + 1)
    service = describe(client, account, region, cluster, name)
    assert service["desiredCount"] == info["desired"] + 1
    aws.tick(2)
    service = describe(client, account, region, cluster, name)
    assert service["runningCount"] == info["desired"] + 1
    ecs.update_service(cluster=cluster, service=name, forceNewDeployment=True)
    service = describe(client, account, region, cluster, name)
    assert len(service["deployments"]) == 2 and service["deployments"][0]["rolloutState"] == "IN_PROGRESS"
    ecs.delete_service(cluster=cluster, service=name, force=True)
    assert describe(client, account, region, cluster, name)["status"] == "DRAINING"
