"""Parts that services repeat (network, rollout configuration) are built once
per distinct value and shared; distinct values stay distinct."""

from __future__ import annotations

from typing import Any

from heartbeat_tui.collector.parse import parse_service


def _item(n: int, **overrides: Any) -> dict[str, Any]:
    item: dict[str, Any] = {
        "serviceArn": f"arn:aws:ecs:eu-west-1:1:service/c/svc-{n}",
        "serviceName": f"svc-{n}",
        "status": "ACTIVE",
        "networkConfiguration": {
            "awsvpcConfiguration": {"subnets": ["s-1", "s-2"], "securityGroups": ["sg-1"], "assignPublicIp": "DISABLED"}
        },
        "deploymentConfiguration": {
            "minimumHealthyPercent": 100,
            "maximumPercent": 200,
            "deploymentCircuitBreaker": {"enable": True, "rollback": True},
        },
        "loadBalancers": [{"targetGroupArn": "arn:tg/1", "containerName": "web", "containerPort": 80}],
    }
    item.update(overrides)
    return item


def _parse(item: dict[str, Any]) -> Any:
    return parse_service(item, cluster_arn="arn:aws:ecs:eu-west-1:1:cluster/c", max_events=5)


def test_services_with_the_same_parts_share_them() -> None:
    first, second = _parse(_item(1)), _parse(_item(2))
    assert first.network is second.network
    assert first.deployment_configuration is second.deployment_configuration
    assert first.load_balancers == second.load_balancers
    assert first.network.subnets == ("s-1", "s-2") and first.network.assign_public_ip == "DISABLED"
    assert first.deployment_configuration.minimum_healthy_percent == 100
    assert first.deployment_configuration.circuit_breaker is True
    assert first.load_balancers[0].container_port == 80


def test_parts_that_differ_are_their_own() -> None:
    base = _parse(_item(1))
    other = _parse(
        _item(
            2,
            networkConfiguration={"awsvpcConfiguration": {"subnets": ["s-2", "s-1"], "securityGroups": ["sg-1"]}},
            # 1 and True in the same places as 100 and True above: never taken for each other.
            deploymentConfiguration={
                "minimumHealthyPercent": 1,
                "maximumPercent": 200,
                "deploymentCircuitBreaker": {"enable": 1, "rollback": True},
            },
            loadBalancers=[{"targetGroupArn": "arn:tg/1", "containerName": "web", "containerPort": "81"}],
        )
    )
    assert other.network.subnets == ("s-2", "s-1") and other.network.assign_public_ip is None
    assert other.network != base.network
    assert other.deployment_configuration.minimum_healthy_percent == 1
    assert other.deployment_configuration.circuit_breaker is None  # not a bool: not reported
    assert other.load_balancers[0].container_port == 81
    again = _parse(_item(3))
    assert again.network is base.network and again.deployment_configuration is base.deployment_configuration
