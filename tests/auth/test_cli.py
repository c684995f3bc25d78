"""`heartbeat init|login|logout|whoami|users|aliases|refresh|keys` and the session
`snapshot` needs: one line on failure, a defined exit code, never a traceback."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path
from typing import Any

import jwt
import pytest
from cryptography.fernet import Fernet

from heartbeat_tui.auth.session_file import token_path
from tests.support.auth import ADMIN, ADMIN_PASSWORD, PASSWORD
from tests.support.configs import DENIED_ACCOUNT, HUB, PAYMENTS

from .cli_support import CliEnv, make_cli_env

STAGING = "345678901234"


@pytest.fixture
def cli(clean_aws: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: Any) -> CliEnv:
    return make_cli_env(clean_aws, tmp_path, monkeypatch, capsys)


@pytest.fixture
def bare(clean_aws: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: Any) -> CliEnv:
    return make_cli_env(clean_aws, tmp_path, monkeypatch, capsys, admin=False)


def one_line(result: Any, code: int, text: str) -> None:
    assert result.code == code, (result.out, result.err)
    assert len(result.lines) == 1, result.err
    assert result.lines[0].startswith("heartbeat: ") and text in result.lines[0], result.err
    assert "Traceback" not in result.err + result.out


def test_init_and_bootstrap(bare: CliEnv) -> None:
    first = bare.run("init")
    assert first.code == 0 and "created table" in first.out and "enabled TTL" in first.out
    assert bare.run("init").out.strip() == "nothing to do: the tables exist"
    made = bare.run("init", "--admin", "boss", "--password-stdin", stdin="a good admin password\n")
    assert made.code == 0 and "created admin boss" in made.out
    again = bare.run("init", "--admin", "other", "--password-stdin", stdin="a good admin password\n")
    one_line(again, 2, "an active admin already exists")
    assert bare.login("boss", "a good admin password").code == 0
    assert bare.login("other", "a good admin password").code == 3


def test_init_admin_validates_before_asking(bare: CliEnv) -> None:
    bare.run("init")
    one_line(
        bare.run("init", "--admin", "Bad Name", "--password-stdin", stdin="a good admin password\n"), 2, "username"
    )
    one_line(
        bare.run("init", "--admin", "boss", "--password-stdin", stdin="short\n"), 2, "password: must be at least 12"
    )
    one_line(bare.run("init", "--admin", "boss", "--password-stdin", stdin="boss\n"), 2, "password")
    one_line(bare.run("init", "--admin", "boss"), 2, "no terminal to ask for the password")
    one_line(bare.run("init", "--admin", "boss", "--password-stdin"), 2, "nothing on standard input")


def test_login_whoami_logout(cli: CliEnv) -> None:
    result = cli.login(ADMIN, ADMIN_PASSWORD)
    assert result.code == 0 and f"logged in as {ADMIN} (admin)" in result.out
    path = token_path()
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    token = path.read_text().strip()
    assert ADMIN_PASSWORD not in path.read_text()
    assert jwt.decode(token, options={"verify_signature": False})["sub"] == ADMIN
    who = cli.run("whoami", "--format", "json")
    assert who.code == 0 and json.loads(who.out)["role"] == "admin" and json.loads(who.out)["accounts"] is None
    assert cli.run("logout").out.strip() == f"logged out {ADMIN}; session file deleted"
    assert not path.exists()
    one_line(cli.run("whoami"), 3, "not logged in")
    # The token itself is revoked, not just forgotten.
    cli.monkeypatch.setenv("HEARTBEAT_TOKEN", token)
    one_line(cli.run("whoami"), 3, "logged out")


def test_login_failures_are_alike(cli: CliEnv) -> None:
    cli.create("bob", "user")
    for user, password in [("bob", "wrong password!!"), ("ghost", PASSWORD), ("BAD NAME", PASSWORD)]:
        one_line(cli.login(user, password), 3, "invalid username or password")
    assert not token_path().exists()
    one_line(cli.run("login", "--password-stdin", stdin="x\n"), 2, "needs --username")
    one_line(cli.run("login", "--username", "bob"), 2, "no terminal")


def test_prompts_when_on_a_terminal(cli: CliEnv, monkeypatch: pytest.MonkeyPatch) -> None:
    answers = iter([ADMIN_PASSWORD, "a brand new password", "a brand new password"])
    monkeypatch.setattr("getpass.getpass", lambda prompt="": next(answers))
    monkeypatch.setattr("builtins.input", lambda prompt="": ADMIN)

    class Tty:
        def isatty(self) -> bool:
            return True

        def readline(self) -> str:
            return ""

    monkeypatch.setattr("sys.stdin", Tty())  # where read_credentials reads it
    from heartbeat_tui.cli import main

    assert main(["--config", str(cli.config_path), "login"]) == 0
    assert main(["--config", str(cli.config_path), "users", "create", "--username", "eve", "--role", "user"]) == 0
    answers = iter(["one password here", "another password"])
    assert main(["--config", str(cli.config_path), "users", "reset-password", "eve"]) == 2
    assert "the two passwords differ" in cli.capsys.readouterr().err


def test_passwords_never_from_argv(cli: CliEnv) -> None:
    for args in (
        ("login", "--username", ADMIN, "--password", "hunter2-secret"),
        ("login", "--username", ADMIN, "--password=hunter2-secret"),
        ("login", "--username", ADMIN, "-p", "hunter2-secret"),
        ("users", "create", "--username", "x12", "--role", "user", "--password", "hunter2-secret"),
        ("init", "--admin", "boss", "--password", "hunter2-secret"),
    ):
        result = cli.run(*args)
        one_line(result, 2, "passwords are never taken from the command line")
        assert "hunter2" not in result.err + result.out
    # No abbreviation of --password-stdin either.
    one_line(cli.run("login", "--username", ADMIN, "--password-std"), 2, "unrecognized arguments")


def test_user_administration(cli: CliEnv) -> None:
    cli.login(ADMIN, ADMIN_PASSWORD)
    create = cli.run(
        "users",
        "create",
        "--username",
        "bob",
        "--role",
        "user",
        "--accounts",
        f"{PAYMENTS},{STAGING}",
        "--email",
        "bob@example.com",
        "--full-name",
        "Bob Builder",
        "--password-stdin",
        stdin=PASSWORD + "\n",
    )
    assert create.code == 0 and create.out.strip() == "created bob (user)"
    dup = cli.run(
        "users", "create", "--username", "bob", "--role", "admin", "--password-stdin", stdin="other password!!\n"
    )
    one_line(dup, 2, "user 'bob' already exists (nothing was changed)")
    listing = cli.run("users", "list", "--format", "json")
    users = {u["username"]: u for u in json.loads(listing.out)}
    assert users["bob"]["role"] == "user" and users["bob"]["accounts"] == [PAYMENTS, STAGING]
    assert users["bob"]["email"] == "bob@example.com" and users["bob"]["full_name"] == "Bob Builder"
    table = cli.run("users", "list").out
    assert table.splitlines()[0].split()[:4] == ["USERNAME", "ROLE", "ACTIVE", "LOCKED"]
    assert cli.run("users", "set-role", "bob", "monitor").out.strip() == "bob is now monitor"
    assert cli.run("users", "set-role", "bob", "user").code == 0
    assert cli.run("users", "set-accounts", "bob", PAYMENTS).out.strip() == f"bob may see {PAYMENTS}"
    assert cli.run("users", "update", "bob", "--email", "").code == 0
    assert cli.run("users", "disable", "bob").out.strip() == "bob disabled"
    one_line(cli.login("bob", PASSWORD), 3, "invalid username or password")
    cli.login(ADMIN, ADMIN_PASSWORD)
    assert cli.run("users", "enable", "bob").code == 0
    for _ in range(5):
        cli.login("bob", "wrong password!!")
    cli.login(ADMIN, ADMIN_PASSWORD)
    listed = {u["username"]: u for u in json.loads(cli.run("users", "list", "--format", "json").out)}
    assert listed["bob"]["locked"] is True and listed[ADMIN]["locked"] is False
    assert cli.run("users", "unlock", "bob").out.strip() == "bob unlocked"
    reset = cli.run("users", "reset-password", "bob", "--password-stdin", stdin="a brand new password\n")
    assert reset.code == 0
    assert cli.login("bob", "a brand new password").code == 0
    assert cli.run("whoami").out.startswith(f"bob  role=user  accounts={PAYMENTS}  until ")
    cli.login(ADMIN, ADMIN_PASSWORD)
    final = {u["username"]: u for u in json.loads(cli.run("users", "list", "--format", "json").out)}["bob"]
    assert final["email"] is None and final["full_name"] == "Bob Builder" and final["active"]


@pytest.mark.parametrize(
    ("args", "code", "text"),
    [
        (("users", "disable", "ghost"), 2, "no user 'ghost'"),
        (("users", "set-role", "bob", "root"), 2, "role: must be one of admin, monitor, user"),
        (("users", "set-accounts", "bob", "12,34"), 2, "accounts: must be 12-digit AWS account ids"),
        (("users", "update", "bob"), 2, "nothing to change"),
        (("users", "update", "bob", "--email", "not-an-address"), 2, "email:"),
        (("users",), 2, "an action is needed"),
        (("users", "create", "--username", "bob"), 2, "the following arguments are required: --role"),
        (("users", "disable", ADMIN), 2, "is the last active admin"),
        (("keys",), 2, "an action is needed"),
    ],
)
def test_bad_input(cli: CliEnv, args: tuple[str, ...], code: int, text: str) -> None:
    cli.create("bob", "user")
    cli.login(ADMIN, ADMIN_PASSWORD)
    one_line(cli.run(*args), code, text)


@pytest.mark.parametrize("role", ["monitor", "user"])
def test_role_gating_on_the_command_line(cli: CliEnv, role: str) -> None:
    cli.create("someone", role)
    assert cli.login("someone", PASSWORD).code == 0
    for args, stdin in [
        (("users", "list"), ""),
        (("users", "create", "--username", "evil", "--role", "admin", "--password-stdin"), "evil password!!\n"),
        (("users", "set-role", "someone", "admin"), ""),
        (("users", "disable", ADMIN), ""),
        (("users", "reset-password", ADMIN, "--password-stdin"), "hijacked password\n"),
        (("users", "unlock", "someone"), ""),
        (("refresh",), ""),
        (("keys", "rotate"), ""),
    ]:
        one_line(cli.run(*args, stdin=stdin), 4, "needs the admin role")
    cli.login(ADMIN, ADMIN_PASSWORD)
    users = {u["username"]: u for u in json.loads(cli.run("users", "list", "--format", "json").out)}
    assert set(users) == {ADMIN, "someone"} and users["someone"]["role"] == role


def test_snapshot_needs_a_session(cli: CliEnv) -> None:
    one_line(cli.run("snapshot"), 3, "not logged in: run `heartbeat login`")
    token_path().parent.mkdir(parents=True, exist_ok=True)
    token_path().write_text("not.a.token")
    token_path().chmod(0o600)
    one_line(cli.run("snapshot"), 3, "the session token is invalid")
    token_path().chmod(0o644)
    one_line(cli.run("snapshot"), 3, "can be read by others")


def test_a_user_session_polls_and_shows_only_its_accounts(cli: CliEnv) -> None:
    cli.create("bob", "user", PASSWORD, f"{STAGING},999999999999")
    cli.login("bob", PASSWORD)
    cli.aws.reset_stats()
    result = cli.run("snapshot", "--format", "json")
    assert result.code == 0, result.err
    assert [a["id"] for a in json.loads(result.out)["accounts"]] == [STAGING]
    polled = {row["account"] for row in cli.aws.stats() if row["service"] not in ("sts", "dynamodb")}
    assert polled == {STAGING}
    # Asking for an account outside the allow-list finds nothing (and polls nothing).
    one_line(cli.run("snapshot", "--account", PAYMENTS), 2, "no account matches")
    one_line(cli.run("snapshot", "--account", "payments-prod"), 2, "no account matches")
    aliases = cli.run("aliases", "--format", "json")
    assert json.loads(aliases.out) == [{"id": STAGING, "alias": "checkout-staging"}]


def test_admin_sees_everything_and_refreshes(cli: CliEnv) -> None:
    cli.login(ADMIN, ADMIN_PASSWORD)
    aliases = cli.run("aliases")
    lines = dict(line.split("  ") for line in aliases.out.strip().splitlines())
    assert lines[PAYMENTS] == "payments-prod" and lines[HUB] == "shared-services"
    assert aliases.code == 1 and f"account {DENIED_ACCOUNT}: alias not readable" in aliases.err
    refresh = cli.run("refresh")
    assert refresh.code == 1  # the denied account
    assert "full poll of 5 account(s)" in refresh.out and refresh.out.count("ok   ") == 4


def test_heartbeat_token_overrides_the_file(cli: CliEnv) -> None:
    cli.create("wall", "monitor")
    cli.login(ADMIN, ADMIN_PASSWORD)
    monitor = cli.service(lambda auth: auth.login("wall", PASSWORD))
    cli.monkeypatch.setenv("HEARTBEAT_TOKEN", monitor.token)
    assert cli.run("whoami").out.startswith("wall  role=monitor  accounts=all")
    out = cli.run("logout")
    assert "HEARTBEAT_TOKEN session of wall revoked" in out.out and token_path().exists()
    cli.monkeypatch.delenv("HEARTBEAT_TOKEN")
    assert cli.run("whoami").out.startswith(f"{ADMIN}  role=admin")


def test_missing_secrets_stop_start_up(cli: CliEnv) -> None:
    cli.monkeypatch.delenv("JWT_SECRET")
    one_line(cli.run("login", "--username", ADMIN, "--password-stdin", stdin="x\n"), 2, "JWT_SECRET is not set")
    one_line(cli.run("snapshot"), 2, "JWT_SECRET is not set")
    cli.monkeypatch.setenv("JWT_SECRET", "too short")
    one_line(cli.run("whoami"), 2, "JWT_SECRET is too short: 9 bytes")
    assert "too short" in cli.run("whoami").err and "JWT_SECRET=too" not in cli.run("whoami").err


def test_missing_tables_say_run_init(bare: CliEnv) -> None:
    one_line(bare.login("anyone", PASSWORD), 2, "does not exist: run `heartbeat init`")


def test_keys_generate(cli: CliEnv) -> None:
    result = cli.run("keys", "generate")
    values = dict(line.split("=", 1) for line in result.out.strip().splitlines())
    assert set(values) == {"JWT_SECRET", "ENCRYPTION_KEY"} and len(values["JWT_SECRET"]) >= 32
    Fernet(values["ENCRYPTION_KEY"].encode())


def test_the_real_command_line(cli: CliEnv) -> None:
    """A real process, real hashing cost: login, snapshot as a user, whoami."""

    cli.create("bob", "user", PASSWORD, STAGING)
    login = cli.process("login", "--username", "bob", "--password-stdin", stdin=PASSWORD + "\n")
    assert login.code == 0, login.err
    snapshot = cli.process("snapshot", "--format", "csv")
    assert snapshot.code == 0, snapshot.err
    assert {line.split(",")[0] for line in snapshot.out.strip().splitlines()[1:]} == {STAGING}
    failed = cli.process("login", "--username", "bob", "--password-stdin", stdin="wrong password!!\n")
    assert (failed.code, failed.err.strip()) == (3, "heartbeat: invalid username or password")
    token = token_path().read_text()
    assert oct(os.stat(token_path()).st_mode & 0o777) == "0o600" and PASSWORD not in token
    # The hash was upgraded to the configured cost at that login.
    record = cli.service(lambda auth: auth.store.get("bob"))
    assert record.password_hash.startswith("pbkdf2_sha256$600000$")
    assert "Traceback" not in login.err + snapshot.err + failed.err
