"""Keys fit a browser (`heartbeat web`, the app built with `in_browser=True`):
Ctrl+C copies and never ends the session, help says how to paste, and no
action needs a key the browser keeps for itself. The terminal is unchanged:
Ctrl+C quits there (and the SVG snapshots stay as they are).

The same keys in a real browser: tests/web_browser/test_browser_keys.py.
"""

from __future__ import annotations

import importlib
import pkgutil

import pytest
from textual.dom import DOMNode
from textual.widgets import Input

from heartbeat_tui.tui.app import BROWSER_CTRL_C
from heartbeat_tui.tui.commands import SHADOWED
from heartbeat_tui.tui.keymap import _subclasses
from heartbeat_tui.tui.screens.help import HelpScreen
from heartbeat_tui.tui.textual_private import merged_bindings
from tests.support.factory import ScriptedSource, make_snapshot
from tests.support.pilot import Notes, make_app, wait_until
from tests.support.screen_text import screen_text

# What Chromium (and Firefox) act on before a page sees the key: a page cannot take them.
BROWSER_KEPT = frozenset(
    {
        "ctrl+w",
        "ctrl+t",
        "ctrl+n",
        "ctrl+shift+w",
        "ctrl+shift+t",
        "ctrl+shift+n",
        "ctrl+shift+i",
        "ctrl+shift+j",
        "ctrl+shift+q",
        "ctrl+tab",
        "ctrl+shift+tab",
        "ctrl+pageup",
        "ctrl+pagedown",
    }
)
# A kept key whose action the browser still reaches by another key: xterm.js sends
# Alt+Backspace as ESC DEL, which Textual reads as ctrl+w (proved in Chromium by
# tests/web_browser/test_browser_keys.py).
REACHED_OTHERWISE = {"ctrl+w": "alt+backspace"}


def _app(**kwargs):
    return make_app(ScriptedSource(make_snapshot(accounts=2, clusters=1, services=3)), **kwargs)


async def test_ctrl_c_quits_in_a_terminal() -> None:
    app = _app()
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_until(pilot, lambda: app.polls_applied == 1)
        await pilot.press("ctrl+c")
        await pilot.pause()
        assert not app.is_running


async def test_ctrl_c_in_a_browser_does_not_quit_and_says_what_does() -> None:
    app = _app(in_browser=True)
    notes = Notes()
    async with app.run_test(size=(120, 40), message_hook=notes) as pilot:
        await wait_until(pilot, lambda: app.polls_applied == 1)
        await pilot.press("ctrl+c")
        await wait_until(pilot, lambda: notes.said(BROWSER_CTRL_C))
        assert app.is_running
        # Still answering keys: the next poll on `r`, then `q` ends the session.
        await pilot.press("r")
        await wait_until(pilot, lambda: app.polls_applied == 2)
        await pilot.press("q")
        await pilot.pause()
        assert not app.is_running


async def test_ctrl_c_in_a_browser_copies_a_fields_selection() -> None:
    app = _app(in_browser=True)
    notes = Notes()
    async with app.run_test(size=(120, 40), message_hook=notes) as pilot:
        await wait_until(pilot, lambda: app.polls_applied == 1)
        await pilot.press("slash", *"ledger")
        field = app.screen.focused
        assert isinstance(field, Input) and field.value == "ledger"
        await pilot.press("shift+home", "ctrl+c")
        await pilot.pause()
        assert app.clipboard == "ledger"
        assert app.is_running and not notes.said(BROWSER_CTRL_C)


@pytest.mark.parametrize("in_browser", [False, True], ids=["terminal", "browser"])
async def test_help_says_how_to_paste_in_a_browser_only(in_browser: bool) -> None:
    app = _app(in_browser=in_browser)
    async with app.run_test(size=(120, 60)) as pilot:
        await wait_until(pilot, lambda: app.polls_applied == 1)
        await pilot.press("question_mark")
        await wait_until(pilot, lambda: isinstance(app.screen, HelpScreen))
        text = screen_text(app)
    # Help's row for Quit (the footer below names `q` only).
    quit_keys = [line for line in text.splitlines() if " Quit " in line and " app " in line]
    assert quit_keys, text
    if in_browser:
        assert "Ctrl+Shift+V" in text and "Paste" in text and "Alt+Backspace" in text
        # Ctrl+C is not a way out there: help does not offer it.
        assert all("^c" not in line for line in quit_keys), quit_keys
    else:
        assert "Ctrl+Shift+V" not in text
        assert all("^c" in line for line in quit_keys), quit_keys


def test_no_action_needs_a_key_the_browser_keeps() -> None:
    """Every binding of the dashboard's screens and widgets (Textual's own
    included, as merged into each class) that uses a browser's key has another
    key for the same action, or the browser reaches it another way."""

    import heartbeat_tui.tui as package

    for module in pkgutil.walk_packages(package.__path__, f"{package.__name__}."):
        importlib.import_module(module.name)
    stranded: list[str] = []
    audited = 0
    for cls in _subclasses(DOMNode):
        bindings = merged_bindings(cls).key_to_bindings
        keys_of: dict[str, set[str]] = {}
        for key, key_bindings in bindings.items():
            for binding in key_bindings:
                keys_of.setdefault(binding.action, set()).add(key)
        for action, keys in keys_of.items():
            audited += 1
            kept = keys & BROWSER_KEPT
            if not kept or keys - BROWSER_KEPT or action in SHADOWED:
                continue
            if all(key in REACHED_OTHERWISE for key in kept):
                continue
            stranded.append(f"{cls.__module__}.{cls.__name__}: {action} only on {sorted(kept)}")
    assert audited > 100  # the walk saw the dashboard's classes
    assert not stranded, stranded


def test_what_the_audit_lets_through_has_another_way() -> None:
    # page_left/page_right (Ctrl+PgUp/PgDn, the browser's tab switch) are not offered
    # (commands.SHADOWED); the tables move sideways with the arrows.
    from heartbeat_tui.tui.widgets.service_table import ServiceTable

    table_keys = merged_bindings(ServiceTable).key_to_bindings
    assert {"left", "right"} <= set(table_keys)
    assert {"page_left", "page_right"} <= SHADOWED
    # Ctrl+W (delete a word) is Input's only key for it: Alt+Backspace arrives as it.
    assert merged_bindings(Input).key_to_bindings["ctrl+w"][0].action == "delete_left_word"
