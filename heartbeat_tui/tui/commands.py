"""Command palette provider: every binding of the current screen is also a
command, plus one command per theme. Help (`?`) lists the same bindings."""

from __future__ import annotations

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
            ident = (id(namespace), binding.action)
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


def _run(screen: Screen[Any], info: BindingInfo) -> None:
    screen.app.call_later(screen.app.run_action, info.action, info.node)


class HeartbeatCommands(Provider):
    """The current screen's bindings and the themes, as commands."""

    def _commands(self) -> Iterator[tuple[str, str, Callable[[], object]]]:
        screen = self.screen
        seen: set[str] = set()
        for info in screen_bindings(screen):
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
