"""`[ui.keymap]`: the operator's own keys, by binding id.

Every binding of the dashboard has an id (`app.refresh`, `table.sort`, ...);
the configuration maps ids to keys and Textual's keymap applies them wherever
the binding is active, so help (`?`), the footer and the palette show the
keys in use. The configuration checks the shape of the table; this module
checks its ids against the bindings that exist, before the dashboard starts,
so a typo is a one-line error, not a key that silently does nothing.
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Iterator, Mapping

from textual.binding import Binding
from textual.dom import DOMNode

from heartbeat_tui.errors import ConfigError
from heartbeat_tui.tui.textual_private import character_to_key, merged_bindings


def _subclasses(cls: type) -> Iterator[type]:
    sub: type
    for sub in cls.__subclasses__():
        yield sub
        yield from _subclasses(sub)


def binding_ids() -> dict[str, Binding]:
    """Every binding id of the dashboard (its app, screens and widgets), with its
    binding (the default keys and what it does)."""

    import heartbeat_tui.tui as package

    for module in pkgutil.walk_packages(package.__path__, f"{package.__name__}."):
        importlib.import_module(module.name)
    found: dict[str, Binding] = {}
    for cls in _subclasses(DOMNode):
        if not cls.__module__.startswith("heartbeat_tui."):
            continue
        for binding in cls.__dict__.get("BINDINGS", ()):
            if isinstance(binding, Binding) and binding.id:
                found.setdefault(binding.id, binding)
    return found


def _keys(keys: str) -> list[str]:
    # As Textual reads them: "?" and "question_mark" are one key.
    return [character_to_key(key) if len(key) == 1 else key for key in (k.strip() for k in keys.split(","))]


def _clash(keymap: Mapping[str, str]) -> tuple[str, str, Binding, str] | None:
    """(id remapped, key, the binding that had the key, where) for the first key
    the keymap gives a binding that another binding of the same screen or widget
    still has; None when there is none. (Textual would let the remapped one win
    without a word: the other binding would be lost.)"""

    for cls in _subclasses(DOMNode):
        if not cls.__module__.startswith("heartbeat_tui."):
            continue
        # The bindings a node of this class has, its bases' included, as Textual merges them.
        merged = merged_bindings(cls)
        owners: dict[str, list[Binding]] = {}
        for binding in {id(b): b for bs in merged.key_to_bindings.values() for b in bs}.values():
            keys = keymap.get(binding.id) if binding.id else None
            for key in _keys(keys if keys is not None else binding.key):
                owners.setdefault(key, []).append(binding)
        for key, bindings in owners.items():
            remapped = [b for b in bindings if b.id in keymap]
            others = [b for b in bindings if b.action != (remapped[0].action if remapped else None)]
            if remapped and others:
                return str(remapped[0].id), key, others[0], cls.__name__
    return None


def check_keymap(keymap: Mapping[str, str], source: str) -> dict[str, str]:
    """The keymap, once every id in it names a binding of the dashboard and none
    of its keys takes another binding's key in the same place."""

    if not keymap:
        return {}  # nothing to check: no start-up work
    known = binding_ids()
    for ident in keymap:
        if ident not in known:
            near = sorted(k for k in known if k.split(".")[0] == ident.split(".")[0]) or sorted(known)[:6]
            raise ConfigError(
                source, f"ui.keymap.{ident}", f"no binding has this id (some that do: {', '.join(near[:8])})"
            )
    clash = _clash(keymap)
    if clash is not None:
        ident, key, other, where = clash
        what = f"{other.description or other.action} ({other.id})" if other.id else f"Textual's {other.action}"
        hint = f"; give {other.id} another key too" if other.id else ""
        raise ConfigError(source, f"ui.keymap.{ident}", f"key {key} is already {what} in {where}{hint}")
    return dict(keymap)


__all__ = ["binding_ids", "check_keymap"]
