"""The dashboard's controller: polling, pause, prefetch and access, in plain asyncio.

The Textual app is a shell over it: it turns the operator's intents into calls
here and renders the state this emits. Nothing here imports Textual or Rich, so
the same controller runs over a local Collector or a remote snapshot service.
"""

from heartbeat_tui.controller.access import OPEN, AccessPolicy, OpenPolicy, Refused
from heartbeat_tui.controller.dashboard import DashboardController, PollStatus
from heartbeat_tui.controller.scheduler import AsyncioScheduler, Cancellable, ManualScheduler, Scheduler
from heartbeat_tui.controller.source import FleetSource, ScopedSource, scoped

__all__ = [
    "OPEN",
    "AccessPolicy",
    "AsyncioScheduler",
    "Cancellable",
    "DashboardController",
    "FleetSource",
    "ManualScheduler",
    "OpenPolicy",
    "PollStatus",
    "Refused",
    "Scheduler",
    "ScopedSource",
    "scoped",
]
