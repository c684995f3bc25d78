"""What a worker sends its parent: the poll's accounts, compactly.

Two savings over pickling the snapshot as it is, both measured on the
2,400-service benchmark fleet (BENCHMARKS.md):

* a `MetricSeries` goes as its two arrays' bytes, not as lists of numbers, and
  a timeline (the minutes many series share) once per message;
* a cluster or service that is the very object the worker sent last time goes
  as `Same(arn)`, and the parent puts back the object it already holds: the
  dashboard's `old is new` holds across processes as it does in one, and an
  unchanged fleet costs neither side any pickling.
"""

from __future__ import annotations

import copyreg
import io
import pickle
from array import array
from collections.abc import Collection
from dataclasses import dataclass
from typing import Any

from heartbeat_tui.models import AccountSnapshot, Cluster, MetricSeries, RegionSnapshot, Service


@dataclass(frozen=True, slots=True)
class Same:
    """Stands for the object of this ARN the parent was sent last."""

    arn: str


def _series(ts_format: str, ts: bytes, vs_format: str, vs: bytes) -> MetricSeries:
    timestamps, values = array(ts_format), array(vs_format)
    timestamps.frombytes(ts)
    values.frombytes(vs)
    return MetricSeries(timestamps, values)


def dumps(message: Any) -> bytes:
    """`message` pickled with series as bytes; `pickle.loads` (Connection.recv) reads it."""

    timelines: dict[int, bytes] = {}

    def reduce_series(series: MetricSeries) -> tuple[Any, ...]:
        ts, vs = series.timestamps, series.values
        # One bytes object per timeline: pickle's memo writes it once, then refers to it.
        stamps = timelines.get(series.timeline_token)
        if stamps is None:
            stamps = timelines[series.timeline_token] = ts.tobytes()
        return _series, (ts.format, stamps, vs.format, vs.tobytes())

    buffer = io.BytesIO()
    pickler = pickle.Pickler(buffer, protocol=pickle.HIGHEST_PROTOCOL)
    pickler.dispatch_table = {**copyreg.dispatch_table, MetricSeries: reduce_series}
    pickler.dump(message)
    return buffer.getvalue()


class Sender:
    """The worker's side: remembers what it sent, to send only what changed."""

    def __init__(self) -> None:
        self._sent: dict[str, dict[str, Cluster | Service]] = {}
        self.last_poll: int | None = None

    def start(self, poll: int, acked: int | None) -> None:
        """Poll `poll` begins; the parent merged poll `acked` last. Unless that is the
        last one sent (a reply was dropped: a cancelled poll), everything goes whole."""

        if acked is None or acked != self.last_poll:
            self._sent.clear()
        self.last_poll = poll

    def forget(self, account_ids: Collection[str]) -> None:
        """The parent dropped these accounts: the next time one is polled it goes whole."""

        for account_id in account_ids:
            self._sent.pop(account_id, None)

    def pack(self, account: AccountSnapshot) -> AccountSnapshot:
        before = self._sent.get(account.id, {})
        sent: dict[str, Cluster | Service] = {}
        regions = []
        for region in account.regions:
            clusters: list[Any] = []
            for cluster in region.clusters:
                sent[cluster.arn] = cluster
                for service in cluster.services:
                    sent[service.arn] = service
                if before.get(cluster.arn) is cluster:
                    clusters.append(Same(cluster.arn))
                    continue
                services = tuple(Same(s.arn) if before.get(s.arn) is s else s for s in cluster.services)
                clusters.append(cluster.model_copy(update={"services": services}))
            regions.append(region.model_copy(update={"clusters": tuple(clusters)}))
        self._sent[account.id] = sent
        return account.model_copy(update={"regions": tuple(regions)})


def unpack(account: AccountSnapshot, last: AccountSnapshot | None) -> AccountSnapshot:
    """The parent's side: `account` with each `Same` replaced by the object of `last` it stands for."""

    held: dict[str, Any] = {}
    if last is not None:
        for region in last.regions:
            for cluster in region.clusters:
                held[cluster.arn] = cluster
                for service in cluster.services:
                    held[service.arn] = service
    regions: list[RegionSnapshot] = []
    for region in account.regions:
        clusters = []
        for cluster in region.clusters:
            if isinstance(cluster, Same):
                clusters.append(held[cluster.arn])
                continue
            services = tuple(held[s.arn] if isinstance(s, Same) else s for s in cluster.services)
            clusters.append(cluster.model_copy(update={"services": services}))
        regions.append(region.model_copy(update={"clusters": tuple(clusters)}))
    return account.model_copy(update={"regions": tuple(regions)})
