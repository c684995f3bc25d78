"""Typed messages between the poll worker, the app and its screens: data going
down (a snapshot, a detail) and the operator's intents going up."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from textual.message import Message

from heartbeat_tui.models import FleetSnapshot, LogBatch, LogQuery, ServiceDetail, Task
from heartbeat_tui.tui.view import Change, FleetView, ServiceRow


@dataclass
class SnapshotReady(Message):
    """One poll's snapshot and its view, built once and applied in one place."""

    snapshot: FleetSnapshot
    view: FleetView
    changes: list[Change] = field(default_factory=list)
    # What `prepared_for` (a screen's `view_planner`) worked out for the view, off the loop.
    prepared: object = None
    prepared_for: object = None


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


@dataclass
class LogsReady(Message):
    """Lines for a logs screen's read `request` (or its failure: `error`)."""

    request: int
    batch: LogBatch | None
    error: str | None = None


# -- intents: what screens ask of the app (which turns them into controller calls) ------------


class RefreshRequested(Message):
    """Poll now, every service list re-read whole (if the access policy allows it)."""


class PauseRequested(Message):
    """Pause the refresh, or resume it."""


class ProblemsOnlyRequested(Message):
    """Show only what has a problem in every table, or everything again (ctrl+z)."""


class AdminRequested(Message):
    """Open user administration (if the access policy allows it)."""


class LogoutRequested(Message):
    """End the session, here and in the users store."""


@dataclass
class LoginRequested(Message):
    """A login typed on the login screen. The password is never in the message's repr."""

    username: str
    password: str = field(repr=False)


@dataclass
class DetailRequested(Message):
    """Fetch one service's tasks and scaling policies; the answer comes back as `DetailReady`."""

    service_arn: str
    account_id: str
    region: str
    cluster_arn: str
    service_name: str


@dataclass
class AdminCall(Message):
    """Run `work(auth, session)` with the current session; the outcome is set on `reply`.

    The app deals with an ended, refused or unreachable session itself (then `reply`
    raises `Handled`); input errors go back to the screen that asked."""

    work: Callable[[Any, Any], Awaitable[Any]]
    reply: asyncio.Future[Any] = field(repr=False)


@dataclass
class LogsRequested(Message):
    """Open the CloudWatch Logs of a service (`task_id` None) or of one of its tasks."""

    account_id: str
    region: str
    cluster_arn: str
    service_name: str
    title: str
    task_id: str | None = None
    task_definition: str | None = None

    @classmethod
    def of(cls, row: ServiceRow, task: Task | None = None) -> LogsRequested:
        """The logs of the service on `row`, or of one of its tasks: the one way the
        fleet table and the detail screen ask."""

        return cls(
            account_id=row.account_id,
            region=row.region,
            cluster_arn=row.cluster_arn,
            service_name=row.name,
            title=f"{row.cluster} · {row.account} · {row.region}",
            task_id=task.id if task is not None else None,
            task_definition=(task.task_definition if task is not None else None) or row.service.task_definition,
        )


@dataclass
class LogsWanted(Message):
    """A logs screen's read; the answer comes back as `LogsReady` with the same `request`."""

    request: int
    query: LogQuery
