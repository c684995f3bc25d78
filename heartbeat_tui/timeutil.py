"""Timestamps as AWS sends them (epoch numbers, ISO strings or datetimes) -> UTC."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any


def to_datetime(value: Any) -> datetime | None:
    if value is None:
        return None
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=timezone.utc)
    if isinstance(value, (int, float)):
        return datetime.fromtimestamp(float(value), tz=timezone.utc)
    if isinstance(value, str):
        try:
            parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            try:
                return datetime.fromtimestamp(float(value), tz=timezone.utc)
            except ValueError:
                return None
        return parsed if parsed.tzinfo else parsed.replace(tzinfo=timezone.utc)
    return None


def to_epoch(value: Any) -> int | None:
    if isinstance(value, (int, float)):
        return int(value)
    parsed = to_datetime(value)
    return int(parsed.timestamp()) if parsed else None
