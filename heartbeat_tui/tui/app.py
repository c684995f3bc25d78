"""The HeartBeat dashboard application.

Data flow (one direction):

    poll worker (async, on the app's loop) -> FleetSnapshot
      -> build_view + changes (pure, in a thread) -> SnapshotReady (one message)
      -> on_snapshot_ready: applied in one place, inside batch_update()
      -> the current screen's show_view(); other screens catch up on resume.

The next poll is armed with a one-shot timer when the previous one ends, so
polls never overlap; `r` polls now. Failures become notifications.
"""

from __future__ import annotations

import asyncio
import gc
import logging
import os
import signal
import threading
import time
from collections.abc import Callable, Collection, Iterable, Mapping
from datetime import datetime
from pathlib import Path
from typing import Any, ClassVar, Protocol

from rich.style import Style
from textual import work
from textual.app import App, SystemCommand
from textual.binding import Binding, BindingType
from textual.color import Color
from textual.notifications import SeverityLevel
from textual.screen import Screen
from textual.timer import Timer
from textual.worker import Worker, WorkerState

from heartbeat_tui.models import FleetSnapshot, ServiceDetail, utcnow
from heartbeat_tui.tui.commands import HeartbeatCommands
from heartbeat_tui.tui.messages import SnapshotReady
from heartbeat_tui.tui.themes import DEFAULT_VARIABLES, load_themes
from heartbeat_tui.tui.view import Change, FleetView, Thresholds, build_view, changes
from heartbeat_tui.untrusted import visible, visible_lines

log = logging.getLogger(__name__)


class FleetSource(Protocol):
    """Where snapshots come from: the Collector, or a fake in tests."""

    async def poll(self, only: Collection[str] | None = None) -> FleetSnapshot: ...

    async def fetch_service_detail(
        self, account_id: str, region: str, cluster_arn: str, service_name: str
    ) -> ServiceDetail: ...


HANG_UP_GRACE_SECONDS = 5.0


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
            except Exception:  # noqa: BLE001, S110 - exiting anyway
                pass
        os._exit(0)

    watchdog = threading.Thread(target=run, name="hang-up-watchdog", daemon=True)
    watchdog.start()
    return watchdog


class HeartbeatApp(App[int]):
    """Takes its data source and settings in `__init__`; reads no globals."""

    TITLE = "HeartBeat"
    CSS_PATH = Path(__file__).with_name("heartbeat.tcss")  # absolute: subclasses live elsewhere
    COMMANDS: ClassVar = App.COMMANDS | {HeartbeatCommands}
    COMMAND_PALETTE_BINDING = "ctrl+p"
    NOTIFICATION_TIMEOUT = 8
    GC_FULL_EVERY = 20
    HORIZONTAL_BREAKPOINTS: ClassVar[list[tuple[int, str]]] = [(0, "-narrow"), (100, "-wide")]

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("q", "quit", "Quit", id="app.quit"),
        Binding("ctrl+c", "quit", "Quit", id="app.interrupt", show=False, priority=True),
        Binding("r", "refresh", "Refresh", id="app.refresh"),
        Binding("p", "toggle_pause", "Pause/resume refresh", id="app.pause", show=False),
        Binding("question_mark", "help", "Help", id="app.help", key_display="?"),
        Binding("colon", "command_palette", "Commands", id="app.palette", key_display=":"),
        Binding("t", "change_theme", "Theme", id="app.theme", show=False),
    ]

    def __init__(
        self,
        source: FleetSource,
        *,
        interval_seconds: float = 30.0,
        thresholds: Thresholds | None = None,
        history_seconds: int = 180 * 60,
        theme: str = "heartbeat-dark",
        settings_path: Path | None = None,
        clock: Callable[[], datetime] = utcnow,
        monotonic: Callable[[], float] = time.monotonic,
        user: str | None = None,
        autopoll: bool = True,
        warm_start: Collection[str] | None = None,
        extra_theme_dirs: Iterable[Path] = (),
        keymap: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__()
        # The operator's own keys ([ui.keymap], ids checked by tui/keymap.py).
        self.set_keymap(dict(keymap or {}))
        self.source = source
        self.interval_seconds = interval_seconds
        self.thresholds = thresholds or Thresholds()
        self.history_seconds = history_seconds
        self.settings_path = settings_path
        self.clock = clock
        self.monotonic = monotonic
        self.user = user
        # Tests freeze time: show UTC clock times so snapshots match anywhere.
        self.frozen_time = clock is not utcnow
        self.autopoll = autopoll
        # Accounts polled alone first, so something is on screen while the
        # (slower) first full poll loads every account's metric history.
        self.warm_start = list(warm_start) if warm_start else None
        self.snapshot: FleetSnapshot | None = None
        self.view: FleetView | None = None
        self.last_poll_error: str | None = None
        self.polling = False
        # Paused: no poll on the timer (the tables hold still while read); `r` still polls.
        self.paused = False
        self.next_poll_at: float | None = None
        self.poll_started_at: float | None = None
        self.polls_applied = 0
        self.first_paint_at: float | None = None
        self._timer: Timer | None = None
        self._last_polled: FleetSnapshot | None = None
        self._polls_since_full_gc = 0
        self._styles: dict[str, Style] = {}
        self._wanted_theme = theme
        self._theme_problems: list[str] = []
        for loaded in load_themes(extra_dirs=extra_theme_dirs, problems=self._theme_problems):
            self.register_theme(loaded)
        self.theme = theme if theme in self.available_themes else "heartbeat-dark"

    # -- screens ----------------------------------------------------------------------

    def get_default_screen(self) -> Screen:
        from heartbeat_tui.tui.screens.dashboard import DashboardScreen

        return DashboardScreen()

    def get_theme_variable_defaults(self) -> dict[str, str]:
        return dict(DEFAULT_VARIABLES)

    def on_mount(self) -> None:
        self.theme_changed_signal.subscribe(self, self._theme_changed)
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
        if self.autopoll:
            self.start_poll()

    def _hang_up(self) -> None:
        log.info("terminal hung up or terminated: exiting")
        exit_watchdog(HANG_UP_GRACE_SECONDS)
        self.exit(0)

    # -- polling ---------------------------------------------------------------------------

    def start_poll(self) -> bool:
        """Poll now unless a poll is running; False when one already is."""

        if self.polling:
            return False
        if self._timer is not None:
            self._timer.stop()
            self._timer = None
        self.polling = True
        self.next_poll_at = None
        self.poll_started_at = self.monotonic()
        self._poll_worker()
        self.refresh_header()
        return True

    @work(exclusive=True, group="poll", exit_on_error=False, name="poll")
    async def _poll_worker(self) -> None:
        await self._poll_once()

    async def _poll_once(self) -> None:
        """One poll, posted: the first one after start may be a warm start."""

        if self.warm_start and self._last_polled is None:
            only, self.warm_start = self.warm_start, None
            await self._post(await self.source.poll(only=only))
        await self._post(await self.source.poll())

    async def _post(self, snapshot: FleetSnapshot) -> None:
        previous, self._last_polled = self._last_polled, snapshot
        now = self.clock()

        def prepare() -> tuple[FleetView, list[Change]]:
            return build_view(snapshot, now), changes(previous, snapshot)

        # Pure work on immutable data: off the loop, so keys stay answered.
        view, notices = await asyncio.to_thread(prepare)
        self.post_message(SnapshotReady(snapshot, view, notices))

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        worker = event.worker
        if worker.group != "poll" or event.state not in (
            WorkerState.SUCCESS,
            WorkerState.ERROR,
            WorkerState.CANCELLED,
        ):
            return
        self.polling = False
        if event.state is WorkerState.ERROR:
            error = worker.error
            self.last_poll_error = f"{type(error).__name__}: {error}"
            log.error("poll failed", exc_info=error)
            self.notify(self.last_poll_error, title="Poll failed", severity="error")
        self._arm_next_poll()
        self.refresh_header()

    def _arm_next_poll(self) -> None:
        if self.autopoll and not self.paused and not self._exiting and not self.polling:
            self._timer = self.set_timer(self.interval_seconds, self.start_poll, name="next-poll")
            self.next_poll_at = self.monotonic() + self.interval_seconds

    @property
    def _exiting(self) -> bool:
        return bool(getattr(self, "_exit", False))

    def on_snapshot_ready(self, message: SnapshotReady) -> None:
        self.apply_snapshot(message)

    def apply_snapshot(self, message: SnapshotReady) -> None:
        """The one place a snapshot is applied."""

        log.info(
            "poll %d applied: %d accounts, %d services, %.2f s",
            message.snapshot.poll_number,
            len(message.snapshot.accounts),
            len(message.view.services),
            message.snapshot.stats.duration_seconds,
        )
        with self.batch_update():
            self.snapshot, self.view = message.snapshot, message.view
            self.last_poll_error = None
            self.polls_applied += 1
            screen = self.screen
            show = getattr(screen, "show_view", None)
            if show is not None:
                show(message.view)
            for change in message.changes:
                self.notify(change.text, severity=change.severity)
            self.refresh_header()
        if self.first_paint_at is None:
            self.call_after_refresh(self._first_paint)
        self._settle_garbage_collector()

    def _settle_garbage_collector(self) -> None:
        """Keep full garbage collections off the keypress path.

        A snapshot of thousands of services is hundreds of thousands of
        objects; Python's full collections scan them all (0.3 s at 5,000
        services), at moments nobody chose. Snapshots and views are acyclic,
        so reference counting frees each one when the next replaces it: after
        each poll everything alive is frozen out of the collector's scans, and
        every `GC_FULL_EVERY` polls one full collection runs right after the
        new data is applied (unfrozen first, so cyclic garbage is never kept).
        """

        self._polls_since_full_gc += 1
        if self._polls_since_full_gc >= self.GC_FULL_EVERY:
            self._polls_since_full_gc = 0
            gc.unfreeze()
            gc.collect()
        gc.freeze()

    def _first_paint(self) -> None:
        self.first_paint_at = time.monotonic()
        log.info("first data painted")

    def on_unmount(self) -> None:
        # Hand everything frozen back to the collector (tests run many apps in one process).
        gc.unfreeze()

    def notify(
        self,
        message: str,
        *,
        title: str = "",
        severity: SeverityLevel = "information",
        timeout: float | None = None,
        markup: bool = False,
    ) -> None:
        """Every toast, from every screen: names, AWS errors and users' input are
        in them, so none is parsed as markup (`[link='x]` would end the app) and
        control characters show as visible escapes. `markup` is ignored."""

        super().notify(
            visible_lines(str(message)), title=visible(str(title)), severity=severity, timeout=timeout, markup=False
        )

    def refresh_header(self) -> None:
        for header in self.screen.query("HeaderBar"):
            header.refresh()

    # -- styles from theme variables -------------------------------------------------

    def status_style(self, name: str) -> Style:
        """A Rich style for a status colour (`hb-warning`, ...) of the current theme."""

        style = self._styles.get(name)
        if style is None:
            value = self.theme_variables.get(name) or DEFAULT_VARIABLES.get(name, "")
            try:
                style = Style(color=Color.parse(value).rich_color)
            except Exception:  # noqa: BLE001 - a bad theme value falls back to no colour
                style = Style()
            self._styles[name] = style
        return style

    def _theme_changed(self, theme: Any) -> None:
        self._styles.clear()
        if self.view is not None:
            for screen in self.screen_stack:
                restyle = getattr(screen, "restyle", None)
                if restyle is not None:
                    restyle()
        if self.settings_path is not None and self.is_running:
            from heartbeat_tui.tui.settings import save_theme

            try:
                save_theme(self.settings_path, self.theme)
            except OSError as exc:
                self.notify(f"cannot remember the theme in {self.settings_path}: {exc}", severity="warning")

    # -- actions ------------------------------------------------------------------------------

    def action_refresh(self) -> None:
        # A manual refresh re-reads every service list whole, not only what changed.
        relist = getattr(self.source, "relist_next_poll", None)
        if relist is not None:
            relist()
        if not self.start_poll():
            self.notify("a poll is already running", timeout=2)

    def action_toggle_pause(self) -> None:
        """Stop polling on the timer, or start again (with a poll now: the data is
        as old as the pause). A manual refresh (`r`) works either way."""

        self.paused = not self.paused
        if self.paused:
            if self._timer is not None:
                self._timer.stop()
                self._timer = None
            self.next_poll_at = None
            self.notify("Refresh paused: p resumes, r polls once", timeout=3)
        elif self.autopoll:
            self.start_poll()  # if one (r) is running, the next is armed when it ends
        self.refresh_header()

    def action_help(self) -> None:
        from heartbeat_tui.tui.screens.help import HelpScreen

        if not isinstance(self.screen, HelpScreen):
            self.push_screen(HelpScreen(self.screen))

    def get_system_commands(self, screen: Screen) -> Iterable[SystemCommand]:
        for command in super().get_system_commands(screen):
            if command.title not in ("Keys", "Screenshot", "Maximize", "Minimize"):
                yield command

    def _print_error_renderables(self) -> None:
        # A crash is logged, never printed as a traceback over the operator's shell.
        if self._exit_renderables:
            log.error("the dashboard stopped on an internal error (traceback rendered by Textual)")
            self._crashed = True
        self._exit_renderables.clear()

    def _handle_exception(self, error: Exception) -> None:
        log.error("unhandled error in the dashboard", exc_info=error)
        self.crash_reason = f"{type(error).__name__}: {error}"
        super()._handle_exception(error)

    crash_reason: str | None = None
    _crashed = False
