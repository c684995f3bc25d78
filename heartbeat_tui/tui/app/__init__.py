"""The HeartBeat dashboard application.

A thin shell over `DashboardController` (heartbeat_tui/controller), which owns
polling, pause, prefetch and access. Data flow (one direction):

    controller poll (a worker, on the app's loop) -> FleetSnapshot
      -> build_view + changes (pure, in a thread) -> SnapshotReady (one message)
      -> on_snapshot_ready: applied in one place, inside batch_update()
      -> `state` (one frozen DashboardState, a reactive the header watches)
      -> the current screen's show_view(); other screens catch up on resume.

Screens post intents (tui/messages.py) that the app turns into controller
calls; the controller reports through the app's `Observer` methods.

One concern a module: shell.py (the app, its keys and the snapshot path),
flash.py (notices), collection.py (when full garbage collections run),
reads.py (detail and logs reads), scheduler.py (the controller's timers as
Textual's) and hangup.py (leaving after a hang-up).
"""

from __future__ import annotations

from heartbeat_tui.controller import FleetSource
from heartbeat_tui.tui.app.hangup import HANG_UP_GRACE_SECONDS, exit_watchdog
from heartbeat_tui.tui.app.scheduler import TextualScheduler
from heartbeat_tui.tui.app.shell import BROWSER_CTRL_C, HeartbeatApp

__all__ = [
    "BROWSER_CTRL_C",
    "HANG_UP_GRACE_SECONDS",
    "FleetSource",
    "HeartbeatApp",
    "TextualScheduler",
    "exit_watchdog",
]
