"""Snapshot models: immutability, bounded metric history, the summary numbers."""

from __future__ import annotations

import gc
import weakref
from datetime import datetime, timedelta, timezone

import pytest
from pydantic import ValidationError

from heartbeat_tui.collector.merging import merge_activities
from heartbeat_tui.collector.parse import parse_service
from heartbeat_tui.models import (
    AccountSnapshot,
    AccountStatus,
    DeploymentConfiguration,
    MetricSeries,
    RegionSnapshot,
    ScalingActivity,
    Service,
)

T0 = 1_700_000_040  # a minute boundary


def series(minutes: range, value=lambda m: float(m)) -> MetricSeries:
    return MetricSeries(timestamps=tuple(T0 + 60 * m for m in minutes), values=tuple(value(m) for m in minutes))


def _merge_series(
    old: MetricSeries, stamps: list[int] | tuple[int, ...], values: list[float], oldest: int
) -> MetricSeries:
    return old.merged(stamps, values, oldest=oldest)


def test_models_are_frozen() -> None:
    service = Service(arn="arn:aws:ecs:us-east-1:1:service/c/s", name="s", cluster_arn="c", status="ACTIVE")
    with pytest.raises(ValidationError):
        service.desired_count = 3  # type: ignore[misc]
    assert isinstance(service.deployments, tuple)


def test_latest_is_the_newest_point_not_the_oldest() -> None:
    s = series(range(10))
    assert s.current(T0 + 540) == 9.0
    assert s.latest_timestamp == T0 + 540
    assert s.max_since(T0 + 300) == 9.0
    assert s.since(T0 + 480) == (8.0, 9.0)
    assert MetricSeries().current(T0) is None
    assert MetricSeries().max_since(0) is None


def test_merge_appends_new_minutes_and_overwrites_the_partial_last_one() -> None:
    old = series(range(0, 180), lambda m: 1.0)
    # The re-read overlaps the last two minutes (m=178, 179: new values) and adds three.
    new_ts = [T0 + 60 * m for m in range(178, 183)]
    merged = _merge_series(old, new_ts, [2.0] * 5, oldest=T0 + 60 * 3)
    assert merged.timestamps[0] == T0 + 180  # bounded: older than `oldest` dropped
    assert merged.timestamps[-1] == T0 + 60 * 182
    assert len(merged.timestamps) == 180
    assert tuple(merged.values[-6:]) == (1.0, 2.0, 2.0, 2.0, 2.0, 2.0)
    assert list(merged.timestamps) == sorted(set(merged.timestamps))


def test_merge_without_changes_keeps_the_same_object() -> None:
    old = series(range(0, 10))
    assert _merge_series(old, [], [], oldest=T0) is old
    assert _merge_series(old, [T0 + 540], [9.0], oldest=T0) is old


def test_a_reread_of_the_same_newest_minutes_keeps_the_object_unless_the_window_moved() -> None:
    old = series(range(0, 10))
    tail_ts, tail_values = list(old.timestamps[-3:]), list(old.values[-3:])
    assert _merge_series(old, tail_ts, tail_values, oldest=T0) is old
    changed = _merge_series(old, tail_ts, [*tail_values[:2], 99.0], oldest=T0)
    assert changed is not old and changed.values[-1] == 99.0 and len(changed) == 10
    trimmed = _merge_series(old, tail_ts, tail_values, oldest=T0 + 120)
    assert trimmed is not old and tuple(trimmed.timestamps) == tuple(old.timestamps[2:])


def test_the_first_load_is_bounded_and_private() -> None:
    stamps, values = [T0 + 60 * m for m in range(5)], [float(m) for m in range(5)]
    loaded = _merge_series(MetricSeries(), stamps, values, oldest=T0 + 120)
    assert tuple(loaded.timestamps) == tuple(stamps[2:]) and tuple(loaded.values) == (2.0, 3.0, 4.0)
    assert _merge_series(MetricSeries(), stamps, values, oldest=T0 + 600) == MetricSeries()
    with pytest.raises(AttributeError):
        loaded._values = None  # type: ignore[misc]


def test_merge_keeps_points_the_reread_did_not_return() -> None:
    old = series(range(0, 5))
    merged = _merge_series(old, [T0 + 180, T0 + 300], [30.0, 50.0], oldest=T0)
    assert tuple(merged.timestamps) == tuple(T0 + 60 * m for m in range(6))
    assert tuple(merged.values) == (0.0, 1.0, 2.0, 30.0, 4.0, 50.0)


def test_merge_accepts_unsorted_input() -> None:
    merged = _merge_series(MetricSeries(), [T0 + 120, T0, T0 + 60], [3.0, 1.0, 2.0], oldest=0)
    assert tuple(merged.values) == (1.0, 2.0, 3.0)


def activity(n: int, minutes_ago: int, now: datetime) -> ScalingActivity:
    return ScalingActivity(
        activity_id=f"a{n}",
        resource_id="service/c/s",
        status_code="Successful",
        start_time=now - timedelta(minutes=minutes_ago),
    )


def test_activities_merge_newest_first_and_drop_old_ones() -> None:
    now = datetime(2026, 11, 28, 12, 0, tzinfo=timezone.utc)
    existing = {"service/c/s": (activity(1, 10, now), activity(0, 200, now))}
    merged = merge_activities(existing, [activity(2, 1, now)], now - timedelta(hours=3))
    assert [a.activity_id for a in merged["service/c/s"]] == ["a2", "a1"]


def test_stale_seconds_is_the_age_of_the_oldest_stale_data_shown() -> None:
    now = datetime(2026, 11, 28, 12, 0, tzinfo=timezone.utc)
    ago = lambda seconds: now - timedelta(seconds=seconds)  # noqa: E731
    ok = AccountSnapshot(id="210987654321", status=AccountStatus.OK, last_success_at=now)
    assert ok.stale_seconds(now) == 0

    # One region's metrics failed: ECS and scaling are fresh, metrics 95 s old.
    partial = AccountSnapshot(
        id="210987654321",
        status=AccountStatus.ERROR,
        regions=(
            RegionSnapshot(
                region="us-east-1",
                fetched_at=now,
                metrics_fetched_at=ago(95),
                scaling_fetched_at=now,
                errors=("us-east-1 CloudWatch GetMetricData: throttled",),
                stale=("metrics",),
            ),
            RegionSnapshot(
                region="eu-west-1",
                fetched_at=ago(30),
                metrics_fetched_at=ago(30),
                scaling_fetched_at=ago(30),
                errors=("eu-west-1 ECS ListClusters: throttled",),
                stale=("ecs", "metrics"),
            ),
        ),
    )
    assert partial.stale_seconds(now) == 95

    # Only a warning-free failure of something that was never fetched: nothing to age.
    never = AccountSnapshot(id="210987654321", status=AccountStatus.ERROR)
    assert never.stale_seconds(now) is None
    never_region = AccountSnapshot(
        id="210987654321",
        status=AccountStatus.ERROR,
        regions=(RegionSnapshot(region="us-east-1", errors=("x",), stale=("ecs", "metrics")),),
    )
    assert never_region.stale_seconds(now) is None


def test_current_value_is_none_when_the_newest_point_is_old() -> None:
    s = series(range(10))
    newest = T0 + 540
    assert s.current(newest + 60) == 9.0
    assert s.current(newest + 301) is None  # scaled to zero: no current CPU
    assert MetricSeries().current(newest) is None


def test_metric_series_is_immutable_and_compact() -> None:
    s = series(range(180))
    with pytest.raises(AttributeError):
        s._values = b""  # type: ignore[misc]
    with pytest.raises(TypeError):
        s.values[0] = 1.0  # read-only view
    assert len(s) == 180
    assert s == series(range(180)) and hash(s) == hash(series(range(180)))
    assert s.__sizeof__() < 200  # the points live in two bytes buffers
    with pytest.raises(ValueError):
        MetricSeries([1, 2], [1.0])


def test_buckets_split_time_evenly_and_aggregate_each() -> None:
    s = series(range(10))  # one point a minute, value = minute
    start, end = T0, T0 + 600
    assert s.buckets(start, end, 5, "max") == [1.0, 3.0, 5.0, 7.0, 9.0]
    assert s.buckets(start, end, 5, "mean") == [0.5, 2.5, 4.5, 6.5, 8.5]
    # Points before the start are left out; a bucket without points is None.
    assert s.buckets(T0 + 300, T0 + 900, 3, "max") == [8.0, 9.0, None]  # 200 s each
    assert MetricSeries().buckets(start, end, 2) == [None, None]


def test_services_with_equal_deployment_configurations_share_one_object_not_kept_for_ever() -> None:
    """Most services have the same deployment configuration: one object for all that
    are alive."""

    def item(n: int, minimum: int) -> dict[str, object]:
        return {
            "serviceArn": f"arn:aws:ecs:eu-west-1:1:service/c/s{n}",
            "status": "ACTIVE",
            "deploymentConfiguration": {"minimumHealthyPercent": minimum, "maximumPercent": 200},
        }

    a, b, c = (parse_service(item(n, m), cluster_arn="c", max_events=3) for n, m in enumerate((100, 100, 50)))
    assert a.deployment_configuration is b.deployment_configuration
    assert a.deployment_configuration == DeploymentConfiguration(minimum_healthy_percent=100, maximum_percent=200)
    assert c.deployment_configuration is not a.deployment_configuration
    assert c.deployment_configuration == DeploymentConfiguration(minimum_healthy_percent=50, maximum_percent=200)
    assert Service.model_validate(a.model_dump()).deployment_configuration is a.deployment_configuration  # decoded
    gone = weakref.ref(c.deployment_configuration)
    del c
    gc.collect()
    assert gone() is None
