"""CloudWatch GetMetricData for AWS/ECS: speed, limits, paging and sane values."""

from __future__ import annotations

import itertools
import json
import statistics
import time
import urllib.request
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest
from botocore.exceptions import ClientError

from heartbeat_tui.embedded import EmbeddedAWS

from .helpers import PAYMENTS, services_of

CORE = "payments-core"
THREE_HOURS = timedelta(hours=3)


def query(
    qid: str, cluster: str, service: str, metric: str = "CPUUtilization", stat: str = "Average", period: int = 60
) -> dict[str, Any]:
    return {
        "Id": qid,
        "MetricStat": {
            "Metric": {
                "Namespace": "AWS/ECS",
                "MetricName": metric,
                "Dimensions": [
                    {"Name": "ClusterName", "Value": cluster},
                    {"Name": "ServiceName", "Value": service},
                ],
            },
            "Period": period,
            "Stat": stat,
        },
    }


def window() -> tuple[datetime, datetime]:
    end = datetime.now(timezone.utc)
    return end - THREE_HOURS, end


@pytest.fixture(scope="module")
def cw(client: Callable[..., Any]) -> Any:
    return client("cloudwatch", PAYMENTS)


@pytest.fixture(scope="module")
def core_services(fleet: dict[str, Any]) -> list[str]:
    return [s[3] for s in services_of(fleet) if s[0] == PAYMENTS and s[2] == CORE]


@pytest.fixture(scope="module")
def dashboard_queries(core_services: list[str]) -> list[dict[str, Any]]:
    """What a dashboard asks: CPU and memory, average and maximum, 125 services = 500 queries."""
    queries = []
    for service in core_services[:125]:
        for metric in ("CPUUtilization", "MemoryUtilization"):
            for stat in ("Average", "Maximum"):
                queries.append(query(f"q{len(queries)}", CORE, service, metric, stat))
    assert len(queries) == 500
    return queries


def test_500_queries_over_3_hours_is_fast(
    embedded_aws: EmbeddedAWS,
    cw: Any,
    dashboard_queries: list[dict[str, Any]],
    assumed: Callable[[str], dict[str, str]],
) -> None:
    start, end = window()
    cw.get_metric_data(MetricDataQueries=dashboard_queries[:4], StartTime=start, EndTime=end)  # warm up
    began = time.perf_counter()
    result = cw.get_metric_data(MetricDataQueries=dashboard_queries, StartTime=start, EndTime=end)
    boto3_seconds = time.perf_counter() - began
    points = sum(len(r["Values"]) for r in result["MetricDataResults"])
    assert len(result["MetricDataResults"]) == 500
    assert points > 500 * 100
    assert "NextToken" not in result

    # The same request without botocore's response parsing (90k datetimes): the server's own time.
    keys = assumed(PAYMENTS)
    body = json.dumps(
        {
            "MetricDataQueries": dashboard_queries,
            "StartTime": start.timestamp(),
            "EndTime": end.timestamp(),
        }
    ).encode()
    request = urllib.request.Request(
        f"{embedded_aws.endpoint_url}/",
        data=body,
        method="POST",
        headers={
            "X-Amz-Target": "GraniteServiceVersion20100801.GetMetricData",
            "Content-Type": "application/x-amz-json-1.0",
            "Authorization": (
                f"AWS4-HMAC-SHA256 Credential={keys['aws_access_key_id']}/20260101/us-east-1/monitoring/aws4_request, "
                "SignedHeaders=host, Signature=0"
            ),
        },
    )
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    began = time.perf_counter()
    with opener.open(request, timeout=30) as response:
        raw = json.loads(response.read())
    raw_seconds = time.perf_counter() - began
    # A minute may complete between the two calls: one more point per series at most.
    assert points <= sum(len(r["Values"]) for r in raw["MetricDataResults"]) <= points + 500
    print(f"\nGetMetricData 500 x 3 h: {points} points, raw HTTP {raw_seconds:.3f} s, boto3 {boto3_seconds:.3f} s")
    # Not a speed target (those live in benchmarks/ and BENCHMARKS.md): a guard
    # that the indexed store still answers. moto's own GetMetricData takes
    # minutes for this request, so loose bounds fail loudly without flaking on
    # a loaded CI machine.
    assert raw_seconds < 10.0
    assert boto3_seconds < 30.0


def test_more_than_500_queries_is_a_validation_error(cw: Any, dashboard_queries: list[dict[str, Any]]) -> None:
    start, end = window()
    with pytest.raises(ClientError) as excinfo:
        cw.get_metric_data(
            MetricDataQueries=[*dashboard_queries, query("extra", CORE, "x")], StartTime=start, EndTime=end
        )
    error = excinfo.value.response["Error"]
    assert error["Code"] == "ValidationError"
    assert error["Message"] == "The collection MetricDataQueries must not have a size greater than 500."
    assert excinfo.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400


def test_duplicate_ids_and_bad_times_are_validation_errors(cw: Any, core_services: list[str]) -> None:
    start, end = window()
    with pytest.raises(ClientError) as excinfo:
        cw.get_metric_data(
            MetricDataQueries=[query("a", CORE, core_services[0]), query("a", CORE, core_services[1])],
            StartTime=start,
            EndTime=end,
        )
    assert excinfo.value.response["Error"]["Code"] == "ValidationError"
    with pytest.raises(ClientError) as excinfo:
        cw.get_metric_data(MetricDataQueries=[query("a", CORE, core_services[0])], StartTime=end, EndTime=start)
    assert excinfo.value.response["Error"]["Code"] == "ValidationError"


def test_values_are_sane(cw: Any, fleet: dict[str, Any]) -> None:
    start, end = window()
    core = [s for s in services_of(fleet, "steady") if s[0] == PAYMENTS and s[2] == CORE and s[4]["running"] > 0][:60]
    queries = []
    for i, (_, _, cluster, name, _) in enumerate(core):
        for metric in ("CPUUtilization", "MemoryUtilization"):
            queries.append(query(f"a{i}{metric[0]}", cluster, name, metric, "Average"))
            queries.append(query(f"m{i}{metric[0]}", cluster, name, metric, "Maximum"))
    results = {
        r["Id"]: r
        for r in cw.get_metric_data(MetricDataQueries=queries, StartTime=start, EndTime=end)["MetricDataResults"]
    }
    cpu_spread, mem_spread = [], []
    for i in range(len(core)):
        for letter in ("C", "M"):
            average, maximum = results[f"a{i}{letter}"], results[f"m{i}{letter}"]
            assert average["StatusCode"] == "Complete"
            assert len(average["Values"]) >= 170  # 3 h of minutes (the current one is incomplete)
            assert average["Timestamps"] == maximum["Timestamps"]
            assert average["Timestamps"] == sorted(average["Timestamps"], reverse=True)  # default ScanBy
            assert all(0.0 <= v <= 100.0 for v in average["Values"] + maximum["Values"])
            assert all(m >= a for a, m in zip(average["Values"], maximum["Values"]))
            steps = [t.timestamp() for t in average["Timestamps"]]
            assert all(a - b == 60 for a, b in itertools.pairwise(steps))
            (cpu_spread if letter == "C" else mem_spread).append(statistics.pstdev(average["Values"]))
    assert statistics.mean(mem_spread) < statistics.mean(cpu_spread)  # memory is steadier than CPU


def test_hot_services_are_hot_and_scaled_to_zero_have_no_points(
    client: Callable[..., Any], fleet: dict[str, Any]
) -> None:
    start, end = window()
    hot = [s for s in services_of(fleet) if s[4]["hot"] and s[4]["running"] > 0 and s[0] == PAYMENTS]
    zero = [s for s in services_of(fleet, "scaled_to_zero") if s[0] == PAYMENTS]
    assert hot and zero
    cw = client("cloudwatch", PAYMENTS, hot[0][1])
    result = cw.get_metric_data(
        MetricDataQueries=[query(f"h{i}", s[2], s[3]) for i, s in enumerate(hot)], StartTime=start, EndTime=end
    )["MetricDataResults"]
    for series in result:
        assert series["Values"] and min(series["Values"]) >= 90.0
    cw = client("cloudwatch", PAYMENTS, zero[0][1])
    series = cw.get_metric_data(MetricDataQueries=[query("z", zero[0][2], zero[0][3])], StartTime=start, EndTime=end)
    assert series["MetricDataResults"][0]["Values"] == []


def test_bigger_periods_aggregate(cw: Any, core_services: list[str]) -> None:
    end = datetime.fromtimestamp((int(time.time()) // 3600) * 3600, timezone.utc)
    start = end - timedelta(hours=2)
    service = core_services[5]
    queries = [
        query("avg1", CORE, service, stat="Average"),
        query("max1", CORE, service, stat="Maximum"),
        query("n1", CORE, service, stat="SampleCount"),
        query("avg5", CORE, service, stat="Average", period=300),
        query("max5", CORE, service, stat="Maximum", period=300),
        query("sum5", CORE, service, stat="Sum", period=300),
        query("n5", CORE, service, stat="SampleCount", period=300),
    ]
    r = {
        x["Id"]: x
        for x in cw.get_metric_data(
            MetricDataQueries=queries, StartTime=start, EndTime=end, ScanBy="TimestampAscending"
        )["MetricDataResults"]
    }
    assert len(r["avg5"]["Values"]) == 24
    assert all(t.timestamp() % 300 == 0 for t in r["avg5"]["Timestamps"])
    minute_avg, minute_max, minute_n = r["avg1"]["Values"], r["max1"]["Values"], r["n1"]["Values"]
    for bucket in range(24):
        lo, hi = bucket * 5, bucket * 5 + 5
        assert r["max5"]["Values"][bucket] == max(minute_max[lo:hi])
        assert r["n5"]["Values"][bucket] == sum(minute_n[lo:hi])
        weighted = sum(a * n for a, n in zip(minute_avg[lo:hi], minute_n[lo:hi])) / sum(minute_n[lo:hi])
        assert r["avg5"]["Values"][bucket] == pytest.approx(weighted, abs=0.02)
        assert r["sum5"]["Values"][bucket] == pytest.approx(weighted * sum(minute_n[lo:hi]), rel=1e-3)


def test_max_datapoints_pages_with_next_token(cw: Any, core_services: list[str]) -> None:
    start, end = window()
    queries = [query(f"q{i}", CORE, s) for i, s in enumerate(core_services[:3])]
    full = {
        r["Id"]: r["Values"]
        for r in cw.get_metric_data(MetricDataQueries=queries, StartTime=start, EndTime=end)["MetricDataResults"]
    }
    collected: dict[str, list[float]] = {}
    token = None
    pages = 0
    while True:
        kwargs: dict[str, Any] = {
            "MetricDataQueries": queries,
            "StartTime": start,
            "EndTime": end,
            "MaxDatapoints": 100,
        }
        if token:
            kwargs["NextToken"] = token
        page = cw.get_metric_data(**kwargs)
        pages += 1
        assert sum(len(r["Values"]) for r in page["MetricDataResults"]) <= 100
        for r in page["MetricDataResults"]:
            collected.setdefault(r["Id"], []).extend(r["Values"])
        token = page.get("NextToken")
        if not token:
            break
    assert pages >= 5
    assert collected == full
    with pytest.raises(ClientError) as excinfo:
        cw.get_metric_data(MetricDataQueries=queries, StartTime=start, EndTime=end, NextToken="garbage")
    assert excinfo.value.response["Error"]["Code"] == "InvalidNextToken"


def test_a_large_answer_pages_with_next_token(cw: Any, dashboard_queries: list[dict[str, Any]]) -> None:
    """500 queries over 3 hours (about 90,000 points) in pages of 20,000: each
    page is a fresh request, so the token must carry the position and still be
    checked against the request."""
    end = datetime.fromtimestamp((int(time.time()) // 60) * 60, timezone.utc)  # complete minutes only
    start = end - THREE_HOURS
    full = {
        r["Id"]: (r["Timestamps"], r["Values"])
        for r in cw.get_metric_data(MetricDataQueries=dashboard_queries, StartTime=start, EndTime=end)[
            "MetricDataResults"
        ]
    }
    collected: dict[str, tuple[list[Any], list[float]]] = {}
    token = None
    pages = 0
    while True:
        kwargs: dict[str, Any] = {"NextToken": token} if token else {}
        page = cw.get_metric_data(
            MetricDataQueries=dashboard_queries, StartTime=start, EndTime=end, MaxDatapoints=20_000, **kwargs
        )
        pages += 1
        assert sum(len(r["Values"]) for r in page["MetricDataResults"]) <= 20_000
        for r in page["MetricDataResults"]:
            timestamps, values = collected.setdefault(r["Id"], ([], []))
            timestamps.extend(r["Timestamps"])
            values.extend(r["Values"])
        token = page.get("NextToken")
        if not token:
            break
    assert pages == -(-sum(len(v) for _, v in full.values()) // 20_000)
    assert collected == full


def test_a_next_token_from_another_request_is_refused(cw: Any, dashboard_queries: list[dict[str, Any]]) -> None:
    start, end = window()
    queries = dashboard_queries[:10]
    first = cw.get_metric_data(MetricDataQueries=queries, StartTime=start, EndTime=end, MaxDatapoints=50)
    token = first["NextToken"]
    same = cw.get_metric_data(
        MetricDataQueries=queries, StartTime=start, EndTime=end, MaxDatapoints=50, NextToken=token
    )
    assert same["MetricDataResults"]
    others = [
        {"MetricDataQueries": dashboard_queries[:11], "StartTime": start, "EndTime": end},
        {"MetricDataQueries": queries, "StartTime": start + timedelta(minutes=1), "EndTime": end},
        {"MetricDataQueries": queries, "StartTime": start, "EndTime": end, "ScanBy": "TimestampAscending"},
    ]
    for other in others:
        with pytest.raises(ClientError) as excinfo:
            cw.get_metric_data(**other, MaxDatapoints=50, NextToken=token)
        assert excinfo.value.response["Error"]["Code"] == "InvalidNextToken"


def test_unknown_series_is_empty_and_complete(cw: Any) -> None:
    start, end = window()
    result = cw.get_metric_data(MetricDataQueries=[query("u", CORE, "no-such-service")], StartTime=start, EndTime=end)
    assert (
        result["MetricDataResults"]
        == [
            {
                "Id": "u",
                "Label": "CPUUtilization",
                "Timestamps": [],
                "Values": [],
                "StatusCode": "Complete",
                "Messages": [],
            }
        ]
        or result["MetricDataResults"][0]["Values"] == []
    )


def test_other_namespaces_go_to_moto(client: Callable[..., Any]) -> None:
    cw = client("cloudwatch", PAYMENTS)
    now = datetime.now(timezone.utc)
    cw.put_metric_data(Namespace="Custom/Probe", MetricData=[{"MetricName": "Hits", "Value": 7.0, "Timestamp": now}])
    result = cw.get_metric_data(
        MetricDataQueries=[
            {
                "Id": "h",
                "MetricStat": {
                    "Metric": {"Namespace": "Custom/Probe", "MetricName": "Hits"},
                    "Period": 60,
                    "Stat": "Sum",
                },
            }
        ],
        StartTime=now - timedelta(minutes=5),
        EndTime=now + timedelta(minutes=1),
    )
    assert result["MetricDataResults"][0]["Values"] == [7.0]


def test_botocore_still_speaks_json_to_cloudwatch(cw: Any) -> None:
    """The model says smithy-rpc-v2-cbor; botocore sends JSON 1.0.  If an upgrade
    switches to CBOR, this fails loudly (and the server answers a clear 400)."""
    seen: dict[str, Any] = {}

    def capture(request: Any, **_: Any) -> None:
        seen.update(request.headers)

    cw.meta.events.register("before-send.cloudwatch.GetMetricData", capture)
    try:
        start, end = window()
        cw.get_metric_data(MetricDataQueries=[query("j", CORE, "x")], StartTime=start, EndTime=end)
    finally:
        cw.meta.events.unregister("before-send.cloudwatch.GetMetricData", capture)
    content_type = seen["Content-Type"].decode() if isinstance(seen["Content-Type"], bytes) else seen["Content-Type"]
    target = seen["X-Amz-Target"].decode() if isinstance(seen["X-Amz-Target"], bytes) else seen["X-Amz-Target"]
    assert content_type == "application/x-amz-json-1.0"
    assert target == "GraniteServiceVersion20100801.GetMetricData"


def test_a_cbor_request_gets_a_clear_400(embedded_aws: EmbeddedAWS) -> None:
    request = urllib.request.Request(
        f"{embedded_aws.endpoint_url}/service/GraniteServiceVersion20100801/operation/GetMetricData",
        data=b"\xa0",
        method="POST",
        headers={
            "Content-Type": "application/cbor",
            "smithy-protocol": "rpc-v2-cbor",
            "Authorization": "AWS4-HMAC-SHA256 Credential=testing/20260101/us-east-1/monitoring/aws4_request, "
            "SignedHeaders=host, Signature=0",
        },
    )
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    with pytest.raises(urllib.error.HTTPError) as excinfo:
        opener.open(request, timeout=10)
    assert excinfo.value.code == 400
    assert b"cbor" in excinfo.value.read().lower()
