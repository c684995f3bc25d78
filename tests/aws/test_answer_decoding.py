"""GetMetricData answers decode to what a plain JSON decode gives, with the
Timestamps arrays that repeat shared."""

from __future__ import annotations

import orjson
import pytest
from hypothesis import given
from hypothesis import strategies as st

from heartbeat_tui.aws.wire import loads_answer


def _answer(timelines: list[list[int]], **extra: object) -> bytes:
    results = [
        {"Id": f"q{n}", "Label": "CPUUtilization", "Timestamps": ts, "Values": [float(n)] * len(ts)}
        for n, ts in enumerate(timelines)
    ]
    return orjson.dumps({"MetricDataResults": results, "Messages": [], **extra})


def test_repeated_timestamps_are_decoded_once_and_shared() -> None:
    minutes = [60 * n for n in range(180)]
    body = _answer([[], minutes, minutes, [60, 120], minutes, [60, 120]])
    data = loads_answer("GetMetricData", body)
    assert data == orjson.loads(body)
    stamps = [r["Timestamps"] for r in data["MetricDataResults"]]
    assert stamps[1] is stamps[2] is stamps[4]  # the first non-empty array, shared
    assert stamps[3] is not stamps[5]  # the others decoded as they are


@pytest.mark.parametrize(
    "body",
    [
        _answer([[60, 120], [60, 120]], NextToken="=shared-timestamps="),  # the placeholder already there
        _answer([[60, 120], [60, 1200]]),  # a prefix is not the same array
        _answer([[60, 1200], [60, 120]]),
        _answer([]),
        _answer([[], []]),
        b'{"MetricDataResults": {"Timestamps":[1],"x":{"Timestamps":[1]}}}',  # not a list of results
        b'{"\\"Timestamps":[1,2],"MetricDataResults":[{"Timestamps":[1,2]},{"Timestamps":[1,2]}]}',  # a key that ends like it
        b"[1, 2]",
    ],
)
def test_odd_answers_decode_as_plain_json(body: bytes) -> None:
    assert loads_answer("GetMetricData", body) == orjson.loads(body)


def test_other_operations_and_bad_json() -> None:
    body = _answer([[60], [60]])
    assert loads_answer("DescribeServices", body) == orjson.loads(body)
    with pytest.raises(orjson.JSONDecodeError):
        loads_answer("GetMetricData", body[:-5])


_HOURS = [1_796_317_500 + 60 * n for n in range(180)]


@given(
    st.lists(
        st.sampled_from(
            [[], [60], [60, 120], [120, 60], [60, 120, 180], _HOURS, _HOURS[:-1], _HOURS[1:], _HOURS[:30], _HOURS[:20]]
        ),
        max_size=8,
    )
)
def test_any_mix_of_timelines_decodes_as_plain_json(timelines: list[list[int]]) -> None:
    body = _answer(timelines)
    assert loads_answer("GetMetricData", body) == orjson.loads(body)


def test_a_few_minutes_are_decoded_as_they_are() -> None:
    """A warm poll's answers (a few points a series) are not worth sharing."""

    few = [60 * n for n in range(1, 10)]
    data = loads_answer("GetMetricData", _answer([few, few]))
    stamps = [r["Timestamps"] for r in data["MetricDataResults"]]
    assert stamps[0] == stamps[1] == few and stamps[0] is not stamps[1]
