"""A first run without stumbles: `init --admin` checks everything before creating
anything and its prompt states the rule, every problem is named at once, an
allow-list names only watched accounts, and `users list`/`whoami` say what the
table and the original's `/auth/me` said."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from heartbeat_tui.auth import ValidationFailed
from heartbeat_tui.config import load_config
from heartbeat_tui.errors import ConfigError
from tests.support.auth import ADMIN, ADMIN_PASSWORD, PASSWORD, dynamodb
from tests.support.configs import PAYMENTS

from .cli_support import CliEnv, make_cli_env
from .test_cli import one_line


@pytest.fixture
def cli(clean_aws: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: Any) -> CliEnv:
    return make_cli_env(clean_aws, tmp_path, monkeypatch, capsys)


@pytest.fixture
def bare(clean_aws: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: Any) -> CliEnv:
    return make_cli_env(clean_aws, tmp_path, monkeypatch, capsys, admin=False)


def table_names(env: CliEnv) -> set[str]:
    names = set(dynamodb(env.aws, env.config).list_tables()["TableNames"])
    return {name for name in names if name.startswith(env.config.users_table)}


def test_init_admin_with_a_bad_password_creates_no_table(bare: CliEnv) -> None:
    short = bare.run("init", "--admin", "boss", "--password-stdin", stdin="short\n")
    one_line(short, 2, "password: must be at least 12 characters")
    assert table_names(bare) == set()
    both = bare.run("init", "--admin", "boss", "--email", "not-an-address", "--password-stdin", stdin="short\n")
    one_line(both, 2, "password: must be at least 12 characters; email: must be an address")
    assert "more problem" not in both.err
    assert table_names(bare) == set()
    made = bare.run("init", "--admin", "boss", "--password-stdin", stdin="a good admin password\n")
    assert made.code == 0 and "created admin boss" in made.out
    assert table_names(bare) == {bare.config.users_table, f"{bare.config.users_table}-auth"}


def test_the_password_prompt_states_the_rule(bare: CliEnv, monkeypatch: pytest.MonkeyPatch) -> None:
    prompts: list[str] = []

    def getpass(prompt: str = "") -> str:
        prompts.append(prompt)
        return "a good admin password"

    class Tty:
        def isatty(self) -> bool:
            return True

    monkeypatch.setattr("getpass.getpass", getpass)
    monkeypatch.setattr("sys.stdin", Tty())  # where read_credentials reads it
    from heartbeat_tui.cli import main

    assert main(["--config", str(bare.config_path), "init", "--admin", "boss"]) == 0
    assert prompts[0] == "Password for boss (at least 12 characters, not the username): "


def test_every_problem_is_named_at_once(tmp_path: Path) -> None:
    error = ValidationFailed({"username": "is required", "password": "is required", "role": "must be one of x"})
    assert str(error) == "username: is required; password: is required; role: must be one of x"
    path = tmp_path / "config.toml"
    path.write_text("[refresh]\ninterval_seconds = 1\n[collector]\nhistory_minutes = 'x'\n")
    path.chmod(0o600)
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    message = str(caught.value)
    assert message.startswith(f"{path}: refresh.interval_seconds: ") and "\n" not in message
    assert "; collector.history_minutes: must be an integer" in message and "more problem" not in message


def test_an_allow_list_names_only_watched_accounts(cli: CliEnv) -> None:
    cli.login(ADMIN, ADMIN_PASSWORD)
    args = ("users", "create", "--username", "bob", "--role", "user", "--password-stdin")
    refused = cli.run(*args, "--accounts", f"{PAYMENTS},999999999999", stdin=PASSWORD + "\n")
    one_line(refused, 2, "accounts: 999999999999 is not in ")
    assert "nothing was changed" in refused.err
    created = cli.run(*args, "--accounts", PAYMENTS, stdin=PASSWORD + "\n")
    assert created.code == 0, created.err
    one_line(cli.run("users", "set-accounts", "bob", "999999999999"), 2, "999999999999 is not in ")
    users = {u["username"]: u for u in json.loads(cli.run("users", "list", "--format", "json").out)}
    assert users["bob"]["accounts"] == [PAYMENTS]


def test_users_list_and_whoami_say_everything(cli: CliEnv) -> None:
    cli.login(ADMIN, ADMIN_PASSWORD)
    create = ("users", "create", "--role", "user", "--accounts", PAYMENTS, "--password-stdin")
    cli.run(*create, "--username", "bob", "--email", "bob@example.com", stdin=PASSWORD + "\n")
    users = {u["username"]: u for u in json.loads(cli.run("users", "list", "--format", "json").out)}
    assert users[ADMIN]["all_accounts"] is True and users[ADMIN]["accounts"] == []
    assert users["bob"]["all_accounts"] is False and users["bob"]["accounts"] == [PAYMENTS]

    assert cli.login("bob", PASSWORD).code == 0
    who = json.loads(cli.run("whoami", "--format", "json").out)
    assert who["email"] == "bob@example.com" and who["all_accounts"] is False
    assert who["last_login_at"] is not None and who["last_login_at"] <= who["issued_at"]
    text = cli.run("whoami").out.splitlines()
    assert text[1].startswith("email: bob@example.com  last login: 20") and text[1].endswith(" UTC")
    cli.login(ADMIN, ADMIN_PASSWORD)
    admin = json.loads(cli.run("whoami", "--format", "json").out)
    assert admin["all_accounts"] is True and admin["email"] is None


def test_with_discovery_on_an_unknown_account_is_kept_with_a_warning(cli: CliEnv) -> None:
    # Discovery may list the account at its next refresh: the grant is kept, and said.
    with cli.config_path.open("a") as config_file:
        config_file.write('\n[discovery]\norganizations = true\nrole_name = "HeartbeatRead"\n')
    cli.login(ADMIN, ADMIN_PASSWORD)
    args = ("users", "create", "--username", "carol", "--role", "user", "--password-stdin")
    created = cli.run(*args, "--accounts", f"{PAYMENTS},999999999999", stdin=PASSWORD + "\n")
    assert created.code == 0, created.err
    assert created.err.strip() == (
        f"heartbeat: warning: accounts: 999999999999 not in {cli.config_path}; kept, as [discovery] may list it at its next refresh"
    )
    users = {u["username"]: u for u in json.loads(cli.run("users", "list", "--format", "json").out)}
    assert users["carol"]["accounts"] == sorted([PAYMENTS, "999999999999"])
