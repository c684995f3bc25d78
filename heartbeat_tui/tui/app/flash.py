"""Every notice of the app: made safe to show, kept in the history, put on the flash line.

Notices carry names, AWS errors and users' input, and come from every screen;
one override of `notify` and one handler of Textual's `Notify` are the only way
in, so none escapes the sanitising or becomes a toast over the tables.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from textual.notifications import Notify, SeverityLevel
from textual.reactive import var
from textual.timer import Timer

from heartbeat_tui.tui.notices import Flash, Notice, NoticeLog, worse
from heartbeat_tui.tui.textual_private import CrashReportingApp
from heartbeat_tui.untrusted import visible, visible_lines


class FlashLine(CrashReportingApp):
    """The app's notices and flash line (a base of `HeartbeatApp`)."""

    NOTIFICATION_TIMEOUT = 8

    # What the flash line shows (widgets/flash_bar.py); None: nothing to say.
    flash: var[Flash | None] = var(None, init=False)

    clock: Callable[[], datetime]
    monotonic: Callable[[], float]
    frozen_time: bool

    def __init__(self) -> None:
        super().__init__()
        self.notices = NoticeLog()
        self._flash_timer: Timer | None = None
        self._flash_until = 0.0

    def notify(
        self,
        message: str,
        *,
        title: str = "",
        severity: SeverityLevel = "information",
        timeout: float | None = None,
        markup: bool = False,
    ) -> None:
        """Every notice, from every screen: names, AWS errors and users' input are
        in them, so none is parsed as markup (`[link='x]` would end the app) and
        control characters show as visible escapes. `markup` is ignored. Shown on
        the flash line (`on_notify`), never as a toast over the tables."""

        super().notify(
            visible_lines(str(message)), title=visible(str(title)), severity=severity, timeout=timeout, markup=False
        )

    def on_notify(self, message: Notify) -> None:
        """Kept in the history (`n`) and put on the flash line. Notices that come
        while one is still up are a burst: the newest is shown with how many more
        came, and the line takes the colour of the worst of them.

        Textual's own handler is prevented: it would keep each notice as a toast
        (hidden here, but mounted into the layout and removed again when it
        expires): two relayouts and full repaints of the screen per notice, most
        polls, at 40,000 services 30-80 ms of the event loop each."""

        message.prevent_default()
        notification = message.notification
        severity = notification.severity
        notice = Notice(self.clock(), severity, notification.message, notification.title)
        self.notices.add(notice)
        current = self.flash
        if current is None:
            self.flash = Flash(notice, 0, severity)
        else:
            self.flash = Flash(notice, current.more + 1, worse(current.worst, severity))
        # Errors stay up longer: they may need action.
        timeout = notification.timeout * (2 if severity == "error" else 1)
        self._flash_until = self.monotonic() + timeout
        self._arm_flash(timeout)

    def _arm_flash(self, delay: float) -> None:
        if self._flash_timer is not None:
            self._flash_timer.stop()
        self._flash_timer = self.set_timer(delay, self._flash_due, name="flash")

    def _flash_due(self) -> None:
        """The timer only wakes us: the app's (injectable) monotonic clock says
        whether the notice has been up long enough, so a frozen clock keeps it."""

        left = self._flash_until - self.monotonic()
        if left > 0:
            self._arm_flash(left)
            return
        self._flash_timer = None
        self.flash = None

    def action_notifications(self) -> None:
        from heartbeat_tui.tui.screens.notifications import NotificationsScreen

        if not isinstance(self.screen, NotificationsScreen):
            self.push_screen(NotificationsScreen(list(self.notices.newest_first()), utc=self.frozen_time))
