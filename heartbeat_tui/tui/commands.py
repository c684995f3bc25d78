"""Command palette provider: every binding of the current screen is also a
command, plus one command per theme. Help (`?`) lists the same bindings."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import partial
from typing import Any

from textual.command import DiscoveryHit, Hit, Hits, Provider
from textual.dom import DOMNode
from textual.screen import Screen

from heartbeat_tui.tui.textual_private import action_state, binding_chain

# Textual's own bindings that HeartBeat's keys shadow or that only add noise.
SHADOWED = frozenset({"screen.copy_text", "copy_text", "scroll_left", "scroll_right", "page_left", "page_right"})
# Actions that are another's under a second name (Ctrl+C quits only where it is not a browser's copy): one entry.
ALIASES = {"interrupt": "quit"}


@dataclass(frozen=True)
class BindingInfo:
    key: str
    description: str
    action: str
    node: DOMNode
    binding_id: str | None
    enabled: bool


def screen_bindings(screen: Screen[Any]) -> list[BindingInfo]:
    """The bindings active on `screen` (its focused widget, the screen, the app),
    one entry per action, keys of the same action joined (`j/down`)."""

    app = screen.app
    merged: dict[tuple[int, str], BindingInfo] = {}
    taken: set[str] = set()  # a key bound nearer the focus shadows the same key further out
    for namespace, bindings in binding_chain(screen):
        for key, binding in bindings:
            if key in taken and not binding.priority:
                continue
            taken.add(key)
            if not binding.description or binding.system or binding.action in SHADOWED:
                continue
            state = action_state(app, binding.action, namespace)
            if state is False:
                continue
            display = app.get_key_display(binding)
            ident = (id(namespace), ALIASES.get(binding.action, binding.action))
            known = merged.get(ident)
            if known is not None:
                if display not in known.key.split("/"):
                    merged[ident] = BindingInfo(
                        f"{known.key}/{display}",
                        known.description,
                        known.action,
                        known.node,
                        known.binding_id,
                        known.enabled,
                    )
                continue
            merged[ident] = BindingInfo(
                display, binding.description, binding.action, namespace, binding.id, bool(state)
            )
    return list(merged.values())


# What a key does, as help groups it; palette order follows (most useful first).
GROUPS = ("Look", "Act", "Move")
_LOOK = {"select", "fleet", "account_error", "filter", "cycle_sort", "reverse_sort", "notifications", "help"}
_LOOK |= {"command_palette", "change_theme", "admin", "app.pop_screen", "dismiss", "load_tasks"}
_MOVE = {"cursor_up", "cursor_down", "first", "last", "page_up", "page_down", "scroll_top", "scroll_bottom"}
_MOVE |= {"pane(1)", "pane(-1)", "back", "app.focus_next", "app.focus_previous", "scroll('down')", "scroll('up')"}
_MOVE |= {"scroll('home')", "scroll('end')", "scroll('pagedown')", "scroll('pageup')"}
# The palette's first entries: what an operator opens it for.
_FIRST = ("fleet", "filter", "notifications", "refresh", "toggle_pause", "account_error", "select", "change_theme")
# The same move under two names: Tab is also "next pane" where `l` is.
_SAME = {"app.focus_next": "pane(1)", "app.focus_previous": "pane(-1)"}
# ... and where nothing else moves between panes (a services table: `l` opens logs), named as one.
_NAMED = {"app.focus_next": "Next pane", "app.focus_previous": "Previous pane"}


def group_of(action: str) -> str:
    if action in _MOVE:
        return "Move"
    return "Look" if action in _LOOK else "Act"


def grouped(infos: list[BindingInfo]) -> list[tuple[str, list[BindingInfo]]]:
    """Help's view of the bindings: by what they do, keys of one move joined
    (`l/tab` next pane, not a separate "Focus Next")."""

    actions = {info.action: info for info in infos}
    merged: list[BindingInfo] = []
    for info in infos:
        twin = actions.get(_SAME.get(info.action, ""))
        if twin is not None:
            continue  # folded into its twin below
        if info.action in _NAMED:
            info = dataclasses.replace(info, description=_NAMED[info.action])
        extra = [other.key for other in infos if _SAME.get(other.action) == info.action]
        merged.append(info if not extra else BindingInfo("/".join([info.key, *extra]), *_tail(info)))
    return [(group, [i for i in merged if group_of(i.action) == group]) for group in GROUPS]


def _tail(info: BindingInfo) -> tuple[str, str, DOMNode, str | None, bool]:
    return info.description, info.action, info.node, info.binding_id, info.enabled


def palette_order(infos: list[BindingInfo]) -> list[BindingInfo]:
    """The palette's entries: the useful ones first, then the rest by group; no cursor moves."""

    def rank(info: BindingInfo) -> tuple[int, int]:
        first = _FIRST.index(info.action) if info.action in _FIRST else len(_FIRST)
        return first, GROUPS.index(group_of(info.action))

    return sorted((i for i in infos if group_of(i.action) != "Move"), key=rank)


def _run(screen: Screen[Any], info: BindingInfo) -> None:
    screen.app.call_later(screen.app.run_action, info.action, info.node)


class HeartbeatCommands(Provider):
    """The current screen's bindings and the themes, as commands."""

    def _commands(self) -> Iterator[tuple[str, str, Callable[[], object]]]:
        screen = self.screen
        seen: set[str] = set()
        for info in palette_order(screen_bindings(screen)):
            if info.description in seen:
                continue
            seen.add(info.description)
            yield info.description, f"key {info.key}", partial(_run, screen, info)
        app = self.app
        for name in sorted(app.available_themes):
            if name.startswith("heartbeat") or name == app.theme:
                yield (
                    f"Theme: {name}",
                    "switch to this theme (remembered in the config)",
                    partial(setattr, app, "theme", name),
                )

    async def discover(self) -> Hits:
        for title, help_text, callback in self._commands():
            yield DiscoveryHit(title, callback, help=help_text)

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for title, help_text, callback in self._commands():
            score = matcher.match(title)
            if score > 0:
                yield Hit(score, matcher.highlight(title), callback, help=help_text)
