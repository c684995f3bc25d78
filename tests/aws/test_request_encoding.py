"""Requests the collector encodes itself are what botocore would send."""

from __future__ import annotations

import json
from datetime import datetime, timezone

import botocore.session
import pytest
from botocore.serialize import JSONSerializer, create_serializer

from heartbeat_tui.aws.wire import SPLICED_LISTS, FlatRequests, SplicingSerializer
from heartbeat_tui.collector.limits import SERIES
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


def _params(queries: object, token: str = "abc") -> dict:
    return {
        "MetricDataQueries": queries,
        "StartTime": datetime(2026, 1, 2, 3, 4, tzinfo=timezone.utc),
        "EndTime": datetime(2026, 1, 2, 6, 4, tzinfo=timezone.utc),
        "ScanBy": "TimestampAscending",
        "NextToken": token,
    }


# Names a JSON encoder must escape: quotes, backslashes, control and non-ASCII characters.
AWKWARD = ['c-"1"', "c\\2", "c\n3", "cluster-ü-☃", "c-\u2028"]


def _batch() -> list[ServiceRef]:
    """125 services: a call's 500 queries."""

    return [ServiceRef(f"arn:aws:ecs:eu-west-1:1:service/c-1/svc-{n}", AWKWARD[n % 5], f"svc-{n}") for n in range(125)]


def _expected_queries(batch: list[ServiceRef]) -> list[dict]:
    """The queries as dicts, written out plainly: what botocore is given."""

    pairs = [(ref, spec) for ref in batch for spec in SERIES]
    return [
        {
            "Id": f"q{n}",
            "MetricStat": {
                "Metric": {
                    "Namespace": "AWS/ECS",
                    "MetricName": metric,
                    "Dimensions": [
                        {"Name": "ClusterName", "Value": ref.cluster},
                        {"Name": "ServiceName", "Value": ref.name},
                    ],
                },
                "Period": 60,
                "Stat": stat,
            },
        }
        for n, (ref, (_, metric, stat)) in enumerate(pairs)
    ]


def test_get_metric_data_request_is_the_same_json_as_botocores() -> None:
    model = _model("cloudwatch", "GetMetricData")
    batch = _batch()
    # The token holds the pattern the splice looks for: it must stay a string.
    token = 'abc "MetricDataQueries": [] xyz'
    serializer = SplicingSerializer(JSON, SPLICED_LISTS["cloudwatch"])
    assert serializer._splices(model, "MetricDataQueries")
    ours = serializer.serialize_to_request(_params(metric_queries(batch), token), model)
    theirs = JSON.serialize_to_request(_params(_expected_queries(batch), token), model)
    body = ours.pop("body")
    assert json.loads(body) == json.loads(theirs.pop("body"))
    assert metric_queries(batch).json in body  # spliced as it is, not encoded again
    assert ours == theirs  # method, URL, headers (target, content type, query-compatible mode)


def test_a_plain_list_is_spliced_too() -> None:
    model = _model("cloudwatch", "GetMetricData")
    queries = _expected_queries(_batch())
    serializer = SplicingSerializer(JSON, SPLICED_LISTS["cloudwatch"])
    ours = serializer.serialize_to_request(_params(queries), model)
    assert json.loads(ours["body"]) == json.loads(JSON.serialize_to_request(_params(queries), model)["body"])


def test_encoded_queries_go_to_a_serializer_that_cannot_splice_as_a_list() -> None:
    model = _model("cloudwatch", "GetMetricData")
    batch = _batch()[:4]
    query = create_serializer("query", include_validation=False)
    serializer = SplicingSerializer(query, SPLICED_LISTS["cloudwatch"])
    ours = serializer.serialize_to_request(_params(metric_queries(batch)), model)
    assert ours == query.serialize_to_request(_params(_expected_queries(batch)), model)


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


# The collector's flat requests, and awkward ones: every parameter kind a flat
# body handles itself or hands to botocore (timestamps with microseconds, floats,
# structures, tuples, escapes and non-ASCII text).
FLAT_CASES = [
    ("ecs", "DescribeServices", {"cluster": 'c-"1"\n', "services": ("a", "b-ü-☃"), "include": ["TAGS"]}),
    ("ecs", "ListServices", {"cluster": "c\\2", "maxResults": 100, "nextToken": "t\u2028"}),
    ("ecs", "DescribeTasks", {"cluster": "c", "tasks": [], "include": []}),
    (
        "cloudwatch",
        "GetMetricData",
        {
            "StartTime": datetime(2026, 1, 2, 3, 4, 5, 678901, tzinfo=timezone.utc),
            "EndTime": "2026-01-02T06:04:00Z",
            "MetricDataQueries": [],
            "MaxDatapoints": 1000,
            "LabelOptions": {"Timezone": "+0130"},
        },
    ),
    (
        "application-autoscaling",
        "DescribeScalableTargets",
        {"ServiceNamespace": "ecs", "ResourceIds": ["service/c/s"], "MaxResults": 50},
    ),
    (
        "application-autoscaling",
        "DescribeScalingActivities",
        {"ServiceNamespace": "ecs", "IncludeNotScaledActivities": True},
    ),
]


@pytest.mark.parametrize(("service", "operation", "params"), FLAT_CASES, ids=[c[1] for c in FLAT_CASES])
def test_flat_requests_are_botocores_byte_for_byte(service: str, operation: str, params: dict) -> None:
    model = _model(service, operation)
    flat = FlatRequests(JSON, (operation,))
    first = flat.serialize_to_request(params, model)  # botocore's own, checked against the flat body
    again = flat.serialize_to_request(params, model)  # the flat body
    assert first == again == JSON.serialize_to_request(params, model)
    assert again is not None and again["headers"] is not first["headers"]  # a request of its own


def test_an_unknown_parameter_is_botocores_error() -> None:
    model = _model("ecs", "DescribeServices")
    serializer = SplicingSerializer(JSON, {}, flat=("DescribeServices",))
    serializer.serialize_to_request({"cluster": "c", "services": ["a"]}, model)
    with pytest.raises(KeyError):
        serializer.serialize_to_request({"cluster": "c", "servces": ["a"]}, model)


def test_a_flat_body_that_differs_from_botocores_leaves_the_operation_to_botocore() -> None:
    class Shifted(JSONSerializer):
        """A botocore whose body this module does not know."""

        def serialize_to_request(self, parameters: dict, operation_model: object) -> dict:
            serialized = super().serialize_to_request(parameters, operation_model)
            serialized["body"] += b" "
            return serialized

    model = _model("ecs", "DescribeServices")
    shifted = Shifted()
    flat = FlatRequests(shifted, ("DescribeServices",))
    params = {"cluster": "c", "services": ["a"]}
    assert flat.serialize_to_request(params, model) == shifted.serialize_to_request(params, model)
    assert flat.serialize_to_request(params, model) is None  # botocore's from now on


def test_operations_not_named_flat_are_botocores() -> None:
    model = _model("ecs", "ListClusters")
    assert FlatRequests(JSON, ("DescribeServices",)).serialize_to_request({}, model) is None
