"""Requests the collector encodes itself are what botocore would send."""

from __future__ import annotations

import json
from datetime import datetime, timezone

import botocore.session
from botocore.serialize import create_serializer

from heartbeat_tui.aws.wire import SPLICED_LISTS, SplicingSerializer
from heartbeat_tui.collector.metrics import metric_queries
from heartbeat_tui.collector.state import ServiceRef


def _model(service: str, operation: str):
    client = botocore.session.get_session().create_client(
        service, region_name="eu-west-1", aws_access_key_id="AKIDEXAMPLE", aws_secret_access_key="secret"
    )
    return client.meta.service_model.operation_model(operation)


# CloudWatch speaks awsJson to the collector (aiobotocore has no CBOR), which is
# the serializer the spliced lists are for.
JSON = create_serializer("json", include_validation=False)


def test_get_metric_data_request_is_the_same_json_as_botocores() -> None:
    model = _model("cloudwatch", "GetMetricData")
    params = {
        "MetricDataQueries": metric_queries(
            [
                (ServiceRef(f"arn:aws:ecs:eu-west-1:1:service/c-1/svc-{n // 2}", "c-1", f"svc-{n // 2}"), spec)
                for n, spec in enumerate(
                    [("cpu", "CPUUtilization", "Average"), ("mem", "MemoryUtilization", "Maximum")] * 250
                )
            ]
        ),
        "StartTime": datetime(2026, 1, 2, 3, 4, tzinfo=timezone.utc),
        "EndTime": datetime(2026, 1, 2, 6, 4, tzinfo=timezone.utc),
        "ScanBy": "TimestampAscending",
        "NextToken": "abc",
    }
    serializer = SplicingSerializer(JSON, SPLICED_LISTS["cloudwatch"])
    assert serializer._splices(model, "MetricDataQueries")
    ours = serializer.serialize_to_request(params, model)
    theirs = JSON.serialize_to_request(params, model)
    assert json.loads(ours.pop("body")) == json.loads(theirs.pop("body"))
    assert ours == theirs  # method, URL, headers (target, content type, query-compatible mode)


def test_operations_without_a_spliced_list_are_botocores_own() -> None:
    serializer = SplicingSerializer(JSON, SPLICED_LISTS["cloudwatch"])
    model = _model("cloudwatch", "ListMetrics")
    params = {"Namespace": "AWS/ECS", "Dimensions": [{"Name": "ClusterName", "Value": "c"}]}
    assert serializer.serialize_to_request(params, model) == JSON.serialize_to_request(params, model)


def test_a_list_botocore_would_transform_is_left_to_botocore() -> None:
    # PutMetricData's MetricData items hold timestamps: botocore must encode them.
    serializer = SplicingSerializer(JSON, {"PutMetricData": "MetricData"})
    model = _model("cloudwatch", "PutMetricData")
    params = {
        "Namespace": "x",
        "MetricData": [{"MetricName": "m", "Value": 1.5, "Timestamp": datetime(2026, 1, 1, tzinfo=timezone.utc)}],
    }
    assert not serializer._splices(model, "MetricData")
    ours = serializer.serialize_to_request(params, model)
    assert json.loads(ours["body"]) == json.loads(JSON.serialize_to_request(params, model)["body"])
    assert json.loads(ours["body"])["MetricData"][0]["Timestamp"] == 1767225600


def test_other_protocols_are_left_to_botocore() -> None:
    model = _model("cloudwatch", "GetMetricData")
    serializer = SplicingSerializer(create_serializer("query", include_validation=False), SPLICED_LISTS["cloudwatch"])
    assert not serializer._splices(model, "MetricDataQueries")


async def test_the_collectors_cloudwatch_client_splices_its_metric_queries() -> None:
    from pydantic import SecretStr

    from heartbeat_tui.aws.access import AwsAccess
    from heartbeat_tui.aws.services import CLOUDWATCH
    from heartbeat_tui.config import EnvSettings, config_from_dict

    env = EnvSettings(_env_file=None, aws_access_key_id="AKIDEXAMPLE", aws_secret_access_key=SecretStr("secret"))  # type: ignore[call-arg]
    config = config_from_dict({"aws": {"region": "eu-west-1"}}, env=env, source="test")
    async with AwsAccess(config) as access:
        client = await access.base_client(CLOUDWATCH)
        model = client.meta.service_model.operation_model("GetMetricData")
        assert isinstance(client._serializer, SplicingSerializer)
        assert client._serializer._splices(model, "MetricDataQueries")
