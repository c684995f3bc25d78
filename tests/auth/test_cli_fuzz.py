"""Property: any command line, for every subcommand, ends with a defined exit code
and, on failure, exactly one line on stderr; never a traceback, never exit 70.

In-process through `heartbeat_tui.cli.main` (stderr captured), with a deployment
on the embedded AWS but no session, so session-gated commands stop at the gate
(the commands with a session are fuzzed in `test_properties.py`). A few real
processes check the same from the outside.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, assume, event, given, settings
from hypothesis import strategies as st

from heartbeat_tui.auth.session_file import token_path
from tests.support.auth import ADMIN

from .cli_support import CliEnv, make_cli_env

DEFINED = {0, 1, 2, 3, 4, 75}

OPTIONS: dict[str, list[str]] = {
    "snapshot": [
        "--account",
        "--cluster",
        "--service",
        "--format",
        "json",
        "csv",
        "table",
        "xml",
        "*",
        "[",
        "210987654321",
    ],
    "doctor": ["--verbose", "extra"],
    "demo": ["--step-seconds", "0", "-1", "nan", "inf", "abc", "1e400"],
    "init": ["--admin", "--email", "--full-name", "--password-stdin", "Bad Name", "boss", ADMIN],
    "login": ["--username", "--password-stdin", "--password", "-p", ADMIN, "ghost"],
    "logout": ["--all", "now"],
    "whoami": ["--format", "text", "json", "yaml"],
    "users": [
        "create",
        "list",
        "disable",
        "enable",
        "unlock",
        "set-role",
        "set-accounts",
        "update",
        "reset-password",
        "--username",
        "--role",
        "--accounts",
        "--email",
        "--full-name",
        "--password-stdin",
        "--format",
        "admin",
        "monitor",
        "user",
        "root",
        ADMIN,
        "ghost",
        "210987654321",
        "12,34",
        "",
    ],
    "aliases": ["--format", "table", "json", "csv"],
    "refresh": ["--force", "now"],
    "keys": ["generate", "rotate", "list", "--force"],
}
GLOBAL = ["--config", "/nonexistent/heartbeat.toml", "--log-level", "DEBUG", "LOUD", "--version", "--help", "-h"]
ODD = ["", "-", "--", "a\nb", "x\x00y", "é", "--=", "-x", "--unknown", "\t", "'", "$(id)"]


@st.composite
def command_lines(draw: st.DrawFn) -> list[str]:
    command = draw(st.sampled_from(sorted(OPTIONS)))
    token = st.one_of(st.sampled_from(OPTIONS[command] + ODD), st.text(max_size=10))
    before = draw(st.lists(st.sampled_from(GLOBAL + ODD), max_size=2))
    after = draw(st.lists(token, min_size=1 if command in ("doctor", "demo") else 0, max_size=6))
    return [*before, command, *after]


TEXT = st.one_of(st.text(max_size=16), st.sampled_from(ODD), st.just(ADMIN))


@st.composite
def well_formed(draw: st.DrawFn) -> list[str]:
    """Command lines that parse, with any values: they reach the commands themselves."""

    value = draw(TEXT)
    other = draw(TEXT)
    return draw(
        st.sampled_from(
            [
                ["snapshot", "--account", value, "--service", other],
                ["snapshot", "--cluster", value, "--format", "table"],
                ["login", "--username", value, "--password-stdin"],
                ["init", "--admin", value, "--password-stdin"],
                ["init", "--admin", ADMIN, "--email", value, "--full-name", other, "--password-stdin"],
                ["users", "create", "--username", value, "--role", other, "--password-stdin"],
                ["users", "set-accounts", value, other],
                ["users", "set-role", value, other],
                ["users", "update", value, "--email", other],
                ["whoami", "--format", "json"],
                ["demo", "--step-seconds", value],
                ["keys", "generate"],
            ]
        )
    )


def forbidden(argv: list[str]) -> bool:
    """Command lines that are valid and do something long-lived or interactive."""

    # `demo --serve` (or an abbreviation of it) runs until interrupted.
    return "demo" in argv and any(len(a) >= 4 and "--serve".startswith(a) for a in argv)


@pytest.fixture
def cli(clean_aws: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: Any) -> CliEnv:
    return make_cli_env(clean_aws, tmp_path, monkeypatch, capsys)


def check(result: Any, argv: list[str]) -> None:
    assert result.code in DEFINED, (argv, result.code, result.err)
    assert "Traceback" not in result.out + result.err, argv
    if result.code != 0:
        lines = result.err.strip().splitlines()
        assert len(lines) == 1, (argv, result.err)
        assert lines[0].startswith("heartbeat: "), (argv, result.err)


@given(argv=st.one_of(command_lines(), well_formed()), stdin=st.text(max_size=30))
@settings(
    max_examples=80,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
def test_any_command_line_of_any_subcommand(cli: CliEnv, argv: list[str], stdin: str) -> None:
    assume(not forbidden(argv))
    result = cli.run(*argv, stdin=stdin)
    event(f"exit {result.code}")
    check(result, argv)
    if token_path().exists():  # a lucky login: back to no session for the next example
        token_path().unlink()


@pytest.mark.parametrize(
    ("argv", "code", "text"),
    [
        (["snapshot", "--format", "xml"], 2, "invalid choice: 'xml'"),
        (["--config", "/nonexistent/heartbeat.toml", "doctor"], 2, "/nonexistent/heartbeat.toml"),
        (["users", "create", "--username", "a\nb"], 2, "the following arguments are required: --role"),
        (["snapshot"], 3, "not logged in"),
    ],
)
def test_a_real_process(cli: CliEnv, argv: list[str], code: int, text: str) -> None:
    result = cli.process(*argv)
    assert result.code == code, result.err
    assert len(result.lines) == 1 and result.lines[0].startswith("heartbeat: ") and text in result.lines[0]
    assert "Traceback" not in result.out + result.err
