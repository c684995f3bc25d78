"""The detail view's data from the embedded AWS, over real HTTP: the service's
configuration (parsed from DescribeServices, no extra call), its tasks with
their containers' exit codes, and its task definition, read once per ARN and
counted in the detail's own statistics, never in a poll's."""

from __future__ import annotations

from typing import Any

from heartbeat_tui.collector import Collector
from heartbeat_tui.models import FleetSnapshot, Service
from tests.support.configs import PAYMENTS, make_config


def services_of(snapshot: FleetSnapshot, account_id: str) -> list[tuple[str, Service]]:
    account = snapshot.account(account_id)
    assert account is not None
    return [(region.region, service) for region, _, service in account.services()]


def operation_count(aws: Any, operation: str) -> int:
    return sum(row["count"] for row in aws.stats() if row["operation"] == operation)


async def test_describe_services_gives_the_configuration_the_detail_shows(clean_aws: Any) -> None:
    async with Collector(make_config(clean_aws)) as collector:
        snapshot = await collector.poll()
    services = [s for _, s in services_of(snapshot, PAYMENTS)]
    fargate = [s for s in services if s.launch_type == "FARGATE"]
    assert fargate and all(s.platform_version == "LATEST" for s in fargate)
    assert all(s.network is not None and s.network.subnets and s.network.security_groups for s in fargate)
    assert all(s.network.assign_public_ip in ("ENABLED", "DISABLED") for s in fargate if s.network)
    assert all(s.deployment_configuration is not None for s in services)
    assert {s.deployment_configuration.maximum_percent for s in services if s.deployment_configuration} <= {150, 200}
    assert any(s.deployment_configuration.circuit_breaker for s in services if s.deployment_configuration)
    balanced = [s for s in services if s.load_balancers]
    assert balanced, "the demo fleet has services behind a load balancer"
    for service in balanced:
        (lb,) = service.load_balancers
        assert lb.target_group_arn is not None and ":targetgroup/" in lb.target_group_arn
        assert lb.container_name == service.name and lb.container_port == 8080
    assert all(d.id.startswith("ecs-svc/") and d.created_at is not None for s in services for d in s.deployments)
    assert snapshot.stats.calls_of("DescribeTaskDefinition") == 0  # a poll never reads task definitions


async def test_the_task_definition_is_read_once_per_arn_and_counted_in_the_detail(clean_aws: Any) -> None:
    async with Collector(make_config(clean_aws)) as collector:
        snapshot = await collector.poll()
        region, service = next((r, s) for r, s in services_of(snapshot, PAYMENTS) if s.running_count > 0)
        clean_aws.reset_stats()
        first = await collector.fetch_service_detail(PAYMENTS, region, service.cluster_arn, service.name)
        second = await collector.fetch_service_detail(PAYMENTS, region, service.cluster_arn, service.name)
        again = await collector.poll()
    assert not first.errors and not second.errors
    assert first.task_definition is not None and first.task_definition == second.task_definition
    assert first.task_definition.arn == service.task_definition
    assert first.stats.calls_of("DescribeTaskDefinition") == 1
    assert second.stats.calls_of("DescribeTaskDefinition") == 0  # immutable: kept
    assert first.stats.calls_of("ListTasks") == 2 and second.stats.calls_of("ListTasks") == 2
    assert operation_count(clean_aws, "DescribeTaskDefinition") == 1  # what AWS saw
    assert again.stats.calls_of("ListTasks") == 0 and again.stats.calls_of("DescribeTaskDefinition") == 0
    app = first.task_definition.containers[0]
    assert app.name == service.name and app.essential
    assert app.image is not None and app.image.endswith(tuple("0123456789abcdef"))
    assert app.cpu and app.memory and app.ports and app.ports[0].container_port == 8080
    assert app.log is not None and app.log.driver in ("awslogs", "fluentd")
    if app.log.driver == "awslogs":
        assert app.log.option("awslogs-group") == f"/ecs/{service.name}"
        assert app.log.option("awslogs-region") == region
        assert app.log.option("awslogs-stream-prefix") == "ecs"


async def test_tasks_name_their_containers_and_exit_codes(clean_aws: Any) -> None:
    async with Collector(make_config(clean_aws)) as collector:
        snapshot = await collector.poll()
        failing = [
            (account.id, region.region, service)
            for account in snapshot.accounts
            for region, _, service in account.services()
            if service.rollout_state == "FAILED"
        ]
        assert failing
        details = [await collector.fetch_service_detail(a, r, s.cluster_arn, s.name) for a, r, s in failing]
    stopped = [t for d in details for t in d.tasks if t.last_status == "STOPPED"]
    assert stopped and all(t.containers and t.containers[0].name for t in stopped)
    exited = [t for t in stopped if t.stop_code == "EssentialContainerExited"]
    assert exited, "a failing service whose container exits"
    assert all(t.containers[0].exit_code == 1 for t in exited)
    # A sidecar is killed when the essential container exits.
    assert all(c.exit_code == 137 for t in exited for c in t.containers[1:])
    definitions = {d.task_definition.arn: d.task_definition for d in details if d.task_definition}
    assert definitions
    for detail in details:
        names = {c.name for c in detail.task_definition.containers} if detail.task_definition else set()
        assert all({c.name for c in t.containers} <= names for t in detail.tasks)
