"""`heartbeat` (no command) and `heartbeat demo` open the dashboard, which needs a terminal."""

from __future__ import annotations

import pytest

from heartbeat_tui.cli import main


@pytest.mark.parametrize(
    ("argv", "hint"),
    [
        ([], "for scripts use `heartbeat snapshot` (json, csv or table)"),
        (["demo"], "without one, `heartbeat demo --serve` runs the demo as a service and prints how to reach it"),
    ],
)
def test_the_dashboard_without_a_terminal_is_a_one_line_usage_error(argv, hint, capsys) -> None:
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.strip().splitlines() == [f"heartbeat: the dashboard needs a terminal; {hint}"]


BAD_KEYMAP = '[ui.keymap]\n"app.refresh" = "f5"\n"dashboard.fleeet" = "F"\n'


def test_a_keymap_naming_no_binding_stops_the_dashboard_first(tmp_path, capsys) -> None:
    config = tmp_path / "config.toml"
    config.write_text(BAD_KEYMAP)
    assert main(["--config", str(config)]) == 2  # before the terminal is even looked at
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith(
        f"heartbeat: {config}: ui.keymap.dashboard.fleeet: no binding has this id (some that do: dashboard."
    ), err


def test_the_demo_checks_the_users_keymap_too(capsys) -> None:
    from heartbeat_tui.config import default_config_path

    path = default_config_path()  # in the test's own config folder (tests/conftest.py)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text('[ui.keymap]\n"dashboard.fleet" = "e"\n')
    assert main(["demo"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err == [
        f"heartbeat: {path}: ui.keymap.dashboard.fleet: key e is already Account error (dashboard.account_error)"
        " in DashboardScreen; give dashboard.account_error another key too"
    ]
