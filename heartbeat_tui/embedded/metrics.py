"""An indexed, per-minute store of the AWS/ECS CPU and memory metrics.

Why not moto's CloudWatch: moto rescans every stored datapoint for every bucket
of every query, so a dashboard's 500-query GetMetricData over 3 hours takes
minutes.  Here each series is four ``array('d')`` (average, maximum, minimum,
sample count per minute) plus the epoch minute of index 0, keyed by
(account, region, cluster, service, metric): a query is a dict lookup and a
slice.  Missing minutes (a service with no running task) hold NaN.

Values come from a deterministic generator (seed + service + minute) and react
to the running task count: a service's *demand* is fixed by its profile, so
scaling out lowers the per-task CPU, as in real life.  Memory is steadier.
The store holds ``history_minutes`` at start and gains a point per series per
wall-clock minute (``advance``), trimming to ``keep_minutes`` (no unbounded
growth).

The store has its own lock (``MetricStore.lock``), not the world's: a
500-query GetMetricData must not hold up the ECS and autoscaling handlers.
So the store never reads the simulator's model while it works: a service's
running count comes from ``running()``, which returns the count the world
published (``World.sync_moto``) rather than walking the service's tasks.
"""

from __future__ import annotations

import math
import threading
from array import array
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from heartbeat_tui.embedded.state import MetricProfile

NAN = float("nan")
TWO_PI = 2.0 * math.pi

SeriesKey = tuple[str, str, str, str, str]  # account, region, cluster, service, metric
ServiceKey = tuple[str, str, str, str]


def _noise(key: float, minute: int) -> float:
    """Deterministic pseudo-random value in [-0.5, 0.5) (a classic shader hash)."""
    x = math.sin(key * 12.9898 + minute * 78.233) * 43758.5453
    return x - math.floor(x) - 0.5


def sample(profile: MetricProfile, minute: int, running: int) -> tuple[float, ...] | None:
    """One minute of (cpu avg, max, min, mem avg, max, min) for ``running`` tasks.

    ``None`` when no task runs: CloudWatch has no datapoint then.
    """
    if running <= 0:
        return None
    p1, p2, p3 = profile.phases
    wave = 1.0 + 0.10 * math.sin(TWO_PI * minute / 97.0 + p1) + 0.05 * math.sin(TWO_PI * minute / 31.0 + p2)
    jitter = _noise(profile.noise_key, minute)
    demand = profile.cpu_base * profile.base_count * (wave + 0.06 * jitter)
    cpu = demand / running
    cpu = min(99.0, max(90.5, cpu)) if profile.hot else min(99.0, max(0.5, cpu))
    spread = 0.5 + 0.5 * math.sin(TWO_PI * minute / 13.0 + p3)
    cpu_max = min(100.0, cpu * (1.08 + 0.12 * spread) + 1.5)
    cpu_min = max(0.0, cpu * (0.80 - 0.10 * spread))
    load = min(5.0, max(-5.0, 2.0 * (profile.base_count / running - 1.0)))
    mem = profile.mem_base + 2.0 * math.sin(TWO_PI * minute / 181.0 + p2) + 0.6 * jitter + load
    mem = min(98.0, max(1.0, mem))
    mem_max = min(100.0, mem + 1.0 + 1.5 * spread)
    mem_min = max(0.0, mem - 0.8 - 1.0 * spread)
    return (
        round(cpu, 2),
        round(cpu_max, 2),
        round(cpu_min, 2),
        round(mem, 2),
        round(mem_max, 2),
        round(mem_min, 2),
    )


class MetricSeries:
    """Per-minute aggregates of one metric; index ``i`` is epoch minute ``start + i``."""

    __slots__ = ("avg", "count", "max", "min", "start")

    def __init__(self, start: int) -> None:
        self.start = start
        self.avg = array("d")
        self.max = array("d")
        self.min = array("d")
        self.count = array("d")

    def append(self, avg: float, maximum: float, minimum: float, count: float) -> None:
        self.avg.append(avg)
        self.max.append(maximum)
        self.min.append(minimum)
        self.count.append(count)

    def trim(self, keep: int) -> None:
        excess = len(self.avg) - keep
        if excess > 0:
            del self.avg[:excess]
            del self.max[:excess]
            del self.min[:excess]
            del self.count[:excess]
            self.start += excess

    @property
    def end(self) -> int:
        """One past the last stored minute."""
        return self.start + len(self.avg)


@dataclass
class _Source:
    profile: MetricProfile
    running: Callable[[], int]


class MetricStore:
    """The AWS/ECS metric store.

    Writers (``advance``, ``materialize_some``) take ``lock`` themselves;
    readers hold it around ``query`` (and around the ``advance`` before it,
    so one request sees one state of the store).  It is re-entrant for that.
    """

    def __init__(self, keep_minutes: int = 360) -> None:
        self.lock = threading.RLock()
        self.keep_minutes = keep_minutes
        self.series: dict[SeriesKey, MetricSeries] = {}
        self._sources: dict[ServiceKey, _Source] = {}
        self._pending: dict[ServiceKey, tuple[list[tuple[int, int]], int, int]] = {}
        self._next_minute: int | None = None

    def add_service(
        self,
        key: ServiceKey,
        profile: MetricProfile,
        running: Callable[[], int],
        timeline: list[tuple[int, int]],
        history_start: int,
        history_end: int,
    ) -> None:
        """Register a service whose history covers minutes [history_start, history_end).

        ``timeline`` is [(epoch minute from which it applies, running count)],
        oldest first.  The history is generated lazily (on the first query of
        the service, or by ``materialize_some`` in the background): generating
        3 h for the whole fleet up front would cost the child's start ~0.5 s.
        """
        with self.lock:
            self._sources[key] = _Source(profile, running)
            self._pending[key] = (timeline, history_start, history_end)
            if self._next_minute is None or history_end > self._next_minute:
                self._next_minute = history_end

    @property
    def pending(self) -> int:
        """Services whose history is not generated yet."""
        return len(self._pending)

    def materialize_some(self, count: int) -> int:
        """Generate the history of up to ``count`` services; returns how many remain."""
        with self.lock:
            for key in list(self._pending)[:count]:
                self._materialize(key)
            return len(self._pending)

    def _materialize(self, key: ServiceKey) -> None:
        entry = self._pending.pop(key, None)
        if entry is None:
            return
        timeline, start, end = entry
        source = self._sources[key]
        cpu = self.series[(*key, "CPUUtilization")] = MetricSeries(start)
        mem = self.series[(*key, "MemoryUtilization")] = MetricSeries(start)
        for minute, count in history(timeline, start, end):
            self._append(cpu, mem, source.profile, minute, count)
        if self._next_minute is not None and self._next_minute > end:
            count = source.running()
            for minute in range(end, self._next_minute):
                self._append(cpu, mem, source.profile, minute, count)
        cpu.trim(self.keep_minutes)
        mem.trim(self.keep_minutes)

    @staticmethod
    def _append(cpu: MetricSeries, mem: MetricSeries, profile: MetricProfile, minute: int, count: int) -> None:
        values = sample(profile, minute, count)
        if values is None:
            cpu.append(NAN, NAN, NAN, NAN)
            mem.append(NAN, NAN, NAN, NAN)
        else:
            cpu.append(values[0], values[1], values[2], float(count))
            mem.append(values[3], values[4], values[5], float(count))

    def advance(self, now: float) -> None:
        """Add the minutes completed since the last call (at most ``keep_minutes``)."""
        with self.lock:
            self._advance(now)

    def _advance(self, now: float) -> None:
        current = int(now // 60)  # the minute in progress has no datapoint yet
        if self._next_minute is None:
            self._next_minute = current
            return
        if current <= self._next_minute:
            return
        first = max(self._next_minute, current - self.keep_minutes)
        for key, source in self._sources.items():
            if key in self._pending:  # caught up when materialised
                continue
            cpu = self.series.get((*key, "CPUUtilization"))
            mem = self.series.get((*key, "MemoryUtilization"))
            if cpu is None or mem is None:
                cpu = self.series[(*key, "CPUUtilization")] = MetricSeries(first)
                mem = self.series[(*key, "MemoryUtilization")] = MetricSeries(first)
            count = source.running()
            while cpu.end < first:  # a long pause: pad with gaps, then trim
                cpu.append(NAN, NAN, NAN, NAN)
                mem.append(NAN, NAN, NAN, NAN)
            for minute in range(max(first, cpu.end), current):
                self._append(cpu, mem, source.profile, minute, count)
            if len(cpu.avg) > self.keep_minutes + 60:  # amortised trimming
                cpu.trim(self.keep_minutes)
                mem.trim(self.keep_minutes)
        self._next_minute = current

    def query_many(
        self,
        lookups: list[tuple[SeriesKey | None, int, str]],
        start: float,
        end: float,
        descending: bool,
    ) -> list[tuple[list[int], list[float]]]:
        """``query`` for each (key or None, period, statistic) over one window,
        newest first when ``descending``.  The caller holds ``lock``.

        The usual lookup (a one-minute period, a stored column, no gap) is done
        here with the window's bounds computed once; any other goes to
        ``query``.  Equal timestamp lists are one list: never change them in place.
        """
        first_minute = int(start // 60)
        end_minute = math.ceil(end / 60)
        series_of = self.series.get
        stamps: dict[tuple[int, int], list[int]] = {}  # (lo, hi) -> timestamps
        out: list[tuple[list[int], list[float]]] = []
        for key, period, stat in lookups:
            if key is None:
                out.append(([], []))
                continue
            column = _COLUMNS.get(stat) if period == 60 and end > start else None
            series = None if column is None or (self._pending and key[:4] in self._pending) else series_of(key)
            if series is not None:
                base = series.start
                lo = max(base, first_minute)
                hi = min(base + len(series.avg), end_minute)
                if hi <= lo:
                    out.append(([], []))
                    continue
                total = sum(series.avg[lo - base : hi - base])
                if total == total:  # no missing minute (see query)
                    values = getattr(series, column)[lo - base : hi - base]  # type: ignore[arg-type]
                    timestamps = stamps.get((lo, hi))
                    if timestamps is None:
                        minutes = range(hi - 1, lo - 1, -1) if descending else range(lo, hi)
                        timestamps = stamps[(lo, hi)] = [minute * 60 for minute in minutes]
                    if descending:
                        values.reverse()
                    out.append((timestamps, values.tolist()))
                    continue
            timestamps, values_list = self.query(key, start, end, period, stat)
            if descending:
                timestamps.reverse()
                values_list.reverse()
            out.append((timestamps, values_list))
        return out

    def query(
        self,
        key: SeriesKey,
        start: float,
        end: float,
        period: int,
        stat: str,
    ) -> tuple[list[int], list[float]]:
        """Datapoints of one series in [start, end), oldest first.

        Buckets are aligned to the period (start is rounded down to a period
        boundary, as CloudWatch does for recent data).  The caller holds ``lock``.
        """
        if self._pending and key[:4] in self._pending:
            self._materialize(key[:4])
        series = self.series.get(key)
        if series is None or end <= start:
            return [], []
        period = max(60, period - period % 60)
        first_bucket = int(start // period) * period
        base = series.start
        avg = series.avg
        lo = max(base, first_bucket // 60)
        hi = min(base + len(avg), math.ceil(end / 60))
        if hi <= lo:
            return [], []
        if period == 60:
            column = _COLUMNS.get(stat)
            if column is not None:
                # The usual query: one stored column, sliced in C. A sum is NaN
                # exactly when a minute in the range is missing (values are finite).
                total = sum(avg[lo - base : hi - base])
                if total == total:
                    picked = getattr(series, column)[lo - base : hi - base]
                    return list(range(lo * 60, hi * 60, 60)), picked.tolist()
        mx, mn, cnt = series.max, series.min, series.count
        timestamps: list[int] = []
        values: list[float] = []
        if period == 60:
            pick = _single_minute_picker(stat, avg, mx, mn, cnt)
            for minute in range(lo, hi):
                i = minute - base
                a = avg[i]
                if a == a:  # not NaN
                    timestamps.append(minute * 60)
                    values.append(pick(i))
            return timestamps, values
        per = period // 60
        bucket_minute = first_bucket // 60
        while bucket_minute < hi:
            b_lo = max(lo, bucket_minute)
            b_hi = min(hi, bucket_minute + per)
            if b_lo < b_hi:
                value = _aggregate(stat, avg, mx, mn, cnt, b_lo - base, b_hi - base)
                if value is not None:
                    timestamps.append(bucket_minute * 60)
                    values.append(value)
            bucket_minute += per
        return timestamps, values


def history(timeline: list[tuple[int, int]], start: int, end: int) -> Iterator[tuple[int, int]]:
    """(minute, running count) for minutes [start, end) from a count timeline."""
    index = 0
    count = timeline[0][1] if timeline else 0
    for minute in range(start, end):
        while index < len(timeline) and timeline[index][0] <= minute:
            count = timeline[index][1]
            index += 1
        yield minute, count


def _percentile(stat: str) -> float | None:
    if len(stat) > 1 and stat[0] == "p":
        try:
            p = float(stat[1:])
        except ValueError:
            return None
        if 0.0 <= p <= 100.0:
            return p
    return None


def is_valid_stat(stat: str) -> bool:
    return stat in ("Average", "Maximum", "Minimum", "SampleCount", "Sum") or _percentile(stat) is not None


#: Statistics that are one stored column of a minute: the MetricSeries attribute.
_COLUMNS = {"Average": "avg", "Maximum": "max", "Minimum": "min", "SampleCount": "count"}


def _single_minute_picker(
    stat: str, avg: array[float], mx: array[float], mn: array[float], cnt: array[float]
) -> Callable[[int], float]:
    if stat == "Average":
        return avg.__getitem__
    if stat == "Maximum":
        return mx.__getitem__
    if stat == "Minimum":
        return mn.__getitem__
    if stat == "SampleCount":
        return cnt.__getitem__
    if stat == "Sum":
        return lambda i: round(avg[i] * cnt[i], 2)
    p = (_percentile(stat) or 50.0) / 100.0
    # A percentile between the minute's minimum and maximum, through the average.
    return lambda i: round(
        mn[i] + (avg[i] - mn[i]) * p / 0.5 if p <= 0.5 else avg[i] + (mx[i] - avg[i]) * (p - 0.5) / 0.5, 2
    )


def _aggregate(
    stat: str, avg: array[float], mx: array[float], mn: array[float], cnt: array[float], i0: int, i1: int
) -> float | None:
    total = 0.0
    samples = 0.0
    best_max = -math.inf
    best_min = math.inf
    for i in range(i0, i1):
        a = avg[i]
        if a != a:
            continue
        c = cnt[i]
        total += a * c
        samples += c
        if mx[i] > best_max:
            best_max = mx[i]
        if mn[i] < best_min:
            best_min = mn[i]
    if samples == 0:
        return None
    if stat == "Average":
        return round(total / samples, 2)
    if stat == "Maximum":
        return best_max
    if stat == "Minimum":
        return best_min
    if stat == "SampleCount":
        return samples
    if stat == "Sum":
        return round(total, 2)
    p = (_percentile(stat) or 50.0) / 100.0
    mean = total / samples
    if p <= 0.5:
        return round(best_min + (mean - best_min) * p / 0.5, 2)
    return round(mean + (best_max - mean) * (p - 0.5) / 0.5, 2)
