"""Following a log: what is new in each read, and how far back a read goes.

Plain data and no I/O, shared by the logs screen and `heartbeat logs --follow`
(the reads themselves are the collector's: collector/cloudwatch_logs.py).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta

from heartbeat_tui.errors import UsageError
from heartbeat_tui.models import LogLine

LOG_LINES_KEPT = 5_000  # the newest lines of a read, and of a screen; older ones are dropped (and said to be)
# CloudWatch Logs may take a few seconds to make a line searchable: each follow read
# starts this much before the newest line seen, and lines already shown are skipped.
FOLLOW_OVERLAP = timedelta(seconds=30)


class LogFollower:
    """What a follow read adds: each read starts a little before the newest line
    seen (`FOLLOW_OVERLAP`: late lines are not missed) and the lines already
    shown are skipped by event id. Plain data, no I/O: the TUI and the CLI share it."""

    def __init__(self, start: datetime) -> None:
        self._newest = start
        self._seen: dict[str, datetime] = {}

    @property
    def next_start(self) -> datetime:
        return self._newest - FOLLOW_OVERLAP if self._seen else self._newest

    def new_lines(self, lines: Iterable[LogLine]) -> list[LogLine]:
        fresh = [line for line in lines if line.event_id not in self._seen]
        for line in fresh:
            self._seen[line.event_id] = line.timestamp
            if line.timestamp > self._newest:
                self._newest = line.timestamp
        horizon = self._newest - FOLLOW_OVERLAP - FOLLOW_OVERLAP
        if len(self._seen) > 2 * LOG_LINES_KEPT:
            self._seen = {k: t for k, t in self._seen.items() if t >= horizon}
        return fresh


def parse_since(text: str) -> timedelta:
    """`90s`, `15m`, `2h`, `1d` -> a positive duration, at most 14 days (a `UsageError` otherwise)."""

    units = {"s": 1, "m": 60, "h": 3600, "d": 86400}
    value, unit = text[:-1], text[-1:].lower()
    if unit not in units or not value.isdigit() or int(value) <= 0:
        raise UsageError(f"--since {text!r}: give a duration such as 90s, 15m, 2h or 1d")
    seconds = int(value) * units[unit]
    if seconds > 14 * 86400:
        raise UsageError(f"--since {text!r}: at most 14d")
    return timedelta(seconds=seconds)


__all__ = ["FOLLOW_OVERLAP", "LOG_LINES_KEPT", "LogFollower", "parse_since"]
