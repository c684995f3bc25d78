"""Endpoints kept per client (`heartbeat_tui/aws/endpoints.py`): every call is
sent where botocore would send it, signed for the scope botocore would choose,
and `before-endpoint-resolution` still fires once per call."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

import pytest
from aiobotocore.config import AioConfig
from aiobotocore.session import get_session
from botocore import xform_name
from pydantic import SecretStr

from heartbeat_tui.aws.access import AwsAccess
from heartbeat_tui.aws.endpoints import memo_endpoints
from heartbeat_tui.aws.services import AUTOSCALING, CLOUDWATCH, ECS
from heartbeat_tui.aws.wire import FAST_JSON_OPERATIONS
from heartbeat_tui.config import EnvSettings, config_from_dict

ENDPOINT_BUILTIN = "SDK::Endpoint"


def _access(aws: Any) -> tuple[AwsAccess, Any]:
    creds = aws.credentials()
    env = EnvSettings(
        _env_file=None,  # type: ignore[call-arg]
        aws_access_key_id=creds["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=SecretStr(creds["AWS_SECRET_ACCESS_KEY"]),
    )
    config = config_from_dict(aws.config_dict(), env=env, source="test")
    return AwsAccess(config), config


class Seen:
    """What botocore hands `before-call` handlers: where the request goes and how it is signed."""

    def __init__(self, client: Any) -> None:
        self.calls: list[tuple[str, str, dict[str, Any], str | None]] = []
        client.meta.events.register("before-call", self)

    def __call__(self, model: Any, params: dict[str, Any], context: dict[str, Any], **_: Any) -> None:
        self.calls.append((model.name, params["url"], dict(context.get("signing") or {}), context.get("auth_type")))


class Resolutions:
    """Every `before-endpoint-resolution` of a service, with its arguments."""

    def __init__(self, client: Any, change: dict[str, Any] | None = None) -> None:
        self.seen: list[tuple[str, dict[str, Any], dict[str, Any]]] = []
        self.change = change
        service_id = client.meta.service_model.service_id.hyphenize()
        client.meta.events.register(f"before-endpoint-resolution.{service_id}", self)

    def __call__(self, builtins: dict[Any, Any], model: Any, params: dict[str, Any], context: Any, **_: Any) -> None:
        assert isinstance(context, dict) and "client_region" in context  # botocore's request context
        self.seen.append((model.name, dict(params), dict(builtins)))
        if self.change:
            builtins.update(self.change)


async def test_calls_go_where_botocores_go_and_fire_the_event_once_each(clean_aws: Any) -> None:
    access, config = _access(clean_aws)
    async with access:
        account = config.accounts[0]
        region = config.regions_for(account)[0]
        ecs = await access.client(account, ECS, region)
        seen, resolutions = Seen(ecs), Resolutions(ecs)
        cluster = (await ecs.list_clusters())["clusterArns"][0]
        arns = (await ecs.list_services(cluster=cluster, maxResults=3))["serviceArns"]
        for _ in range(3):
            await ecs.describe_services(cluster=cluster, services=arns)
        # The same calls on a client of the same session with botocore's own resolution.
        async with access._base.create_client(ECS, region_name=region, endpoint_url=config.endpoint_url) as plain:
            expected = Seen(plain)
            await plain.list_clusters()
            await plain.list_services(cluster=cluster, maxResults=3)
            for _ in range(3):
                await plain.describe_services(cluster=cluster, services=arns)
    assert seen.calls == expected.calls
    assert seen.calls[-1][1] == config.endpoint_url.rstrip("/") + "/"
    # One event per call, with the call's own parameters.
    assert [(name, params) for name, params, _ in resolutions.seen] == [
        ("ListClusters", {}),
        ("ListServices", {"cluster": cluster, "maxResults": 3}),
    ] + [("DescribeServices", {"cluster": cluster, "services": arns})] * 3


async def test_a_handler_that_changes_a_builtin_gets_its_own_endpoint(clean_aws: Any) -> None:
    access, config = _access(clean_aws)
    async with access:
        account = config.accounts[0]
        region = config.regions_for(account)[0]
        ecs = await access.client(account, ECS, region)
        seen = Seen(ecs)
        await ecs.list_clusters()  # kept for the client's own builtins
        # The same embedded AWS by another name.
        other = config.endpoint_url.replace("127.0.0.1", "localhost")
        assert other != config.endpoint_url
        moved = Resolutions(ecs, change={ENDPOINT_BUILTIN: other})
        answer = await ecs.list_clusters()
        ecs.meta.events.unregister(f"before-endpoint-resolution.{ECS}", moved)
        await ecs.list_clusters()
    assert answer["ResponseMetadata"]["HTTPStatusCode"] == 200
    assert len(moved.seen) == 1  # fired once, not once more for the resolution of its builtins
    assert [call[1] for call in seen.calls] == [f"{url}/" for url in (config.endpoint_url, other, config.endpoint_url)]


@pytest.mark.parametrize("fips", [False, True])
@pytest.mark.parametrize(
    ("service", "operation", "params"),
    [
        (ECS, "DescribeServices", {"cluster": "core", "services": ["a"]}),
        (
            CLOUDWATCH,
            "GetMetricData",
            {
                "MetricDataQueries": [],
                "StartTime": datetime(2026, 1, 1, tzinfo=timezone.utc),
                "EndTime": datetime(2026, 1, 1, 1, tzinfo=timezone.utc),
            },
        ),
        (AUTOSCALING, "DescribeScalableTargets", {"ServiceNamespace": "ecs"}),
    ],
)
async def test_aws_endpoints_by_region_and_fips_are_botocores(
    service: str, operation: str, params: dict[str, Any], fips: bool
) -> None:
    """Real AWS endpoints (no endpoint URL), in two regions of two partitions.
    A `before-call` handler answers each call, botocore's documented way (its
    stubber's): nothing is sent."""

    session = get_session()
    config = AioConfig(use_fips_endpoint=fips, parameter_validation=False)
    keys = {"aws_access_key_id": "AKIDEXAMPLE", "aws_secret_access_key": "secret"}
    calls: dict[bool, list[Any]] = {}
    for memo in (True, False):
        for region in ("eu-west-1", "us-gov-west-1", "eu-west-1"):
            async with session.create_client(service, region_name=region, config=config, **keys) as client:
                assert memo_endpoints(client, FAST_JSON_OPERATIONS[service]) or not memo
                seen = Seen(client)
                client.meta.events.register("before-call", _answer)
                for _ in range(2):
                    await getattr(client, xform_name(operation))(**params)
                calls.setdefault(memo, []).extend(seen.calls)
    assert calls[True] == calls[False]
    assert len({url for _, url, _, _ in calls[True]}) == 2
    assert ("-fips.eu-west-1." in calls[True][0][1]) is fips


class _Answered:
    """The HTTP side of an answer given in `before-call` (botocore reads only the status)."""

    status_code = 200


def _answer(**_: Any) -> tuple[Any, dict[str, Any]]:
    return _Answered(), {"ResponseMetadata": {"HTTPStatusCode": 200}}


async def test_the_resolver_is_where_the_memo_expects_it() -> None:
    """Upgrade canary: aiobotocore keeps a client's endpoint resolver at
    `client._ruleset_resolver` with `_builtins`, `_param_definitions` and
    `_get_customized_builtins`; without them every call resolves its endpoint
    again (about a quarter of botocore's own CPU per call)."""

    session = get_session()
    for service, operations in FAST_JSON_OPERATIONS.items():
        async with session.create_client(
            service, region_name="eu-west-1", aws_access_key_id="AKIDEXAMPLE", aws_secret_access_key="secret"
        ) as client:
            assert memo_endpoints(client, operations), (
                f"aiobotocore moved {service}'s resolver: update aws/endpoints.py"
            )
            assert callable(client._ruleset_resolver._get_customized_builtins)
