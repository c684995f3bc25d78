"""Lean calls (`heartbeat_tui/aws/lean.py`): the same request and the same answer
as botocore's, for less CPU; anything but a 200 goes back to botocore."""

from __future__ import annotations

import hashlib
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from botocore.exceptions import ClientError
from pydantic import SecretStr

from heartbeat_tui.aws.access import AwsAccess
from heartbeat_tui.aws.counting import CallCounter, counting, stop_counting
from heartbeat_tui.aws.errors import describe_error
from heartbeat_tui.aws.lean import PAUSE_SECONDS, SigV4Signer, _http_session
from heartbeat_tui.aws.services import CLOUDWATCH, ECS
from heartbeat_tui.collector.parse import name_from_arn
from heartbeat_tui.config import EnvSettings, config_from_dict

BODY = b'{"cluster": "core", "services": ["a", "b"]}'
HEADERS = {
    "X-Amz-Target": "AmazonEC2ContainerServiceV20141113.DescribeServices",
    "Content-Type": "application/x-amz-json-1.1",
    "User-Agent": "heartbeat-test  aws-sdk",
}


@pytest.mark.parametrize(
    ("url", "host", "token"),
    [
        ("https://ecs.eu-west-1.amazonaws.com/", "ecs.eu-west-1.amazonaws.com", "session-token"),
        ("http://127.0.0.1:4566/", "127.0.0.1:4566", None),
    ],
)
def test_the_signature_is_botocores(url: str, host: str, token: str | None) -> None:
    now = datetime(2026, 12, 3, 14, 5, 6, tzinfo=timezone.utc)
    ours = dict(HEADERS)
    SigV4Signer().sign(
        ours,
        BODY,
        host=host,
        region="eu-west-1",
        service="ecs",
        access_key="AKIDEXAMPLE",
        secret_key="wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
        token=token,
        now=now,
    )
    # botocore's own SigV4, step by step, on the same request at the same moment.
    theirs = AWSRequest(method="POST", url=url, data=BODY, headers=dict(HEADERS))
    theirs.context["timestamp"] = "20261203T140506Z"
    theirs.headers["X-Amz-Date"] = "20261203T140506Z"
    if token:
        theirs.headers["X-Amz-Security-Token"] = token
    auth = SigV4Auth(Credentials("AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", token), "ecs", "eu-west-1")
    canonical = auth.canonical_request(theirs)
    signature = auth.signature(auth.string_to_sign(theirs, canonical), theirs)
    signed = auth.signed_headers(auth.headers_to_sign(theirs))
    assert ours["Authorization"] == (
        f"AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20261203/eu-west-1/ecs/aws4_request,"
        f" SignedHeaders={signed}, Signature={signature}"
    )
    assert ours["X-Amz-Date"] == "20261203T140506Z"
    assert ours.get("X-Amz-Security-Token") == token
    assert hashlib.sha256(BODY).hexdigest() in canonical


def test_a_new_day_signs_with_a_new_key() -> None:
    signer = SigV4Signer()
    day1, day2 = dict(HEADERS), dict(HEADERS)
    common: dict[str, Any] = {
        "host": "h",
        "region": "r",
        "service": "ecs",
        "access_key": "AK",
        "secret_key": "SK",
        "token": None,
    }
    signer.sign(day1, BODY, now=datetime(2026, 12, 3, 23, 59, 59, tzinfo=timezone.utc), **common)
    signer.sign(day2, BODY, now=datetime(2026, 12, 4, 0, 0, 0, tzinfo=timezone.utc), **common)
    fresh = dict(HEADERS)
    SigV4Signer().sign(fresh, BODY, now=datetime(2026, 12, 4, 0, 0, 0, tzinfo=timezone.utc), **common)
    assert "/20261204/r/ecs/" in day2["Authorization"]
    assert day2["Authorization"] == fresh["Authorization"]


class Clock:
    def __init__(self) -> None:
        self.now = datetime.now(timezone.utc)

    def __call__(self) -> datetime:
        return self.now


def _access(aws: Any, clock: Clock, *, max_attempts: int | None = None) -> tuple[AwsAccess, Any]:
    creds = aws.credentials()
    env = EnvSettings(
        _env_file=None,  # type: ignore[call-arg]
        aws_access_key_id=creds["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=SecretStr(creds["AWS_SECRET_ACCESS_KEY"]),
    )
    data = aws.config_dict()
    if max_attempts is not None:
        data.setdefault("aws", {})["max_attempts"] = max_attempts
    config = config_from_dict(data, env=env, source="test")
    return AwsAccess(config, clock=clock), config


def _sent(aws: Any, operation: str) -> int:
    """The requests for `operation` the embedded AWS received (its own count, faulted ones included)."""

    return sum(row["count"] for row in aws.stats() if row["service"] == "ecs" and row["operation"] == operation)


class BotocoreSends:
    """Counts the requests botocore itself sends (its public `before-send` event)."""

    def __init__(self, client: Any) -> None:
        self.count = 0
        client.meta.events.register("before-send", self)

    def __call__(self, **_: Any) -> None:
        self.count += 1


def _metric_stat(cluster: str, service: str, metric: str, stat: str) -> dict[str, Any]:
    return {
        "Metric": {
            "Namespace": "AWS/ECS",
            "MetricName": metric,
            "Dimensions": [{"Name": "ClusterName", "Value": cluster}, {"Name": "ServiceName", "Value": service}],
        },
        "Period": 60,
        "Stat": stat,
    }


async def _botocore_answer(
    access: AwsAccess, config: Any, operation: str, service: str = ECS, **params: Any
) -> dict[str, Any]:
    """The answer of a plain botocore client (no lean calls) with the same credentials."""

    session = access._base  # test hook: the base session, shared configuration
    async with session.create_client(
        service, region_name=config.regions_for(config.accounts[0])[0], endpoint_url=config.endpoint_url
    ) as client:
        answer: dict[str, Any] = await getattr(client, operation)(**params)
    return answer


def _without_metadata(answer: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in answer.items() if k != "ResponseMetadata"}


async def test_calls_are_lean_and_answer_what_botocore_answers(clean_aws: Any) -> None:
    access, config = _access(clean_aws, Clock())
    async with access:
        account = config.accounts[0]
        ecs = await access.client(account, ECS, config.regions_for(account)[0])
        sends = BotocoreSends(ecs)
        after_call: list[str] = []
        ecs.meta.events.register("after-call", lambda model, **_: after_call.append(model.name))
        counter = CallCounter()
        token = counting(counter)
        try:
            clusters = await ecs.list_clusters()
            arns = (await ecs.list_services(cluster=clusters["clusterArns"][0], maxResults=10))["serviceArns"][:3]
            described = await ecs.describe_services(cluster=clusters["clusterArns"][0], services=arns)
        finally:
            stop_counting(token)
        expected = await _botocore_answer(
            access, config, "describe_services", cluster=clusters["clusterArns"][0], services=arns
        )
    assert sends.count == 0  # none went through botocore's sending
    assert after_call == ["ListClusters", "ListServices", "DescribeServices"]  # handlers see every call
    assert dict(counter.calls) == {"ecs.ListClusters": 1, "ecs.ListServices": 1, "ecs.DescribeServices": 1}
    assert counter.http_requests == 3
    assert len(arns) == 3 and [s["serviceArn"] for s in described["services"]] == arns
    assert described["ResponseMetadata"]["HTTPStatusCode"] == 200
    assert _without_metadata(described) == _without_metadata(expected)


async def test_cloudwatch_metric_data_is_lean_too(clean_aws: Any) -> None:
    # CloudWatch's model prefers CBOR; botocore speaks JSON 1.0 to it, and so do lean calls.
    access, config = _access(clean_aws, Clock())
    async with access:
        account = config.accounts[0]
        region = config.regions_for(account)[0]
        ecs = await access.client(account, ECS, region)
        cluster = (await ecs.list_clusters())["clusterArns"][0]
        service = (await ecs.list_services(cluster=cluster, maxResults=1))["serviceArns"][0]
        cw = await access.client(account, CLOUDWATCH, region)
        sends = BotocoreSends(cw)
        end = datetime.now(timezone.utc).replace(second=0, microsecond=0)
        params: dict[str, Any] = {
            "MetricDataQueries": [
                {"Id": "q0", "MetricStat": _metric_stat(name_from_arn(cluster), name_from_arn(service), metric, stat)}
                for metric, stat in (("CPUUtilization", "Average"), ("MemoryUtilization", "Maximum"))
            ],
            "StartTime": end - timedelta(minutes=30),
            "EndTime": end,
            "ScanBy": "TimestampAscending",
        }
        params["MetricDataQueries"][1]["Id"] = "q1"
        lean = await cw.get_metric_data(**params)
        expected = await _botocore_answer(access, config, "get_metric_data", CLOUDWATCH, **params)
    assert sends.count == 0
    assert [r["Id"] for r in lean["MetricDataResults"]] == ["q0", "q1"]
    assert lean["MetricDataResults"][0]["Values"], "the fleet has CPU history"
    assert _without_metadata(lean) == _without_metadata(expected)


async def test_a_refused_lean_call_is_botocores_for_a_while(clean_aws: Any) -> None:
    clock = Clock()
    access, config = _access(clean_aws, clock)
    async with access:
        account = config.accounts[0]
        ecs = await access.client(account, ECS, config.regions_for(account)[0])
        sends = BotocoreSends(ecs)
        expected = await ecs.list_clusters()
        clean_aws.add_fault("throttle", service="ecs", operation="ListClusters", times=1)
        counter = CallCounter()
        token = counting(counter)
        try:
            throttled = await ecs.list_clusters()  # lean, throttled; botocore sends it again
            paused = await ecs.list_clusters()  # botocore's: the client is paused
        finally:
            stop_counting(token)
        assert sends.count == 2
        assert dict(counter.calls) == {"ecs.ListClusters": 2}
        assert counter.http_requests == 3  # the refused lean attempt counts as a request
        assert throttled["clusterArns"] == paused["clusterArns"] == expected["clusterArns"]

        clock.now += timedelta(seconds=PAUSE_SECONDS + 1)
        await ecs.list_clusters()
        assert sends.count == 2  # lean again


@pytest.mark.parametrize("attempts", [2, 3])
async def test_throttled_after_n_attempts_counts_the_lean_attempt_too(clean_aws: Any, attempts: int) -> None:
    """The message counts every request the call sent, as the embedded AWS counted
    them: the refused lean attempt and each of botocore's."""

    clock = Clock()
    access, config = _access(clean_aws, clock, max_attempts=attempts)
    async with access:
        account = config.accounts[0]
        ecs = await access.client(account, ECS, config.regions_for(account)[0])
        await ecs.list_clusters()  # warm: credentials, connection
        clean_aws.add_fault("throttle", service="ecs", operation="ListClusters", times=1)
        clean_aws.reset_stats()
        once = await ecs.list_clusters()  # lean, throttled; botocore's attempt answers
        assert once["ResponseMetadata"]["RetryAttempts"] == 1 == _sent(clean_aws, "ListClusters") - 1

        clock.now += timedelta(seconds=PAUSE_SECONDS + 1)  # past the pause: the next call is lean first
        clean_aws.add_fault("throttle", service="ecs", operation="DescribeClusters")
        clean_aws.reset_stats()
        counter = CallCounter()
        token = counting(counter)
        try:
            with pytest.raises(ClientError) as raised:
                await ecs.describe_clusters(clusters=["core"])
        finally:
            stop_counting(token)
    sent = _sent(clean_aws, "DescribeClusters")
    assert describe_error(raised.value) == f"throttled by AWS after {sent} attempts (ThrottlingException)"
    assert counter.http_requests == sent


async def test_an_error_botocore_would_not_retry_is_raised_as_botocore_raises_it(clean_aws: Any) -> None:
    access, config = _access(clean_aws, Clock())
    async with access:
        account = config.accounts[0]
        ecs = await access.client(account, ECS, config.regions_for(account)[0])
        sends = BotocoreSends(ecs)
        counter = CallCounter()
        token = counting(counter)
        try:
            with pytest.raises(ClientError) as raised:
                await ecs.describe_services(cluster="no-such-cluster", services=["x"])
            await ecs.list_clusters()
        finally:
            stop_counting(token)
    assert sends.count == 0  # not sent again: AWS's answer stands, and the next call is lean
    assert counter.http_requests == 2
    assert raised.value.response["Error"]["Code"] == "ClusterNotFoundException"
    assert isinstance(raised.value, ecs.exceptions.ClusterNotFoundException)


async def test_the_clients_http_session_is_where_lean_calls_expect_it(clean_aws: Any) -> None:
    """Upgrade canary: aiobotocore keeps a client's HTTP session at
    `client._endpoint.http_session`; without it no call is lean (and the
    collector's CPU per call is about twice as much)."""

    access, config = _access(clean_aws, Clock())
    async with access:
        account = config.accounts[0]
        ecs = await access.client(account, ECS, config.regions_for(account)[0])
        assert _http_session(ecs) is not None, "aiobotocore moved the client's HTTP session: update aws/lean.py"
