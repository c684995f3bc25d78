"""`HeartbeatApp`: the shell over `DashboardController`, and the one place a snapshot is applied.

What it does besides (notices, garbage-collection pacing, detail and logs
reads) comes from its bases in this package; the data flow is in __init__.py.
"""

from __future__ import annotations

import asyncio
import logging
import signal
import time
from collections.abc import Callable, Collection, Iterable, Mapping
from dataclasses import replace
from datetime import datetime
from pathlib import Path
from typing import Any, ClassVar

from rich.style import Style
from textual.app import App, SystemCommand
from textual.binding import Binding, BindingType
from textual.reactive import var
from textual.screen import Screen

from heartbeat_tui import heap
from heartbeat_tui.config import DEFAULT_HISTORY_MINUTES, DEFAULT_INTERVAL_SECONDS, DEFAULT_THEME
from heartbeat_tui.controller import (
    OPEN,
    AccessPolicy,
    DashboardController,
    FleetSource,
    PollStatus,
    Refused,
    Scheduler,
)
from heartbeat_tui.models import FleetSnapshot, utcnow
from heartbeat_tui.tui.app.collection import CollectionPacing
from heartbeat_tui.tui.app.flash import FlashLine
from heartbeat_tui.tui.app.hangup import HANG_UP_GRACE_SECONDS, exit_watchdog
from heartbeat_tui.tui.app.reads import ServiceReads
from heartbeat_tui.tui.app.scheduler import TextualScheduler
from heartbeat_tui.tui.commands import HeartbeatCommands
from heartbeat_tui.tui.messages import (
    PauseRequested,
    ProblemsOnlyRequested,
    RefreshRequested,
    SnapshotReady,
)
from heartbeat_tui.tui.reaper import Reaper
from heartbeat_tui.tui.screens.base import FleetScreen
from heartbeat_tui.tui.state import DashboardState
from heartbeat_tui.tui.styles import Status, rich_style
from heartbeat_tui.tui.themes import DEFAULT_VARIABLES, load_themes
from heartbeat_tui.tui.view import FleetView, Thresholds, build_view, changes
from heartbeat_tui.tui.widgets.seen import seen

log = logging.getLogger(__package__)  # the app's one logger, as before the split

BROWSER_CTRL_C = "Ctrl+C copies in the browser and does not quit: q ends the session"


class HeartbeatApp(ServiceReads, FlashLine, CollectionPacing):
    """Takes its data source and settings in `__init__`; reads no globals."""

    TITLE = "HeartBeat"
    CSS_PATH = Path(__file__).parent.with_name("heartbeat.tcss")  # absolute: subclasses live elsewhere
    COMMANDS: ClassVar = App.COMMANDS | {HeartbeatCommands}
    COMMAND_PALETTE_BINDING = "ctrl+p"
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

    def retire(self, *replaced: object) -> None:
        """Free what a refresh replaced (a snapshot, a view, table rows) off the loop (tui/reaper.py)."""
        self.reaper.retire(*replaced)

    def _first_paint(self) -> None:
        self.first_paint_at = time.monotonic()
        log.info("first data painted")

    def on_unmount(self) -> None:
        self.controller.close()
        self.reaper.close()
        # Everything frozen is looked at again (tests run many apps in one process).
        heap.release()

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

    def action_help(self) -> None:
        from heartbeat_tui.tui.screens.help import HelpScreen

        if not isinstance(self.screen, HelpScreen):
            self.push_screen(HelpScreen(self.screen))

    def get_system_commands(self, screen: Screen[Any]) -> Iterable[SystemCommand]:
        for command in super().get_system_commands(screen):
            if command.title not in ("Keys", "Screenshot", "Maximize", "Minimize"):
                yield command
