"""Reads a screen asks for (a service's detail, its logs), run as workers, answered by message.

Screens never reach the controller: they post an intent (tui/messages.py), the
app reads in a worker, and the answer goes back to the screen that still waits
for it. The screens are imported on first use (as they are opened): a session
that never opens one never loads them (their plots, tabs and logs widgets),
2 MB per browser tab.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import datetime

from heartbeat_tui.controller import DashboardController
from heartbeat_tui.errors import HeartbeatError
from heartbeat_tui.tui.messages import DetailReady, DetailRequested, LogsReady, LogsRequested, LogsWanted
from heartbeat_tui.tui.textual_private import CrashReportingApp


class ServiceReads(CrashReportingApp):
    """The detail and logs reads of the app (a base of `HeartbeatApp`)."""

    # How often a following logs screen reads what is new (seconds).
    logs_follow_seconds: float = 5.0

    controller: DashboardController
    clock: Callable[[], datetime]

    def on_detail_requested(self, message: DetailRequested) -> None:
        self.run_worker(self._fetch_detail(message), group="detail", exclusive=True, exit_on_error=False)

    async def _fetch_detail(self, request: DetailRequested) -> None:
        from heartbeat_tui.tui.screens.detail import ServiceDetailScreen

        try:
            detail = await self.controller.fetch_service_detail(
                request.account_id, request.region, request.cluster_arn, request.service_name
            )
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # shown on the detail screen, `t` retries
            reply = DetailReady(request.service_arn, None, f"{type(exc).__name__}: {exc}")
        else:
            reply = DetailReady(request.service_arn, detail)
        for screen in self.screen_stack:
            if isinstance(screen, ServiceDetailScreen) and screen.service_arn == request.service_arn:
                screen.post_message(reply)

    def on_logs_requested(self, message: LogsRequested) -> None:
        from heartbeat_tui.tui.screens.logs import LogsScreen

        message.stop()
        self.push_screen(LogsScreen(message, clock=self.clock, follow_seconds=self.logs_follow_seconds))

    def on_logs_wanted(self, message: LogsWanted) -> None:
        self.run_worker(self._fetch_logs(message), group="logs", exit_on_error=False)

    async def _fetch_logs(self, request: LogsWanted) -> None:
        from heartbeat_tui.tui.screens.logs import LogsScreen

        try:
            batch = await self.controller.fetch_logs(request.query)
        except asyncio.CancelledError:
            raise
        except HeartbeatError as exc:  # an unknown container, a service gone: the message says it
            reply = LogsReady(request.request, None, str(exc))
        except Exception as exc:  # shown on the logs screen; the next read tries again
            reply = LogsReady(request.request, None, f"{type(exc).__name__}: {exc}")
        else:
            reply = LogsReady(request.request, batch)
        for screen in self.screen_stack:
            if isinstance(screen, LogsScreen) and screen.awaiting == request.request:
                screen.post_message(reply)
