"""`n`: every notice of this run (the last 500), newest first, with its time and
severity: what the flash line showed and what scrolled past it."""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import BindingType
from textual.widgets import Static

from heartbeat_tui.tui.notices import Notice
from heartbeat_tui.tui.screens.modal import PanelModal, panel_bindings
from heartbeat_tui.tui.styles import Status
from heartbeat_tui.tui.text import PlainTable

SEVERITY_LABEL = {"information": "info", "warning": "warning", "error": "error"}


class NotificationsScreen(PanelModal):
    help_title = "Notifications"
    BINDINGS: ClassVar[list[BindingType]] = panel_bindings("notifications", "escape,q,n", "Close")

    DEFAULT_CSS = """
    NotificationsScreen > VerticalScroll { width: 120; }
    """

    def __init__(self, notices: list[Notice], *, utc: bool) -> None:
        super().__init__(id="notifications")
        self.notices = notices
        self.utc = utc

    def compose(self) -> ComposeResult:
        with self.panel(f"Notifications · {len(self.notices)}, newest first"):
            if not self.notices:
                yield Static("Nothing yet.", id="notifications-list")
                return
            table = PlainTable(box=None, expand=True, show_header=True, header_style="bold", padding=(0, 1))
            table.add_column("time", no_wrap=True, style="dim")
            table.add_column("severity", no_wrap=True)
            table.add_column("message", overflow="fold")
            for notice in self.notices:
                stamp = notice.at if self.utc else notice.at.astimezone()
                status = {"error": Status.CRITICAL, "warning": Status.WARNING}.get(notice.severity)
                style = self.app.status_style(status) if status else ""  # type: ignore[attr-defined]
                table.add_row(
                    stamp.strftime("%H:%M:%S"), Text(SEVERITY_LABEL[notice.severity], style=style), Text(notice.line)
                )
            yield Static(table, id="notifications-list")
