"""One rule for a metric's current value (models: `MetricSeries.current` as of
`metrics_as_of`), the same in the dashboard's rows, the demo and the export."""

from __future__ import annotations

from datetime import timedelta

from heartbeat_tui.demo import summarise
from heartbeat_tui.export import snapshot_dict
from heartbeat_tui.models import (
    CURRENT_MAX_AGE_SECONDS,
    AccountSnapshot,
    Cluster,
    FleetSnapshot,
    MetricSeries,
    RegionSnapshot,
    ServiceMetrics,
)
from heartbeat_tui.tui.view import build_view
from tests.support.factory import FIXED_NOW, make_service

ACCOUNT, REGION, CLUSTER = "210987654321", "us-east-1", "c-1"


def _snapshot(zero_ended_minutes_ago: int, *, fetched_at_offset: timedelta = timedelta(0)) -> FleetSnapshot:
    end = int(FIXED_NOW.timestamp())
    fresh = make_service(ACCOUNT, REGION, CLUSTER, 0, end=end, minutes=30)
    fresh = fresh.model_copy(update={"metrics": ServiceMetrics(cpu_average=MetricSeries([end - 60], [42.0]))})
    zero_end = end - zero_ended_minutes_ago * 60
    zero = make_service(ACCOUNT, REGION, CLUSTER, 1, end=end, minutes=30)
    zero = zero.model_copy(
        update={
            "desired_count": 0,
            "running_count": 0,
            # A service scaled to zero: its history ends where its tasks stopped, hot.
            "metrics": ServiceMetrics(cpu_average=MetricSeries([zero_end - 60, zero_end], [97.0, 95.0])),
        }
    )
    cluster = Cluster(arn=f"arn:aws:ecs:{REGION}:{ACCOUNT}:cluster/{CLUSTER}", name=CLUSTER, status="ACTIVE")
    cluster = cluster.model_copy(update={"services": (fresh, zero), "active_services_count": 2})
    region = RegionSnapshot(region=REGION, clusters=(cluster,), metrics_fetched_at=FIXED_NOW + fetched_at_offset)
    return FleetSnapshot(generated_at=FIXED_NOW, accounts=(AccountSnapshot(id=ACCOUNT, regions=(region,)),))


def _current(snapshot: FleetSnapshot) -> tuple[dict[str, float | None], dict[str, float | None]]:
    view = {row.name: row.cpu for row in build_view(snapshot).services.values()}
    exported = {
        s["name"]: s["cpu"]["latest"]
        for account in snapshot_dict(snapshot)["accounts"]
        for region in account["regions"]
        for cluster in region["clusters"]
        for s in cluster["services"]
    }
    return view, exported


def test_a_scaled_to_zero_services_old_point_is_current_nowhere() -> None:
    view, exported = _current(_snapshot(zero_ended_minutes_ago=60))
    fresh, zero = sorted(view)
    assert view == exported  # the dashboard and the export agree, service by service
    assert view[fresh] == 42.0
    assert view[zero] is None  # its last point (95 %) is an hour old: not "current"
    assert "0 CPU >= 90%" in summarise(_snapshot(zero_ended_minutes_ago=60))  # nor hot in the demo's summary


def test_a_point_within_the_age_limit_is_current_everywhere() -> None:
    minutes = CURRENT_MAX_AGE_SECONDS // 60 - 1
    view, exported = _current(_snapshot(zero_ended_minutes_ago=minutes))
    assert view == exported
    assert sorted(v for v in view.values() if v is not None) == [42.0, 95.0]
    assert "1 CPU >= 90%" in summarise(_snapshot(zero_ended_minutes_ago=minutes))


def test_current_is_as_of_the_metrics_fetch_not_the_snapshot() -> None:
    # Metrics last fetched 50 minutes before this snapshot (the fetch failing
    # since): their values are shown, stale, as of that fetch, in both places.
    view, exported = _current(_snapshot(zero_ended_minutes_ago=52, fetched_at_offset=timedelta(minutes=-50)))
    assert view == exported
    assert view[sorted(view)[1]] == 95.0  # two minutes old at the fetch: current then
