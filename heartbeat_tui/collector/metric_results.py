"""GetMetricData answers decoded into compact arrays, per service and series."""

from __future__ import annotations

import math
from array import array
from collections.abc import Iterable
from typing import Any, Protocol, TypeAlias

from heartbeat_tui.aws.errors import BadResponse
from heartbeat_tui.collector.limits import METRIC_FAILED_STATES
from heartbeat_tui.collector.merging import is_finite_number
from heartbeat_tui.collector.parse import name_from_arn
from heartbeat_tui.series import TIMELINES, finite_float32, strictly_increasing
from heartbeat_tui.timeutil import to_epoch


class QueryIds(Protocol):
    """Query id -> (service ARN, series); None for an id not asked."""

    def get(self, query_id: str, /) -> tuple[str, str] | None: ...


#: (timestamps, values, timestamps known to strictly increase) per (service ARN, series).
Decoded: TypeAlias = "dict[tuple[str, str], tuple[array[int], array[float], bool]]"


class MetricResults:
    """The `MetricDataResults` of one GetMetricData batch, every page of it,
    by the query ids it was asked with (`ids`: query id -> (ARN, series))."""

    def __init__(self, ids: QueryIds) -> None:
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
        """One series straight into the compact form a `MetricSeries` keeps:
        float32 values, and timestamps as an interned timeline shared by every
        series of the answer over the same minutes (decoded and checked once)."""

        # The common case stays in C: epoch numbers and finite floats.
        new_values = finite_float32(raw_values) if isinstance(raw_values, list) else None
        if new_values is not None:
            if raw_ts is self._shared_raw or raw_ts == self._shared_raw:  # (`aws.wire.loads_answer` shares them)
                return self._shared_ts, new_values, self._shared_ordered
            try:
                try:
                    new_ts = array("I", raw_ts)  # epoch seconds as JSON integers
                except TypeError:
                    new_ts = array("I", map(int, raw_ts))  # ... or as floats
            except (TypeError, ValueError, OverflowError):
                pass
            else:
                ordered = strictly_increasing(new_ts)
                new_ts = TIMELINES.intern(new_ts) if ordered else new_ts
                self._shared_raw, self._shared_ts, self._shared_ordered = raw_ts, new_ts, ordered
                return new_ts, new_values, ordered
        new_ts, new_values = array("I"), array("f")
        if not raw_ts:
            return NO_POINTS
        for ts, value in zip(raw_ts, raw_values):
            epoch = to_epoch(ts)
            if epoch is not None and 0 <= epoch <= _MAX_EPOCH and is_finite_number(value):
                new_values.append(value)
                if math.isfinite(new_values[-1]):
                    new_ts.append(epoch)
                else:  # beyond float32's range
                    new_values.pop()
        return new_ts, new_values, False


_MAX_EPOCH = 2**32 - 1
#: A series without points (a shared, empty timeline: any merge of it is planned once).
NO_POINTS: tuple[array[int], array[float], bool] = (TIMELINES.intern(array("I")), array("f"), True)


__all__ = ["NO_POINTS", "Decoded", "MetricResults", "QueryIds"]
