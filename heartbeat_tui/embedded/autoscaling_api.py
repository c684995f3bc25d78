"""application-autoscaling read API.

* DescribeScalingActivities: moto does not implement it (HTML 500, and botocore
  retries for ~9 s).  Answered from the simulator's activity log.
* DescribeScalableTargets: moto's NextToken is broken past the second page
  (it returns the same token forever) and MaxResults is not range-checked.
* DescribeScalingPolicies: moto defaults to 100 per page and matches ResourceId
  by substring.

All three page like AWS: MaxResults 1..50 (default 50) and an opaque NextToken.
Targets and policies are read from moto's backend (seeded there, so
Register/PutScalingPolicy through moto stay visible).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from heartbeat_tui.embedded.paging import (
    ApiError,
    decode_token,
    encode_token,
    int_param,
    page_after,
)
from heartbeat_tui.embedded.world import World

NAMESPACES = (
    "ecs",
    "elasticmapreduce",
    "ec2",
    "appstream",
    "dynamodb",
    "rds",
    "sagemaker",
    "custom-resource",
    "comprehend",
    "lambda",
    "cassandra",
    "kafka",
    "elasticache",
    "neptune",
    "workspaces",
)


def _validation(message: str) -> ApiError:
    return ApiError("ValidationException", message)


INVALID_TOKEN = ApiError("InvalidNextTokenException", "The NextToken value is invalid.")


class AutoscalingApi:
    def __init__(self, world: World) -> None:
        from moto.backends import get_backend

        self.world = world
        self._backends = get_backend("applicationautoscaling")
        self._targets_cache: dict[tuple[Any, ...], tuple[list[Any], list[Any], list[str]]] = {}
        self.handlers: dict[str, Callable[[str, str, dict[str, Any]], dict[str, Any]]] = {
            "DescribeScalingActivities": self.describe_scaling_activities,
            "DescribeScalableTargets": self.describe_scalable_targets,
            "DescribeScalingPolicies": self.describe_scaling_policies,
        }

    @staticmethod
    def _namespace(params: dict[str, Any]) -> str:
        namespace = params.get("ServiceNamespace")
        if not namespace:
            raise _validation(
                "1 validation error detected: Value null at 'serviceNamespace' failed to satisfy constraint: "
                "Member must not be null"
            )
        if namespace not in NAMESPACES:
            raise _validation(
                f"1 validation error detected: Value '{namespace}' at 'serviceNamespace' failed to satisfy "
                f"constraint: Member must satisfy enum value set: [{', '.join(NAMESPACES)}]"
            )
        return str(namespace)

    @staticmethod
    def _limit(params: dict[str, Any]) -> int:
        value = params.get("MaxResults")
        return int_param(
            params,
            "MaxResults",
            low=1,
            high=50,
            default=50,
            error=_validation(
                f"1 validation error detected: Value '{value}' at 'maxResults' failed to satisfy constraint: "
                "Member must have value less than or equal to 50 and greater than or equal to 1"
            ),
        )

    @staticmethod
    def _after(params: dict[str, Any], operation: str, scope: str) -> Any:
        token = params.get("NextToken")
        return None if token is None else decode_token(token, operation, scope, INVALID_TOKEN)

    # -- activities -----------------------------------------------------------------

    def describe_scaling_activities(self, account: str, region: str, params: dict[str, Any]) -> dict[str, Any]:
        namespace = self._namespace(params)
        limit = self._limit(params)
        resource_id = params.get("ResourceId")
        dimension = params.get("ScalableDimension")
        scope = f"{account}/{region}/{namespace}/{resource_id}/{dimension}"
        after = self._after(params, "DescribeScalingActivities", scope)
        activities: list[Any] = []
        if namespace == "ecs" and dimension in (None, "ecs:service:DesiredCount"):
            with self.world.lock:
                log = list(self.world.activities.get((account, region), ()))
            activities = [a for a in log if resource_id is None or a.resource_id == resource_id]
        # Newest first: sort by descending start time, ties by id.  Keys ascend.
        activities.sort(key=lambda a: (-a.start_time, a.activity_id))
        keys = [[-a.start_time, a.activity_id] for a in activities]
        page, last = page_after(activities, [tuple(k) for k in keys], after, limit)
        body: dict[str, Any] = {"ScalingActivities": [a.to_json() for a in page]}
        if last is not None:
            body["NextToken"] = encode_token("DescribeScalingActivities", scope, list(last))
        return body

    # -- targets ------------------------------------------------------------------

    def describe_scalable_targets(self, account: str, region: str, params: dict[str, Any]) -> dict[str, Any]:
        namespace = self._namespace(params)
        limit = self._limit(params)
        resource_ids = params.get("ResourceIds") or []
        if len(resource_ids) > 50:
            raise _validation(
                "1 validation error detected: Value at 'resourceIds' failed to satisfy constraint: "
                "Member must have length less than or equal to 50"
            )
        dimension = params.get("ScalableDimension")
        scope = f"{account}/{region}/{namespace}/{','.join(sorted(resource_ids))}/{dimension}"
        after = self._after(params, "DescribeScalableTargets", scope)
        targets, keys = self._sorted_targets(account, region, namespace, resource_ids, dimension)
        page, last = page_after(targets, keys, after, limit)
        body: dict[str, Any] = {
            "ScalableTargets": [
                {
                    "ServiceNamespace": t.service_namespace,
                    "ResourceId": t.resource_id,
                    "ScalableDimension": t.scalable_dimension,
                    "MinCapacity": t.min_capacity,
                    "MaxCapacity": t.max_capacity,
                    "RoleARN": t.role_arn,
                    "CreationTime": t.creation_time,
                    "SuspendedState": t.suspended_state
                    or {
                        "DynamicScalingInSuspended": False,
                        "DynamicScalingOutSuspended": False,
                        "ScheduledScalingSuspended": False,
                    },
                    "ScalableTargetARN": t.arn,
                }
                for t in page
            ]
        }
        if last is not None:
            body["NextToken"] = encode_token("DescribeScalableTargets", scope, last)
        return body

    def _sorted_targets(
        self, account: str, region: str, namespace: str, resource_ids: list[str], dimension: str | None
    ) -> tuple[list[Any], list[str]]:
        """moto's targets for a request, sorted, with their page keys.

        moto flattens and filters every target on each call, and each page
        sorted the lot again: a region's pages cost the square of its targets.
        The sorted list is kept until moto's set of targets changes (registered,
        deregistered: the objects in its table; an update changes an object in
        place, and its attributes are read when the page is rendered).
        """
        backend = self._backends[account][region]
        table = [(name, list(by_resource.values())) for name, by_resource in backend.targets.items()]
        cache_key = (account, region, namespace, tuple(resource_ids), dimension)
        cached = self._targets_cache.get(cache_key)
        if cached is not None and cached[0] == table:  # list equality: the very same objects
            return cached[1], cached[2]
        targets = backend.describe_scalable_targets(namespace, list(resource_ids), dimension)
        targets = sorted(targets, key=lambda t: (t.resource_id, t.scalable_dimension))
        keys = [f"{t.resource_id}\t{t.scalable_dimension}" for t in targets]
        if len(self._targets_cache) >= 256:  # request shapes are few; never unbounded
            self._targets_cache.clear()
        self._targets_cache[cache_key] = (table, targets, keys)
        return targets, keys

    # -- policies ------------------------------------------------------------------

    def describe_scaling_policies(self, account: str, region: str, params: dict[str, Any]) -> dict[str, Any]:
        namespace = self._namespace(params)
        limit = self._limit(params)
        names = params.get("PolicyNames") or []
        resource_id = params.get("ResourceId")
        dimension = params.get("ScalableDimension")
        scope = f"{account}/{region}/{namespace}/{','.join(sorted(names))}/{resource_id}/{dimension}"
        after = self._after(params, "DescribeScalingPolicies", scope)
        backend = self._backends[account][region]
        policies = [
            p
            for p in backend.policies.values()
            if p.service_namespace == namespace
            and (resource_id is None or p.resource_id == resource_id)
            and (dimension is None or p.scalable_dimension == dimension)
            and (not names or p.policy_name in names)
        ]
        policies.sort(key=lambda p: (p.resource_id, p.policy_name))
        keys = [f"{p.resource_id}\t{p.policy_name}" for p in policies]
        page, last = page_after(policies, keys, after, limit)
        rendered = []
        for p in page:
            item: dict[str, Any] = {
                "PolicyARN": p.policy_arn,
                "PolicyName": p.policy_name,
                "ServiceNamespace": p.service_namespace,
                "ResourceId": p.resource_id,
                "ScalableDimension": p.scalable_dimension,
                "PolicyType": p.policy_type,
                "Alarms": [{"AlarmName": a.name, "AlarmARN": a.alarm_arn} for a in p.alarms],
                "CreationTime": p.creation_time,
            }
            if p.policy_type == "StepScaling":
                item["StepScalingPolicyConfiguration"] = p.step_scaling_policy_configuration
            else:
                item["TargetTrackingScalingPolicyConfiguration"] = p.target_tracking_scaling_policy_configuration
            rendered.append(item)
        body: dict[str, Any] = {"ScalingPolicies": rendered}
        if last is not None:
            body["NextToken"] = encode_token("DescribeScalingPolicies", scope, last)
        return body
