"""Direct calls (`AwsAccess.call` -> `LeanCalls.call`): the collector's hot reads
answered without botocore's per-call pipeline, with botocore's request on the
wire, botocore's answer, and botocore in charge of everything but a 200."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime, timedelta, timezone
from typing import Any

import orjson
import pytest
from aiohttp import web
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from botocore.exceptions import ClientError
from pydantic import SecretStr

from heartbeat_tui.aws.access import MAX_KEEPALIVE_SECONDS, AwsAccess, keepalive_seconds
from heartbeat_tui.aws.counting import CallCounter, counting, stop_counting
from heartbeat_tui.aws.errors import describe_error
from heartbeat_tui.aws.lean import BODY_DIGEST, PAUSE_SECONDS, UNCHANGED
from heartbeat_tui.aws.services import AUTOSCALING, CLOUDWATCH, ECS
from heartbeat_tui.aws.wire import EncodedList
from heartbeat_tui.config import EnvSettings, config_from_dict

KEY, SECRET = "AKIDDIRECTTEST", "direct/test/secret"
ACCOUNT = "123456789012"
REGION = "us-west-2"
END = datetime(2026, 12, 3, 12, 0, tzinfo=timezone.utc)
_QUERIES = [
    {
        "Id": f"q{n}",
        "MetricStat": {
            "Metric": {
                "Namespace": "AWS/ECS",
                "MetricName": metric,
                "Dimensions": [{"Name": "ClusterName", "Value": "core"}, {"Name": "ServiceName", "Value": "caf\u00e9"}],
            },
            "Period": 60,
            "Stat": stat,
        },
    }
    for n, (metric, stat) in enumerate((("CPUUtilization", "Average"), ("MemoryUtilization", "Maximum")))
]
_ARN = "arn:aws:ecs:us-west-2:123456789012:service/core/caf\u00e9"

# (service, client method, parameters, an answer AWS could give: modelled members only).
OPERATIONS: list[tuple[str, str, dict[str, Any], dict[str, Any]]] = [
    (ECS, "list_clusters", {"maxResults": 100}, {"clusterArns": ["arn:aws:ecs:us-west-2:1:cluster/a"]}),
    (
        ECS,
        "describe_clusters",
        {"clusters": ["a", "b"], "include": ["TAGS"]},
        {
            "clusters": [{"clusterArn": "arn:c/a", "clusterName": "a", "runningTasksCount": 3, "tags": []}],
            "failures": [{"arn": "arn:c/b", "reason": "MISSING"}],
        },
    ),
    (
        ECS,
        "list_services",
        {"cluster": "core", "maxResults": 100, "nextToken": "t\u00f6ken"},
        {"serviceArns": [_ARN], "nextToken": "next"},
    ),
    (
        ECS,
        "describe_services",
        {"cluster": "core", "services": ["caf\u00e9", "b"]},
        {
            "services": [
                {
                    "serviceArn": _ARN,
                    "serviceName": "caf\u00e9",
                    "desiredCount": 2,
                    "createdAt": 1764763200.125,
                    "deployments": [{"id": "ecs-svc/1", "rolloutState": "COMPLETED", "runningCount": 2}],
                    "events": [{"id": "e1", "createdAt": 1764763201, "message": 'said "hi"\n\\ \u2603'}],
                }
            ],
            "failures": [],
        },
    ),
    (
        CLOUDWATCH,
        "get_metric_data",
        {
            "MetricDataQueries": EncodedList(orjson.dumps(_QUERIES)),
            "StartTime": END - timedelta(hours=3),
            "EndTime": END,
            "ScanBy": "TimestampAscending",
        },
        {
            "MetricDataResults": [
                {"Id": q, "Label": q, "Timestamps": [1764763140, 1764763200], "Values": [1.5, 0.1], "StatusCode": s}
                for q, s in (("q0", "Complete"), ("q1", "PartialData"))
            ],
            "Messages": [],
            "NextToken": "more",
        },
    ),
    (
        AUTOSCALING,
        "describe_scalable_targets",
        {"ServiceNamespace": "ecs", "MaxResults": 50},
        {
            "ScalableTargets": [
                {
                    "ServiceNamespace": "ecs",
                    "ResourceId": "service/core/a",
                    "ScalableDimension": "ecs:service:DesiredCount",
                    "MinCapacity": 1,
                    "MaxCapacity": 4,
                    "RoleARN": "arn:aws:iam::1:role/r",
                    "CreationTime": 1764763200.5,
                    "SuspendedState": {"DynamicScalingInSuspended": False},
                }
            ]
        },
    ),
    (
        AUTOSCALING,
        "describe_scaling_activities",
        {"ServiceNamespace": "ecs", "MaxResults": 50, "NextToken": "n"},
        {
            "ScalingActivities": [
                {
                    "ActivityId": "a1",
                    "ServiceNamespace": "ecs",
                    "ResourceId": "service/core/a",
                    "ScalableDimension": "ecs:service:DesiredCount",
                    "Description": "d",
                    "Cause": "c",
                    "StartTime": 1764763200.25,
                    "StatusCode": "Successful",
                }
            ]
        },
    ),
]
_IDS = [method for _, method, _, _ in OPERATIONS]


class Recorder:
    """An HTTP server that keeps every request as it arrived and answers `answer`
    (after `fail` answers of 500, which botocore retries)."""

    def __init__(self) -> None:
        self.requests: list[tuple[str, str, dict[str, str], bytes]] = []
        self.answer = b"{}"
        self.fail = 0
        self.url = ""

    async def handle(self, request: web.Request) -> web.Response:
        body = await request.read()
        self.requests.append(
            (request.method, request.path_qs, {k.lower(): v for k, v in request.headers.items()}, body)
        )
        headers = {"Content-Type": "application/x-amz-json-1.1", "x-amzn-RequestId": f"r{len(self.requests)}"}
        if self.fail:
            self.fail -= 1
            return web.Response(status=500, body=b'{"__type":"InternalFailure","message":"again"}', headers=headers)
        return web.Response(status=200, body=self.answer, headers=headers)


@pytest.fixture
async def recorder() -> AsyncIterator[Recorder]:
    server = Recorder()
    app = web.Application()
    app.router.add_route("POST", "/{tail:.*}", server.handle)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    host, port = runner.addresses[0][:2]
    server.url = f"http://{host}:{port}"
    try:
        yield server
    finally:
        await runner.cleanup()


class Clock:
    def __init__(self) -> None:
        self.now = datetime.now(timezone.utc)

    def __call__(self) -> datetime:
        return self.now


def _access(endpoint_url: str, clock: Clock, *, key: str = KEY, secret: str = SECRET, **aws: Any) -> AwsAccess:
    env = EnvSettings(_env_file=None, aws_access_key_id=key, aws_secret_access_key=SecretStr(secret))  # type: ignore[call-arg]
    data = {"aws": {"region": REGION, "endpoint_url": endpoint_url, **aws}, "accounts": [{"id": ACCOUNT}]}
    return AwsAccess(config_from_dict(data, env=env, source="test"), clock=clock)


class Events:
    """The calls botocore's pipeline sees on a client (its public `before-call`
    and `before-send` events)."""

    def __init__(self, client: Any) -> None:
        self.calls = self.sends = 0
        client.meta.events.register("before-call", self._call)
        client.meta.events.register("before-send", self._send)

    def _call(self, **_: Any) -> None:
        self.calls += 1

    def _send(self, **_: Any) -> None:
        self.sends += 1


def _plain(parameters: dict[str, Any]) -> dict[str, Any]:
    return {k: v.items() if isinstance(v, EncodedList) else v for k, v in parameters.items()}


def _signature_is_botocores(url: str, headers: dict[str, str], body: bytes, service: str) -> None:
    """The request's Authorization is botocore's SigV4 of the headers it names, at its X-Amz-Date."""

    authorization = headers["authorization"]
    signed_names = authorization.split("SignedHeaders=")[1].split(",")[0].split(";")
    request = AWSRequest(method="POST", url=url, data=body, headers={n: headers[n] for n in signed_names})
    request.context["timestamp"] = headers["x-amz-date"]
    auth = SigV4Auth(Credentials(KEY, SECRET), service, REGION)
    canonical = auth.canonical_request(request)
    signature = auth.signature(auth.string_to_sign(request, canonical), request)
    assert auth.signed_headers(auth.headers_to_sign(request)) == ";".join(signed_names)
    assert authorization.endswith(f"Signature={signature}")
    assert f"Credential={KEY}/{headers['x-amz-date'][:8]}/{REGION}/" in authorization


# Per attempt: the signature and its date, botocore's retry bookkeeping; and the
# length and encoding aiohttp or aiobotocore put on a request.
_PER_ATTEMPT = {"authorization", "x-amz-date", "amz-sdk-invocation-id", "amz-sdk-request"}


@pytest.mark.parametrize(("service", "method", "parameters", "answer"), OPERATIONS, ids=_IDS)
async def test_the_direct_request_is_botocores_and_so_is_the_answer(
    recorder: Recorder, service: str, method: str, parameters: dict[str, Any], answer: dict[str, Any]
) -> None:
    recorder.answer = orjson.dumps(answer)
    clock = Clock()
    async with _access(recorder.url, clock) as access:
        client = await access.client(access.config.accounts[0], service, REGION)
        recorder.fail = 1  # the first call: refused, then sent by botocore itself
        first = await access.call(getattr(client, method), **parameters)
        clock.now += timedelta(seconds=PAUSE_SECONDS + 1)
        events = Events(client)
        direct = await access.call(getattr(client, method), **parameters)
        assert (events.calls, events.sends) == (0, 0)  # none of botocore's pipeline
        # A plain botocore client, on its own: the reference for body and answer.
        session = access._base  # test hook: the same session settings (raw timestamps)
        async with session.create_client(
            service, region_name=REGION, endpoint_url=recorder.url, aws_access_key_id=KEY, aws_secret_access_key=SECRET
        ) as plain:
            reference = await getattr(plain, method)(**_plain(parameters))
    assert len(recorder.requests) == 4
    _, (b_method, b_path, botocores, b_body), (d_method, d_path, ours, d_body), (_, _, plains, p_body) = (
        recorder.requests
    )
    assert (d_method, d_path, d_body) == (b_method, b_path, b_body)
    if method == "get_metric_data":  # the queries spliced in as orjson writes them (aws/wire.py): the same JSON
        assert orjson.loads(d_body) == orjson.loads(p_body)
    else:
        assert d_body == p_body
    assert {k: v for k, v in ours.items() if k not in _PER_ATTEMPT} == {
        k: v for k, v in botocores.items() if k not in _PER_ATTEMPT
    }
    for name in ("content-type", "x-amz-target"):
        assert ours[name] == plains[name]
    _signature_is_botocores(recorder.url + "/", ours, d_body, client.meta.service_model.signing_name)
    _signature_is_botocores(recorder.url + "/", botocores, b_body, client.meta.service_model.signing_name)
    # The answer: botocore's parse of the same body, key for key and value for value.
    strip = {"ResponseMetadata"}
    assert {k: v for k, v in direct.items() if k not in strip} == {k: v for k, v in reference.items() if k not in strip}
    assert direct["ResponseMetadata"]["HTTPStatusCode"] == 200
    assert direct["ResponseMetadata"]["RequestId"] == "r3"
    assert direct["ResponseMetadata"]["RetryAttempts"] == 0
    assert first["ResponseMetadata"]["RetryAttempts"] == 1  # the refused attempt counts


async def test_direct_calls_answer_what_botocore_answers_from_the_embedded_aws(clean_aws: Any) -> None:
    creds = clean_aws.credentials()
    clock = Clock()
    access = _access(
        clean_aws.endpoint_url, clock, key=creds["AWS_ACCESS_KEY_ID"], secret=creds["AWS_SECRET_ACCESS_KEY"]
    )
    async with access:
        account = access.config.accounts[0]
        ecs = await access.client(account, ECS, REGION)
        cluster = (await access.call(ecs.list_clusters))["clusterArns"][0]
        arns = (await access.call(ecs.list_services, cluster=cluster, maxResults=10))["serviceArns"][:3]
        await access.call(ecs.describe_services, cluster=cluster, services=arns)  # botocore's request, learnt
        events = Events(ecs)
        counter = CallCounter()
        token = counting(counter)
        try:
            clusters = await access.call(ecs.list_clusters)
            described = await access.call(ecs.describe_services, cluster=cluster, services=arns)
        finally:
            stop_counting(token)
        # Upgrade canary: botocore's request is learnt from its `before-call` (aws/lean.py).
        assert (events.calls, events.sends) == (0, 0), "direct calls went through botocore: update aws/lean.py"
        reference = await ecs.describe_services(cluster=cluster, services=arns)  # through botocore (and before-call)
        assert events.calls == 1
    assert dict(counter.calls) == {"ecs.ListClusters": 1, "ecs.DescribeServices": 1}
    assert counter.http_requests == 2
    assert clusters["clusterArns"][0] == cluster
    assert [s["serviceArn"] for s in described["services"]] == arns
    assert {k: v for k, v in described.items() if k != "ResponseMetadata"} == {
        k: v for k, v in reference.items() if k != "ResponseMetadata"
    }


def _sent(aws: Any, operation: str) -> int:
    return sum(row["count"] for row in aws.stats() if row["service"] == "ecs" and row["operation"] == operation)


@pytest.mark.parametrize("attempts", [2, 3])
async def test_a_throttled_direct_call_is_botocores_with_its_retries(clean_aws: Any, attempts: int) -> None:
    creds = clean_aws.credentials()
    clock = Clock()
    access = _access(
        clean_aws.endpoint_url,
        clock,
        key=creds["AWS_ACCESS_KEY_ID"],
        secret=creds["AWS_SECRET_ACCESS_KEY"],
        max_attempts=attempts,
    )
    async with access:
        ecs = await access.client(access.config.accounts[0], ECS, REGION)
        await access.call(ecs.list_clusters)  # learnt
        await access.call(ecs.describe_clusters, clusters=["core"])  # learnt
        events = Events(ecs)
        clean_aws.add_fault("throttle", service="ecs", operation="ListClusters", times=1)
        clean_aws.reset_stats()
        counter = CallCounter()
        token = counting(counter)
        try:
            once = await access.call(ecs.list_clusters)  # direct, throttled; botocore sends it again
            paused = await access.call(ecs.list_clusters)  # botocore's: the client is paused
        finally:
            stop_counting(token)
        assert once["ResponseMetadata"]["RetryAttempts"] == 1 == _sent(clean_aws, "ListClusters") - 2
        assert once["clusterArns"] == paused["clusterArns"]
        assert (events.calls, events.sends) == (2, 2)
        assert dict(counter.calls) == {"ecs.ListClusters": 2}
        assert counter.http_requests == 3

        clock.now += timedelta(seconds=PAUSE_SECONDS + 1)  # past the pause: direct first again
        clean_aws.add_fault("throttle", service="ecs", operation="DescribeClusters")
        clean_aws.reset_stats()
        counter = CallCounter()
        token = counting(counter)
        try:
            with pytest.raises(ClientError) as raised:
                await access.call(ecs.describe_clusters, clusters=["core"])
        finally:
            stop_counting(token)
    sent = _sent(clean_aws, "DescribeClusters")
    assert sent == attempts + 1  # the direct attempt, then botocore's own
    assert describe_error(raised.value) == f"throttled by AWS after {sent} attempts (ThrottlingException)"
    assert dict(counter.calls) == {"ecs.DescribeClusters": 1}
    assert counter.http_requests == sent


async def test_an_error_botocore_would_not_retry_is_raised_as_botocore_raises_it(clean_aws: Any) -> None:
    creds = clean_aws.credentials()
    access = _access(
        clean_aws.endpoint_url, Clock(), key=creds["AWS_ACCESS_KEY_ID"], secret=creds["AWS_SECRET_ACCESS_KEY"]
    )
    async with access:
        ecs = await access.client(access.config.accounts[0], ECS, REGION)
        with pytest.raises(ClientError) as botocores:
            await ecs.describe_services(cluster="no-such-cluster", services=["x"])
        with pytest.raises(ClientError):  # learnt (an error answer is botocore's request all the same)
            await access.call(ecs.describe_services, cluster="no-such-cluster", services=["x"])
        events = Events(ecs)
        clean_aws.reset_stats()
        counter = CallCounter()
        token = counting(counter)
        try:
            with pytest.raises(ClientError) as raised:
                await access.call(ecs.describe_services, cluster="no-such-cluster", services=["x"])
            await access.call(ecs.list_clusters)
        finally:
            stop_counting(token)
    assert (events.calls, events.sends) == (1, 0)  # only ListClusters, learnt through botocore's before-call
    assert _sent(clean_aws, "DescribeServices") == 1  # not sent twice
    assert counter.http_requests == 2
    assert isinstance(raised.value, ecs.exceptions.ClusterNotFoundException)
    assert type(raised.value) is type(botocores.value)
    assert raised.value.response["Error"] == botocores.value.response["Error"]
    assert str(raised.value) == str(botocores.value)


async def test_operations_that_are_not_lean_go_through_the_method(clean_aws: Any) -> None:
    creds = clean_aws.credentials()
    access = _access(
        clean_aws.endpoint_url, Clock(), key=creds["AWS_ACCESS_KEY_ID"], secret=creds["AWS_SECRET_ACCESS_KEY"]
    )
    async with access:
        ecs = await access.client(access.config.accounts[0], ECS, REGION)
        events = Events(ecs)
        for _ in range(2):
            await access.call(ecs.list_task_definitions, maxResults=1)  # not a lean operation
    assert events.calls == 2


async def test_a_handler_that_changes_the_parameters_keeps_the_operation_on_botocores_path(clean_aws: Any) -> None:
    """The request is learnt only when botocore's body is the one made from the
    caller's parameters: a `before-parameter-build` handler that changes them
    keeps every call of the operation on botocore's path, and in force."""

    creds = clean_aws.credentials()
    access = _access(
        clean_aws.endpoint_url, Clock(), key=creds["AWS_ACCESS_KEY_ID"], secret=creds["AWS_SECRET_ACCESS_KEY"]
    )
    async with access:
        ecs = await access.client(access.config.accounts[0], ECS, REGION)

        def one_page(params: dict[str, Any], **_: Any) -> None:
            params["maxResults"] = 1

        ecs.meta.events.register("before-parameter-build.ecs.ListClusters", one_page)
        events = Events(ecs)
        pages = [await access.call(ecs.list_clusters, maxResults=100) for _ in range(3)]
    assert events.calls == 3
    assert all(len(page["clusterArns"]) == 1 for page in pages)


async def test_an_answer_the_caller_knows_is_recognised_not_decoded(clean_aws: Any) -> None:
    """With `answer_digest`, a direct answer carries its body's hash; given that
    hash back (`answer_known`), the same bytes come back as UNCHANGED, with no
    decoded member, and different bytes (a service changed, then changed back)
    are decoded as usual. botocore's answer (the learning call) has no digest."""

    creds = clean_aws.credentials()
    access = _access(
        clean_aws.endpoint_url, Clock(), key=creds["AWS_ACCESS_KEY_ID"], secret=creds["AWS_SECRET_ACCESS_KEY"]
    )
    async with access:
        ecs = await access.client(access.config.accounts[0], ECS, REGION)
        cluster = (await access.call(ecs.list_clusters))["clusterArns"][0]
        arns = (await access.call(ecs.list_services, cluster=cluster, maxResults=10))["serviceArns"][:3]

        async def describe(known: int | None) -> dict[str, Any]:
            return await access.call(
                ecs.describe_services, answer_digest=True, answer_known=known, cluster=cluster, services=arns
            )

        learnt = await describe(None)  # botocore's request, learnt: botocore's answer
        assert BODY_DIGEST not in learnt and UNCHANGED not in learnt
        first = await describe(None)
        digest = first[BODY_DIGEST]
        assert isinstance(digest, int)
        assert [s["serviceArn"] for s in first["services"]] == arns
        counter = CallCounter()
        token = counting(counter)
        try:
            same = await describe(digest)
        finally:
            stop_counting(token)
        assert same[UNCHANGED] is True and "services" not in same
        assert same["ResponseMetadata"]["HTTPStatusCode"] == 200
        assert dict(counter.calls) == {"ecs.DescribeServices": 1} and counter.http_requests == 1  # asked all the same

        service = first["services"][0]
        await ecs.update_service(
            cluster=cluster, service=service["serviceName"], desiredCount=service["desiredCount"] + 1
        )
        try:
            changed = await describe(digest)
        finally:  # the fleet is shared by the suite
            await ecs.update_service(
                cluster=cluster, service=service["serviceName"], desiredCount=service["desiredCount"]
            )
        assert UNCHANGED not in changed and changed[BODY_DIGEST] != digest
        assert changed["services"][0]["desiredCount"] == service["desiredCount"] + 1
        back = await describe(changed[BODY_DIGEST])  # changed back: the bytes the caller last read are not these
        assert UNCHANGED not in back and back["services"][0]["desiredCount"] == service["desiredCount"]


def test_idle_connections_are_kept_across_two_polls_within_bounds() -> None:
    assert keepalive_seconds(30) == 70  # the default interval: a poll finds last poll's connections
    assert keepalive_seconds(5) == 20
    assert keepalive_seconds(1) == 12  # never below aiobotocore's own
    assert keepalive_seconds(3600) == MAX_KEEPALIVE_SECONDS  # nor kept open for hours


async def test_every_client_keeps_its_idle_connections_over_the_interval(clean_aws: Any) -> None:
    """aiobotocore's 12 s made every poll at the default 30 s open its connections
    again (TCP and, on AWS, TLS): 96 of 96 at 2,400 services after 14 s idle."""

    creds = clean_aws.credentials()
    env = EnvSettings(
        _env_file=None,  # type: ignore[call-arg]
        aws_access_key_id=creds["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=SecretStr(creds["AWS_SECRET_ACCESS_KEY"]),
    )
    data = {
        "aws": {"region": REGION, "endpoint_url": clean_aws.endpoint_url},
        "accounts": [{"id": ACCOUNT}],
        "refresh": {"interval_seconds": 45},
    }
    async with AwsAccess(config_from_dict(data, env=env, source="test")) as access:
        for service in (ECS, CLOUDWATCH, AUTOSCALING):
            client = await access.client(access.config.accounts[0], service, REGION)
            assert client.meta.config.connector_args["keepalive_timeout"] == 100
