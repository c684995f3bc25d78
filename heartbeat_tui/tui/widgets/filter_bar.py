"""The `/` filter line: typed text is compiled as the operator types; a bad
filter shows its reason, whole (wrapped under the line, never cut off), and
keeps the last good one."""

from __future__ import annotations

from typing import ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.widgets import Input, Static

from heartbeat_tui.filters import EMPTY_FILTER, Filter, FilterError, field_names, parse_filter
from heartbeat_tui.tui.text import plain


class FilterInput(Input):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "Clear filter", id="filter.cancel"),
    ]

    def action_cancel(self) -> None:
        self.value = ""
        for bar in self.ancestors:
            if isinstance(bar, FilterBar):
                bar.close(keep=False)
                break


class FilterBar(Vertical):
    DEFAULT_CSS = """
    FilterBar {
        height: auto;
        display: none;
        background: $panel;
    }
    FilterBar.-open { display: block; }
    FilterBar > Horizontal { height: 1; }
    FilterBar .filter-prompt { width: 2; color: $text-accent; text-style: bold; }
    FilterBar FilterInput { border: none; height: 1; width: 1fr; padding: 0; background: $panel; }
    FilterBar FilterInput:focus { border: none; }
    FilterBar > .filter-message { width: 1fr; height: auto; color: $text-muted; padding: 0 2; }
    FilterBar > .filter-message.-error { color: $hb-critical; }
    """

    class Changed(Message):
        """A new valid filter (possibly empty)."""

        def __init__(self, bar: FilterBar, filter: Filter) -> None:
            super().__init__()
            self.bar = bar
            self.filter = filter

        @property
        def control(self) -> FilterBar:
            return self.bar

    class Closed(Message):
        def __init__(self, bar: FilterBar) -> None:
            super().__init__()
            self.bar = bar

        @property
        def control(self) -> FilterBar:
            return self.bar

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.current: Filter = EMPTY_FILTER

    def compose(self) -> ComposeResult:
        with Horizontal():
            yield Static("/", classes="filter-prompt")
            yield FilterInput(
                placeholder="text, or field:value (status:FAILED cpu:>80 name:api-* problem:yes)",
                select_on_focus=False,
            )
        yield Static("", classes="filter-message")

    def open(self) -> None:
        self.add_class("-open")
        field = self.query_one(FilterInput)
        field.value = self.current.text
        field.cursor_position = len(field.value)
        self._message("Enter keeps the filter, Esc clears it", error=False)
        # Focused now, not after the keys already queued (`focus()` waits for them):
        # `/account:x` typed in one burst, or pasted, lost its first letters to the table.
        self.screen.set_focus(field, scroll_visible=False)

    def close(self, *, keep: bool = True) -> None:
        if not keep and not self.current.empty:
            self.current = EMPTY_FILTER
            self.post_message(self.Changed(self, EMPTY_FILTER))
        self.remove_class("-open")
        self.post_message(self.Closed(self))

    def clear(self) -> None:
        self.query_one(FilterInput).value = ""
        self.current = EMPTY_FILTER
        self.post_message(self.Changed(self, EMPTY_FILTER))

    def _message(self, text: str, *, error: bool) -> None:
        message = self.query_one(".filter-message", Static)
        message.update(plain(text))  # echoes what was typed (or pasted): never markup
        message.set_class(error, "-error")

    @on(Input.Changed)
    def _typed(self, event: Input.Changed) -> None:
        event.stop()
        try:
            compiled = parse_filter(event.value)
        except FilterError as exc:
            self._message(str(exc), error=True)
            return
        self._message("" if compiled.terms else f"fields: {field_names()}", error=False)
        if compiled.text != self.current.text:
            self.current = compiled
            self.post_message(self.Changed(self, compiled))

    @on(Input.Submitted)
    def _submitted(self, event: Input.Submitted) -> None:
        event.stop()
        try:
            parse_filter(event.value)
        except FilterError as exc:
            self._message(str(exc), error=True)
            return
        self.close(keep=True)
