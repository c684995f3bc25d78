"""The demo's application logs in CloudWatch Logs: where the awslogs driver puts
them (group from the task definition, `ecs/container/task-id` streams), more on
every simulator step, and an error burst for a crashing task."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from heartbeat_tui.embedded import EmbeddedAWS

from .helpers import PAYMENTS, services_of


def count(logs: Any, group: str) -> int:
    return sum(len(page["events"]) for page in logs.get_paginator("filter_log_events").paginate(logGroupName=group))


def test_log_groups_follow_the_task_definitions(
    aws: EmbeddedAWS, client: Callable[..., Any], fleet: dict[str, Any]
) -> None:
    ecs = client("ecs", account=PAYMENTS)
    logs = client("logs", account=PAYMENTS)
    steady = [s for s in services_of(fleet, "steady") if s[0] == PAYMENTS and s[1] == "us-east-1"]
    checked = 0
    for _, _, cluster, name, _ in steady[:12]:
        (service,) = ecs.describe_services(cluster=cluster, services=[name])["services"]
        definition = ecs.describe_task_definition(taskDefinition=service["taskDefinition"])["taskDefinition"]
        config = definition["containerDefinitions"][0]["logConfiguration"]
        if config["logDriver"] != "awslogs":
            assert not logs.describe_log_groups(logGroupNamePrefix=f"/ecs/{name}")["logGroups"]
            continue
        options = config["options"]
        assert options == {
            "awslogs-group": f"/ecs/{name}",
            "awslogs-region": "us-east-1",
            "awslogs-stream-prefix": "ecs",
        }
        tasks = {arn.rsplit("/", 1)[-1] for arn in ecs.list_tasks(cluster=cluster, serviceName=name)["taskArns"]}
        streams = {
            s["logStreamName"] for s in logs.describe_log_streams(logGroupName=options["awslogs-group"])["logStreams"]
        }
        containers = {c["name"] for c in definition["containerDefinitions"]}
        assert streams and all(s.split("/")[0] == "ecs" and s.split("/")[1] in containers for s in streams)
        assert {s.split("/")[2] for s in streams if s.split("/")[1] == name} == tasks  # every running task logs
        checked += 1
    assert checked >= 8


def test_each_step_writes_lines(aws: EmbeddedAWS, client: Callable[..., Any], fleet: dict[str, Any]) -> None:
    logs = client("logs", account=PAYMENTS)
    groups = [g["logGroupName"] for g in logs.describe_log_groups(limit=10)["logGroups"]]
    before = {group: count(logs, group) for group in groups}
    aws.tick(4)
    after = {group: count(logs, group) for group in groups}
    assert all(after[g] >= before[g] for g in groups)
    assert sum(after.values()) > sum(before.values())


def test_a_crashing_service_logs_an_error_burst(client: Callable[..., Any], fleet: dict[str, Any]) -> None:
    messages: list[str] = []
    for account, region, _, name, _ in services_of(fleet, "failing"):
        logs = client("logs", account=account, region=region)
        if logs.describe_log_groups(logGroupNamePrefix=f"/ecs/{name}")["logGroups"]:
            pages = logs.get_paginator("filter_log_events").paginate(logGroupName=f"/ecs/{name}")
            messages += [e["message"] for page in pages for e in page["events"]]
    assert any(m.startswith("ERROR connection to") for m in messages)
    assert any(m.startswith("FATAL task") and m.endswith("exiting with code 1") for m in messages)
