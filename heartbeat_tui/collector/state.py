"""What the collector keeps between polls, per account and per account-region."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from heartbeat_tui.collector.steps import PrioritySemaphore
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
    # Parsed services by ARN with a digest of the raw item they came from, and
    # the attached objects of the last snapshot: unchanged data keeps its object.
    parsed: dict[str, tuple[bytes, Service]] = field(default_factory=dict)
    attached: dict[str, tuple[tuple[Any, ...], Any]] = field(default_factory=dict)


@dataclass
class AccountState:
    config: AccountConfig
    semaphore: PrioritySemaphore
    alias: str | None = None
    alias_known: bool = False
    alias_retry_poll: int = 0
    last_success_at: datetime | None = None
    regions: dict[str, RegionState] = field(default_factory=dict)


__all__ = ["AccountState", "RegionState", "ServiceRef"]
