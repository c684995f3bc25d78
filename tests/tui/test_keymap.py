"""`[ui.keymap]`: the operator's own keys, by binding id, wherever the binding is
active; an id that names no binding is one line and exit 2 before anything starts."""

from __future__ import annotations

from pathlib import Path

import pytest
from textual.binding import Binding

from heartbeat_tui.errors import EXIT_USAGE, ConfigError
from heartbeat_tui.tui.keymap import _subclasses, binding_ids, check_keymap
from heartbeat_tui.tui.screens.account_error import AccountErrorScreen
from heartbeat_tui.tui.screens.fleet import FleetServicesScreen
from heartbeat_tui.tui.screens.help import HelpScreen
from tests.support.factory import ScriptedSource, make_snapshot
from tests.support.pilot import make_app, wait_until
from tests.support.screen_text import screen_text

README = Path(__file__).resolve().parents[2] / "README.md"


def test_every_binding_has_an_id_and_the_readme_lists_it() -> None:
    ids = binding_ids()
    assert {"app.refresh", "table.sort", "copy.arn", "help.close", "admin.create", "login.clear"} <= set(ids)
    from textual.dom import DOMNode

    for cls in _subclasses(DOMNode):
        if cls.__module__.startswith("heartbeat_tui."):
            for binding in cls.__dict__.get("BINDINGS", ()):
                # Tuples would have no id: nothing an operator could remap.
                assert isinstance(binding, Binding) and binding.id, (cls.__name__, binding)
    readme = README.read_text(encoding="utf-8")
    missing = sorted(ident for ident in ids if f"`{ident}`" not in readme)
    assert not missing, f"binding ids not in the README: {missing}"


def test_an_unknown_id_is_one_line_and_exit_2() -> None:
    assert check_keymap({"app.refresh": "f5"}, "config.toml") == {"app.refresh": "f5"}
    with pytest.raises(ConfigError) as caught:
        check_keymap({"app.refresh": "f5", "table.sortt": "o"}, "/etc/heartbeat/config.toml")
    error = caught.value
    assert error.exit_code == EXIT_USAGE
    message = str(error)
    assert message.startswith("/etc/heartbeat/config.toml: ui.keymap.table.sortt: no binding has this id")
    assert "table.sort" in message and "\n" not in message


async def test_remapped_keys_work_and_help_shows_them() -> None:
    source = ScriptedSource(make_snapshot(accounts=2, clusters=1, services=4))
    app = make_app(source, keymap={"app.refresh": "f5", "table.sort": "o", "dashboard.fleet": "F"})
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_until(pilot, lambda: app.polls_applied == 1)
        await pilot.press("r")  # no longer bound
        await pilot.pause(0.2)
        assert source.polls == 1
        await pilot.press("f5")
        await wait_until(pilot, lambda: source.polls == 2)

        await pilot.press("tab", "tab")
        table = app.screen.services_table()  # type: ignore[attr-defined]
        before = table.sort_description
        await pilot.press("s")  # no longer bound
        assert table.sort_description == before
        await pilot.press("o")
        assert table.sort_description != before

        await pilot.press("question_mark")
        await wait_until(pilot, lambda: isinstance(app.screen, HelpScreen))
        # The help's rows (and the footer behind it) name the keys in use.
        refresh = [line for line in screen_text(app).splitlines() if "Refresh" in line]
        assert refresh and all("f5" in line and " r " not in line for line in refresh), refresh
        sort = [line for line in screen_text(app).splitlines() if " Sort " in line]
        assert sort and all(" o " in line and " s " not in line for line in sort), sort
        await pilot.press("escape")

        await pilot.press("F")
        await wait_until(pilot, lambda: isinstance(app.screen, FleetServicesScreen))


@pytest.mark.parametrize(
    ("keymap", "says"),
    [
        (
            {"dashboard.fleet": "e"},
            "ui.keymap.dashboard.fleet: key e is already Account error (dashboard.account_error) in DashboardScreen;"
            " give dashboard.account_error another key too",
        ),
        ({"table.sort": "j"}, "ui.keymap.table.sort: key j is already Down (table.down) in ServiceTable"),
        ({"app.refresh": "t"}, "ui.keymap.app.refresh: key t is already Theme (app.theme) in HeartbeatApp"),
        ({"pane.down": "up"}, "ui.keymap.pane.down: key up is already Textual's cursor_up in PaneTable"),
    ],
)
def test_a_key_another_binding_keeps_is_refused(keymap: dict[str, str], says: str) -> None:
    """Textual would let the remapped binding win without a word; the other one
    would be lost. One line instead, naming both."""

    with pytest.raises(ConfigError) as caught:
        check_keymap(keymap, "config.toml")
    assert str(caught.value).startswith(f"config.toml: {says}"), str(caught.value)


async def test_keys_can_be_swapped_between_bindings() -> None:
    keymap = {"dashboard.fleet": "e", "dashboard.account_error": "E"}
    assert check_keymap(keymap, "config.toml") == keymap
    snapshot = make_snapshot(accounts=2, clusters=1, services=4, errors={1: "STS AssumeRole: access denied"})
    app = make_app(ScriptedSource(snapshot), keymap=keymap)
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_until(pilot, lambda: app.polls_applied == 1)
        await pilot.press("j", "E")  # the failing account, its error
        await wait_until(pilot, lambda: isinstance(app.screen, AccountErrorScreen))
        await pilot.press("escape")
        await pilot.press("e")
        await wait_until(pilot, lambda: isinstance(app.screen, FleetServicesScreen))
