"""The session file and `.env` on a real deployment (the embedded AWS): a symlinked
or foreign session file is refused, a login never writes through a planted link,
a state folder others can write stops the login, and `heartbeat doctor` says
which `.env` was read (issue 11, parts 2 and 3)."""

from __future__ import annotations

import os
import stat
from pathlib import Path
from typing import Any

import pytest

from heartbeat_tui.auth.session_file import token_path
from heartbeat_tui.config import dump_toml
from tests.support.auth import ADMIN, ADMIN_PASSWORD

from .cli_support import CliEnv, Result, make_cli_env

FOREIGN_UID = 65534
PRECIOUS = "an operator's own file\n"


@pytest.fixture
def cli(clean_aws: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: Any) -> CliEnv:
    cli = make_cli_env(clean_aws, tmp_path, monkeypatch, capsys)
    data = clean_aws.config_dict()
    data["accounts"] = []  # the doctor reads only the base credentials' account: quick
    cli.config_path.write_text(dump_toml(data))
    return cli


def foreign(path: Path) -> None:
    try:
        os.chown(path, FOREIGN_UID, FOREIGN_UID, follow_symlinks=False)
    except PermissionError:
        pytest.skip("making a file of another user needs root (os.chown)")


def one_line(result: Result, code: int, line: str) -> None:
    assert result.code == code, (result.out, result.err)
    assert result.lines == [f"heartbeat: {line}"], result.err


def planted_link(tmp_path: Path) -> Path:
    target = tmp_path / "victim"
    target.write_text(PRECIOUS)
    target.chmod(0o600)
    token_path().parent.mkdir(parents=True, mode=0o700)
    token_path().symlink_to(target)
    return target


def test_a_symlinked_session_file_is_refused(cli: CliEnv, tmp_path: Path) -> None:
    target = planted_link(tmp_path)
    one_line(
        cli.run("whoami"),
        3,
        f"the session file {token_path()} is a symbolic link, never followed; delete it and log in again",
    )
    assert target.read_text() == PRECIOUS


def test_a_login_replaces_a_planted_link_and_never_writes_through_it(cli: CliEnv, tmp_path: Path) -> None:
    target = planted_link(tmp_path)
    assert cli.login(ADMIN, ADMIN_PASSWORD).code == 0
    assert target.read_text() == PRECIOUS and stat.S_IMODE(target.stat().st_mode) == 0o600
    assert not token_path().is_symlink() and stat.S_IMODE(token_path().stat().st_mode) == 0o600
    assert cli.run("whoami").code == 0


def test_a_session_file_of_another_user_is_refused(cli: CliEnv) -> None:
    assert cli.login(ADMIN, ADMIN_PASSWORD).code == 0
    foreign(token_path())
    one_line(
        cli.run("whoami"),
        3,
        f"the session file {token_path()} is owned by uid {FOREIGN_UID}, not you; delete it and log in again",
    )


def test_a_login_into_a_state_folder_others_can_write_is_refused(cli: CliEnv) -> None:
    folder = token_path().parent
    folder.mkdir(parents=True)
    folder.chmod(0o777)
    one_line(
        cli.login(ADMIN, ADMIN_PASSWORD),
        2,
        f"{folder}: state folder is writable by group/others (chmod 700 {folder})",
    )
    assert list(folder.iterdir()) == []


def test_a_login_into_a_state_folder_of_another_user_is_refused(cli: CliEnv) -> None:
    folder = token_path().parent
    folder.mkdir(parents=True, mode=0o700)
    foreign(folder)
    one_line(
        cli.login(ADMIN, ADMIN_PASSWORD),
        2,
        f"{folder}: state folder is owned by uid {FOREIGN_UID}, not you (use a folder of your own)",
    )
    assert list(folder.iterdir()) == []


def dotenv_line(result: Result) -> str:
    [line] = [line for line in result.out.splitlines() if line[6:].startswith(".env: ")]
    return line


def test_doctor_says_which_dotenv_was_read(cli: CliEnv) -> None:
    dotenv = Path(".env").resolve()
    first = cli.run("doctor")
    assert first.code == 0, first.out
    assert dotenv_line(first) == f"OK    .env: no .env ({dotenv} does not exist)"

    dotenv.write_text("AWS_DEFAULT_REGION=us-east-1\n")
    dotenv.chmod(0o600)
    read = cli.run("doctor")
    assert read.code == 0 and read.err == "", read.err
    assert dotenv_line(read) == f"OK    .env: read {dotenv}"

    dotenv.chmod(0o664)
    ignored = cli.run("doctor")
    assert ignored.code == 0, ignored.out  # a warning, not a failed check
    reason = "writable by group/others (chmod 600 .env)"
    assert dotenv_line(ignored) == f"WARN  .env: ignored {dotenv}: {reason}"
    assert ignored.lines == [f"heartbeat: ignoring .env: {reason}"]
