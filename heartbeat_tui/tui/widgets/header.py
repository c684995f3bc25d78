"""The one-line header: who is signed in, last poll, next poll, accounts in trouble.

It watches the app's one `DashboardState`: nothing refreshes it by hand."""

from __future__ import annotations

import math
from typing import cast

from rich.text import Text
from textual.reactive import reactive

from heartbeat_tui.tui.state import DashboardHost, DashboardState
from heartbeat_tui.tui.styles import Status, severity_status
from heartbeat_tui.tui.text import visible
from heartbeat_tui.tui.view import age_text
from heartbeat_tui.tui.widgets.seen import SeenOnly


class HeaderBar(SeenOnly):
    """Re-rendered when the state changes, and once a second for the countdown (one line:
    cheap), while its screen is seen (`SeenOnly`); a hidden one catches up when shown."""

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
        self.set_interval(1.0, self._clock, name="header-clock")
        self.follow_screen()

    def _state_changed(self, state: DashboardState) -> None:
        if self.seen:
            self.state = state
        else:
            self.set_reactive(HeaderBar.state, state)  # painted when the screen resumes

    def _clock(self) -> None:
        if self.seen:
            self.refresh()

    # How much each fitting drops, in order: the user name first, then the screen's
    # name, the names of the accounts in error, the poll's duration and the
    # wording around pause; the pause, the poll time and "N in error" stay.
    LEVELS = 6
    WORST_MIN = 16
    WORST_UNTIL = 3  # from this fitting on, without the worst thing

    def _worst_len(self) -> int:
        view = self.state.view
        if view is None or view.worst is None:
            return 0
        account, what, _ = view.worst
        return Text(f"{visible(account)}: {visible(what)}").cell_len

    def render(self) -> Text:
        width = self.size.width

        def fits(line: Text, tail: Text) -> bool:
            return line.cell_len + tail.cell_len <= width or bool(tail and line.cell_len <= width)

        worst_len = self._worst_len()
        # The worst thing (also named under the accounts pane) gives up its end,
        # down to a readable stub, and then its place, after the user name and
        # the screen's name are gone but before the names of accounts in error.
        for level in range(self.LEVELS):
            line, tail = self._line(level, worst_room=None if level < self.WORST_UNTIL else 0)
            if fits(line, tail):
                break
            room = worst_len - (line.cell_len - width)
            if level < self.WORST_UNTIL and worst_len and room >= self.WORST_MIN:
                line, tail = self._line(level, worst_room=room)
                break
            if level == self.WORST_UNTIL - 1 and worst_len:
                line, tail = self._line(level, worst_room=0)
                if fits(line, tail):
                    break
        line.append_text(tail)  # a poll error: cut with an ellipsis where the width ends
        return line

    def _line(self, level: int, worst_room: int | None = None) -> tuple[Text, Text]:
        """The header at `level` (0: everything), and the last poll's error apart."""

        app = self.host
        state = self.state
        poll = state.poll
        out = Text(no_wrap=True, overflow="ellipsis", end="")
        out.append(" HeartBeat " if level < 5 else " HB ", style="bold")
        if state.user and level < 1:
            out.append(f"· {visible(state.user)} ", style="bold")
        if self.context and level < 2:
            out.append(f"· {visible(self.context)} ")
        out.append("│ ", style="dim")
        view = state.view
        if view is not None:
            errors, stale = view.error_accounts, view.stale_accounts
            if not errors and not stale:
                out.append(f"{len(view.accounts)} accounts ok", style=app.status_style(Status.OK))
            if errors:
                text = f"{len(errors)} in error"
                if level < 3:
                    text += ": " + ", ".join(visible(a.name) for a in errors[:3]) + ("…" if len(errors) > 3 else "")
                out.append(text, style=app.status_style(Status.CRITICAL))
            if stale:
                if errors:
                    out.append(" · ")
                oldest = max((a.stale_seconds or 0) for a in stale)
                out.append(f"{len(stale)} stale ({age_text(oldest)})", style=app.status_style(Status.WARNING))
            if view.worst is not None and worst_room != 0:
                # The worst thing anywhere (severity.py), as "payments-prod: api rollout FAILED".
                account, what, severity = view.worst
                style = app.status_style(severity_status(severity) or Status.OK)
                out.append(" · ")
                worst = Text(f"{visible(account)}: {visible(what)}", style=style)
                if worst_room is not None and worst.cell_len > worst_room:
                    worst.truncate(worst_room - 1)
                    worst.append("…")
                out.append_text(worst)
            if state.problems_only:
                out.append(" · problems only (ctrl+z)", style="bold")
            out.append(" │ ", style="dim")
        snapshot = state.snapshot
        if snapshot is None:
            out.append("waiting for the first poll…" if poll.polling else "no data yet")
        else:
            stamp = snapshot.generated_at if app.frozen_time else snapshot.generated_at.astimezone()
            out.append(f"polled {stamp.strftime('%H:%M:%S')}")
            if level < 4:
                out.append(f" ({snapshot.stats.duration_seconds:.1f} s)")
        if poll.polling:
            out.append(" · polling…", style=app.status_style(Status.PROGRESS))
            if level < 4 and poll.poll_started_at is not None:
                # How long it has run (a cold poll of a large fleet takes a while; one that
                # nears the accounts' deadline shows it), ticking with the countdown's clock.
                running = int(app.monotonic() - poll.poll_started_at)
                if running >= 1:
                    out.append(f" {running} s", style=app.status_style(Status.PROGRESS))
        elif poll.paused:
            out.append(" · paused (p resumes)" if level < 4 else " · paused", style=app.status_style(Status.WARNING))
        elif poll.next_poll_at is not None:
            remaining = max(0, math.ceil(poll.next_poll_at - app.monotonic()))
            out.append(f" · next in {remaining} s" if level < 4 else f" · next {remaining}s")
        tail = Text(no_wrap=True, overflow="ellipsis", end="")
        if poll.last_error:
            tail.append(" │ ", style="dim")
            tail.append(f"last poll failed: {visible(poll.last_error)}", style=app.status_style(Status.CRITICAL))
        return out, tail
