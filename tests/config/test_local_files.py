"""Local files are never followed blindly (issue 11, parts 2 and 3): the log, the
state and config folders, the config file, `.env` and `keys generate --write`.

Real files in the test's own folders; "another user" is uid 65534, made with
os.chown (root can; the tests that need it skip when not root)."""

from __future__ import annotations

import io
import logging
import logging.handlers
import os
import stat
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest
from cryptography.fernet import Fernet

from heartbeat_tui.cli import main
from heartbeat_tui.config import ConfigError, load_config, user_config_dir, user_state_dir
from heartbeat_tui.envfile import read_dotenv

FOREIGN_UID = 65534
PRECIOUS = "an operator's own file\n"


@dataclass
class Ran:
    code: int
    out: str
    err: str

    @property
    def lines(self) -> list[str]:
        return self.err.strip().splitlines()


@pytest.fixture
def run(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]):
    """`heartbeat ARGS` in this process, stdin not a terminal."""

    def go(*args: str) -> Ran:
        capsys.readouterr()
        monkeypatch.setattr(sys, "stdin", io.StringIO(""))
        code = main(list(args))
        captured = capsys.readouterr()
        return Ran(code, captured.out, captured.err)

    yield go
    root = logging.getLogger()
    for handler in list(root.handlers):  # no handler left on a file of this test
        handler.close()
        root.removeHandler(handler)


def foreign(path: Path) -> None:
    """Make `path` (not a symlink's target) belong to another user."""

    try:
        os.chown(path, FOREIGN_UID, FOREIGN_UID, follow_symlinks=False)
    except PermissionError:
        pytest.skip("making a file of another user needs root (os.chown)")


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def victim(tmp_path: Path, file_mode: int = 0o644) -> Path:
    """A file of the operator's that an attacker would like HeartBeat to write to."""

    path = tmp_path / "victim"
    path.write_text(PRECIOUS)
    path.chmod(file_mode)
    return path


def unchanged(path: Path, file_mode: int = 0o644) -> bool:
    return path.read_text() == PRECIOUS and mode(path) == file_mode


def refused(result: Ran, path: Path | str, reason: str) -> None:
    """Exit code 2, one line naming the path and the reason, nothing on stdout."""

    assert result.code == 2, result
    assert result.lines == [f"heartbeat: {path}: {reason}"], result.err
    assert result.out == "", "no secret printed after a refusal"


def state_folder() -> Path:
    folder = user_state_dir()
    folder.mkdir(parents=True, mode=0o700)
    return folder


# -- the log ------------------------------------------------------------------------------------


def test_a_symlinked_log_file_is_refused_and_its_target_untouched(run, tmp_path: Path) -> None:
    target = victim(tmp_path)
    log = state_folder() / "heartbeat.log"
    log.symlink_to(target)
    result = run("keys", "generate")
    refused(result, log, "log file is a symbolic link; HeartBeat never follows one (remove it)")
    assert unchanged(target) and log.is_symlink()


def test_a_symlinked_log_file_named_by_heartbeat_log_file_is_refused(
    run,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    target = victim(tmp_path)
    folder = tmp_path / "logs"
    folder.mkdir(mode=0o755)
    (folder / "mine.log").symlink_to(target)
    monkeypatch.setenv("HEARTBEAT_LOG_FILE", str(folder / "mine.log"))
    result = run("keys", "generate")
    refused(result, folder / "mine.log", "log file is a symbolic link; HeartBeat never follows one (remove it)")
    assert unchanged(target)
    assert mode(folder) == 0o755  # a folder of the operator's choosing keeps its mode


def test_a_hard_link_as_log_file_is_refused(run, tmp_path: Path) -> None:
    target = victim(tmp_path, 0o600)
    log = state_folder() / "heartbeat.log"
    os.link(target, log)
    refused(run("keys", "generate"), log, "log file has 1 other hard link(s) (remove it)")
    assert unchanged(target, 0o600)


def test_a_log_file_of_another_user_is_refused(run, tmp_path: Path) -> None:
    log = state_folder() / "heartbeat.log"
    log.write_text(PRECIOUS)
    log.chmod(0o644)
    foreign(log)
    refused(run("keys", "generate"), log, f"log file is owned by uid {FOREIGN_UID}, not you (remove it)")
    assert unchanged(log)


def test_a_log_file_made_at_rotation_is_not_followed_either(
    run,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Whoever manages to put a symlink in the log's place between the rename and the
    new file's open gets nothing written through it, and no traceback on the screen."""

    target = victim(tmp_path)
    assert run("keys", "generate").code == 0
    log = user_state_dir() / "heartbeat.log"
    [handler] = [h for h in logging.getLogger().handlers if isinstance(h, logging.handlers.RotatingFileHandler)]

    def rotate_and_plant(source: str, dest: str) -> None:
        os.rename(source, dest)
        os.symlink(target, source)

    handler.rotator = rotate_and_plant  # logging's documented hook, called at each rotation
    logging.getLogger("heartbeat").warning("x" * 5_000_000)  # beyond maxBytes: rotates first
    logging.getLogger("heartbeat").warning("after the rotation")
    assert unchanged(target) and log.is_symlink()
    assert capsys.readouterr().err == ""  # the dashboard's screen: no traceback
    assert "heartbeat" in (user_state_dir() / "heartbeat.log.1").read_text()  # what came before is kept
    assert mode(user_state_dir() / "heartbeat.log.1") == 0o600


def test_a_state_folder_others_can_write_is_refused(run) -> None:
    folder = state_folder()
    folder.chmod(0o777)
    refused(run("keys", "generate"), folder, f"state folder is writable by group/others (chmod 700 {folder})")
    assert not (folder / "heartbeat.log").exists()


def test_a_state_folder_of_another_user_is_refused(run) -> None:
    folder = state_folder()
    foreign(folder)
    refused(
        run("keys", "generate"),
        folder,
        f"state folder is owned by uid {FOREIGN_UID}, not you (use a folder of your own)",
    )
    assert not (folder / "heartbeat.log").exists()


def test_a_log_folder_others_can_write_is_refused(run, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    shared = tmp_path / "shared"
    shared.mkdir()
    shared.chmod(0o1777)  # like /tmp: the sticky bit does not stop a planted name
    monkeypatch.setenv("HEARTBEAT_LOG_FILE", str(shared / "heartbeat.log"))
    refused(run("keys", "generate"), shared, f"log folder is writable by group/others (chmod go-w {shared})")
    assert list(shared.iterdir()) == []


def test_our_state_folder_is_made_0700_and_a_readable_one_narrowed(run) -> None:
    old = os.umask(0)
    try:
        assert run("keys", "generate").code == 0
    finally:
        os.umask(old)
    folder = user_state_dir()
    assert mode(folder) == 0o700 and mode(folder / "heartbeat.log") == 0o600
    folder.chmod(0o755)  # made by an older version, or another tool
    assert run("keys", "generate").code == 0
    assert mode(folder) == 0o700


def test_an_unwritable_log_leaves_the_command_running(run, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # Not an attack: a path that cannot be a file (a folder of that name is in the way).
    (tmp_path / "logs" / "heartbeat.log").mkdir(parents=True)
    monkeypatch.setenv("HEARTBEAT_LOG_FILE", str(tmp_path / "logs" / "heartbeat.log"))
    result = run("keys", "generate")
    assert result.code == 0 and "JWT_SECRET=" in result.out


# -- the config file and its folder -------------------------------------------------------------


def config_in(folder: Path, text: str = '[aws]\nregion = "eu-west-1"\n') -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "config.toml"
    path.write_text(text)
    path.chmod(0o644)
    return path


def test_a_config_file_of_another_user_is_refused(run, tmp_path: Path) -> None:
    path = config_in(tmp_path / "cfg")
    foreign(path)
    result = run("--config", str(path), "whoami")
    refused(result, path, f"config file is owned by uid {FOREIGN_UID}, not you (use one of your own)")


def test_a_config_file_others_can_write_is_refused(tmp_path: Path) -> None:
    path = config_in(tmp_path / "cfg")
    path.chmod(0o666)
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    assert str(caught.value) == f"{path}: config file is writable by group/others (chmod go-w {path})"


def test_a_config_folder_others_can_write_is_refused(tmp_path: Path) -> None:
    path = config_in(tmp_path / "cfg")
    path.parent.chmod(0o777)
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    folder = path.parent
    assert str(caught.value) == f"{folder}: config folder is writable by group/others (chmod go-w {folder})"


def test_the_default_config_folder_is_checked_too() -> None:
    config_in(user_config_dir())
    assert load_config().region == "eu-west-1"
    foreign(user_config_dir())
    with pytest.raises(ConfigError, match=f"config folder is owned by uid {FOREIGN_UID}, not you"):
        load_config()


def test_a_symlinked_config_counts_as_its_target(tmp_path: Path) -> None:
    real = config_in(tmp_path / "real")
    link = tmp_path / "mine" / "config.toml"
    link.parent.mkdir()
    link.symlink_to(real)
    assert load_config(link).region == "eu-west-1"
    foreign(real)
    with pytest.raises(ConfigError, match=f"^{link}: config file is owned by uid {FOREIGN_UID}"):
        load_config(link)


# -- .env ---------------------------------------------------------------------------------------

PLANTED = "JWT_SECRET={secret}\nENCRYPTION_KEY={key}\nHEARTBEAT_CONFIG={config}\n"


def planted_env(tmp_path: Path) -> tuple[Path, str]:
    """The issue's `.env`: secrets of the attacker's, and a config that points elsewhere."""

    listener = config_in(tmp_path / "attacker", '[aws]\nendpoint_url = "http://127.0.0.1:9"\n')
    secret = "attacker-secret-" + "x" * 40
    dotenv = Path(".env")
    dotenv.write_text(PLANTED.format(secret=secret, key=Fernet.generate_key().decode(), config=listener))
    return dotenv, secret


def test_a_good_dotenv_is_read(tmp_path: Path) -> None:
    dotenv, secret = planted_env(tmp_path)
    dotenv.chmod(0o600)
    config = load_config()
    assert config.env.jwt_secret is not None and config.env.jwt_secret.get_secret_value() == secret
    assert config.endpoint_url == "http://127.0.0.1:9"  # HEARTBEAT_CONFIG from .env, as before
    assert (config.dotenv.state, config.dotenv.path) == ("read", str(Path.cwd() / ".env"))
    assert secret not in repr(config.dotenv)


@pytest.mark.parametrize("file_mode", [0o666, 0o620, 0o602])
def test_a_dotenv_others_can_write_is_ignored(run, tmp_path: Path, file_mode: int) -> None:
    dotenv, secret = planted_env(tmp_path)
    dotenv.chmod(file_mode)
    config = load_config()
    assert config.env.jwt_secret is None and config.source == "defaults"
    assert config.dotenv.state == "ignored"
    # On the command line: one warning, then the command goes on without it.
    result = run("whoami")
    assert result.lines[0] == "heartbeat: ignoring .env: writable by group/others (chmod 600 .env)"
    assert result.code == 2 and "JWT_SECRET" in result.lines[1]  # not set: .env gave nothing
    assert secret not in result.err + result.out


def test_a_dotenv_of_another_user_is_ignored(run, tmp_path: Path) -> None:
    """The issue's case: another user's world-writable `.env` sets the secrets and
    HEARTBEAT_CONFIG; none of it is used."""

    dotenv, _ = planted_env(tmp_path)
    dotenv.chmod(0o666)
    foreign(dotenv)
    config = load_config()
    assert config.env.jwt_secret is None and config.env.encryption_key is None
    assert config.env.heartbeat_config is None and config.source == "defaults"
    result = run("whoami")
    assert result.lines[0] == f"heartbeat: ignoring .env: owned by uid {FOREIGN_UID}, not you"


def test_a_dotenv_symlink_to_a_foreign_file_is_ignored(tmp_path: Path) -> None:
    elsewhere = tmp_path / "elsewhere.env"
    elsewhere.write_text("JWT_SECRET=" + "y" * 40 + "\n")
    elsewhere.chmod(0o600)
    Path(".env").symlink_to(elsewhere)
    assert read_dotenv().values["JWT_SECRET"] == "y" * 40  # a link to our own file is fine
    foreign(elsewhere)
    found = read_dotenv()
    assert found.state == "ignored" and not found.values
    assert found.warning == f"ignoring .env: a symbolic link, and its target is owned by uid {FOREIGN_UID}, not you"


def test_the_environment_still_wins_over_a_trusted_dotenv(monkeypatch: pytest.MonkeyPatch) -> None:
    Path(".env").write_text("JWT_ALGORITHM=HS512\nDYNAMODB_USERS_TABLE=from-file\n")
    Path(".env").chmod(0o600)
    monkeypatch.setenv("DYNAMODB_USERS_TABLE", "from-environment")
    config = load_config()
    assert config.env.jwt_algorithm == "HS512" and config.users_table == "from-environment"


def test_a_trusted_dotenv_that_is_not_text_is_an_error() -> None:
    Path(".env").write_bytes(b"JWT_SECRET=\xff\n")
    Path(".env").chmod(0o600)
    with pytest.raises(ConfigError, match=r"^\.env: is not UTF-8 text \(byte 11\)$"):
        load_config()


# -- keys generate --write ----------------------------------------------------------------------


def secrets_in(path: Path) -> dict[str, str]:
    found = read_dotenv(path)
    assert found.state == "read", found
    return dict(found.values)


def test_write_creates_a_0600_file_and_prints_no_secret(run) -> None:
    old = os.umask(0)  # the most permissive umask: the file must still be 0600
    try:
        result = run("keys", "generate", "--write", ".env")
    finally:
        os.umask(old)
    assert result.code == 0, result.err
    assert result.out == "wrote JWT_SECRET and ENCRYPTION_KEY to .env (mode 0600)\n"
    assert mode(Path(".env")) == 0o600
    values = secrets_in(Path(".env"))
    assert set(values) == {"JWT_SECRET", "ENCRYPTION_KEY"} and len(values["JWT_SECRET"]) >= 32
    Fernet(values["ENCRYPTION_KEY"].encode())
    assert not any(value in result.out + result.err for value in values.values())
    config = load_config()  # the README's first step: read back at once
    assert config.env.jwt_secret is not None and config.env.jwt_secret.get_secret_value() == values["JWT_SECRET"]


def test_write_appends_to_our_0600_file(run) -> None:
    dotenv = Path(".env")
    dotenv.write_text("AWS_REGION=eu-west-1")  # no newline at the end
    dotenv.chmod(0o600)
    assert run("keys", "generate", "--write", ".env").code == 0
    values = secrets_in(dotenv)
    assert values["AWS_REGION"] == "eu-west-1" and set(values) == {"AWS_REGION", "JWT_SECRET", "ENCRYPTION_KEY"}
    assert mode(dotenv) == 0o600


def test_write_never_replaces_a_secret(run) -> None:
    dotenv = Path(".env")
    dotenv.write_text(PRECIOUS + "ENCRYPTION_KEY=the-one-every-record-is-written-with\n")
    dotenv.chmod(0o600)
    result = run("keys", "generate", "--write", ".env")
    refused(result, ".env", "already sets ENCRYPTION_KEY; nothing written (to replace one: Key rotation, SECURITY.md)")
    assert dotenv.read_text().endswith("with\n") and "JWT_SECRET" not in dotenv.read_text()


def test_write_refuses_a_symlink(run, tmp_path: Path) -> None:
    target = victim(tmp_path, 0o600)
    Path(".env").symlink_to(target)
    result = run("keys", "generate", "--write", ".env")
    refused(result, ".env", "the file is a symbolic link; HeartBeat never follows one (remove it)")
    assert unchanged(target, 0o600)
    Path(".env").unlink()
    Path(".env").symlink_to(tmp_path / "not-yet")  # dangling: O_EXCL makes nothing at the target
    refused(
        run("keys", "generate", "--write", ".env"),
        ".env",
        "the file is a symbolic link; HeartBeat never follows one (remove it)",
    )
    assert not (tmp_path / "not-yet").exists()


def test_write_refuses_a_file_others_can_read(run) -> None:
    dotenv = Path(".env")
    dotenv.write_text(PRECIOUS)
    dotenv.chmod(0o644)
    result = run("keys", "generate", "--write", ".env")
    refused(result, ".env", "the file is open to group/others (mode 0644): chmod 600 .env, or write a new file")
    assert unchanged(dotenv)


def test_write_refuses_a_file_of_another_user(run) -> None:
    dotenv = Path(".env")
    dotenv.write_text(PRECIOUS)
    dotenv.chmod(0o600)
    foreign(dotenv)
    result = run("keys", "generate", "--write", ".env")
    refused(result, ".env", f"the file is owned by uid {FOREIGN_UID}, not you (remove it)")
    assert unchanged(dotenv, 0o600)


def test_write_into_a_missing_folder_is_one_line(run, tmp_path: Path) -> None:
    path = tmp_path / "no-such-folder" / ".env"
    refused(run("keys", "generate", "--write", str(path)), path, "cannot be written (No such file or directory)")
