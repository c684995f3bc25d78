"""Every use of a private Textual API, in one place.

Textual has no public hook for these, so they live here and nowhere else;
tests/tui/test_textual_private.py checks each one against the installed
Textual and fails naming its version when an upgrade removes or changes one.

* `App._handle_exception` / `App._print_error_renderables` / `App._exit_renderables`:
  an unhandled error must be logged, and never printed as a traceback over the
  operator's shell (locals in it may hold secrets); `crashed` and
  `crash_reason` let the launcher exit with a clear message instead.
* `DOMNode._merge_bindings`: the bindings a widget class has with its bases',
  merged as Textual merges them, so a keymap that would silently drop a
  binding is refused before the app starts.
* `Screen._modal_binding_chain` / `App._check_action_state`: the bindings of a
  screen, nearest the focus first, and whether `check_action` hides or dims
  each; `?` and the command palette list them. The public
  `Screen.active_bindings` is built from the same two, but a priority binding
  takes the slot of the key it shadows there, which reorders what `?` shows.
* `textual.keys._character_to_key`: a keymap's `?` or `/` spelt as Textual's key
  name (`question_mark`), exactly as Textual spells it.
* `Widget._border_subtitle`: the fleet view names the selected service under
  its table, so the subtitle changes on every cursor move; the public setter
  repaints the whole widget (60 table lines at 200x60, half a keypress's CPU)
  for one line of border. `set_table_subtitle` sets it as the setter does and
  repaints the bottom border line only.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import Any

from textual.app import App
from textual.binding import Binding, BindingsMap
from textual.content import Content
from textual.dom import DOMNode
from textual.geometry import Region
from textual.keys import _character_to_key
from textual.screen import Screen
from textual.widget import Widget

log = logging.getLogger("heartbeat_tui.tui.app")  # where these lines were logged before

# The private names used below, for the upgrade test.
USED: dict[type, tuple[str, ...]] = {
    App: ("_handle_exception", "_print_error_renderables", "_check_action_state"),
    Screen: ("_modal_binding_chain",),
    DOMNode: ("_merge_bindings",),
}
USED_FUNCTIONS = ("textual.keys._character_to_key",)
USED_INSTANCE_ATTRIBUTES: dict[type, tuple[str, ...]] = {App: ("_exit_renderables",), Widget: ("_border_subtitle",)}


class CrashReportingApp(App[int]):
    """An app whose crash is logged, never printed, and visible as `crashed`."""

    crash_reason: str | None = None
    _crash_rendered = False

    @property
    def crashed(self) -> bool:
        """True once the app stopped on an unhandled error (its traceback is in the log)."""
        return self.crash_reason is not None or self._crash_rendered

    def _handle_exception(self, error: Exception) -> None:
        log.error("unhandled error in the dashboard", exc_info=error)
        self.crash_reason = f"{type(error).__name__}: {error}"
        super()._handle_exception(error)

    def _print_error_renderables(self) -> None:
        # A crash is logged, never printed as a traceback over the operator's shell.
        if self._exit_renderables:
            log.error("the dashboard stopped on an internal error (traceback rendered by Textual)")
            self._crash_rendered = True
        self._exit_renderables.clear()


def merged_bindings(node_class: type[DOMNode]) -> BindingsMap:
    """The bindings of `node_class` and its bases, merged as Textual merges them."""
    return node_class._merge_bindings()  # see the module docstring


def character_to_key(character: str) -> str:
    """Textual's key name for one character (`?` -> `question_mark`)."""
    return _character_to_key(character)


def binding_chain(screen: Screen[Any]) -> Iterable[tuple[DOMNode, Iterable[tuple[str, Binding]]]]:
    """(node, its (key, binding) pairs) from the focused widget out to the app, as Textual dispatches keys."""
    return [(node, list(bindings)) for node, bindings in screen._modal_binding_chain]


def action_state(app: App[object], action: str, node: DOMNode) -> bool | None:
    """`check_action` for `action` on `node`: True shown, None dimmed, False hidden."""
    return app._check_action_state(action, node)  # see the module docstring


def set_table_subtitle(widget: Widget, subtitle: Content) -> None:
    """`widget.border_subtitle = subtitle`, repainting only the bottom border line (see the module docstring)."""

    new = widget.render_str(subtitle).expand_tabs(4).split()[0]  # as Textual's setter keeps it
    if widget._border_subtitle == new:
        return
    widget._border_subtitle = new
    if not widget.is_mounted:
        widget.refresh()
        return
    offset, outer = widget.content_offset, widget.outer_size
    # `refresh` takes regions in content coordinates; the bottom border lies below the content.
    widget.refresh(Region(-offset.x, outer.height - 1 - offset.y, outer.width, 1))
