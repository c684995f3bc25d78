"""Typed messages between the poll worker, the app and its screens."""

from __future__ import annotations

from dataclasses import dataclass, field

from textual.message import Message

from heartbeat_tui.models import FleetSnapshot, ServiceDetail
from heartbeat_tui.tui.view import Change, FleetView


@dataclass
class SnapshotReady(Message):
    """One poll's snapshot and its view, built once and applied in one place."""

    snapshot: FleetSnapshot
    view: FleetView
    changes: list[Change] = field(default_factory=list)


@dataclass
class ViewUpdated(Message):
    """Posted to a screen when a new FleetView has been applied app-wide."""

    view: FleetView


@dataclass
class DetailReady(Message):
    """On-demand tasks and policies of one service arrived (or failed: `error`)."""

    service_arn: str
    detail: ServiceDetail | None
    error: str | None = None
