"""`?`: every binding of the screen it was opened from (its focused pane, the
screen, the app), plus the filter language."""

from __future__ import annotations

from typing import ClassVar

from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.screen import ModalScreen, Screen
from textual.widgets import Static

from heartbeat_tui.filters import field_names
from heartbeat_tui.tui.commands import screen_bindings

FILTER_HELP = (
    "Filter (/): words match service, cluster, account or region; field:value narrows "
    "(status:FAILED  cpu:>80  mem:>=70  account:payments-prod  -status:ACTIVE). "
    f"Terms are ANDed. Fields: {field_names()}."
)


class HelpScreen(ModalScreen[None]):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,q,question_mark", "dismiss", "Close help", id="help.close"),
        Binding("j,down", "scroll('down')", "Scroll down", id="help.down", show=False),
        Binding("k,up", "scroll('up')", "Scroll up", id="help.up", show=False),
    ]

    DEFAULT_CSS = """
    HelpScreen { align: center middle; }
    HelpScreen > VerticalScroll {
        width: 84; max-width: 100%; height: auto; max-height: 100%;
        border: round $primary; background: $surface; padding: 0 1;
    }
    """

    def __init__(self, target: Screen) -> None:
        super().__init__(id="help")
        self.target = target

    def compose(self) -> ComposeResult:
        title = getattr(self.target, "help_title", None) or type(self.target).__name__.replace("Screen", "")
        table = Table(box=None, expand=True, show_header=True, header_style="bold", padding=(0, 1))
        table.add_column("key", no_wrap=True, style="bold")
        table.add_column("does")
        table.add_column("where", style="dim", no_wrap=True)
        for info in sorted(screen_bindings(self.target), key=_order):
            where = "app" if info.node is self.app else ("screen" if info.node is self.target else "pane")
            table.add_row(info.key, info.description, where)
        with VerticalScroll() as scroll:
            scroll.border_title = f"Help · {title}"
            scroll.border_subtitle = "Esc closes"
            yield Static(table, id="help-bindings")
            yield Static(Text(FILTER_HELP, style="dim"), id="help-filter")

    def action_scroll(self, direction: str) -> None:
        scroll = self.query_one(VerticalScroll)
        if direction == "down":
            scroll.scroll_down(animate=False)
        else:
            scroll.scroll_up(animate=False)

    def action_dismiss(self) -> None:  # type: ignore[override]
        self.dismiss(None)


def _order(info: object) -> tuple[int, str]:
    node_rank = 2 if getattr(info, "node", None).__class__.__name__.endswith("App") else 0
    return (node_rank, getattr(info, "description", ""))
