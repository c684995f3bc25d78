"""CloudWatch Logs of a service or a task: newest at the bottom, following by default.

The screen starts no I/O: it posts `LogsWanted` and the app answers with
`LogsReady` (the controller reads through the session's scope). A follow read
starts a little before the newest line shown and `LogFollower` skips what is
already there. Every line is untrusted text: it reaches the terminal only as a
Rich `Text` with every control character a visible escape.
"""

from __future__ import annotations

import itertools
import re
from collections import deque
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, OptionList, RichLog, Static
from textual.widgets.option_list import Option

from heartbeat_tui.logtail import LOG_LINES_KEPT, LogFollower
from heartbeat_tui.models import LogBatch, LogLine, LogQuery
from heartbeat_tui.tui.messages import LogsReady, LogsRequested, LogsWanted
from heartbeat_tui.tui.screens.base import FleetScreen
from heartbeat_tui.tui.styles import Status
from heartbeat_tui.tui.text import plain, visible
from heartbeat_tui.tui.view import FleetView
from heartbeat_tui.tui.widgets.footer import Footer
from heartbeat_tui.tui.widgets.header import HeaderBar

RANGES: tuple[tuple[str, timedelta], ...] = (
    ("5m", timedelta(minutes=5)),
    ("15m", timedelta(minutes=15)),
    ("1h", timedelta(hours=1)),
    ("3h", timedelta(hours=3)),
    ("12h", timedelta(hours=12)),
    ("24h", timedelta(hours=24)),
)
DEFAULT_RANGE = "15m"
ALL_CONTAINERS = "\x00all"  # an option id no container can have
# A line's level, for its colour (the words most runtimes and loggers print).
_ERROR = re.compile(r"\b(error|fatal|exception|traceback|panic|critical)\b", re.IGNORECASE)
_WARNING = re.compile(r"\bwarn(ing)?\b", re.IGNORECASE)


class PickerModal(ModalScreen[str | None]):
    """A short list to pick one entry from (Enter picks, Esc keeps what was)."""

    DEFAULT_CSS = """
    PickerModal { align: center middle; }
    PickerModal > Vertical { width: 50; max-width: 100%; height: auto; max-height: 80%;
        border: round $primary; background: $surface; }
    PickerModal OptionList { height: auto; max-height: 20; border: none; }
    """
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "dismiss_none", "Cancel", id="picker.cancel"),
    ]

    def __init__(self, title: str, options: list[tuple[str, str]], current: str) -> None:
        super().__init__()
        self._title = title
        self._options = options
        self._current = current

    def compose(self) -> ComposeResult:
        box = Vertical()
        box.border_title = self._title
        box.border_subtitle = "Enter picks · Esc cancels"
        with box:
            # The labels hold container names (others' text): plain Text, never markup.
            yield OptionList(*(Option(plain(label), id=ident) for ident, label in self._options))

    def on_mount(self) -> None:
        options = self.query_one(OptionList)
        index = next((i for i, (ident, _) in enumerate(self._options) if ident == self._current), 0)
        options.highlighted = index
        options.focus()

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        self.dismiss(event.option.id)

    def action_dismiss_none(self) -> None:
        self.dismiss(None)


class SearchInput(Input):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "screen.clear_search", "Clear the search", id="logs.search_cancel", show=False),
    ]


class LogsScreen(FleetScreen):
    help_title = "Logs"
    # Read ids unique across every logs screen: the app hands each answer to the screen awaiting it.
    _request_ids = itertools.count(1)

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "back", "Back", id="logs.back"),
        Binding("f", "toggle_follow", "Follow", id="logs.follow"),
        # Priority: the search has the focus before the keys read with `/` are handed
        # on (see `ServicesScreen`); in the search itself, `/` is text.
        Binding("slash", "search", "Search", id="logs.search", key_display="/", priority=True),
        Binding("w", "toggle_wrap", "Wrap", id="logs.wrap"),
        Binding("c", "pick_container", "Container", id="logs.container"),
        Binding("s", "pick_range", "Since", id="logs.since"),
        Binding("j,down", "scroll('down')", "Scroll down", id="logs.down", show=False),
        Binding("k,up", "scroll('up')", "Scroll up", id="logs.up", show=False),
        Binding("g,home", "scroll('home')", "Top", id="logs.top", show=False),
        Binding("G,end", "scroll('end')", "Bottom", id="logs.bottom", show=False),
        Binding("pagedown,ctrl+f", "scroll('pagedown')", "Page down", id="logs.page_down", show=False),
        Binding("pageup,ctrl+b", "scroll('pageup')", "Page up", id="logs.page_up", show=False),
    ]

    def __init__(self, request: LogsRequested, *, clock: Callable[[], datetime], follow_seconds: float = 5.0) -> None:
        super().__init__(id="logs")
        self.request = request
        self._clock = clock
        self._follow_seconds = follow_seconds
        self.follow = True
        self.wrap = False
        self.search = ""
        self.container: str | None = None
        self.range = DEFAULT_RANGE
        self.lines: deque[LogLine] = deque(maxlen=LOG_LINES_KEPT)
        self.last_batch: LogBatch | None = None
        self.error: str | None = None
        self.reads = 0  # answers applied (tests wait on it)
        self.awaiting: int | None = None  # the read whose answer this screen waits for
        self._full = True
        self._follower = LogFollower(self._start())

    def compose(self) -> ComposeResult:
        yield HeaderBar("logs")
        yield Static("", id="logs-title")
        yield Static("", id="logs-notes")
        yield RichLog(id="logs-lines", wrap=False, markup=False, highlight=False, max_lines=LOG_LINES_KEPT)
        search = SearchInput(placeholder="search (Enter keeps it, Esc clears it)", id="logs-search")
        search.display = False
        yield search
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#logs-lines", RichLog).focus()
        self._show_title()
        self.read(full=True)
        self.set_interval(self._follow_seconds, self._tick)

    def apply_view(self, view: FleetView) -> None:
        """Logs do not follow the poll: nothing to do."""

    # -- reading --------------------------------------------------------------------------

    def _start(self) -> datetime:
        return self._clock() - dict(RANGES)[self.range]

    def read(self, *, full: bool) -> None:
        """Ask the app for lines: the whole range (`full`), or what is new since the last read."""

        if full:
            self._follower = LogFollower(self._start())
        elif self.awaiting is not None:
            return  # one read at a time; the next tick asks again
        request_id = next(LogsScreen._request_ids)
        self.awaiting = request_id
        self._full = full
        request = self.request
        query = LogQuery(
            account_id=request.account_id,
            region=request.region,
            cluster_arn=request.cluster_arn,
            service_name=request.service_name,
            start=self._follower.next_start,
            task_id=request.task_id,
            container=self.container,
            task_definition=request.task_definition,
        )
        self.post_message(LogsWanted(request_id, query))

    def _tick(self) -> None:
        if self.follow and self.awaiting is None:
            self.read(full=False)

    def on_logs_ready(self, message: LogsReady) -> None:
        message.stop()
        if message.request != self.awaiting:
            return  # an answer to a read made before the container or range changed
        self.awaiting = None
        self.reads += 1
        if message.error is not None or message.batch is None:
            self.error = message.error or "no answer"
            self._show_title()
            return
        self.error = None
        self.last_batch = message.batch
        fresh = self._follower.new_lines(message.batch.lines)
        if self._full:
            self.lines.clear()
        self.lines.extend(fresh)
        if self._full:
            self._render_all()
        else:
            log = self.query_one("#logs-lines", RichLog)
            several = self._several()
            for line in fresh:
                if self._matches(line):
                    log.write(self._line_text(line, several), scroll_end=self.follow)
        self._show_title()

    # -- showing --------------------------------------------------------------------------

    def _several(self) -> tuple[bool, bool]:
        """Whether a line must say its container, and its task: the read covers more
        than one (decided by the read, not the lines, so labels do not come and go)."""

        containers = self.last_batch.containers if self.last_batch is not None else ()
        return self.container is None and len(containers) > 1, self.request.task_id is None

    def _matches(self, line: LogLine) -> bool:
        return not self.search or self.search.lower() in line.message.lower()

    def _line_text(self, line: LogLine, several: tuple[bool, bool]) -> Text:
        when = line.timestamp if self.hb.frozen_time else line.timestamp.astimezone()
        text = Text(when.strftime("%H:%M:%S "), style="dim", no_wrap=not self.wrap, overflow="ellipsis")
        containers, tasks = several
        if containers or tasks:
            label = "/".join(p for p, shown in ((line.container, containers), (line.task_id[:8], tasks)) if shown)
            text.append(visible(label) + " ", style=self.hb.status_style(Status.PROGRESS))
        start = len(text)
        # The most hostile text there is: every control character a visible escape, never markup.
        text.append(visible(line.message))
        if _ERROR.search(line.message):
            text.stylize(self.hb.status_style(Status.CRITICAL), start)
        elif _WARNING.search(line.message):
            text.stylize(self.hb.status_style(Status.WARNING), start)
        if self.search:
            text.highlight_words([visible(self.search)], style="reverse", case_sensitive=False)
        return text

    def _render_all(self) -> None:
        log = self.query_one("#logs-lines", RichLog)
        log.clear()
        log.wrap = self.wrap
        log.auto_scroll = self.follow
        several = self._several()
        for line in self.lines:
            if self._matches(line):
                log.write(self._line_text(line, several), scroll_end=False)
        log.scroll_end(animate=False)  # newest at the bottom

    def _show_title(self) -> None:
        request = self.request
        title = Text()
        title.append(visible(request.service_name), style="bold")
        title.append(visible(f"   {request.title}"))
        title.append("   task " + visible(request.task_id[:12]) if request.task_id else "   every task")
        state = Text(style="dim")
        container = self.container or "every container"
        shown = sum(1 for line in self.lines if self._matches(line))
        state.append(visible(container) + f" (c) · {self.range} (s) · ")
        state.append(f"follow {'on' if self.follow else 'off'} (f) · wrap {'on' if self.wrap else 'off'} (w)")
        state.append(f" · {shown}/{len(self.lines)} lines" if self.search else f" · {len(self.lines)} lines")
        rows = [title, state]
        if self.search:
            found = Text("search: ", style="dim")
            found.append(visible(self.search), style="bold")
            rows.append(found)
        self.query_one("#logs-title", Static).update(Text("\n").join(rows))
        notes: list[Text] = []
        critical = self.hb.status_style(Status.CRITICAL)
        if self.error:
            notes.append(plain(f"could not read the logs: {self.error}", style=critical))
        batch = self.last_batch
        if batch is not None:
            notes += [plain(note, style=self.hb.status_style(Status.WARNING)) for note in batch.notes]
            notes += [plain(error, style=critical) for error in batch.errors]
            if batch.truncated:
                notes.append(
                    Text(f"only the newest {LOG_LINES_KEPT} lines are kept: shorten the range (s)", style="dim")
                )
            if not batch.lines and not self.lines and not batch.notes and not batch.errors:
                notes.append(Text(f"no lines in the last {self.range}", style="dim"))
        elif self.awaiting is not None and not self.error:
            notes.append(Text("reading…", style="dim"))
        widget = self.query_one("#logs-notes", Static)
        widget.display = bool(notes)
        widget.update(Text("\n").join(notes))

    # -- keys -------------------------------------------------------------------------------

    def action_back(self) -> None:
        self.app.pop_screen()

    def action_toggle_follow(self) -> None:
        self.follow = not self.follow
        log = self.query_one("#logs-lines", RichLog)
        log.auto_scroll = self.follow
        if self.follow:
            log.scroll_end(animate=False)
            self.read(full=False)
        self._show_title()

    def action_toggle_wrap(self) -> None:
        self.wrap = not self.wrap
        self._render_all()
        self._show_title()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "search" and isinstance(self.focused, Input):
            return False  # typed into the search
        return super().check_action(action, parameters)

    def action_search(self) -> None:
        search = self.query_one("#logs-search", Input)
        search.display = True
        search.value = self.search
        self.set_focus(search, scroll_visible=False)  # now: keys typed in the same burst land in it

    def on_input_changed(self, event: Input.Changed) -> None:
        event.stop()
        self.search = event.value
        self._render_all()
        self._show_title()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self._close_search(keep=True)

    def _close_search(self, *, keep: bool) -> None:
        search = self.query_one("#logs-search", Input)
        search.display = False
        if not keep:
            self.search = ""
            self._render_all()
            self._show_title()
        self.query_one("#logs-lines", RichLog).focus()

    def action_clear_search(self) -> None:
        self._close_search(keep=False)

    def action_pick_container(self) -> None:
        names = self.last_batch.containers if self.last_batch is not None else ()
        options = [(ALL_CONTAINERS, "every container"), *((name, name) for name in names)]

        def picked(choice: str | None) -> None:
            if choice is None:
                return
            self.container = None if choice == ALL_CONTAINERS else choice
            self.read(full=True)
            self._show_title()

        self.app.push_screen(PickerModal("Container", options, self.container or ALL_CONTAINERS), picked)

    def action_pick_range(self) -> None:
        def picked(choice: str | None) -> None:
            if choice is None:
                return
            self.range = choice
            self.read(full=True)
            self._show_title()

        options = [(label, f"last {label}") for label, _ in RANGES]
        self.app.push_screen(PickerModal("Since", options, self.range), picked)

    def action_scroll(self, where: str) -> None:
        log = self.query_one("#logs-lines", RichLog)
        if where in ("up", "pageup", "home") and self.follow:
            # Reading back: stop following, or the next line would jump to the end.
            self.follow = False
            log.auto_scroll = False
            self._show_title()
        {
            "down": lambda: log.scroll_down(animate=False),
            "up": lambda: log.scroll_up(animate=False),
            "home": lambda: log.scroll_home(animate=False),
            "end": lambda: log.scroll_end(animate=False),
            "pagedown": lambda: log.scroll_page_down(animate=False),
            "pageup": lambda: log.scroll_page_up(animate=False),
        }[where]()
