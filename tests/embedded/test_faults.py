"""Run-time faults per account/service/operation, and request statistics."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError, ReadTimeoutError

from heartbeat_tui.embedded import EmbeddedAWS, EmbeddedAWSError
from heartbeat_tui.embedded.faults import FAULT_TOKEN_PREFIX, UNKNOWN_ENUM_VALUE

from .helpers import CHECKOUT, HUB, NO_RETRY, PAYMENTS


def code_of(excinfo: pytest.ExceptionInfo[ClientError]) -> tuple[str, int]:
    response = excinfo.value.response
    return str(response["Error"]["Code"]), int(response["ResponseMetadata"]["HTTPStatusCode"])


def hub_sts(aws: EmbeddedAWS) -> Any:
    creds = aws.credentials()
    return boto3.client(
        "sts",
        region_name="us-east-1",
        endpoint_url=aws.endpoint_url,
        config=NO_RETRY,
        aws_access_key_id=creds["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=creds["AWS_SECRET_ACCESS_KEY"],
    )


def test_throttle_json_and_query(aws: EmbeddedAWS, client: Callable[..., Any]) -> None:
    aws.add_fault("throttle", account=PAYMENTS, service="ecs")
    with pytest.raises(ClientError) as excinfo:
        client("ecs", PAYMENTS).list_clusters()
    assert code_of(excinfo) == ("ThrottlingException", 400)
    client("ecs", CHECKOUT).list_clusters()  # other accounts are untouched
    client("application-autoscaling", PAYMENTS).describe_scalable_targets(ServiceNamespace="ecs", MaxResults=1)
    aws.clear_faults()
    aws.add_fault("throttle", account=PAYMENTS, service="sts")
    with pytest.raises(ClientError) as excinfo:  # AssumeRole is attributed to the RoleArn's account
        hub_sts(aws).assume_role(RoleArn=f"arn:aws:iam::{PAYMENTS}:role/HeartbeatReader", RoleSessionName="faults")
    assert code_of(excinfo) == ("Throttling", 400)
    hub_sts(aws).assume_role(RoleArn=f"arn:aws:iam::{CHECKOUT}:role/HeartbeatReader", RoleSessionName="faults")
    aws.clear_faults()
    client("ecs", PAYMENTS).list_clusters()


def test_throttle_cloudwatch_is_query_compatible(aws: EmbeddedAWS, client: Callable[..., Any]) -> None:
    aws.add_fault("throttle", account=PAYMENTS, service="cloudwatch", operation="GetMetricData")
    cw = client("cloudwatch", PAYMENTS)
    with pytest.raises(ClientError) as excinfo:
        cw.get_metric_data(
            MetricDataQueries=[
                {
                    "Id": "a",
                    "MetricStat": {
                        "Metric": {"Namespace": "AWS/ECS", "MetricName": "CPUUtilization"},
                        "Period": 60,
                        "Stat": "Average",
                    },
                }
            ],
            StartTime=time.time() - 600,
            EndTime=time.time(),
        )
    # Real CloudWatch (awsJson, awsQueryCompatible) names it with the query-era code.
    assert code_of(excinfo) == ("Throttling", 400)


def test_partial_rate(aws: EmbeddedAWS, client: Callable[..., Any]) -> None:
    aws.add_fault("throttle", account=CHECKOUT, service="ecs", operation="ListClusters", rate=0.5)
    ecs = client("ecs", CHECKOUT)
    outcomes = []
    for _ in range(40):
        try:
            ecs.list_clusters()
            outcomes.append(True)
        except ClientError:
            outcomes.append(False)
    assert 5 <= outcomes.count(False) <= 35


def test_a_fault_fires_at_most_times_times(aws: EmbeddedAWS, client: Callable[..., Any]) -> None:
    aws.add_fault("error", account=CHECKOUT, service="ecs", operation="ListClusters", code="ServerException", times=2)
    ecs = client("ecs", CHECKOUT)
    for _ in range(2):
        with pytest.raises(ClientError) as excinfo:
            ecs.list_clusters()
        assert code_of(excinfo) == ("ServerException", 400)
    for _ in range(3):
        ecs.list_clusters()  # spent: answered normally from now on
    assert [f["fired"] for f in aws.faults()] == [2]


def test_error_default_and_custom_code(aws: EmbeddedAWS, client: Callable[..., Any]) -> None:
    aws.add_fault("error", account=PAYMENTS, service="ecs", operation="ListServices")
    ecs = client("ecs", PAYMENTS)
    with pytest.raises(ClientError) as excinfo:
        ecs.list_services(cluster="payments-core")
    assert code_of(excinfo) == ("InternalFailure", 500)
    ecs.list_clusters()  # another operation
    aws.clear_faults()
    aws.add_fault("error", account=PAYMENTS, service="iam", code="ServiceUnavailable")
    with pytest.raises(ClientError) as excinfo:
        client("iam", PAYMENTS).list_account_aliases()
    assert code_of(excinfo) == ("ServiceUnavailable", 503)


def test_latency(aws: EmbeddedAWS, client: Callable[..., Any]) -> None:
    # A lower bound only: a loaded machine can make any call slower, never faster.
    aws.add_fault("latency", account=PAYMENTS, service="ecs", seconds=2.0)
    ecs = client("ecs", PAYMENTS)
    began = time.perf_counter()
    ecs.list_clusters()
    assert time.perf_counter() - began >= 2.0
    # Another account is not delayed (the fault is scoped): well under the 2 s.
    began = time.perf_counter()
    client("ecs", CHECKOUT).list_clusters()
    assert time.perf_counter() - began < 1.5


def test_timeout(aws: EmbeddedAWS, client: Callable[..., Any]) -> None:
    aws.add_fault("timeout", account=PAYMENTS, service="ecs", seconds=1.5)
    quick = Config(retries={"total_max_attempts": 1}, read_timeout=0.5, connect_timeout=2)
    with pytest.raises(ReadTimeoutError):
        client("ecs", PAYMENTS, config=quick).list_clusters()


def test_deny_assume_role_and_clear_restores(aws: EmbeddedAWS) -> None:
    sts = hub_sts(aws)
    role = f"arn:aws:iam::{CHECKOUT}:role/HeartbeatReader"
    aws.add_fault("deny_assume_role", account=CHECKOUT)
    with pytest.raises(ClientError) as excinfo:
        sts.assume_role(RoleArn=role, RoleSessionName="faults")
    assert code_of(excinfo) == ("AccessDenied", 403)
    message = excinfo.value.response["Error"]["Message"]
    assert message.startswith(f"User: arn:aws:sts::{HUB}:assumed-role/")
    assert message.endswith(f"is not authorized to perform: sts:AssumeRole on resource: {role}")
    aws.clear_faults()
    assert sts.assume_role(RoleArn=role, RoleSessionName="faults")["Credentials"]["AccessKeyId"]


def test_wrong_account_answers_from_another_account(aws: EmbeddedAWS) -> None:
    """The assumed-role ARN in AssumeRole's answer names another account (and
    partition, when asked): what a role that leads elsewhere looks like."""

    sts = hub_sts(aws)
    role = f"arn:aws:iam::{CHECKOUT}:role/HeartbeatReader"
    own = sts.assume_role(RoleArn=role, RoleSessionName="faults")["AssumedRoleUser"]["Arn"]
    assert own == f"arn:aws:sts::{CHECKOUT}:assumed-role/HeartbeatReader/faults"

    aws.add_fault("wrong_account", account=CHECKOUT)
    answer = sts.assume_role(RoleArn=role, RoleSessionName="faults")
    assert answer["AssumedRoleUser"]["Arn"] == "arn:aws:sts::999999999999:assumed-role/HeartbeatReader/faults"
    assert answer["Credentials"]["AccessKeyId"]  # otherwise a normal answer
    # Other accounts are left alone.
    other = sts.assume_role(RoleArn=f"arn:aws:iam::{PAYMENTS}:role/HeartbeatReader", RoleSessionName="faults")
    assert other["AssumedRoleUser"]["Arn"].startswith(f"arn:aws:sts::{PAYMENTS}:")
    aws.clear_faults()

    aws.add_fault("wrong_account", account=CHECKOUT, code="aws-cn:111122223333")
    arn = sts.assume_role(RoleArn=role, RoleSessionName="faults")["AssumedRoleUser"]["Arn"]
    assert arn == "arn:aws-cn:sts::111122223333:assumed-role/HeartbeatReader/faults"
    aws.clear_faults()
    assert sts.assume_role(RoleArn=role, RoleSessionName="faults")["AssumedRoleUser"]["Arn"] == own

    with pytest.raises(EmbeddedAWSError):
        aws.add_fault("wrong_account", account=CHECKOUT, code="not-an-account")


def test_an_unhosted_region_is_an_aws_error(aws: EmbeddedAWS) -> None:
    """A request signed for a region no partition has gets what AWS answers a
    credential scoped to a region it does not serve, in each protocol (it was
    a 500 "embedded AWS bug: KeyError")."""

    creds = aws.credentials()
    keys = {"aws_access_key_id": creds["AWS_ACCESS_KEY_ID"], "aws_secret_access_key": creds["AWS_SECRET_ACCESS_KEY"]}

    def make(service: str) -> Any:
        return boto3.client(service, region_name="xx-nowhere-1", endpoint_url=aws.endpoint_url, config=NO_RETRY, **keys)

    calls = [
        (lambda: make("ecs").list_clusters(), ("InvalidSignatureException", 400)),
        (
            lambda: make("application-autoscaling").describe_scalable_targets(ServiceNamespace="ecs"),
            ("InvalidSignatureException", 400),
        ),
        # CloudWatch is query-compatible: botocore reports the query code.
        (lambda: make("cloudwatch").list_metrics(), ("SignatureDoesNotMatch", 400)),
        (lambda: make("dynamodb").list_tables(), ("InvalidSignatureException", 400)),
    ]
    for call, expected in calls:
        with pytest.raises(ClientError) as excinfo:
            call()
        assert code_of(excinfo) == expected
        message = excinfo.value.response["Error"]["Message"]
        assert message == "Credential should be scoped to a valid region, not 'xx-nowhere-1'."
    # A real region with nothing in it is simply empty.
    empty = boto3.client("ecs", region_name="ap-south-2", endpoint_url=aws.endpoint_url, config=NO_RETRY, **keys)
    assert empty.list_clusters()["clusterArns"] == []


def test_expire_credentials(aws: EmbeddedAWS) -> None:
    sts = hub_sts(aws)

    def ecs_with_fresh_keys() -> Any:
        keys = sts.assume_role(RoleArn=f"arn:aws:iam::{CHECKOUT}:role/HeartbeatReader", RoleSessionName="faults")[
            "Credentials"
        ]
        return boto3.client(
            "ecs",
            region_name="us-east-1",
            endpoint_url=aws.endpoint_url,
            config=NO_RETRY,
            aws_access_key_id=keys["AccessKeyId"],
            aws_secret_access_key=keys["SecretAccessKey"],
            aws_session_token=keys["SessionToken"],
        )

    old = ecs_with_fresh_keys()
    old.list_clusters()
    time.sleep(0.01)
    aws.add_fault("expire_credentials", account=CHECKOUT)
    with pytest.raises(ClientError) as excinfo:
        old.list_clusters()
    assert code_of(excinfo) == ("ExpiredTokenException", 400)
    assert excinfo.value.response["Error"]["Message"] == "The security token included in the request is expired"
    ecs_with_fresh_keys().list_clusters()  # keys issued after the switch work
    aws.clear_faults()
    old.list_clusters()


def test_malformed_drops_a_field(aws: EmbeddedAWS, client: Callable[..., Any]) -> None:
    ecs = client("ecs", PAYMENTS)
    arns = ecs.list_services(cluster="payments-core")["serviceArns"]
    aws.add_fault("malformed", account=PAYMENTS, service="ecs", operation="DescribeServices", code="runningCount")
    services = ecs.describe_services(cluster="payments-core", services=arns)["services"]
    assert services and all("runningCount" not in s for s in services)
    assert all("runningCount" not in d for s in services for d in s["deployments"])
    aws.clear_faults()
    assert all("runningCount" in s for s in ecs.describe_services(cluster="payments-core", services=arns)["services"])


def test_malformed_variants_spoil_answers_as_named(aws: EmbeddedAWS, client: Callable[..., Any]) -> None:
    ecs = client("ecs", PAYMENTS)
    arns = sorted(
        arn
        for page in ecs.get_paginator("list_services").paginate(cluster="payments-core")
        for arn in page["serviceArns"]
    )
    batch = arns[:10]

    aws.add_fault("malformed", account=PAYMENTS, service="ecs", operation="DescribeServices", code="enum:status")
    services = ecs.describe_services(cluster="payments-core", services=batch)["services"]
    assert {s["status"] for s in services} == {UNKNOWN_ENUM_VALUE}
    assert {d["status"] for s in services for d in s["deployments"]} == {UNKNOWN_ENUM_VALUE}
    aws.clear_faults()

    aws.add_fault("malformed", account=PAYMENTS, service="ecs", operation="DescribeServices", code="partial")
    assert len(ecs.describe_services(cluster="payments-core", services=batch)["services"]) == 5
    aws.clear_faults()

    # An empty first page whose token leads to the real first page: the listing is whole.
    aws.add_fault("malformed", account=PAYMENTS, service="ecs", operation="ListServices", code="empty_page")
    first = ecs.list_services(cluster="payments-core", maxResults=100)
    assert first["serviceArns"] == [] and first["nextToken"].startswith(FAULT_TOKEN_PREFIX)
    listed: list[str] = []
    token = first["nextToken"]
    while token:
        page = ecs.list_services(cluster="payments-core", maxResults=100, nextToken=token)
        listed += page["serviceArns"]
        token = page.get("nextToken")
    assert sorted(listed) == arns and len(arns) == 129  # 130 seeded, one being deleted (not listed)
    aws.clear_faults()

    # Endless: every page empty, every token new.
    aws.add_fault("malformed", account=PAYMENTS, service="ecs", operation="ListClusters", code="endless_pages")
    tokens = set()
    page = ecs.list_clusters()
    for _ in range(5):
        assert page["clusterArns"] == []
        tokens.add(page["nextToken"])
        page = ecs.list_clusters(nextToken=page["nextToken"])
    assert len(tokens) == 5
    aws.clear_faults()
    # A fault token followed after the fault is gone still gets an answer (the first page).
    assert ecs.list_clusters(nextToken=page["nextToken"])["clusterArns"]


def test_invalid_fault_is_refused(aws: EmbeddedAWS) -> None:
    with pytest.raises(EmbeddedAWSError):
        aws.add_fault("meteor-strike")
    with pytest.raises(EmbeddedAWSError):
        aws.add_fault("throttle", rate=2.0)
    with pytest.raises(EmbeddedAWSError):
        aws.add_fault("throttle", times=0)
    assert aws.faults() == []


def test_stats_count_every_request_per_account_service_operation(aws: EmbeddedAWS, client: Callable[..., Any]) -> None:
    ecs = client("ecs", PAYMENTS)  # assume before resetting
    hub_ecs = client("ecs", HUB, "us-west-2")
    aws.reset_stats()
    ecs.list_clusters()
    ecs.list_clusters()
    hub_ecs.list_clusters()
    aws.add_fault("throttle", account=PAYMENTS, service="ecs", operation="DescribeClusters")
    with pytest.raises(ClientError):
        ecs.describe_clusters(clusters=["payments-core"])
    hub_sts(aws).assume_role(RoleArn=f"arn:aws:iam::{CHECKOUT}:role/HeartbeatReader", RoleSessionName="faults")
    rows = {(r["account"], r["service"], r["operation"]): r for r in aws.stats()}
    assert rows[(PAYMENTS, "ecs", "ListClusters")]["count"] == 2
    assert rows[(HUB, "ecs", "ListClusters")]["count"] == 1
    assert rows[(PAYMENTS, "ecs", "DescribeClusters")] == {
        "account": PAYMENTS,
        "service": "ecs",
        "operation": "DescribeClusters",
        "count": 1,
        "faulted": 1,
    }
    assert rows[(CHECKOUT, "sts", "AssumeRole")]["count"] == 1
    aws.reset_stats()
    assert aws.stats() == []
