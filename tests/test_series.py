"""Metric history, compactly: float32 values over shared timelines, merges planned once
for many series and exactly what a point-by-point merge gives."""

from __future__ import annotations

import gc
import math
import struct
import tracemalloc
from array import array

from hypothesis import given, settings
from hypothesis import strategies as st

from heartbeat_tui.series import MetricSeries, Plans, finite_float32

T0 = 1_700_000_040  # a minute boundary


def f32(value: float) -> float:
    return float(struct.unpack("f", struct.pack("f", value))[0])


def reference_merge(
    old: MetricSeries, stamps: list[int], values: list[float], oldest: int
) -> tuple[list[int], list[float]]:
    """The specification: newer values win, points older than `oldest` dropped."""

    points = dict(zip(old.timestamps.tolist(), old.values.tolist()))
    points.update(zip(stamps, (f32(v) for v in values)))
    keys = [t for t in sorted(points) if t >= oldest]
    return keys, [points[t] for t in keys]


minutes = st.lists(st.integers(0, 40), max_size=30, unique=True).map(sorted)


@settings(max_examples=300, deadline=None)
@given(old=minutes, new=minutes, oldest=st.integers(-1, 45), seed=st.integers(0, 1000))
def test_a_planned_merge_is_the_point_by_point_merge(old: list[int], new: list[int], oldest: int, seed: int) -> None:
    before = MetricSeries([T0 + 60 * m for m in old], [float(m + seed) for m in old])
    stamps = array("I", [T0 + 60 * m for m in new])
    values = [float(m * 7 + seed) / 3 for m in new]
    expected = reference_merge(before, stamps.tolist(), values, T0 + 60 * oldest)
    plans: Plans = {}
    # The same merge for three series in a row: the plan is made by the first, reused by the others.
    for _ in range(3):
        merged = before.merged(stamps, array("f", values), oldest=T0 + 60 * oldest, ordered=True, plans=plans)
        assert (merged.timestamps.tolist(), merged.values.tolist()) == expected
        assert before.merged(stamps, values, oldest=T0 + 60 * oldest) == merged  # unplanned: the same
        if expected == (before.timestamps.tolist(), before.values.tolist()):
            assert merged is before  # nothing changed: the very object
    assert len(plans) == 1


@settings(max_examples=200, deadline=None)
@given(old=minutes, oldest=st.integers(-1, 45))
def test_a_window_moved_is_the_merge_of_nothing(old: list[int], oldest: int) -> None:
    before = MetricSeries([T0 + 60 * m for m in old], [float(m) / 3 for m in old])
    moved = before.windowed(T0 + 60 * oldest, {})
    assert moved == before.merged([], [], oldest=T0 + 60 * oldest)
    assert moved.timestamps.tolist() == [T0 + 60 * m for m in old if m >= oldest]
    if all(m >= oldest for m in old):
        assert moved is before  # nothing left the window: the very object


def test_series_over_the_same_minutes_share_one_timeline() -> None:
    stamps = [T0 + 60 * m for m in range(180)]
    a = MetricSeries(stamps, [1.0] * 180)
    b = MetricSeries(array("I", stamps), [2.0] * 180)
    assert a.timeline_token == b.timeline_token
    assert a.timeline_token != MetricSeries(stamps[1:], [1.0] * 179).timeline_token
    plans: Plans = {}
    new = array("I", [T0 + 60 * m for m in range(178, 182)])
    merged = [s.merged(new, [3.0] * 4, oldest=T0 + 120, ordered=True, plans=plans) for s in (a, b)]
    assert merged[0].timeline_token == merged[1].timeline_token
    assert merged[0].timestamps.tolist() == [T0 + 60 * m for m in range(2, 182)]
    assert merged[1].values.tolist() == [2.0] * 176 + [3.0] * 4


def test_a_fleet_of_series_costs_about_four_bytes_a_point_and_a_new_minute_a_tail() -> None:
    """1,000 series of 3 hours: the history held is the values (float32 bytes,
    not arrays: an object fewer each) and one shared timeline, not 12 bytes a point; moving them on by a
    minute while the last snapshot still holds them costs a small tail each, not
    another copy of three hours (both snapshots share the rest)."""

    points = 180
    window = array("I", [T0 + 60 * m for m in range(points)])
    answer = [[float(m % 97) + 0.25 for m in range(points)] for _ in range(10)]
    gc.collect()
    tracemalloc.start()
    try:
        start = tracemalloc.get_traced_memory()[0]
        plans: Plans = {}
        loaded = [
            MetricSeries().merged(window, answer[n % 10], oldest=T0, ordered=True, plans=plans) for n in range(1000)
        ]
        del plans
        gc.collect()
        after_load = tracemalloc.get_traced_memory()[0]
        plans = {}
        later = array("I", [T0 + 60 * m for m in range(points - 3, points + 1)])
        moved = [s.merged(later, [1.0, 2.0, 3.0, 4.0], oldest=T0 + 60, ordered=True, plans=plans) for s in loaded]
        del plans
        gc.collect()
        after_move = tracemalloc.get_traced_memory()[0]
    finally:
        tracemalloc.stop()
    assert all(len(s) == points for s in moved) and moved[0].values.tolist()[-4:] == [1.0, 2.0, 3.0, 4.0]
    assert moved[7].values.tolist()[:-4] == loaded[7].values.tolist()[1:-3]
    # 4 bytes a point and 140 bytes of objects a series (235 when its values were two arrays)
    assert after_load - start < 1000 * (points * 4 + 160)
    assert after_move - after_load < 1000 * 200  # a series of 180 points alone is 720 bytes (an array tail: 223)


def test_values_are_float32_and_a_value_beyond_it_is_no_value() -> None:
    series = MetricSeries([T0], [0.1])
    assert series.values[0] == f32(0.1) and abs(series.values[0] - 0.1) < 1e-8
    assert finite_float32([1.5, 2.5]) == array("f", [1.5, 2.5])
    assert finite_float32([]) == array("f")
    many = [float(n) / 7 for n in range(40)]  # past the short path
    assert finite_float32(many) == array("f", many)
    for bad in ([1.0, math.nan], [math.inf], [1e39], [-1e39], [1.0, "2"], [None]):
        assert finite_float32(bad) is None  # type: ignore[arg-type]
        assert finite_float32(many + bad) is None  # type: ignore[arg-type]
