"""The private Textual APIs HeartBeat uses (all in heartbeat_tui/tui/textual_private.py)
are still there, with the shapes it relies on. When one fails after a Textual
upgrade, fix textual_private.py (or drop the use if a public API now does it)."""

from __future__ import annotations

import inspect
from pathlib import Path

import pytest
import textual
from textual.app import App
from textual.binding import BindingsMap
from textual.widgets import Static

import heartbeat_tui
from heartbeat_tui.tui import textual_private
from heartbeat_tui.tui.app import HeartbeatApp
from heartbeat_tui.tui.commands import screen_bindings
from heartbeat_tui.tui.screens.dashboard import DashboardScreen
from heartbeat_tui.tui.text import content
from heartbeat_tui.tui.widgets.service_table import ServiceTable
from tests.support.factory import ScriptedSource, make_snapshot
from tests.support.pilot import make_app, wait_until
from tests.support.screen_text import screen_lines

UPGRADE = f"Textual {textual.__version__} changed a private API that heartbeat_tui/tui/textual_private.py uses"


def test_no_other_module_uses_them() -> None:
    """The private names appear in textual_private.py and nowhere else in the package."""

    names = {name for names in textual_private.USED.values() for name in names}
    names |= {name for names in textual_private.USED_INSTANCE_ATTRIBUTES.values() for name in names}
    names |= {path.rsplit(".", 1)[-1] for path in textual_private.USED_FUNCTIONS}
    package = Path(heartbeat_tui.__file__).parent
    found = [
        f"{path.relative_to(package)}: {name}"
        for path in package.rglob("*.py")
        if path.name != "textual_private.py"
        for name in names
        if name in path.read_text(encoding="utf-8")
    ]
    assert found == []


def _parameters(function: object) -> list[str]:
    return list(inspect.signature(function).parameters)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("owner", "name"),
    [(owner, name) for owner, names in textual_private.USED.items() for name in names],
    ids=lambda item: getattr(item, "__name__", item),
)
def test_private_members_are_still_there(owner: type, name: str) -> None:
    assert hasattr(owner, name), f"{UPGRADE}: {owner.__name__}.{name} is gone"


def test_private_signatures_are_unchanged() -> None:
    expected = {
        App._handle_exception: ["self", "error"],
        App._print_error_renderables: ["self"],
        App._check_action_state: ["self", "action", "default_namespace"],
    }
    for function, parameters in expected.items():
        assert _parameters(function) == parameters, f"{UPGRADE}: {function.__qualname__}{inspect.signature(function)}"
    assert isinstance(textual_private.merged_bindings(HeartbeatApp), BindingsMap), f"{UPGRADE}: _merge_bindings"
    assert textual_private.character_to_key("?") == "question_mark", f"{UPGRADE}: _character_to_key"


async def test_exit_renderables_and_binding_chain_are_still_there() -> None:
    app = make_app(ScriptedSource(make_snapshot(accounts=2, clusters=1, services=3)))
    for owner, names in textual_private.USED_INSTANCE_ATTRIBUTES.items():
        instance = app if owner is App else owner()
        for name in names:
            assert hasattr(instance, name), f"{UPGRADE}: {owner.__name__}().{name} is gone"
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_until(pilot, lambda: app.polls_applied >= 1)
        chain = textual_private.binding_chain(app.screen)
        nodes = [node for node, _ in chain]
        assert nodes[-2:] == [app.screen, app], f"{UPGRADE}: Screen._modal_binding_chain is not focus -> screen -> app"
        assert all(isinstance(key, str) for _, pairs in chain for key, _ in pairs), f"{UPGRADE}: BindingsMap items"
        assert textual_private.action_state(app, "refresh", app) is True, f"{UPGRADE}: App._check_action_state"


async def test_a_crash_is_recorded_not_printed(capsys: pytest.CaptureFixture[str]) -> None:
    app = make_app(ScriptedSource(make_snapshot(accounts=1, clusters=1, services=1)))

    def boom() -> None:
        raise RuntimeError("boom")

    with pytest.raises(RuntimeError, match="boom"):
        async with app.run_test() as pilot:
            await wait_until(pilot, lambda: app.polls_applied >= 1)
            assert not app.crashed
            app.call_later(boom)
            await pilot.pause()
    assert app.crashed and app.crash_reason == "RuntimeError: boom"
    assert "Traceback" not in capsys.readouterr().out


async def test_help_lists_the_nearest_binding_first_and_dims_hidden_ones() -> None:
    """The chain and `check_action` as `?` uses them: the focused table's keys come
    first, and `e` is listed but not enabled for an account without a reason."""

    app = make_app(ScriptedSource(make_snapshot(accounts=2, clusters=1, services=3)))
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_until(pilot, lambda: app.polls_applied >= 1)
        await pilot.press("tab", "tab")
        assert isinstance(app.screen, DashboardScreen)
        infos = screen_bindings(app.screen)
        assert infos[0].node is app.focused
        by_action = {info.action: info for info in infos}
        assert by_action["account_error"].enabled is False
        assert by_action["refresh"].enabled is True and by_action["refresh"].node is app


async def test_table_subtitle_follows_the_cursor_on_screen() -> None:
    """`set_table_subtitle` keeps what the public setter keeps, and the repainted
    border line shows it: the selected service's names under the fleet table."""

    app = make_app(ScriptedSource(make_snapshot(accounts=2, clusters=1, services=5)))
    async with app.run_test(size=(120, 30)) as pilot:
        await wait_until(pilot, lambda: app.polls_applied >= 1)
        await pilot.press("f")
        await pilot.pause()
        table = app.screen.query_one(ServiceTable)
        for _ in range(3):
            await pilot.press("j")
            await pilot.pause()
            row = table.cursor_row
            assert row is not None
            wanted = f"{row.account} · {row.cluster} · {row.name}"
            reference = Static()
            reference.border_subtitle = content(wanted)
            assert table.border_subtitle == reference.border_subtitle, f"{UPGRADE}: Widget._border_subtitle"
            bottom = screen_lines(app)[table.region.bottom - 1]
            assert wanted in bottom, f"{UPGRADE}: the border line was not repainted: {bottom!r}"
