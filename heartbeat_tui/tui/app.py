"""The HeartBeat dashboard application.

A thin shell over `DashboardController` (heartbeat_tui/controller), which owns
polling, pause, prefetch and access. Data flow (one direction):

    controller poll (a worker, on the app's loop) -> FleetSnapshot
      -> build_view + changes (pure, in a thread) -> SnapshotReady (one message)
      -> on_snapshot_ready: applied in one place, inside batch_update()
      -> `state` (one frozen DashboardState, a reactive the header watches)
      -> the current screen's show_view(); other screens catch up on resume.

Screens post intents (tui/messages.py) that the app turns into controller
calls; the controller reports through the `Observer` methods below.
"""

from __future__ import annotations

import asyncio
import logging
import math
import os
import signal
import threading
import time
from collections.abc import Callable, Collection, Coroutine, Iterable, Mapping
from dataclasses import replace
from datetime import datetime
from pathlib import Path
from typing import Any, ClassVar

from rich.style import Style
from textual import events
from textual.app import App, SystemCommand
from textual.binding import Binding, BindingType
from textual.notifications import Notify, SeverityLevel
from textual.reactive import var
from textual.screen import Screen
from textual.timer import Timer

from heartbeat_tui import heap
from heartbeat_tui.config import DEFAULT_HISTORY_MINUTES, DEFAULT_INTERVAL_SECONDS, DEFAULT_THEME
from heartbeat_tui.controller import (
    OPEN,
    AccessPolicy,
    Cancellable,
    DashboardController,
    FleetSource,
    PollStatus,
    Refused,
    Scheduler,
)
from heartbeat_tui.errors import HeartbeatError
from heartbeat_tui.models import FleetSnapshot, utcnow
from heartbeat_tui.tui.commands import HeartbeatCommands
from heartbeat_tui.tui.messages import (
    DetailReady,
    DetailRequested,
    LogsReady,
    LogsRequested,
    LogsWanted,
    PauseRequested,
    ProblemsOnlyRequested,
    RefreshRequested,
    SnapshotReady,
)
from heartbeat_tui.tui.notices import Flash, Notice, NoticeLog, worse
from heartbeat_tui.tui.reaper import Reaper
from heartbeat_tui.tui.screens.base import FleetScreen
from heartbeat_tui.tui.state import DashboardState
from heartbeat_tui.tui.styles import Status, rich_style
from heartbeat_tui.tui.textual_private import CrashReportingApp
from heartbeat_tui.tui.themes import DEFAULT_VARIABLES, load_themes
from heartbeat_tui.tui.view import FleetView, Thresholds, build_view, changes
from heartbeat_tui.tui.widgets.seen import seen
from heartbeat_tui.untrusted import visible, visible_lines

log = logging.getLogger(__name__)

__all__ = ["FleetSource", "HeartbeatApp", "TextualScheduler"]


class _TimerHandle:
    def __init__(self, timer: Timer) -> None:
        self._timer = timer

    def cancel(self) -> None:
        self._timer.stop()


class TextualScheduler:
    """The controller's timers and background work, as Textual timers and workers of `app`."""

    def __init__(self, app: App[Any]) -> None:
        self._app = app

    def call_later(self, delay: float, callback: Callable[[], None]) -> Cancellable:
        return _TimerHandle(self._app.set_timer(delay, callback, name="next-poll"))

    def spawn(self, work: Coroutine[Any, Any, None], *, group: str) -> Cancellable:
        return self._app.run_worker(work, group=group, name=group, exclusive=True, exit_on_error=False)


HANG_UP_GRACE_SECONDS = 5.0

BROWSER_CTRL_C = "Ctrl+C copies in the browser and does not quit: q ends the session"


def exit_watchdog(seconds: float) -> threading.Thread:
    """End the process `seconds` from now if it is still running.

    After a hang-up the terminal is gone, and Textual's output thread can die
    on the first write to it (EIO) while the app's shutdown waits to hand it
    the last lines: the process would hang on forever. Everything kept is
    already on disk; the embedded AWS child exits when our pipe to it closes.
    """

    def run() -> None:
        time.sleep(seconds)
        log.warning("still running %.1f s after the hang-up: exiting now", seconds)
        for handler in logging.getLogger().handlers:
            try:
                handler.flush()
            except Exception:  # exiting anyway
                pass
        os._exit(0)

    watchdog = threading.Thread(target=run, name="hang-up-watchdog", daemon=True)
    watchdog.start()
    return watchdog


class HeartbeatApp(CrashReportingApp):
    """Takes its data source and settings in `__init__`; reads no globals."""

    TITLE = "HeartBeat"
    CSS_PATH = Path(__file__).with_name("heartbeat.tcss")  # absolute: subclasses live elsewhere
    COMMANDS: ClassVar = App.COMMANDS | {HeartbeatCommands}
    # How often a following logs screen reads what is new (seconds).
    logs_follow_seconds: float = 5.0
    COMMAND_PALETTE_BINDING = "ctrl+p"
    NOTIFICATION_TIMEOUT = 8
    GC_FULL_EVERY = 20
    GC_FULL_SERVICES = 5000
    GC_QUIET_SECONDS = 5.0
    GC_AT_ONCE_SERVICES = 250  # below this a full collection is too cheap to wait for a quiet moment
    SCREEN_GC_DELAY_SECONDS = 0.5
    # App declares it per instance, so no ClassVar here.
    HORIZONTAL_BREAKPOINTS: list[tuple[int, str]] | None = [(0, "-narrow"), (100, "-wide")]  # noqa: RUF012

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("q", "quit", "Quit", id="app.quit"),
        # Ctrl+C quits in a terminal only: in a browser it copies (app.check_action).
        Binding("ctrl+c", "interrupt", "Quit", id="app.interrupt", show=False, priority=True),
        Binding("r", "refresh", "Refresh", id="app.refresh"),
        Binding("p", "toggle_pause", "Pause/resume refresh", id="app.pause", show=False),
        Binding("question_mark", "help", "Help", id="app.help", key_display="?"),
        Binding("colon", "command_palette", "Commands", id="app.palette", key_display=":"),
        Binding("t", "change_theme", "Theme", id="app.theme", show=False),
        Binding("n", "notifications", "Notifications", id="app.notifications", show=False),
        # Priority: a focus move is made when its key is read, in key order. Textual's own
        # (non-priority, on Screen) moves focus only after the key has bubbled up from the
        # focused widget, and by then the keys read after it in the same burst
        # (`admin<Tab>password<Enter>` auto-typed) were already routed to the old field.
        # Help folds them into `l`/`h` where those move between panes, and names them where they do not.
        Binding("tab", "focus_next", "Next pane", id="app.focus_next", show=False, priority=True),
        Binding("shift+tab", "focus_previous", "Previous pane", id="app.focus_previous", show=False, priority=True),
    ]

    # The one state the header and screens watch; replaced whole, never mutated.
    state: var[DashboardState] = var(DashboardState, init=False)
    # What the flash line shows (widgets/flash_bar.py); None: nothing to say.
    flash: var[Flash | None] = var(None, init=False)

    def __init__(
        self,
        source: FleetSource,
        *,
        interval_seconds: float = DEFAULT_INTERVAL_SECONDS,
        thresholds: Thresholds | None = None,
        history_seconds: int = DEFAULT_HISTORY_MINUTES * 60,
        theme: str = DEFAULT_THEME,
        settings_path: Path | None = None,
        clock: Callable[[], datetime] = utcnow,
        monotonic: Callable[[], float] = time.monotonic,
        user: str | None = None,
        autopoll: bool = True,
        warm_start: Collection[str] | None = None,
        extra_theme_dirs: Iterable[Path] = (),
        keymap: Mapping[str, str] | None = None,
        policy: AccessPolicy = OPEN,
        scheduler: Scheduler | None = None,
        in_browser: bool = False,
    ) -> None:
        super().__init__()
        # `heartbeat web`: the keys are a browser's (Ctrl+C copies, pasting is the browser's).
        self.in_browser = in_browser
        # The operator's own keys ([ui.keymap], ids checked by tui/keymap.py).
        self.set_keymap(dict(keymap or {}))
        self.interval_seconds = interval_seconds
        self.thresholds = thresholds or Thresholds()
        self.history_seconds = history_seconds
        self.settings_path = settings_path
        self.clock = clock
        self.monotonic = monotonic
        # Tests freeze time: show UTC clock times so snapshots match anywhere.
        self.frozen_time = clock is not utcnow
        self.set_reactive(HeartbeatApp.state, DashboardState(user=user))
        self.controller = DashboardController(
            source,
            self,
            scheduler or TextualScheduler(self),
            interval_seconds=interval_seconds,
            monotonic=monotonic,
            policy=policy,
            autopoll=autopoll,
            warm_start=warm_start,
        )
        self.first_paint_at: float | None = None
        # What a poll replaces (snapshot, view, table rows) is freed on its thread, not the loop.
        self.reaper = Reaper()
        self.notices = NoticeLog()
        self._flash_timer: Timer | None = None
        self._flash_until = 0.0
        self._polls_since_full_gc = 0
        self._full_gc_due = False
        self._gc_timer: Timer | None = None
        self._last_input = -math.inf
        self._styles: dict[str, Style] = {}
        self._wanted_theme = theme
        self._theme_problems: list[str] = []
        for loaded in load_themes(extra_dirs=extra_theme_dirs, problems=self._theme_problems):
            self.register_theme(loaded)
        self.theme = theme if theme in self.available_themes else DEFAULT_THEME

    # -- screens ----------------------------------------------------------------------

    def get_default_screen(self) -> Screen[Any]:
        from heartbeat_tui.tui.screens.dashboard import DashboardScreen

        return DashboardScreen()

    def get_theme_variable_defaults(self) -> dict[str, str]:
        return dict(DEFAULT_VARIABLES)

    def on_mount(self) -> None:
        self.theme_changed_signal.subscribe(self, self._theme_changed)
        self.screen_change_signal.subscribe(self, self._screen_changed)
        for problem in self._theme_problems:
            self.notify(problem, title="Theme not loaded", severity="warning")
        if self._wanted_theme not in self.available_themes:
            self.notify(f"unknown theme {self._wanted_theme!r}; using {self.theme}", severity="warning")
        try:
            loop = asyncio.get_running_loop()
            for signum in (signal.SIGHUP, signal.SIGTERM):
                loop.add_signal_handler(signum, self._hang_up)
        except (NotImplementedError, RuntimeError, ValueError):  # not the main thread (tests)
            pass
        self.controller.start()

    def _hang_up(self) -> None:
        log.info("terminal hung up or terminated: exiting")
        exit_watchdog(HANG_UP_GRACE_SECONDS)
        self.controller.close()
        self.exit(0)

    # -- what the state says (read-only views of it) ---------------------------------

    @property
    def source(self) -> FleetSource:
        """The source polls go to now (cut to the session's accounts)."""
        return self.controller.source

    @property
    def snapshot(self) -> FleetSnapshot | None:
        return self.state.snapshot

    @property
    def view(self) -> FleetView | None:
        return self.state.view

    @property
    def user(self) -> str | None:
        return self.state.user

    @property
    def polls_applied(self) -> int:
        return self.state.polls_applied

    @property
    def polling(self) -> bool:
        return self.state.poll.polling

    @property
    def paused(self) -> bool:
        return self.state.poll.paused

    @property
    def next_poll_at(self) -> float | None:
        return self.state.poll.next_poll_at

    @property
    def last_poll_error(self) -> str | None:
        return self.state.poll.last_error

    # -- the controller's observer ------------------------------------------------------

    def start_poll(self) -> bool:
        """Poll now unless a poll is running; False when one already is."""
        return self.controller.poll_now()

    def status_changed(self, status: PollStatus) -> None:
        self.state = replace(self.state, poll=status)

    def poll_failed(self, error: BaseException, text: str) -> None:
        self.notify(text, title="Poll failed", severity="error")

    async def snapshot_polled(self, snapshot: FleetSnapshot, previous: FleetSnapshot | None) -> None:
        now = self.clock()
        last_view = self.state.view
        screen = self.screen
        planner = screen.view_planner() if isinstance(screen, FleetScreen) else None

        def prepare() -> tuple[FleetView, list[Any], object]:
            # Inside a poll window, as the poll: what the poll made is frozen first
            # and young collections are rare, and what the view is made of is frozen
            # before the window closes. Otherwise the young collections that follow
            # walk all of it (a million objects at 40,000 services, 0.2-0.3 s of CPU
            # a tick), on whichever thread allocates: the UI's too.
            with heap.poll_window():
                view = build_view(snapshot, now, self.thresholds, previous=last_view)
                prepared = None if planner is None else planner(view)
                notices = changes(previous, snapshot)
                heap.hold()
            return view, notices, prepared

        # Pure work on immutable data: off the loop, so keys stay answered.
        view, notices, prepared = await asyncio.to_thread(prepare)
        self.post_message(SnapshotReady(snapshot, view, notices, prepared, screen if planner else None))

    def on_snapshot_ready(self, message: SnapshotReady) -> None:
        self.apply_snapshot(message)

    def apply_snapshot(self, message: SnapshotReady) -> None:
        """The one place a snapshot is applied (unless the policy no longer admits it)."""

        if not self.controller.admits(message.snapshot):
            log.warning("dropped a snapshot with accounts outside the session's scope (an older poll)")
            return
        if not self.screen_stack:  # the app is closing: its screens are gone
            return
        log.info(
            "poll %d applied: %d accounts, %d services, %.2f s",
            message.snapshot.poll_number,
            len(message.snapshot.accounts),
            len(message.view.services),
            message.snapshot.stats.duration_seconds,
        )
        with self.batch_update():
            replaced = self.state
            self.state = replace(
                replaced, snapshot=message.snapshot, view=message.view, polls_applied=replaced.polls_applied + 1
            )
            screen = self.screen
            if isinstance(screen, FleetScreen):
                screen.show_view(message.view, message.prepared if message.prepared_for is screen else None)
            for hidden in self.screen_stack[:-1]:
                if isinstance(hidden, FleetScreen) and not seen(hidden):
                    hidden.release_view()
            for change in message.changes:
                self.notify(change.text, severity=change.severity)
        # Freed once the loop lets go of them (this frame, the message), on the reaper's thread.
        self.retire(replaced.snapshot, replaced.view, message.prepared)
        if self.first_paint_at is None:
            self.call_after_refresh(self._first_paint)
        self._settle_garbage_collector(len(message.view.services))

    def _settle_garbage_collector(self, services: int) -> None:
        """Keep full garbage collections off the keypress path and out of a refresh.

        A snapshot of thousands of services is hundreds of thousands of
        objects; Python's full collections scan them all (0.3 s at 5,000
        services, 0.9 s of CPU at 40,000), at moments nobody chose. Snapshots
        and views are acyclic, so reference counting frees each one when the
        next replaces it: after each poll everything alive is frozen out of the
        collector's scans. One full collection (unfrozen first, so cyclic
        garbage is never kept for good) is due every `GC_FULL_EVERY` polls per
        `GC_FULL_SERVICES` services: its cost grows with the fleet, so it runs
        as much less often (every 10 minutes at 5,000 services, every 80 at
        40,000), the same time per poll. Below 250 services that is every
        poll: a closed screen (cyclic garbage the freeze would keep) is freed
        after the next poll, not 20 polls later. It holds the interpreter lock
        all through, whichever thread runs it, so it waits for a quiet moment
        (`_collect_when_quiet`) instead of running inside the refresh.
        """

        self._polls_since_full_gc += 1
        if self._polls_since_full_gc >= max(1, self.GC_FULL_EVERY * services // self.GC_FULL_SERVICES):
            self._polls_since_full_gc = 0
            self._full_gc_due = True
        if self._full_gc_due and services < self.GC_AT_ONCE_SERVICES:
            self._full_gc_due = False  # a few milliseconds: right away, as the poll is applied
            heap.hold(collect_first=True)
            return
        heap.hold()
        if self._full_gc_due:
            # After this refresh is painted, and only then if the operator is not typing.
            self.call_after_refresh(self._arm_full_collection)

    def _arm_full_collection(self) -> None:
        if self._gc_timer is None:
            self._gc_timer = self.set_timer(0.1, self._collect_when_quiet, name="full-gc")

    def _collect_when_quiet(self) -> None:
        """The due full collection, once nothing was typed for `GC_QUIET_SECONDS` and no
        poll is running (a poll applied meanwhile holds its freeze and asks again)."""

        self._gc_timer = None
        if not self._full_gc_due:
            return
        quiet = self.monotonic() - self._last_input
        if quiet < self.GC_QUIET_SECONDS or self.polling:
            wait = max(0.1, self.GC_QUIET_SECONDS - quiet)
            self._gc_timer = self.set_timer(wait, self._collect_when_quiet, name="full-gc")
            return
        self._full_gc_due = False
        heap.hold(collect_first=True)

    async def on_event(self, event: events.Event) -> None:
        if isinstance(event, (events.Key, events.MouseDown, events.Paste)):
            self._last_input = self.monotonic()  # the operator is here: no full collection now
        await super().on_event(event)

    def retire(self, *replaced: object) -> None:
        """Free what a refresh replaced (a snapshot, a view, table rows) off the loop (tui/reaper.py)."""
        self.reaper.retire(*replaced)

    def _screen_changed(self, screen: Screen[Any]) -> None:
        # A closed screen is cycles the freeze would keep till the next full collection:
        # once its removal is done (it ends after the change is announced), collect them.
        self.set_timer(self.SCREEN_GC_DELAY_SECONDS, heap.collect_young)

    def _first_paint(self) -> None:
        self.first_paint_at = time.monotonic()
        log.info("first data painted")

    def on_unmount(self) -> None:
        self.controller.close()
        self.reaper.close()
        # Everything frozen is looked at again (tests run many apps in one process).
        heap.release()

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

    # -- styles from theme variables -------------------------------------------------

    def status_style(self, status: Status | str) -> Style:
        """A Rich style for a status (or a plot's theme variable) in the current theme."""

        key = status.variable if isinstance(status, Status) else status
        style = self._styles.get(key)
        if style is None:
            style = self._styles[key] = rich_style(key, self.theme_variables)
        return style

    def _theme_changed(self, theme: Any) -> None:
        self._styles.clear()
        if self.view is not None:
            for screen in self.screen_stack:
                if isinstance(screen, FleetScreen):
                    screen.restyle()
        if self.settings_path is not None and self.is_running:
            from heartbeat_tui.tui.settings import save_theme

            try:
                save_theme(self.settings_path, self.theme)
            except OSError as exc:
                self.notify(f"cannot remember the theme in {self.settings_path}: {exc}", severity="warning")

    # -- actions ------------------------------------------------------------------------------

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        # The access policy hides what it refuses (keys, footer, palette); the controller refuses it too.
        if action in ("refresh", "admin", "logout"):
            return self.controller.policy.permits(action)  # type: ignore[arg-type]
        if action == "interrupt":
            # In a browser Ctrl+C is copy: a user copying text must not end the session.
            # Hidden there, the key goes on to the focused field's copy, the screen's
            # copy of selected text, and last `key_ctrl_c`.
            return not self.in_browser
        return super().check_action(action, parameters)

    async def action_interrupt(self) -> None:
        await self.action_quit()

    def key_ctrl_c(self) -> None:
        """Ctrl+C in a browser with nothing to copy: say how to quit, once the key did nothing."""
        if self.in_browser:
            self.notify(BROWSER_CTRL_C, timeout=4)

    def action_refresh(self) -> None:
        self.post_message(RefreshRequested())

    def action_toggle_pause(self) -> None:
        self.post_message(PauseRequested())

    def on_refresh_requested(self, message: RefreshRequested) -> None:
        self.run_worker(self._refresh(), group="refresh", exclusive=True, exit_on_error=False)

    async def _refresh(self) -> None:
        # A manual refresh re-reads every service list whole, not only what changed.
        try:
            started = await self.controller.refresh()
        except Refused as exc:
            if str(exc):
                self.notify(str(exc), severity="error")
            return
        if not started:
            self.notify("a poll is already running", timeout=2)

    def on_pause_requested(self, message: PauseRequested) -> None:
        """Stop polling on the timer, or start again (with a poll now: the data is
        as old as the pause). A manual refresh (`r`) works either way."""

        if self.controller.toggle_pause():
            self.notify("Refresh paused: p resumes, r polls once", timeout=3)

    def on_problems_only_requested(self, message: ProblemsOnlyRequested) -> None:
        """ctrl+z: one switch for every table of every screen (the header says when it is on)."""

        self.state = replace(self.state, problems_only=not self.state.problems_only)
        for screen in self.screen_stack:
            if isinstance(screen, FleetScreen):
                screen.restyle()

    def on_detail_requested(self, message: DetailRequested) -> None:
        self.run_worker(self._fetch_detail(message), group="detail", exclusive=True, exit_on_error=False)

    async def _fetch_detail(self, request: DetailRequested) -> None:
        # Imported when first used (as the screens are): a session that never opens one
        # never loads them (their plots, tabs and logs widgets), 2 MB per browser tab.
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

    def action_help(self) -> None:
        from heartbeat_tui.tui.screens.help import HelpScreen

        if not isinstance(self.screen, HelpScreen):
            self.push_screen(HelpScreen(self.screen))

    def get_system_commands(self, screen: Screen[Any]) -> Iterable[SystemCommand]:
        for command in super().get_system_commands(screen):
            if command.title not in ("Keys", "Screenshot", "Maximize", "Minimize"):
                yield command
