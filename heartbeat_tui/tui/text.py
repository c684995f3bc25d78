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

from rich.style import StyleType
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


__all__ = ["content", "plain", "plain_lines", "visible", "visible_lines"]
