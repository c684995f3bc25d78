"""application-autoscaling: activities (moto has none), targets and policies paged like AWS."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import pytest
from botocore.exceptions import ClientError

from .helpers import PAYMENTS, services_of


@pytest.fixture(scope="module")
def aas(client: Callable[..., Any]) -> Any:
    return client("application-autoscaling", PAYMENTS)


def walk(call: Callable[..., dict[str, Any]], key: str, **kwargs: Any) -> tuple[list[dict[str, Any]], int]:
    items: list[dict[str, Any]] = []
    pages = 0
    token = None
    while True:
        page = call(**kwargs, **({"NextToken": token} if token else {}))
        pages += 1
        items += page[key]
        token = page.get("NextToken")
        if not token:
            return items, pages


def test_scaling_activities_are_answered_fast_newest_first(aas: Any) -> None:
    began = time.perf_counter()
    page = aas.describe_scaling_activities(ServiceNamespace="ecs")
    assert time.perf_counter() - began < 5.0  # moto alone: HTML 500, retried for ~9 s
    activities = page["ScalingActivities"]
    assert 0 < len(activities) <= 50
    starts = [a["StartTime"] for a in activities]
    assert starts == sorted(starts, reverse=True)
    activity = activities[0]
    assert activity["ServiceNamespace"] == "ecs"
    assert activity["ScalableDimension"] == "ecs:service:DesiredCount"
    assert activity["ResourceId"].startswith("service/")
    assert activity["StatusCode"] == "Successful"
    assert activity["Description"].startswith("Setting desired count to ")
    assert activity["Cause"].startswith("monitor alarm ") and " in state ALARM triggered policy " in activity["Cause"]
    assert activity["EndTime"] >= activity["StartTime"]
    assert len(activity["ActivityId"]) == 36


def test_scaling_activities_page_and_filter(aas: Any) -> None:
    everything, _ = walk(aas.describe_scaling_activities, "ScalingActivities", ServiceNamespace="ecs")
    paged, pages = walk(aas.describe_scaling_activities, "ScalingActivities", ServiceNamespace="ecs", MaxResults=3)
    assert len(everything) > 6 and pages == -(-len(everything) // 3)
    assert [a["ActivityId"] for a in paged] == [a["ActivityId"] for a in everything]
    resource = everything[0]["ResourceId"]
    mine = aas.describe_scaling_activities(ServiceNamespace="ecs", ResourceId=resource)["ScalingActivities"]
    assert mine and all(a["ResourceId"] == resource for a in mine)
    assert aas.describe_scaling_activities(ServiceNamespace="dynamodb")["ScalingActivities"] == []


@pytest.mark.parametrize("max_results", [0, 51])
def test_max_results_out_of_range(aas: Any, max_results: int) -> None:
    for call in (aas.describe_scaling_activities, aas.describe_scalable_targets, aas.describe_scaling_policies):
        with pytest.raises(ClientError) as excinfo:
            call(ServiceNamespace="ecs", MaxResults=max_results)
        assert excinfo.value.response["Error"]["Code"] == "ValidationException"


def test_bad_next_token(aas: Any) -> None:
    with pytest.raises(ClientError) as excinfo:
        aas.describe_scaling_activities(ServiceNamespace="ecs", NextToken="garbage")
    assert excinfo.value.response["Error"]["Code"] == "InvalidNextTokenException"


def test_scalable_targets_page_beyond_two_pages(aas: Any, fleet: dict[str, Any]) -> None:
    """moto returns the same NextToken forever after page two; we must not."""
    expected = {
        f"service/{cluster}/{name}"
        for account, region, cluster, name, info in services_of(fleet)
        if account == PAYMENTS and region == "us-east-1" and info["scalable"]
    }
    assert len(expected) > 60
    default, pages = walk(aas.describe_scalable_targets, "ScalableTargets", ServiceNamespace="ecs")
    assert pages == -(-len(expected) // 50)
    small, small_pages = walk(aas.describe_scalable_targets, "ScalableTargets", ServiceNamespace="ecs", MaxResults=7)
    assert small_pages == -(-len(expected) // 7)
    for targets in (default, small):
        ids = [t["ResourceId"] for t in targets]
        assert len(ids) == len(set(ids)) and set(ids) == expected
    target = default[0]
    assert target["MinCapacity"] <= target["MaxCapacity"]
    assert target["ScalableDimension"] == "ecs:service:DesiredCount"


def test_scalable_targets_follow_register_update_and_deregister(aas: Any, fleet: dict[str, Any]) -> None:
    """Targets registered, changed or deregistered through moto show on the next
    walk (the sorted targets are kept between pages)."""
    candidates = [
        f"service/{cluster}/{name}"
        for account, region, cluster, name, info in services_of(fleet)
        if account == PAYMENTS and region == "us-east-1" and not info["scalable"] and info["status"] == "ACTIVE"
    ]
    assert candidates
    resource_id = candidates[0]
    target = {"ServiceNamespace": "ecs", "ResourceId": resource_id, "ScalableDimension": "ecs:service:DesiredCount"}

    def walked() -> dict[str, dict[str, Any]]:
        items, _ = walk(aas.describe_scalable_targets, "ScalableTargets", ServiceNamespace="ecs", MaxResults=7)
        return {t["ResourceId"]: t for t in items}

    before = walked()
    assert resource_id not in before
    try:
        aas.register_scalable_target(**target, MinCapacity=1, MaxCapacity=3)
        assert walked()[resource_id]["MaxCapacity"] == 3
        aas.register_scalable_target(**target, MinCapacity=2, MaxCapacity=9)
        assert (walked()[resource_id]["MinCapacity"], walked()[resource_id]["MaxCapacity"]) == (2, 9)
    finally:
        aas.deregister_scalable_target(**target)
    assert walked().keys() == before.keys()


def test_scaling_policies_page_and_match_exactly(aas: Any) -> None:
    policies, pages = walk(aas.describe_scaling_policies, "ScalingPolicies", ServiceNamespace="ecs")
    assert len(policies) > 50 and pages == -(-len(policies) // 50)
    types = {p["PolicyType"] for p in policies}
    assert types == {"TargetTrackingScaling", "StepScaling"}
    tracking = next(p for p in policies if p["PolicyType"] == "TargetTrackingScaling")
    config = tracking["TargetTrackingScalingPolicyConfiguration"]
    assert config["PredefinedMetricSpecification"]["PredefinedMetricType"] == "ECSServiceAverageCPUUtilization"
    assert {a["AlarmName"].split("-Alarm")[0] for a in tracking["Alarms"]} == {
        f"TargetTracking-{tracking['ResourceId']}"
    }
    # ResourceId is an exact match (moto matches substrings).
    resource = tracking["ResourceId"]
    one = aas.describe_scaling_policies(ServiceNamespace="ecs", ResourceId=resource)["ScalingPolicies"]
    assert [p["ResourceId"] for p in one] == [resource]
    assert aas.describe_scaling_policies(ServiceNamespace="ecs", ResourceId=resource[:-1])["ScalingPolicies"] == []
