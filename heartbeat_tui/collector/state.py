"""What the collector keeps between polls, per account and per account-region."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from heartbeat_tui.collector.steps import Lane, PrioritySemaphore
from heartbeat_tui.config import AccountConfig
from heartbeat_tui.models import Cluster, ScalableTarget, ScalingActivity, Service, ServiceMetrics


@dataclass(frozen=True)
class ServiceRef:
    arn: str
    cluster: str
    name: str


@dataclass
class RegionState:
    clusters: tuple[Cluster, ...] = ()
    ecs_fetched_at: datetime | None = None
    metrics: dict[str, ServiceMetrics] = field(default_factory=dict)
    metrics_fetched_at: datetime | None = None
    # Per service: the newest datapoint held (epoch seconds; None: none yet) and
    # the end of the last window asked for.
    metrics_newest: dict[str, int | None] = field(default_factory=dict)
    metrics_asked: dict[str, int] = field(default_factory=dict)
    targets: dict[str, ScalableTarget] = field(default_factory=dict)
    activities: dict[str, tuple[ScalingActivity, ...]] = field(default_factory=dict)
    scaling_fetched_at: datetime | None = None
    # Services by ARN with the fingerprint of the raw item they came from (once a poll
    # is done, the snapshot's object, metrics attached: `Collector._attach`), and
    # the last snapshot's clusters with their parts: unchanged data keeps its object.
    parsed: dict[str, tuple[int, Service]] = field(default_factory=dict)
    # DescribeServices answers read whole, by (cluster ARN, *service ARNs asked): the
    # digest of the answer's body and the ARNs it gave, in its order, each in
    # `parsed`. The last poll's (`answers`) are recognised before they are
    # decoded; this poll's (`answers_next`) take their place once it is done.
    answers: dict[tuple[str, ...], tuple[int, tuple[str, ...]]] = field(default_factory=dict)
    answers_next: dict[tuple[str, ...], tuple[int, tuple[str, ...]]] = field(default_factory=dict)
    parsed_targets: dict[str, tuple[int, ScalableTarget]] = field(default_factory=dict)
    attached: dict[str, tuple[tuple[Any, ...], Any]] = field(default_factory=dict)
    # When each cluster's service list (in `clusters`) was last read whole with
    # ListServices; see `Inventory`.
    services_listed_at: dict[str, datetime] = field(default_factory=dict)


@dataclass
class Inventory:
    """An account-region's clusters and the services to describe in each.

    A cluster's service list is read whole (ListServices) on the first poll,
    when its active-services count went up, and at least every
    `SERVICES_RELIST_SECONDS`; otherwise a poll describes the last poll's
    ACTIVE services again (`reused`). That list is complete when, once
    described, its ACTIVE services are as many as DescribeClusters counts:
    each of them is active, and no other can be. A deletion is seen in the
    description (no longer ACTIVE: dropped, as a listing no longer gives it);
    a creation raises the count; both at once leave an ACTIVE service short,
    and the cluster is listed again in the same poll (or, when they happen
    while the poll runs, in the next: its describe and its count are read
    side by side).
    """

    clusters: list[Cluster]
    services: dict[str, list[str]]  # cluster ARN -> service ARNs
    listed_at: dict[str, datetime]  # cluster ARN -> when its list was read whole
    reused: set[str] = field(default_factory=set)  # cluster ARNs whose list is the last poll's


@dataclass
class AccountState:
    config: AccountConfig
    max_in_flight: int
    alias: str | None = None
    alias_known: bool = False
    alias_retry_poll: int = 0
    last_success_at: datetime | None = None
    regions: dict[str, RegionState] = field(default_factory=dict)
    lanes: dict[Lane, PrioritySemaphore] = field(default_factory=dict)

    def lane(self, lane: Lane) -> PrioritySemaphore:
        """The bound on this account's calls in flight to one AWS service (see `Lane`)."""

        bound = self.lanes.get(lane)
        if bound is None:
            bound = self.lanes[lane] = PrioritySemaphore(self.max_in_flight)
        return bound


__all__ = ["AccountState", "Inventory", "RegionState", "ServiceRef"]
