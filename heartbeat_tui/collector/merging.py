"""Merging a poll's answers into what the last poll kept: bounded, and keeping
the very objects of whatever did not change."""

from __future__ import annotations

import math
from array import array
from datetime import datetime, timezone
from typing import Any, TypeVar

from heartbeat_tui.collector.limits import ACTIVITIES_PER_SERVICE
from heartbeat_tui.models import ScalingActivity, Task

K = TypeVar("K")
V = TypeVar("V")


def keep_equal(old: dict[K, V], new: dict[K, V]) -> dict[K, V]:
    """`new`, but with the old object wherever the value is equal: unchanged data
    keeps its identity from poll to poll."""

    kept = {}
    for key, value in new.items():
        before = old.get(key, value)
        kept[key] = before if before is value or before == value else value
    return kept


def same_objects(a: tuple[Any, ...], b: tuple[Any, ...]) -> bool:
    return len(a) == len(b) and all(x is y for x, y in zip(a, b))


def is_finite_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and math.isfinite(value)


def task_order(task: Task) -> tuple[bool, float]:
    """Running tasks first, then the most recently stopped."""

    moment = task.stopped_at or task.started_at or task.created_at
    return (task.last_status == "STOPPED", -(moment.timestamp() if moment else 0.0))


NO_POINTS = (array("I"), array("d"), True)


def merge_activities(
    existing: dict[str, tuple[ScalingActivity, ...]],
    found: list[ScalingActivity],
    window_start: datetime,
) -> dict[str, tuple[ScalingActivity, ...]]:
    by_resource: dict[str, dict[str, ScalingActivity]] = {
        resource: {a.activity_id: a for a in acts} for resource, acts in existing.items()
    }
    for activity in found:
        by_resource.setdefault(activity.resource_id, {})[activity.activity_id] = activity
    merged: dict[str, tuple[ScalingActivity, ...]] = {}
    epoch = datetime.min.replace(tzinfo=timezone.utc)
    for resource, acts in by_resource.items():
        recent = [a for a in acts.values() if a.start_time is None or a.start_time >= window_start]
        recent.sort(key=lambda a: a.start_time or epoch, reverse=True)
        if recent:
            merged[resource] = tuple(recent[:ACTIVITIES_PER_SERVICE])
    return merged
