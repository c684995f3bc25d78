"""GetMetricData results decoded into arrays: shared timestamps, pages joined,
junk points dropped, failed or unpaired series refused."""

from __future__ import annotations

import math

import pytest

from heartbeat_tui.aws.errors import BadResponse
from heartbeat_tui.collector.metric_results import MetricResults

IDS = {
    "q0": ("arn:aws:ecs:us-east-1:1:service/c/api", "cpu_avg"),
    "q1": ("arn:aws:ecs:us-east-1:1:service/c/api", "mem_avg"),
}


def result(query_id: str, stamps: list, values: list, status: str = "Complete") -> dict:
    return {"Id": query_id, "Timestamps": stamps, "Values": values, "StatusCode": status}


def test_series_over_the_same_minutes_share_one_timestamps_array() -> None:
    decoded = MetricResults(IDS)
    stamps = [60, 120, 180]
    decoded.add([result("q0", stamps, [1.0, 2.0, 3.0]), result("q1", list(stamps), [4.0, 5.0, 6.0])])
    (ts0, values0, ordered0), (ts1, values1, ordered1) = decoded.series.values()
    assert ts0 is ts1 and list(ts0) == stamps and ordered0 and ordered1
    assert list(values0) == [1.0, 2.0, 3.0] and list(values1) == [4.0, 5.0, 6.0]


def test_pages_are_joined_and_unknown_ids_ignored() -> None:
    decoded = MetricResults(IDS)
    decoded.add([result("q0", [60, 120], [1.0, 2.0]), result("q9", [60], [9.0])])
    decoded.add([result("q0", [180], [3.0])])
    ts, values, ordered = decoded.series[IDS["q0"]]
    assert list(ts) == [60, 120, 180] and list(values) == [1.0, 2.0, 3.0]
    assert not ordered  # joined arrays are checked again when merged
    assert len(decoded.series) == 1


def test_junk_points_are_dropped_not_the_series() -> None:
    decoded = MetricResults(IDS)
    decoded.add([result("q0", [60, "2026-11-28T12:02:00Z", -5, 240, 300, 2**33], [1.0, 2.0, 3.0, math.nan, 1e39, 4.0])])
    ts, values, ordered = decoded.series[IDS["q0"]]
    # Not a number, beyond float32 (what the history holds), before 1970, beyond uint32's epoch.
    assert list(values) == [1.0, 2.0] and ts[0] == 60 and not ordered


def test_answers_over_the_same_minutes_share_one_timeline_across_batches() -> None:
    first, second = MetricResults(IDS), MetricResults(IDS)
    first.add([result("q0", [60, 120, 180], [1.0, 2.0, 3.0])])
    second.add([result("q1", [60, 120, 180], [4.5, 5.5, 6.5])])
    assert first.series[IDS["q0"]][0] is second.series[IDS["q1"]][0]
    assert second.series[IDS["q1"]][1].typecode == "f"  # float32, as the history keeps them


@pytest.mark.parametrize(
    ("bad", "message"),
    [
        (result("q0", [60], [1.0], status="InternalError"), "answered InternalError for cpu_avg of api"),
        (result("q0", [60, 120], [1.0]), "has 2 timestamps but 1 values"),
    ],
)
def test_a_failed_or_unpaired_series_is_refused(bad: dict, message: str) -> None:
    with pytest.raises(BadResponse, match=message):
        MetricResults(IDS).add([bad])


def test_a_batch_reads_its_query_ids_back_and_nothing_else() -> None:
    from heartbeat_tui.collector.limits import SERIES
    from heartbeat_tui.collector.metrics import BatchIds, metric_queries
    from heartbeat_tui.collector.state import ServiceRef

    api = ServiceRef("arn:aws:ecs:us-east-1:1:service/c/api", "c", "api")
    web = ServiceRef("arn:aws:ecs:us-east-1:1:service/c/web", "c", "web")
    batch = [api, web]
    ids = BatchIds(batch)
    queries = metric_queries(batch).items()
    # Every series of each service, in order: q0-q3 the first's, q4-q7 the second's.
    assert [(ids.get(q["Id"]), q["MetricStat"]["Metric"]["MetricName"], q["MetricStat"]["Stat"]) for q in queries] == [
        ((ref.arn, attr), metric, stat) for ref in batch for attr, metric, stat in SERIES
    ]
    assert [q["MetricStat"]["Metric"]["Dimensions"][1]["Value"] for q in queries] == ["api"] * 4 + ["web"] * 4
    for other in ("q8", "q01", "x1", "q", "q-1", "q١", ""):
        assert ids.get(other) is None
