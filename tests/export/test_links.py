"""The AWS console page of an ECS cluster or service, from its ARN alone."""

from __future__ import annotations

import pytest

from heartbeat_tui.links import EcsArn, console_url, parse_ecs_arn


@pytest.mark.parametrize(
    ("arn", "expected"),
    [
        (
            "arn:aws:ecs:eu-west-1:210987654321:cluster/payments-core",
            "https://eu-west-1.console.aws.amazon.com/ecs/v2/clusters/payments-core/services?region=eu-west-1",
        ),
        (
            "arn:aws:ecs:us-east-1:210987654321:service/payments-core/checkout-api",
            "https://us-east-1.console.aws.amazon.com/ecs/v2/clusters/payments-core/services/checkout-api/health"
            "?region=us-east-1",
        ),
        (
            "arn:aws-cn:ecs:cn-north-1:210987654321:service/core/api",
            "https://console.amazonaws.cn/ecs/v2/clusters/core/services/api/health?region=cn-north-1",
        ),
        (
            "arn:aws-us-gov:ecs:us-gov-west-1:210987654321:cluster/core",
            "https://console.amazonaws-us-gov.com/ecs/v2/clusters/core/services?region=us-gov-west-1",
        ),
    ],
)
def test_console_url_of_clusters_and_services(arn: str, expected: str) -> None:
    assert console_url(arn) == expected


def test_an_old_format_service_arn_needs_its_cluster() -> None:
    old = "arn:aws:ecs:us-east-1:210987654321:service/checkout-api"
    assert parse_ecs_arn(old) == EcsArn("aws", "us-east-1", "210987654321", "service", None, "checkout-api")
    assert console_url(old) is None
    assert console_url(old, cluster="payments-core") == (
        "https://us-east-1.console.aws.amazon.com/ecs/v2/clusters/payments-core/services/checkout-api/health"
        "?region=us-east-1"
    )
    # A new-format ARN names its own cluster, whatever the caller says.
    assert "/clusters/core/" in (console_url("arn:aws:ecs:us-east-1:1:service/core/api", cluster="other") or "")


@pytest.mark.parametrize(
    "arn",
    [
        "",
        "not an arn",
        "arn:aws:ecs:us-east-1:210987654321:task/core/0123",  # a task: no page of its own here
        "arn:aws:ecs:us-east-1:210987654321:task-definition/api:3",
        "arn:aws:ecs:us-east-1:210987654321:service/a/b/c",
        "arn:aws:ecs:us-east-1:210987654321:cluster/",
        "arn:aws:ecs::210987654321:cluster/core",  # no region
        "arn:aws:ecs:evil.example/x:210987654321:cluster/core",  # a region that would steer the host
        "arn:aws:ecs:US-EAST-1:210987654321:cluster/core",
        "arn:aws:iam::210987654321:role/HeartbeatReader",
        "arn:aws-iso:ecs:us-iso-east-1:210987654321:cluster/core",  # a partition without a known console
    ],
)
def test_no_url_for_anything_else(arn: str) -> None:
    assert console_url(arn, cluster="core") is None


def test_names_are_quoted() -> None:
    url = console_url("arn:aws:ecs:us-east-1:1:service/core/a b?c")
    assert url is not None and "/services/a%20b%3Fc/health?region=us-east-1" in url
