"""What the dashboard told the operator: the flash line's latest notice and the
history `n` opens. Plain data, kept apart from the widgets that show it.

Every notice arrives through `HeartbeatApp.notify` (names, AWS errors and
users' input are in them), already made visible there: no markup, control
characters as escapes.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

Severity = Literal["information", "warning", "error"]
HISTORY_LIMIT = 500


@dataclass(frozen=True)
class Notice:
    at: datetime
    severity: Severity
    text: str
    title: str = ""

    @property
    def line(self) -> str:
        """One line, the title first ("Poll failed: ..."); newlines become " · "."""
        text = " · ".join(part for part in self.text.splitlines() if part.strip())
        return f"{self.title}: {text}" if self.title else text


@dataclass(frozen=True)
class Flash:
    """What the flash line shows: the newest notice, how many others came in the
    same burst (shown while it was up), and the worst severity among them."""

    notice: Notice
    more: int = 0
    worst: Severity = "information"


_RANK: dict[str, int] = {"information": 0, "warning": 1, "error": 2}


def worse(a: Severity, b: Severity) -> Severity:
    return a if _RANK[a] >= _RANK[b] else b


class NoticeLog:
    """The last `limit` notices, oldest dropped first."""

    def __init__(self, limit: int = HISTORY_LIMIT) -> None:
        self._notices: deque[Notice] = deque(maxlen=limit)

    def add(self, notice: Notice) -> None:
        self._notices.append(notice)

    def newest_first(self) -> Iterator[Notice]:
        return reversed(self._notices)

    def __len__(self) -> int:
        return len(self._notices)
