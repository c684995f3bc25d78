"""The CloudWatch step of a poll: GetMetricData for four series per service
(CPU and memory, Average and Maximum, 60 s), up to 500 queries per call. The
first poll loads the history window; later polls ask only for the minutes
since the newest datapoint held, and merge into a bounded history."""

from __future__ import annotations

import asyncio
import functools
from datetime import datetime, timezone
from typing import Any

import orjson

from heartbeat_tui.aws.services import CLOUDWATCH
from heartbeat_tui.aws.wire import EncodedList
from heartbeat_tui.collector.context import PollContext
from heartbeat_tui.collector.limits import (
    METRIC_MAX_LOOKBACK_SECONDS,
    METRIC_PERIOD,
    METRIC_QUERIES_PER_CALL,
    METRIC_QUIET_LOOKBACK_SECONDS,
    METRIC_REREAD_SECONDS,
    SERIES,
    YIELD_EVERY,
)
from heartbeat_tui.collector.metric_results import Decoded, MetricResults
from heartbeat_tui.collector.parse import cluster_name_from_service_arn, name_from_arn
from heartbeat_tui.collector.state import AccountState, RegionState, ServiceRef
from heartbeat_tui.collector.steps import PRIORITY_HEAVY, Lane, Step, balanced_chunks, gather_all
from heartbeat_tui.models import EMPTY_METRICS, MetricSeries, ServiceMetrics
from heartbeat_tui.series import Plans

GET_METRIC_DATA = Step(Lane.CLOUDWATCH, "GetMetricData")
_ATTRS = tuple(attr for attr, _, _ in SERIES)
# Services a GetMetricData call asks for: each one's every series, at most 500 queries.
_PER_CALL = METRIC_QUERIES_PER_CALL // len(SERIES)


class MetricReader:
    """The CloudWatch part of a poll."""

    __slots__ = ("_ctx",)

    def __init__(self, ctx: PollContext) -> None:
        self._ctx = ctx

    async def fetch(
        self,
        state: AccountState,
        rstate: RegionState,
        region: str,
        refs: dict[str, list[str]],
        now: datetime,
    ) -> None:
        services: list[ServiceRef] = []
        for cluster_arn, arns in refs.items():
            cluster = name_from_arn(cluster_arn)
            for arn in arns:
                services.append(
                    ServiceRef(arn=arn, cluster=cluster_name_from_service_arn(arn) or cluster, name=name_from_arn(arn))
                )
        end = (int(now.timestamp()) // METRIC_PERIOD + 1) * METRIC_PERIOD
        oldest = end - self._ctx.history_seconds
        known = [s for s in services if s.arn in rstate.metrics_asked]
        new = [s for s in services if s.arn not in rstate.metrics_asked]
        groups: list[tuple[list[ServiceRef], int]] = []
        if new:
            groups.append((new, oldest))
        if known:
            # From a little before the newest datapoint held (late points are
            # published after their minute), within a bounded look-back.
            since = min(self._metrics_since(rstate, s.arn) for s in known)
            groups.append((known, max(oldest, end - METRIC_MAX_LOOKBACK_SECONDS, since)))

        cw = await self._ctx.access.client(state.config, CLOUDWATCH, region)
        plans: Plans = {}  # most series merge the same way: planned once (heartbeat_tui.series)
        staged: dict[tuple[str, str], MetricSeries] = {}  # the series an answer changed

        async def fetch_batch(batch: list[ServiceRef], start: int) -> None:
            # Merged as each answer comes, so a poll holds one answer's decoded
            # points at a time, not every answer's until the last one is in.
            decoded = await self._metric_batch(state, cw, batch, start, end)
            for (arn, attr), (new_ts, new_values, ordered) in decoded.items():
                series: MetricSeries = getattr(rstate.metrics.get(arn, EMPTY_METRICS), attr)
                updated = series.merged(new_ts, new_values, oldest=oldest, ordered=ordered, plans=plans)
                if updated is not series:
                    staged[(arn, attr)] = updated

        jobs = []
        for group, start in groups:
            # Batches of services, each asked for its every series (`_PER_CALL`
            # services make at most 500 queries): as many calls as batches of 500
            # queries, with no (service, series) pair made per query for the poll.
            for batch in balanced_chunks(group, _PER_CALL):
                jobs.append(fetch_batch(batch, start))
        await gather_all(*jobs)

        # Commit only when every batch succeeded: a failure keeps the old history.
        merged: dict[str, ServiceMetrics] = {}
        newest: dict[str, int | None] = {}
        for n, ref in enumerate(services):
            if n and n % YIELD_EVERY == 0:
                # The collector shares the UI's event loop: never hold it for long.
                await asyncio.sleep(0)
            arn = ref.arn
            previous = rstate.metrics.get(arn, EMPTY_METRICS)
            update = {}
            for attr in _ATTRS:
                before: MetricSeries = getattr(previous, attr)
                # An answered series is already in the window; any other moves with it.
                series = staged.get((arn, attr))
                if series is None:
                    series = before.windowed(oldest, plans)
                if series is not before:
                    update[attr] = series
            if update:
                merged[arn] = now_held = previous.model_copy(update=update)
                newest[arn] = now_held.newest_timestamp
            else:
                merged[arn] = previous
                held = rstate.metrics_newest.get(arn, -1)  # as the last poll found it (-1: not held)
                newest[arn] = previous.newest_timestamp if held == -1 else held
        rstate.metrics = merged
        rstate.metrics_newest = newest
        rstate.metrics_asked = {ref.arn: end for ref in services}
        rstate.metrics_fetched_at = now

    @staticmethod
    def _metrics_since(rstate: RegionState, arn: str) -> int:
        newest = rstate.metrics_newest.get(arn)
        if newest is not None:
            return newest - METRIC_REREAD_SECONDS
        return rstate.metrics_asked[arn] - METRIC_QUIET_LOOKBACK_SECONDS

    async def _metric_batch(
        self,
        state: AccountState,
        cw: Any,
        batch: list[ServiceRef],
        start: int,
        end: int,
    ) -> Decoded:

        async def get_metric_data(**kwargs: Any) -> Any:
            # The queries are built when the call is made (inside the account's
            # bound on calls in flight) and dropped when it returns: a poll of
            # 40,000 services has 160,000 of them, a few hundred MB if every
            # batch held its own from the start of the poll.
            return await self._ctx.access.call(cw.get_metric_data, MetricDataQueries=metric_queries(batch), **kwargs)

        decoded = MetricResults(BatchIds(batch))
        async for response in self._ctx.pages(
            state,
            GET_METRIC_DATA,
            get_metric_data,
            token_key="NextToken",
            priority=PRIORITY_HEAVY,
            StartTime=datetime.fromtimestamp(start, tz=timezone.utc),
            EndTime=datetime.fromtimestamp(end, tz=timezone.utc),
            ScanBy="TimestampAscending",
        ):
            decoded.add(response.get("MetricDataResults") or [])
        return decoded.series


class BatchIds:
    """The ids `metric_queries` gives a batch of services, `q0`, `q1`, ..., read
    back without a dict per batch (every batch of a poll is under way at once,
    160,000 ids at 40,000 services): one table of the 500 ids serves them all.
    Query `n` is series `n % len(SERIES)` of service `n // len(SERIES)`."""

    __slots__ = ("_batch",)

    def __init__(self, batch: list[ServiceRef]) -> None:
        self._batch = batch

    def get(self, query_id: str, /) -> tuple[str, str] | None:
        n = _QUERY_NUMBERS.get(query_id)
        if n is None or n >= len(self._batch) * len(SERIES):
            return None
        service, series = divmod(n, len(SERIES))
        return self._batch[service].arn, _ATTRS[series]


# "q0" ... "q499" -> 0 ... 499: one table for every batch.
_QUERY_NUMBERS = {f"q{n}": n for n in range(METRIC_QUERIES_PER_CALL)}


def metric_queries(batch: list[ServiceRef]) -> EncodedList:
    """The GetMetricData queries of a batch of services, every series of each
    (`SERIES`, in order), ids `q0`, `q1`, ... in that order, as the JSON
    botocore would send (`aws.wire.SplicingSerializer` splices it in).

    Written as text: a warm poll sends 160,000 queries at 40,000 services, and
    building dicts for orjson (then botocore's body around them) was 8 % of it.
    Every value is JSON-encoded by orjson; the rest is fixed text."""

    parts = []
    n = 0
    for ref in batch:
        dims = orjson.dumps(
            [{"Name": "ClusterName", "Value": ref.cluster}, {"Name": "ServiceName", "Value": ref.name}]
        ).decode()
        for _, metric, stat in SERIES:
            parts.append(
                f'{{"Id":"q{n}","MetricStat":{{"Metric":{{"Namespace":"AWS/ECS","MetricName":{_json(metric)},'
                f'"Dimensions":{dims}}},"Period":{METRIC_PERIOD},"Stat":{_json(stat)}}}}}'
            )
            n += 1
    return EncodedList(f"[{','.join(parts)}]".encode())


@functools.cache
def _json(text: str) -> str:
    return orjson.dumps(text).decode()


__all__ = ["BatchIds", "MetricReader", "metric_queries"]
