"""The one-line header: who is signed in, last poll, next poll, accounts in trouble.

It watches the app's one `DashboardState`: nothing refreshes it by hand."""

from __future__ import annotations

import math
from typing import cast

from rich.text import Text
from textual.reactive import reactive
from textual.widget import Widget

from heartbeat_tui.tui.state import DashboardHost, DashboardState
from heartbeat_tui.tui.styles import Status, severity_status
from heartbeat_tui.tui.text import visible
from heartbeat_tui.tui.view import age_text


class HeaderBar(Widget):
    """Re-rendered when the state changes, and once a second for the countdown (one line: cheap)."""

    DEFAULT_CSS = """
    HeaderBar {
        dock: top;
        height: 1;
        background: $panel;
        color: $foreground;
    }
    """

    state: reactive[DashboardState] = reactive(DashboardState, init=False)

    def __init__(self, context: str = "", *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.context = context

    @property
    def host(self) -> DashboardHost:
        return cast(DashboardHost, self.app)

    def on_mount(self) -> None:
        self.set_reactive(HeaderBar.state, self.host.state)
        self.watch(self.app, "state", self._state_changed, init=False)
        self.set_interval(1.0, self.refresh, name="header-clock")

    def _state_changed(self, state: DashboardState) -> None:
        self.state = state

    def render(self) -> Text:
        app = self.host
        state = self.state
        poll = state.poll
        out = Text(no_wrap=True, overflow="ellipsis")
        out.append(" HeartBeat ", style="bold")
        if state.user:
            out.append(f"· {visible(state.user)} ", style="bold")
        if self.context:
            out.append(f"· {visible(self.context)} ")
        out.append("│ ", style="dim")
        # Trouble first: on a narrow terminal the poll times are what gets cut.
        view = state.view
        if view is not None:
            errors, stale = view.error_accounts, view.stale_accounts
            if not errors and not stale:
                out.append(f"{len(view.accounts)} accounts ok", style=app.status_style(Status.OK))
            if errors:
                names = ", ".join(visible(a.name) for a in errors[:3]) + ("…" if len(errors) > 3 else "")
                out.append(f"{len(errors)} in error: {names}", style=app.status_style(Status.CRITICAL))
            if stale:
                if errors:
                    out.append(" · ")
                oldest = max((a.stale_seconds or 0) for a in stale)
                out.append(f"{len(stale)} stale ({age_text(oldest)})", style=app.status_style(Status.WARNING))
            if view.worst is not None:
                # The worst thing anywhere (severity.py), as "payments-prod: api rollout FAILED".
                account, what, severity = view.worst
                style = app.status_style(severity_status(severity) or Status.OK)
                out.append(" · ")
                out.append(f"{visible(account)}: {visible(what)}", style=style)
            if state.problems_only:
                out.append(" · problems only (ctrl+z)", style="bold")
            out.append(" │ ", style="dim")
        snapshot = state.snapshot
        if snapshot is None:
            out.append("waiting for the first poll…" if poll.polling else "no data yet")
        else:
            stamp = snapshot.generated_at if app.frozen_time else snapshot.generated_at.astimezone()
            out.append(f"polled {stamp.strftime('%H:%M:%S')} ({snapshot.stats.duration_seconds:.1f} s)")
        if poll.polling:
            out.append(" · polling…", style=app.status_style(Status.PROGRESS))
        elif poll.paused:
            out.append(" · paused (p resumes)", style=app.status_style(Status.WARNING))
        elif poll.next_poll_at is not None:
            remaining = max(0, math.ceil(poll.next_poll_at - app.monotonic()))
            out.append(f" · next in {remaining} s")
        if poll.last_error:
            out.append(" │ ", style="dim")
            out.append(f"last poll failed: {visible(poll.last_error)}", style=app.status_style(Status.CRITICAL))
        return out
