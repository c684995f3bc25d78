"""The one-line flash bar (as k9s has it): the newest notice, in the layout, so
it never covers a row. Errors stand out by colour; `n` opens every notice."""

from __future__ import annotations

from typing import cast

from rich.style import Style
from rich.text import Text
from textual.reactive import reactive

from heartbeat_tui.tui.notices import Flash
from heartbeat_tui.tui.state import DashboardHost
from heartbeat_tui.tui.styles import Status
from heartbeat_tui.tui.widgets.seen import SeenOnly


class FlashBar(SeenOnly):
    """Watches the app's `flash`; nothing refreshes it by hand. Painted while its
    screen is seen (`SeenOnly`); a hidden one catches up when shown."""

    DEFAULT_CSS = """
    FlashBar {
        height: 1;
        background: $panel;
        color: $text-muted;
    }
    """

    flash: reactive[Flash | None] = reactive(None, init=False)

    @property
    def host(self) -> DashboardHost:
        return cast(DashboardHost, self.app)

    def on_mount(self) -> None:
        self.set_reactive(FlashBar.flash, getattr(self.app, "flash", None))
        self.watch(self.app, "flash", self._flash_changed, init=False)
        self.follow_screen()

    def _flash_changed(self, flash: Flash | None) -> None:
        if self.seen:
            self.flash = flash
        else:
            self.set_reactive(FlashBar.flash, flash)  # painted when the screen resumes

    def render(self) -> Text:
        out = Text(no_wrap=True, overflow="ellipsis", end="")
        flash = self.flash
        if flash is None:
            return out
        notice = flash.notice
        app = self.host
        stamp = notice.at if app.frozen_time else notice.at.astimezone()
        out.append(f" {stamp.strftime('%H:%M:%S')} ", style="dim")
        style = {"error": Status.CRITICAL, "warning": Status.WARNING}.get(notice.severity)
        out.append(notice.line, style=app.status_style(style) + Style(bold=True) if style else "")
        if flash.more:
            tail_style = {"error": Status.CRITICAL, "warning": Status.WARNING}.get(flash.worst)
            out.append(
                f"  (+{flash.more} more · n: history)",
                style=app.status_style(tail_style) if tail_style else "dim",
            )
        return out
