"""Pure pieces of the embedded AWS, without a server: metric generator and store, tokens."""

from __future__ import annotations

import math

import pytest

from heartbeat_tui.embedded.metrics import MetricStore, sample
from heartbeat_tui.embedded.paging import ApiError, decode_token, encode_token, page_after
from heartbeat_tui.embedded.protocol import read_request
from heartbeat_tui.embedded.state import MetricProfile

PROFILE = MetricProfile(cpu_base=40.0, mem_base=50.0, base_count=4, phases=(0.1, 0.2, 0.3), hot=False, noise_key=3.0)


def test_cpu_reacts_to_scaling_memory_is_steady() -> None:
    for minute in range(0, 600, 37):
        few = sample(PROFILE, minute, 2)
        many = sample(PROFILE, minute, 8)
        assert few is not None and many is not None
        assert few[0] > many[0]  # more tasks, less CPU each
        assert few[1] >= few[0] and few[4] >= few[3]  # maximum >= average
        assert abs(few[3] - many[3]) < 12  # memory barely moves
    assert sample(PROFILE, 10, 0) is None  # no task, no datapoint


def test_hot_profile_stays_hot() -> None:
    hot = MetricProfile(cpu_base=94.0, mem_base=60.0, base_count=3, phases=(1.0, 2.0, 3.0), hot=True, noise_key=9.0)
    assert all(90.0 <= sample(hot, m, 3)[0] <= 100.0 for m in range(1000))  # type: ignore[index]


def test_store_is_bounded_and_queries_align() -> None:
    store = MetricStore(keep_minutes=120)
    running = [3]
    now_minute = 1_000_000
    store.add_service(
        ("a", "r", "c", "s"), PROFILE, lambda: running[0], [(now_minute - 100, 3)], now_minute - 100, now_minute
    )
    key = ("a", "r", "c", "s", "CPUUtilization")
    timestamps, _values = store.query(key, (now_minute - 100) * 60, now_minute * 60, 60, "Average")
    assert len(timestamps) == 100 and timestamps[0] == (now_minute - 100) * 60
    for hours in range(1, 8):  # a week of wall clock in hourly hops
        store.advance((now_minute + hours * 60) * 60 + 5)
    series = store.series[key]
    assert len(series.avg) <= 120 + 60
    assert series.end == now_minute + 7 * 60
    ts, vals = store.query(key, (now_minute + 7 * 60 - 30) * 60 + 17, (now_minute + 7 * 60) * 60, 300, "Maximum")
    assert all(t % 300 == 0 for t in ts) and vals
    running[0] = 0
    store.advance((now_minute + 7 * 60 + 3) * 60)
    assert math.isnan(store.series[key].avg[-1])


@pytest.mark.parametrize("stat", ["Average", "Maximum", "Minimum", "SampleCount", "Sum", "p90"])
def test_one_minute_queries_skip_missing_minutes(stat: str) -> None:
    """Minutes with no task have no datapoint, whichever way the store answers."""
    store = MetricStore(keep_minutes=300)
    now_minute = 2_000_000
    timeline = [(now_minute - 200, 2), (now_minute - 120, 0), (now_minute - 90, 5)]
    store.add_service(("a", "r", "c", "s"), PROFILE, lambda: 5, timeline, now_minute - 200, now_minute)
    key = ("a", "r", "c", "s", "CPUUtilization")
    series = store.series.get(key) or (store.materialize_some(1), store.series[key])[1]
    for first, last in (
        (now_minute - 200, now_minute),
        (now_minute - 80, now_minute - 10),
        (now_minute - 130, now_minute - 100),
    ):
        timestamps, values = store.query(key, first * 60, last * 60, 60, stat)
        expected = [m * 60 for m in range(first, last) if not math.isnan(series.avg[m - series.start])]
        assert timestamps == expected
        assert len(values) == len(timestamps) and all(not math.isnan(v) for v in values)
        if stat == "SampleCount":
            assert set(values) <= {2.0, 5.0}


def test_tokens_are_bound_to_operation_and_scope() -> None:
    error = ApiError("X", "bad")
    token = encode_token("ListServices", "scope", "arn:b")
    assert decode_token(token, "ListServices", "scope", error) == "arn:b"
    for operation, scope, bad in (
        ("ListTasks", "scope", token),
        ("ListServices", "other", token),
        ("ListServices", "scope", "%%%"),
    ):
        with pytest.raises(ApiError):
            decode_token(bad, operation, scope, error)
    items = ["a", "b", "c", "d"]
    page, last = page_after(items, items, None, 3)
    assert page == ["a", "b", "c"] and last == "c"
    assert page_after(items, items, last, 3) == (["d"], None)


def test_request_parsing() -> None:
    import io

    body = b"Action=AssumeRole&RoleArn=arn%3Aaws%3Aiam%3A%3A210987654321%3Arole%2FR&Version=2011-06-15"
    environ = {
        "REQUEST_METHOD": "POST",
        "PATH_INFO": "/",
        "CONTENT_LENGTH": str(len(body)),
        "CONTENT_TYPE": "application/x-www-form-urlencoded; charset=utf-8",
        "wsgi.input": io.BytesIO(body),
        "HTTP_AUTHORIZATION": "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20260101/us-east-1/sts/aws4_request, SignedHeaders=host, Signature=x",
    }
    request = read_request(environ)
    assert (request.service, request.region, request.access_key) == ("sts", "us-east-1", "AKIDEXAMPLE")
    assert request.protocol == "query" and request.operation == "AssumeRole"
    assert request.params["RoleArn"] == "arn:aws:iam::210987654321:role/R"
    assert environ["wsgi.input"].read() == body  # put back for moto


@pytest.mark.parametrize(
    ("method", "path", "query", "operation"),
    [
        ("HEAD", "/parts", "", "HeadBucket"),
        ("GET", "/parts", "list-type=2&prefix=heartbeat%2F", "ListObjectsV2"),
        ("GET", "/parts", "prefix=x", "ListObjects"),
        ("PUT", "/parts/heartbeat/v1/parts/1.json.gz", "", "PutObject"),
        ("GET", "/parts/a/b", "x-id=GetObject", "GetObject"),
        ("DELETE", "/parts/a/b", "x-id=DeleteObject", "DeleteObject"),
        ("HEAD", "/parts/a", "", "HeadObject"),
        ("GET", "/parts/a", "tagging", None),  # a subresource: not named
        ("GET", "/parts", "versioning", None),
        ("GET", "/", "", None),  # ListBuckets is not path-style bucket work
    ],
)
def test_s3_requests_are_named_by_method_and_path(method: str, path: str, query: str, operation: str | None) -> None:
    import io

    environ = {
        "REQUEST_METHOD": method,
        "PATH_INFO": path,
        "QUERY_STRING": query,
        "wsgi.input": io.BytesIO(b""),
        "HTTP_AUTHORIZATION": "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20260101/us-east-1/s3/aws4_request, SignedHeaders=host, Signature=x",
    }
    request = read_request(environ)
    assert (request.service, request.protocol, request.operation) == ("s3", "other", operation)


def test_get_metric_data_never_waits_for_the_world_lock() -> None:
    """The metric store has a lock of its own: a GetMetricData must answer while
    the world lock is held (by an ECS handler or a simulator step), and the
    store's lock is all it takes."""
    import threading
    import time

    from heartbeat_tui.embedded.cloudwatch_api import CloudWatchApi
    from heartbeat_tui.embedded.fleet import FleetSpec
    from heartbeat_tui.embedded.world import World

    now_minute = int(time.time() // 60)
    store = MetricStore()
    store.add_service(("a", "r", "c", "s"), PROFILE, lambda: 3, [(now_minute - 30, 3)], now_minute - 30, now_minute)
    world = World(spec=FleetSpec.demo(), started_at=time.time(), metrics=store)
    query = {
        "Id": "q",
        "MetricStat": {
            "Metric": {
                "Namespace": "AWS/ECS",
                "MetricName": "CPUUtilization",
                "Dimensions": [{"Name": "ClusterName", "Value": "c"}, {"Name": "ServiceName", "Value": "s"}],
            },
            "Period": 60,
            "Stat": "Average",
        },
    }
    params = {"MetricDataQueries": [query], "StartTime": (now_minute - 30) * 60, "EndTime": now_minute * 60}
    answers: list[dict] = []
    with world.lock:
        worker = threading.Thread(target=lambda: answers.append(CloudWatchApi(world).get_metric_data("a", "r", params)))
        worker.start()
        worker.join(timeout=10)
    assert answers and len(answers[0]["MetricDataResults"][0]["Values"]) == 30


@pytest.mark.parametrize(
    "line",
    [
        b"Host: localhost\r\n",
        b"X-Amz-Target: GraniteServiceVersion20100801.GetMetricData\r\n",
        b"content-length: 12\r\n",
        b"X-Spaces:   lead and trail   \r\n",
        b"X-Tab:\tvalue\r\n",
        b"X-Empty:\r\n",
        b"X-Colons: a:b:c\r\n",
        b"X-Latin: caf\xe9\r\n",
        b"X_Under_Score: 1\r\n",
        b"!#$%&'*+-.^_`|~09AZaz: token characters\r\n",
        b"X-Bare: a\rb\r\n",  # a bare CR: the parser splits the line
        b"X-LF: lf only\n",
        b"  folded continuation\r\n",
        b"\tfolded continuation\r\n",
        b"NoColonHere\r\n",
        b": empty name\r\n",
        b"Bad Name: 1\r\n",
        b"From x: 1\r\n",
        b"X-Ctl\x01: 1\r\n",
        b"X-\xe9: 1\r\n",
    ],
)
def test_fast_header_parse_agrees_with_the_standard_library(line: bytes) -> None:
    """The embedded server's fast header parse stores what http.client's parse
    stores, or declines (and the standard parse runs)."""
    import http.client
    import io

    from heartbeat_tui.embedded.server import _simple_header

    parsed = _simple_header(line)
    if parsed is None:
        return
    message = http.client.parse_headers(io.BytesIO(b"Host: x\r\n" + line + b"\r\n"))
    assert message.items() == [("Host", "x"), parsed]


def test_fast_header_parse_takes_the_usual_lines() -> None:
    from heartbeat_tui.embedded.server import _simple_header

    assert _simple_header(b"Host: localhost\r\n") == ("Host", "localhost")
    assert _simple_header(b"Authorization: AWS4-HMAC-SHA256 Credential=a/b, Signature=0\r\n") == (
        "Authorization",
        "AWS4-HMAC-SHA256 Credential=a/b, Signature=0",
    )


def test_fast_headers_read_like_http_message() -> None:
    import http.client

    from heartbeat_tui.embedded.server import _Headers

    fast, standard = _Headers(), http.client.HTTPMessage()
    for name, value in [("Host", "x"), ("X-Latin", "caf\xe9"), ("x-dup", "1"), ("X-Dup", "2"), ("X-Empty", "")]:
        fast.set_raw(name, value)
        standard.set_raw(name, value)
    assert fast.items() == standard.items()
    assert fast.values() == standard.values()
    for name in ("host", "X-LATIN", "X-Dup", "x-empty", "missing"):
        assert fast.get(name) == standard.get(name)
        assert fast[name] == standard[name]
    assert fast.get("missing", "default") == "default"


def test_get_metric_data_answers_repeated_queries_as_new_ones() -> None:
    """Queries seen before skip their checks: the answers and the request-level
    errors are those of a first request."""
    import time

    from heartbeat_tui.embedded.cloudwatch_api import CloudWatchApi
    from heartbeat_tui.embedded.fleet import FleetSpec
    from heartbeat_tui.embedded.world import World

    now_minute = int(time.time() // 60)
    store = MetricStore()
    for service in ("s1", "s2"):
        store.add_service(
            ("a", "r", "c", service), PROFILE, lambda: 3, [(now_minute - 60, 3)], now_minute - 60, now_minute
        )
    world = World(spec=FleetSpec.demo(), started_at=time.time(), metrics=store)

    def query(qid: str, service: str, **extra: object) -> dict[str, object]:
        dimensions = [{"Name": "ClusterName", "Value": "c"}, {"Name": "ServiceName", "Value": service}]
        metric = {"Namespace": "AWS/ECS", "MetricName": "CPUUtilization", "Dimensions": dimensions}
        return {"Id": qid, "MetricStat": {"Metric": metric, "Period": 60, "Stat": "Maximum"}, **extra}

    queries = [query("a", "s1"), query("b", "s2", Label="second"), query("c", "s1", ReturnData=False)]
    seasoned = CloudWatchApi(world)
    for minutes in (60, 30, 5):
        params = {"MetricDataQueries": queries, "StartTime": (now_minute - minutes) * 60, "EndTime": now_minute * 60}
        answer = seasoned.get_metric_data("a", "r", params)
        assert answer == CloudWatchApi(world).get_metric_data("a", "r", params)
        assert answer is not None and [r["Id"] for r in answer["MetricDataResults"]] == ["a", "b"]
        assert len(answer["MetricDataResults"][0]["Values"]) == minutes
    with pytest.raises(ApiError) as excinfo:
        seasoned.get_metric_data("a", "r", {"MetricDataQueries": queries, "StartTime": 10, "EndTime": 5})
    assert excinfo.value.message == "The parameter StartTime must be less than the parameter EndTime."


@pytest.mark.parametrize("descending", [False, True])
def test_query_many_answers_as_query_does(descending: bool) -> None:
    store = MetricStore(keep_minutes=300)
    now_minute = 3_000_000
    timeline = [(now_minute - 200, 2), (now_minute - 120, 0), (now_minute - 90, 5)]  # a gap of 30 minutes
    store.add_service(("a", "r", "c", "s"), PROFILE, lambda: 5, timeline, now_minute - 200, now_minute)
    store.add_service(("a", "r", "c", "t"), PROFILE, lambda: 2, [(now_minute - 50, 2)], now_minute - 50, now_minute)
    lookups: list = [
        (("a", "r", "c", service, metric), period, stat)
        for service in ("s", "t", "missing")
        for metric in ("CPUUtilization", "MemoryUtilization")
        for period, stat in ((60, "Average"), (60, "Maximum"), (60, "SampleCount"), (60, "p90"), (300, "Average"))
    ]
    lookups.append((None, 60, "Average"))
    for start, end in (
        ((now_minute - 100) * 60, now_minute * 60),  # across the end of the gap
        ((now_minute - 80) * 60 + 7, now_minute * 60 - 5),  # no gap, unaligned
        ((now_minute - 300) * 60, (now_minute - 250) * 60),  # before any data
    ):
        got = store.query_many(lookups, start, end, descending)  # first: the histories are generated on demand
        expected = []
        for key, period, stat in lookups:
            timestamps, values = store.query(key, start, end, period, stat) if key else ([], [])
            if descending:
                timestamps.reverse()
                values.reverse()
            expected.append((timestamps, values))
        assert got == expected
