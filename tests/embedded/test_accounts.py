"""Accounts: AssumeRole into each member acts in that account; the denied one is denied."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError

from heartbeat_tui.embedded import EmbeddedAWS, FleetSpec

from .helpers import DENIED, HUB, MEMBERS, NO_RETRY

FLEET = FleetSpec.demo()


def seeded_clusters(account_id: str, region: str) -> set[str]:
    account = next(a for a in FLEET.accounts if a.id == account_id)
    return {c.name for r in account.regions if r.region == region for c in r.clusters}


@pytest.mark.parametrize("account", MEMBERS)
def test_assume_role_acts_in_the_member_account(
    aws: EmbeddedAWS, client: Callable[..., Any], assumed: Callable[[str], dict[str, str]], account: str
) -> None:
    sts = boto3.client(
        "sts", region_name="us-east-1", endpoint_url=aws.endpoint_url, config=NO_RETRY, **assumed(account)
    )
    identity = sts.get_caller_identity()
    assert identity["Account"] == account
    assert identity["Arn"].startswith(f"arn:aws:sts::{account}:assumed-role/HeartbeatReader/")
    spec = next(a for a in FLEET.accounts if a.id == account)
    assert client("iam", account).list_account_aliases()["AccountAliases"] == [spec.alias]
    aws.reset_stats()
    for region in spec.regions:
        arns = client("ecs", account, region.region).list_clusters()["clusterArns"]
        assert all(a.startswith(f"arn:aws:ecs:{region.region}:{account}:cluster/") for a in arns)
        assert seeded_clusters(account, region.region) <= {a.rsplit("/", 1)[-1] for a in arns}
        for other in FLEET.accounts:  # nobody else's clusters leak in
            if other.id != account:
                assert not (seeded_clusters(other.id, region.region) & {a.rsplit("/", 1)[-1] for a in arns}) or (
                    seeded_clusters(other.id, region.region) & seeded_clusters(account, region.region)
                )
    rows = [r for r in aws.stats() if r["operation"] == "ListClusters"]
    assert {r["account"] for r in rows} == {account}


def test_hub_uses_base_credentials(aws: EmbeddedAWS, client: Callable[..., Any]) -> None:
    creds = aws.credentials()
    assert creds == {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-west-2",
    }
    arns = client("ecs", HUB, "us-west-2").list_clusters()["clusterArns"]
    assert arns == [f"arn:aws:ecs:us-west-2:{HUB}:cluster/platform-tools"]
    assert client("iam", HUB).list_account_aliases()["AccountAliases"] == ["shared-services"]


def test_member_roles_trust_the_hub(client: Callable[..., Any]) -> None:
    for account in MEMBERS:
        role = client("iam", account).get_role(RoleName="HeartbeatReader")["Role"]
        document = role["AssumeRolePolicyDocument"]
        assert f"arn:aws:iam::{HUB}:root" in str(document)


def test_the_denied_account_is_denied(aws: EmbeddedAWS) -> None:
    creds = aws.credentials()
    sts = boto3.client(
        "sts",
        region_name="us-east-1",
        endpoint_url=aws.endpoint_url,
        config=NO_RETRY,
        aws_access_key_id=creds["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=creds["AWS_SECRET_ACCESS_KEY"],
    )
    role = f"arn:aws:iam::{DENIED}:role/HeartbeatReader"
    with pytest.raises(ClientError) as excinfo:
        sts.assume_role(RoleArn=role, RoleSessionName="denied")
    error = excinfo.value.response["Error"]
    assert error["Code"] == "AccessDenied"
    assert excinfo.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403
    assert error["Message"].endswith(f"is not authorized to perform: sts:AssumeRole on resource: {role}")
    aws.clear_faults()  # a standing policy of the fleet, not a fault
    with pytest.raises(ClientError):
        sts.assume_role(RoleArn=role, RoleSessionName="denied")


def test_config_dict_points_at_this_endpoint(aws: EmbeddedAWS) -> None:
    config = aws.config_dict()
    assert config["aws"]["endpoint_url"] == aws.endpoint_url == f"http://127.0.0.1:{aws.port}"
    assert len(config["accounts"]) == 5
