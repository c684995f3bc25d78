"""Dicts of one shape share one table of keys (heartbeat_tui.keysharing): the
GetMetricData queries a poll has in flight, and every frozen model's values."""

from __future__ import annotations

import gc
import tracemalloc
from collections.abc import Callable
from typing import Any

import orjson
import pytest

from heartbeat_tui.keysharing import dict_shape, shaped

SHAPE = dict_shape(("Metric", "Period", "Stat"))


def _bytes_each(make: Callable[[int], dict[str, Any]], count: int = 2000) -> float:
    gc.collect()
    tracemalloc.start()
    try:
        start = tracemalloc.get_traced_memory()[0]
        kept = [make(n) for n in range(count)]
        return (tracemalloc.get_traced_memory()[0] - start - 8 * len(kept)) / len(kept)  # less the list's slots
    finally:
        tracemalloc.stop()


def test_a_shaped_dict_is_the_plain_dict_in_every_way_but_size() -> None:
    made = shaped(SHAPE, {"MetricName": "CPUUtilization"}, 60, "Average")
    plain = {"Metric": {"MetricName": "CPUUtilization"}, "Period": 60, "Stat": "Average"}
    assert made == plain and list(made) == list(plain) and type(made) is dict
    assert orjson.dumps(made) == orjson.dumps(plain)
    made["Stat"] = "Maximum"  # its own values: the template and other copies are untouched
    assert shaped(SHAPE, None, 60, "Average")["Stat"] == "Average" and set(SHAPE.values()) == {None}
    made["Unit"] = "Percent"  # any other change still works (the copy becomes a plain dict)
    assert made == {**plain, "Stat": "Maximum", "Unit": "Percent"}


def test_a_shaped_dict_costs_little_more_than_half_a_plain_one() -> None:
    plain = _bytes_each(lambda n: {"Metric": None, "Period": 60, "Stat": "Average"})
    compact = _bytes_each(lambda n: shaped(SHAPE, None, 60, "Average"))
    assert compact < plain * 0.65, (compact, plain)  # 3.11: 104 bytes against 184


def test_a_shape_needs_its_values() -> None:
    with pytest.raises(ValueError):
        shaped(SHAPE, 1, 2)
