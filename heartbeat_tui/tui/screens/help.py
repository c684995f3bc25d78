"""`?`: every binding of the screen it was opened from (its focused pane, the
screen, the app), plus the filter language."""

from __future__ import annotations

from typing import Any, ClassVar, Protocol, cast, runtime_checkable

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import BindingType
from textual.screen import Screen
from textual.widgets import Static

from heartbeat_tui.filters import field_names
from heartbeat_tui.tui.commands import grouped, screen_bindings
from heartbeat_tui.tui.screens.modal import PanelModal, panel_bindings
from heartbeat_tui.tui.state import DashboardHost
from heartbeat_tui.tui.text import PlainTable
from heartbeat_tui.tui.view import SORT_HELP

FILTER_HELP = (
    "Filter (/): words match service, cluster, account or region; field:value narrows "
    "(status:FAILED  cpu:>80  mem:>=70  account:payments-prod  -status:ACTIVE  problem:yes); "
    "globs and | alternatives (name:api-*  status:FAILED|DRAINING). "
    f"Terms are ANDed. Fields: {field_names()}."
)

# `heartbeat web`: the browser keeps some keys and pastes by itself.
BROWSER_HELP = (
    "In the browser: Ctrl+Shift+V (or the browser's Paste) pastes; Ctrl+C copies the selection and "
    "does not quit (q ends the session); Alt+Backspace deletes a word, as Ctrl+W (the browser's: it "
    "closes the tab) would. Ctrl+T, Ctrl+N and Ctrl+Shift+W/I stay the browser's; nothing here needs them."
)


@runtime_checkable
class HasHelpTitle(Protocol):
    """A screen that names itself in the help (`Service detail`); others are named by their class."""

    help_title: str


class HelpScreen(PanelModal):
    BINDINGS: ClassVar[list[BindingType]] = panel_bindings("help", "escape,q,question_mark", "Close help")

    def __init__(self, target: Screen[Any]) -> None:
        super().__init__(id="help")
        self.target = target

    def compose(self) -> ComposeResult:
        titled = self.target.help_title if isinstance(self.target, HasHelpTitle) else ""
        title = titled or type(self.target).__name__.replace("Screen", "")
        table = PlainTable(box=None, expand=True, show_header=True, header_style="bold", padding=(0, 1))
        table.add_column("key", no_wrap=True, style="bold")
        table.add_column("does")
        table.add_column("where", style="dim", no_wrap=True)
        app = self.app
        for group, infos in grouped(screen_bindings(self.target)):
            if not infos:
                continue
            table.add_row(Text(group, style="bold underline"), "", "")
            for info in infos:
                where = "app" if info.node is app else ("screen" if info.node is self.target else "pane")
                table.add_row(info.key, info.description, where)
        with self.panel(f"Help · {title}"):
            if cast(DashboardHost, app).in_browser:  # first: above the fold of a browser window
                yield Static(Text(BROWSER_HELP), id="help-browser")
            yield Static(table, id="help-bindings")
            yield Static(Text(SORT_HELP, style="dim"), id="help-sort")
            yield Static(Text(FILTER_HELP, style="dim"), id="help-filter")
