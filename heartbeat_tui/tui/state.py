"""The dashboard's one state, and what screens and widgets may ask of the app.

`DashboardState` is replaced whole (never mutated) and held by the app as a
Textual reactive: the header and screens watch it instead of being refreshed
by hand. `DashboardHost` is the narrow, typed face of the app that screens and
widgets see, so they never import `tui/app` (no import cycle in `tui/`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol

from rich.style import Style

from heartbeat_tui.controller.dashboard import PollStatus
from heartbeat_tui.models import FleetSnapshot
from heartbeat_tui.tui.styles import Status
from heartbeat_tui.tui.view import FleetView, Thresholds


# eq=False: compared by identity, so setting a new state never walks a fleet-sized view.
@dataclass(frozen=True, eq=False)
class DashboardState:
    snapshot: FleetSnapshot | None = None
    view: FleetView | None = None
    poll: PollStatus = field(default_factory=PollStatus)
    user: str | None = None  # "name (role)" inside a session
    polls_applied: int = 0
    problems_only: bool = False  # ctrl+z: every table shows only what has a problem


class DashboardHost(Protocol):
    """The app as its screens and widgets see it: state and presentation settings, no behaviour."""

    @property
    def state(self) -> DashboardState: ...

    thresholds: Thresholds
    history_seconds: int
    frozen_time: bool
    in_browser: bool  # `heartbeat web`: a browser's keys (help says how to paste)
    monotonic: Callable[[], float]

    def retire(self, *replaced: object) -> None:
        """Free what a screen replaced (a view it showed) off the UI's loop."""
        ...

    def status_style(self, status: Status | str) -> Style:
        """A status's style in the current theme (`tui/styles.py` says which status a value has)."""
        ...
