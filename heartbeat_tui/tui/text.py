"""The TUI's one door for untrusted text (names, reasons, errors, aliases, users).

A `str` handed to Textual is parsed as markup almost everywhere (Static,
Label, DataTable cells, border titles, toasts, Rich table cells): `[link='x]`
in a service name raises MarkupError, `[@click=...]` becomes an action. And
neither Rich's `Text` nor Textual's `Content` removes ESC or bidi overrides.
So untrusted text reaches a widget only as a Rich `Text` or Textual `Content`
built here: never parsed, every unsafe code point a visible escape
(`heartbeat_tui.untrusted.visible`). Text HeartBeat writes itself may stay
a `str`; anything with a value from outside in it goes through here.
"""

from __future__ import annotations

from rich.console import RenderableType
from rich.style import StyleType
from rich.table import Table
from rich.text import Text
from textual.content import Content

from heartbeat_tui.untrusted import visible, visible_lines


def plain(text: str | None, style: StyleType = "", **kwargs: object) -> Text:
    """One line of untrusted text as a Rich `Text` (no markup, visible escapes)."""

    return Text(visible(text or ""), style=style, **kwargs)  # type: ignore[arg-type]


def plain_lines(text: str | None, style: StyleType = "", **kwargs: object) -> Text:
    """Untrusted text that may hold lines (a panel shows them): newlines kept."""

    return Text(visible_lines(text or ""), style=style, **kwargs)  # type: ignore[arg-type]


def content(text: str | None) -> Content:
    """Untrusted text as Textual `Content` (a border title, a Static), never markup."""

    return Content(visible(text or ""))


class PlainTable(Table):
    """A Rich `Table` whose `str` cells are plain text: Rich parses a `str` cell as
    markup (an AWS status of `[/x]` raised a MarkupError on the detail screen), so
    every table the dashboard draws is this one and a cell needs no care at its call site."""

    def add_row(
        self, *renderables: RenderableType | None, style: StyleType | None = None, end_section: bool = False
    ) -> None:
        cells = [plain(cell) if isinstance(cell, str) else cell for cell in renderables]
        super().add_row(*cells, style=style, end_section=end_section)


__all__ = ["PlainTable", "content", "plain", "plain_lines", "visible", "visible_lines"]
