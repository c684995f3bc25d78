"""Metric history, compactly: a fleet of 40,000 services keeps 29 million points.

A `MetricSeries` is one CloudWatch series at 60-second resolution. It is about
four bytes a point, not twelve (uint32 epoch seconds and float64 values each):

* values are float32: seven significant digits, more than a utilisation
  percentage carries (the dashboard shows one decimal, the export two);
* the timestamps are a *timeline* shared by every series over the same minutes.
  A fleet's series mostly cover the same window, so one array serves thousands
  of them. Timelines are interned (one array per distinct content, alive while
  a series holds it) and never change once made;
* a series' values are kept in `bytes` (native float32), not arrays: one
  allocation each instead of an object and its buffer, and no object for the
  garbage collector to track (about 110 bytes a series less; 4 series a service).

Merging a poll's answer (`MetricSeries.merged`) is planned on timelines: which
old points stay, which new ones follow, the timeline that results. A caller
merging many series passes one `plans` dict, and every series with the same old
timeline, new timeline and window start (most of them, most polls) reuses that
plan: two slices of its values, in C.
"""

from __future__ import annotations

import bisect
import math
import struct
import threading
import weakref
from array import array
from collections.abc import Iterable
from typing import Any, Literal, NamedTuple, TypeAlias, cast

# CloudWatch publishes ECS metrics one to three minutes late: a newest point
# older than this at the time of the fetch means the service has no current value.
CURRENT_MAX_AGE_SECONDS = 5 * 60

_EMPTY_STAMPS: array[int] = array("I")


class _Timelines:
    """Timestamp arrays interned by content: equal timelines are one object."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._by_content: weakref.WeakValueDictionary[bytes, array[int]] = weakref.WeakValueDictionary()

    def intern(self, stamps: array[int]) -> array[int]:
        """The shared array with the content of `stamps` (a private copy the first time)."""

        if not stamps:
            return _EMPTY_STAMPS
        key = stamps.tobytes()
        with self._lock:
            held = self._by_content.get(key)
            if held is None:
                held = self._by_content[key] = array("I", stamps)
        return held

    def __len__(self) -> int:
        return len(self._by_content)


TIMELINES = _Timelines()


def timeline(stamps: Iterable[int]) -> array[int]:
    """The interned timeline of these timestamps (epoch seconds); read-only by contract."""

    return TIMELINES.intern(_uint_array(stamps))


class MergePlan(NamedTuple):
    """How an answer merges into a series: `old[keep_from:cut] + new[new_from:]` on `timeline`."""

    keep_from: int
    cut: int
    new_from: int
    timeline: array[int]


#: Plans by (old timeline, new timeline, window start), for one merge of many series.
#: None: the answer lacks old points inside its range, merged point by point.
Plans: TypeAlias = "dict[tuple[int, int, int], tuple[array[int], array[int], MergePlan | None]]"


#: Points a series keeps in its tail after a compaction: a later poll re-reads at
#: most this many newest minutes (METRIC_MAX_LOOKBACK_SECONDS), so a merge only
#: ever rewrites the tail.
TAIL_POINTS = 16
#: Minutes a tail grows before the series is compacted again: 8 to 39, by series,
#: so a poll compacts a few series, not all of them at once.
_SLACK_MIN, _SLACK_SPREAD = 8, 32


class MetricSeries:
    """One CloudWatch series at 60-second resolution, oldest point first.

    Immutable: its points are exposed only as read-only memoryviews. Inside, the
    values (float32 `bytes`) are a *head* shared with the series' earlier
    versions (from point `start` on) and a small *tail* of its own: a poll that
    adds a minute makes a new tail of a few points, not a new copy of three hours, so the dashboard's
    snapshot and the one being made share nearly all their history. Every few
    dozen minutes a series is compacted into a new head (`_SLACK_*`).
    """

    __slots__ = ("_head", "_start", "_tail", "_timestamps")

    def __init__(self, timestamps: Iterable[int] = (), values: Iterable[float] = ()) -> None:
        ts = timeline(timestamps)
        vs = array("f", values)  # a private copy: nobody else holds a reference that could mutate it
        if len(ts) != len(vs):
            raise ValueError("a metric series needs as many timestamps as values")
        self._timestamps = ts
        self._head, self._start, self._tail = _split(vs)

    # The stored layout: `_head` and `_tail` are float32 bytes, `_start` counts points.

    def __setattr__(self, name: str, value: Any) -> None:
        if hasattr(self, "_tail"):
            raise AttributeError("MetricSeries is immutable")
        object.__setattr__(self, name, value)

    def _values(self) -> array[float]:
        """The values in one array of their own (made now)."""

        return _floats(memoryview(self._head)[self._start * _POINT :], self._tail)

    def _value_bytes(self) -> bytes | memoryview:
        """The values as float32 bytes (a copy only when both head and tail hold some)."""

        head, start, tail = self._head, self._start, self._tail
        if not tail:
            return memoryview(head)[start * _POINT :] if start else head
        if start * _POINT >= len(head):
            return tail
        return head[start * _POINT :] + tail if start else head + tail

    @property
    def timestamps(self) -> memoryview:
        return memoryview(self._timestamps).toreadonly()

    @property
    def values(self) -> memoryview:
        # Read-only (over bytes), format "f"; typed as the plain memoryview its readers take.
        return cast(memoryview, memoryview(self._value_bytes()).cast("f"))

    @property
    def timeline_token(self) -> int:
        """The same number for series over the same minutes (they share one timeline),
        different for any other, while they are alive: lets a wire format send each
        timeline once."""

        return id(self._timestamps)

    def __len__(self) -> int:
        return len(self._timestamps)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, MetricSeries):
            return NotImplemented
        if not (self._timestamps is other._timestamps or self._timestamps == other._timestamps):
            return False
        # Compared as floats, as arrays are (0.0 equals -0.0; NaN equals nothing).
        if self._head is other._head and self._start == other._start:
            return _floats(self._tail) == _floats(other._tail)
        return self._values() == other._values()

    def __hash__(self) -> int:
        return hash((self._timestamps.tobytes(), bytes(self._value_bytes())))

    def __repr__(self) -> str:
        return f"MetricSeries({len(self)} points, newest at {self.latest_timestamp})"

    def __reduce__(self) -> tuple[Any, ...]:
        return (MetricSeries, (self._timestamps.tolist(), self._values().tolist()))

    def current(self, as_of: float, max_age: float = CURRENT_MAX_AGE_SECONDS) -> float | None:
        """The newest value if it is recent at `as_of` (epoch seconds), else None.

        A service scaled to zero an hour ago has a last datapoint, but no
        current CPU: showing that old value as "latest" would be a lie.
        """

        if not self._timestamps or self._timestamps[-1] < as_of - max_age:
            return None
        newest: float = _unpack_last(self._tail or self._head, -_POINT)[0]
        return newest

    @property
    def latest_timestamp(self) -> int | None:
        return self._timestamps[-1] if self._timestamps else None

    def buckets(
        self, start: float, end: float, count: int, aggregate: Literal["max", "mean"] = "max"
    ) -> list[float | None]:
        """The points from `start` on in `count` equal time buckets up to `end` (a
        point at or past `end` counts in the last), each the highest or the mean
        of its points, None without any: the one time-bucketing of the
        dashboard's sparklines and the detail's plots."""

        stamps = self._timestamps
        first = bisect.bisect_left(stamps, start)
        values = self._values_from(first)
        span = (end - start) / count
        totals = [0.0] * count
        seen = [0] * count
        peaks = [-math.inf] * count
        last = count - 1
        for i, value in enumerate(values, first):
            x = int((stamps[i] - start) / span)
            if x > last:
                x = last
            totals[x] += value
            seen[x] += 1
            if value > peaks[x]:
                peaks[x] = value
        if aggregate == "max":
            return [peaks[x] if seen[x] else None for x in range(count)]
        return [totals[x] / seen[x] if seen[x] else None for x in range(count)]

    def _values_from(self, index: int) -> array[float]:
        """The values from the `index`-th point on, in an array of their own."""

        in_head = len(self._head) // _POINT - self._start
        if index >= in_head:
            return _floats(memoryview(self._tail)[(index - in_head) * _POINT :])
        return _floats(memoryview(self._head)[(self._start + index) * _POINT :], self._tail)

    def since(self, epoch_seconds: float) -> tuple[float, ...]:
        return tuple(self._values_from(bisect.bisect_left(self._timestamps, epoch_seconds)))

    def max_since(self, epoch_seconds: float) -> float | None:
        recent = self._values_from(bisect.bisect_left(self._timestamps, epoch_seconds))
        return max(recent) if len(recent) else None

    def merged(
        self,
        timestamps: Iterable[int],
        values: Iterable[float],
        *,
        oldest: int,
        ordered: bool = False,
        plans: Plans | None = None,
    ) -> MetricSeries:
        """A new series with the given points merged in (newer values win) and
        everything older than `oldest` dropped, so the history stays bounded.
        Returns `self` when nothing changed.

        `ordered=True`: the caller has checked that the timestamps strictly
        increase. `plans`: one dict for a whole merge of many series, whose
        given timestamp arrays do not change during it (see the module's
        docstring). The given arrays are only read, never kept.
        """

        new_ts = _uint_array(timestamps)
        new_vs = float_array(values)
        if len(new_ts) != len(new_vs):
            raise ValueError("a metric series needs as many timestamps as values")
        if not (ordered or strictly_increasing(new_ts)):
            points = dict(zip(new_ts.tolist(), new_vs.tolist()))  # a later duplicate wins
            keys = sorted(points)
            new_ts, new_vs = array("I", keys), array("f", (points[t] for t in keys))
            plans = None  # a private array: its identity means nothing to the next series
        old_ts = self._timestamps
        if plans is None:
            plan = _plan(old_ts, new_ts, oldest)
        else:
            key = (id(old_ts), id(new_ts), oldest)
            known = plans.get(key)
            if known is None:
                # The arrays are kept in the entry: their ids cannot be reused while it lives.
                known = plans[key] = (old_ts, new_ts, _plan(old_ts, new_ts, oldest))
            plan = known[2]
        if plan is None:
            return self._merged_point_by_point(new_ts, new_vs, oldest)
        keep_from, cut, new_from, stamps = plan
        head, start, tail = self._head, self._start, self._tail
        in_head = len(head) // _POINT - start
        if cut >= in_head:  # the usual case: only the tail is rewritten
            added = new_vs[new_from:].tobytes()
            cut_at = (cut - in_head) * _POINT
            kept = tail[cut_at:]
            if stamps is old_ts and (kept == added or (len(kept) == len(added) and _floats(kept) == new_vs[new_from:])):
                return self  # the re-read of the newest minutes found nothing new
            if keep_from >= in_head:  # nothing left of the head
                new_tail = tail[(keep_from - in_head) * _POINT : cut_at] + added
                head, start = _EMPTY_BYTES, 0
            else:
                start += keep_from
                new_tail = tail[:cut_at] + added if cut_at else added
            if len(new_tail) <= (TAIL_POINTS + _slack(head)) * _POINT:
                return MetricSeries._adopt(stamps, head, start, new_tail)
        if keep_from == cut:  # no old point stays (the first load): straight from the answer
            return MetricSeries._adopt(stamps, *_split(new_vs, new_from))
        return MetricSeries._adopt(stamps, *_split(self._values_from(keep_from)[: cut - keep_from] + new_vs[new_from:]))

    def windowed(self, oldest: int, plans: Plans | None = None) -> MetricSeries:
        """The series without its points older than `oldest` (`self` when it has
        none): `merged` with no new points, for the many series a poll did not
        change, without planning a merge for those the window leaves whole."""

        stamps = self._timestamps
        if not stamps or stamps[0] >= oldest:
            return self
        return self.merged(_EMPTY_STAMPS, _EMPTY_VALUES, oldest=oldest, ordered=True, plans=plans)

    def _merged_point_by_point(self, new_ts: array[int], new_vs: array[float], oldest: int) -> MetricSeries:
        """The rare merge where the old points inside the answer's range are not all in it: keep them."""

        points = dict(zip(self._timestamps.tolist(), self._values().tolist()))
        points.update(zip(new_ts.tolist(), new_vs.tolist()))
        keys = [t for t in sorted(points) if t >= oldest]
        stamps = TIMELINES.intern(array("I", keys))
        vs = array("f", (points[t] for t in keys))
        if stamps is self._timestamps and vs == self._values():
            return self
        return MetricSeries._adopt(stamps, *_split(vs))

    @classmethod
    def _adopt(cls, stamps: array[int], head: bytes, start: int, tail: bytes) -> MetricSeries:
        """A series over an interned timeline, a head (shared with earlier versions) and a tail of its own."""

        series = object.__new__(cls)
        object.__setattr__(series, "_timestamps", stamps)
        object.__setattr__(series, "_head", head)
        object.__setattr__(series, "_start", start)
        object.__setattr__(series, "_tail", tail)
        return series


_EMPTY_VALUES: array[float] = array("f")
_EMPTY_BYTES = b""
_POINT = 4  # bytes a float32 value
_unpack_last = struct.Struct("=f").unpack_from


def _floats(*parts: bytes | memoryview) -> array[float]:
    """An array of the float32 values in these bytes, one after the other."""

    out = array("f")
    for part in parts:
        out.frombytes(part)
    return out


def _split(values: array[float], first: int = 0) -> tuple[bytes, int, bytes]:
    """(head, 0, tail): `values[first:]` as bytes, the newest `TAIL_POINTS` in the tail."""

    view = memoryview(values)
    if len(values) - first <= TAIL_POINTS:
        return _EMPTY_BYTES, 0, view[first:].tobytes()
    return view[first:-TAIL_POINTS].tobytes(), 0, view[-TAIL_POINTS:].tobytes()


def _slack(head: bytes) -> int:
    """How many minutes a tail over `head` may grow past `TAIL_POINTS` (by head, so series loaded together spread)."""

    return _SLACK_MIN + (id(head) >> 4) % _SLACK_SPREAD


def _plan(old_ts: array[int], new_ts: array[int], oldest: int) -> MergePlan | None:
    """How sorted, unique `new_ts` merges into `old_ts` (see `MergePlan`); None when old
    points inside the new range are missing from it (they are kept, point by point)."""

    if new_ts:
        cut = bisect.bisect_left(old_ts, new_ts[0])
        if cut < len(old_ts) and not set(old_ts[cut:].tolist()) <= set(new_ts.tolist()):
            return None
    else:
        cut = len(old_ts)
    keep_from = bisect.bisect_left(old_ts, oldest, 0, cut)
    new_from = 0 if keep_from < cut else bisect.bisect_left(new_ts, oldest)
    if keep_from == 0 and cut == len(old_ts) and new_from == len(new_ts):
        stamps = old_ts
    else:
        stamps = TIMELINES.intern(old_ts[keep_from:cut] + new_ts[new_from:])
    return MergePlan(keep_from, cut, new_from, stamps)


def strictly_increasing(stamps: array[int]) -> bool:
    """True when every timestamp is greater than the one before (C loops only:
    sorting a sorted list is one pass, and a duplicate shrinks the set)."""

    as_list = stamps.tolist()
    return as_list == sorted(as_list) and len(set(as_list)) == len(as_list)


def _uint_array(values: Iterable[int]) -> array[int]:
    if isinstance(values, array) and values.typecode == "I":
        return values
    try:
        return array("I", values)
    except TypeError:  # floats from the wire
        return array("I", map(int, values))


def float_array(values: Iterable[float]) -> array[float]:
    """`values` as float32 (an array of them as it is)."""

    if isinstance(values, array) and values.typecode == "f":
        return values
    return array("f", values)


_PACKERS: dict[int, struct.Struct] = {}
_SHORT = 16


def finite_float32(values: list[float]) -> array[float] | None:
    """A JSON answer's values as float32, or None when one is not a finite float32
    (NaN, an infinity, beyond 3.4e38: the caller filters them one by one).

    One float sum finds a NaN or an infinity, and `struct` packs in one C call
    (twice as fast as `array("f", values)` for a 3-hour answer), refusing a value
    too large; a few values (a warm poll's) are quicker through `array`.
    """

    count = len(values)
    if count <= _SHORT:  # a warm poll's few new minutes: array's own conversion is quicker here
        try:
            short = array("f", values)
        except (TypeError, OverflowError):
            return None
        # A value beyond float32 became an infinity; a sum of float32s cannot overflow a double.
        return short if math.isfinite(sum(short)) else None
    packer = _PACKERS.get(count)
    if packer is None:
        packer = _PACKERS[count] = struct.Struct(f"={count}f")  # standard size: overflow raises
    try:
        if not math.isfinite(sum(values)):
            return None
        packed = packer.pack(*values)
    except (TypeError, OverflowError, struct.error):
        return None
    out = array("f")
    out.frombytes(packed)
    return out


EMPTY_SERIES = MetricSeries()

__all__ = [
    "CURRENT_MAX_AGE_SECONDS",
    "EMPTY_SERIES",
    "TIMELINES",
    "MergePlan",
    "MetricSeries",
    "Plans",
    "finite_float32",
    "float_array",
    "strictly_increasing",
    "timeline",
]
