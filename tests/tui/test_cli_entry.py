"""`heartbeat` (no command) and `heartbeat demo` open the dashboard, which needs a terminal."""

from __future__ import annotations

import pytest

from heartbeat_tui.cli import main


@pytest.mark.parametrize("argv", [[], ["demo"]])
def test_the_dashboard_without_a_terminal_is_a_one_line_usage_error(argv, capsys) -> None:  # noqa: ANN001
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.strip().splitlines() == [
        "heartbeat: the dashboard needs a terminal; for scripts use `heartbeat snapshot` (json, csv or table)"
    ]
