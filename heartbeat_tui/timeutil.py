"""Timestamps as AWS sends them (epoch numbers, ISO strings or datetimes) -> UTC."""

from __future__ import annotations

import re
from datetime import datetime, timezone
from typing import Any


def to_datetime(value: Any) -> datetime | None:
    if type(value) is float or type(value) is int:  # the wire's form (aws.wire.fast_timestamps): first
        try:
            return datetime.fromtimestamp(value, _UTC)
        except (OverflowError, OSError, ValueError):
            return None
    if value is None:
        return None
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=timezone.utc)
    if isinstance(value, (int, float)):
        try:
            return datetime.fromtimestamp(float(value), tz=timezone.utc)
        except (OverflowError, OSError, ValueError):
            return None
    if isinstance(value, str):
        try:
            parsed = datetime.fromisoformat(_normalise_iso(value))
        except ValueError:
            try:
                return datetime.fromtimestamp(float(value), tz=timezone.utc)
            except (OverflowError, OSError, ValueError):
                return None
        return parsed if parsed.tzinfo else parsed.replace(tzinfo=timezone.utc)
    return None


_UTC = timezone.utc
_FRACTION = re.compile(r"\.(\d+)")


def _normalise_iso(value: str) -> str:
    """ISO 8601 as Python 3.10's fromisoformat accepts it: "+00:00" for "Z" and
    exactly six fractional digits (AWS sends one to nine)."""

    value = value.strip().replace("Z", "+00:00").replace("z", "+00:00")
    return _FRACTION.sub(lambda m: "." + (m.group(1) + "000000")[:6], value, count=1)


def to_epoch(value: Any) -> int | None:
    if isinstance(value, (int, float)):
        return int(value)
    parsed = to_datetime(value)
    return int(parsed.timestamp()) if parsed else None
