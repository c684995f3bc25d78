"""Read a running embedded fleet's shape back through the AWS APIs (boto3).

Ground truth for the collector's tests and benchmark: what a poll must fetch,
read independently of the collector, over the same HTTP endpoint.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any

import boto3

from heartbeat_tui.collector.cost import AccountShape, RegionShape
from heartbeat_tui.embedded.fleet import FleetSpec
from heartbeat_tui.embedded.process import EmbeddedAWS


def client_in(aws: EmbeddedAWS, fleet: FleetSpec, service: str, account: str, region: str) -> Any:
    """A boto3 client acting in `account` (by AssumeRole from the hub when it is a member)."""

    creds = aws.credentials()
    kwargs: dict[str, Any] = {
        "region_name": region,
        "endpoint_url": aws.endpoint_url,
        "aws_access_key_id": creds["AWS_ACCESS_KEY_ID"],
        "aws_secret_access_key": creds["AWS_SECRET_ACCESS_KEY"],
    }
    if account != fleet.hub_account:
        spec = next(a for a in fleet.accounts if a.id == account)
        assume: dict[str, Any] = {"RoleArn": spec.role_arn, "RoleSessionName": "heartbeat-ground-truth"}
        if spec.external_id:
            assume["ExternalId"] = spec.external_id
        assumed = boto3.client("sts", **kwargs).assume_role(**assume)["Credentials"]
        kwargs.update(
            aws_access_key_id=assumed["AccessKeyId"],
            aws_secret_access_key=assumed["SecretAccessKey"],
            aws_session_token=assumed["SessionToken"],
        )
    return boto3.client(service, **kwargs)


def read_fleet_shape(
    aws: EmbeddedAWS,
    fleet: FleetSpec,
    *,
    history: timedelta,
    configured_aliases: frozenset[str] = frozenset(),
    profiles: frozenset[str] = frozenset(),
    discovered_regions: tuple[str, ...] | None = None,
    now: datetime | None = None,
) -> tuple[AccountShape, ...]:
    """`profiles`: the accounts read through an AWS profile (not a role);
    `discovered_regions`: the members are found by `[discovery]` and read in
    these regions (their names are their aliases)."""

    now = now or datetime.now(timezone.utc)
    shapes = []
    for account in fleet.accounts:
        is_hub = account.id == fleet.hub_account
        if account.deny_assume_role:
            shapes.append(AccountShape(assume_role=True, read_alias=False, regions=(), reachable=False))
            continue
        discovered = discovered_regions is not None and not is_hub
        polled = discovered_regions if discovered and discovered_regions is not None else None
        clusters_in = {r.region: r.clusters for r in account.regions}
        regions = []
        for region_name in polled or tuple(clusters_in):
            clusters = clusters_in.get(region_name, ())
            aas = client_in(aws, fleet, "application-autoscaling", account.id, region_name)
            targets = sum(
                len(page["ScalableTargets"])
                for page in aas.get_paginator("describe_scalable_targets").paginate(ServiceNamespace="ecs")
            )
            starts = [
                activity["StartTime"]
                for page in aas.get_paginator("describe_scaling_activities").paginate(ServiceNamespace="ecs")
                for activity in page["ScalingActivities"]
            ]
            in_window = sum(1 for start in starts if start >= now - history)
            regions.append(
                RegionShape(
                    services_per_cluster=tuple(len(c.services) for c in clusters),
                    scalable_targets=targets,
                    activities_in_window=in_window,
                    older_activities=len(starts) > in_window,
                )
            )
        shapes.append(
            AccountShape(
                assume_role=not is_hub and account.id not in profiles,
                read_alias=account.id not in configured_aliases and not discovered,
                regions=tuple(regions),
                profile=account.id in profiles,
            )
        )
    return tuple(shapes)
