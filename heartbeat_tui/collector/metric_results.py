"""GetMetricData answers decoded into compact arrays, per service and series."""

from __future__ import annotations

import math
from array import array
from collections.abc import Iterable
from typing import Any, TypeAlias

from heartbeat_tui.aws.errors import BadResponse
from heartbeat_tui.collector.limits import METRIC_FAILED_STATES
from heartbeat_tui.collector.merging import is_finite_number
from heartbeat_tui.collector.parse import name_from_arn
from heartbeat_tui.models import strictly_increasing
from heartbeat_tui.timeutil import to_epoch

#: (timestamps, values, timestamps known to strictly increase) per (service ARN, series).
Decoded: TypeAlias = "dict[tuple[str, str], tuple[array[int], array[float], bool]]"


class MetricResults:
    """The `MetricDataResults` of one GetMetricData batch, every page of it,
    by the query ids it was asked with (`ids`: query id -> (ARN, series))."""

    def __init__(self, ids: dict[str, tuple[str, str]]) -> None:
        self._ids = ids
        self.series: Decoded = {}
        # Most series of an answer cover the same minutes: one array (and one
        # check that its timestamps strictly increase) serves them all. The
        # arrays are read-only from here on (merging copies what it keeps).
        self._shared_raw: Any = None
        self._shared_ts, self._shared_ordered = array("I"), True

    def add(self, results: Iterable[dict[str, Any]]) -> None:
        """One page's results. A series that failed, or whose timestamps and
        values do not pair up, is `BadResponse`: missing, not "no data"."""

        for result in results:
            key = self._ids.get(str(result.get("Id")))
            if key is None:
                continue
            status = result.get("StatusCode")
            if status in METRIC_FAILED_STATES:
                # Missing, not absent: fail the step so the gap is reported
                # and asked for again, instead of passing for "no data".
                messages = "; ".join(str(m.get("Value", "")) for m in result.get("Messages") or [])
                detail = f": {messages}" if messages else ""
                name = name_from_arn(key[0])
                raise BadResponse(f"GetMetricData answered {status} for {key[1]} of {name}{detail}")
            raw_ts = result.get("Timestamps") or ()
            raw_values = result.get("Values") or ()
            if len(raw_ts) != len(raw_values):
                raise BadResponse(
                    f"GetMetricData result {result.get('Id')} has {len(raw_ts)} timestamps but {len(raw_values)} values"
                )
            new_ts, new_values, ordered = self._decode(raw_ts, raw_values)
            held = self.series.get(key)
            if held is None:
                self.series[key] = (new_ts, new_values, ordered)
            else:  # the rest of a series cut by a page: new arrays, checked again when merged
                self.series[key] = (held[0] + new_ts, held[1] + new_values, False)

    def _decode(self, raw_ts: Any, raw_values: Any) -> tuple[array[int], array[float], bool]:
        try:
            # The common case stays in C: epoch numbers and finite floats.
            if raw_ts == self._shared_raw:
                new_ts, ordered = self._shared_ts, self._shared_ordered
            else:
                try:
                    new_ts = array("I", raw_ts)  # epoch seconds as JSON integers
                except TypeError:
                    new_ts = array("I", map(int, raw_ts))  # ... or as floats
                ordered = strictly_increasing(new_ts)
                self._shared_raw, self._shared_ts, self._shared_ordered = raw_ts, new_ts, ordered
            new_values = array("d", raw_values)
            # The sum is finite only when every value is (an inf or NaN
            # anywhere makes it inf or NaN); one C loop.
            if not math.isfinite(sum(new_values)):
                raise ValueError("non-finite datapoints")
        except (TypeError, ValueError, OverflowError):
            new_ts, new_values, ordered = array("I"), array("d"), False
            for ts, value in zip(raw_ts, raw_values):
                epoch = to_epoch(ts)
                if epoch is not None and epoch >= 0 and is_finite_number(value):
                    new_ts.append(epoch)
                    new_values.append(float(value))
        return new_ts, new_values, ordered


__all__ = ["Decoded", "MetricResults"]
