"""Property-based bad input (hypothesis): create-user validation in the core, the
login form's inputs, and the command line. Always a clear message and a defined
outcome, never a traceback, never a partial write, never an overwrite."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from heartbeat_tui.auth import LoginFailed, UserExists, ValidationFailed
from heartbeat_tui.auth.errors import LOGIN_FAILED
from heartbeat_tui.auth.service import AuthService, open_auth
from heartbeat_tui.auth.validation import validate_new_user
from tests.support.auth import ADMIN, ADMIN_PASSWORD, FAST_ITERATIONS, PASSWORD, auth_config, dynamodb

from .cli_support import CliEnv, make_cli_env
from .strategies import EXISTING, accounts, emails, full_names, passwords, roles, usernames

FIELDS = {"username", "password", "role", "accounts", "email", "full_name"}


# Each example talks to DynamoDB on the embedded AWS (a CLI example runs the
# whole command in-process, ~0.5 s): fewer examples than the pure validation test.
SLOW = settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


@given(username=usernames, password=passwords, role=roles, accounts=accounts, email=emails, full_name=full_names)
@settings(max_examples=400, deadline=None)
def test_validation_is_total(
    username: str, password: str, role: str, accounts: str | None, email: str, full_name: str
) -> None:
    try:
        result = validate_new_user(
            username=username, password=password, role=role, accounts=accounts, email=email, full_name=full_name
        )
    except ValidationFailed as exc:
        assert exc.errors and set(exc.errors) <= FIELDS
        assert "\n" not in str(exc) and str(exc).split(":")[0] in FIELDS
        return
    name, _, parsed_role, _, _, _ = result
    assert name == username and 3 <= len(name) <= 64 and parsed_role.value in ("admin", "monitor", "user")
    assert len(password) >= 12 and password.casefold() != username.casefold()


@pytest.fixture
def fresh(fleet_aws: Any) -> Any:
    config = auth_config(fleet_aws)

    async def setup() -> None:
        async with open_auth(config, iterations=FAST_ITERATIONS) as auth:
            await auth.store.ensure_tables()
            await auth.bootstrap_admin(ADMIN, ADMIN_PASSWORD)
            admin = await auth.login(ADMIN, ADMIN_PASSWORD)
            await auth.create_user(admin, username=EXISTING, password=PASSWORD, role="monitor", email="e@example.com")

    asyncio.run(setup())
    return config


def on_store(config: Any, work: Any) -> Any:
    async def go() -> Any:
        async with open_auth(config, iterations=FAST_ITERATIONS) as auth:
            return await work(auth)

    return asyncio.run(go())


@SLOW
@given(username=usernames, password=passwords, role=roles, accounts=accounts, email=emails, full_name=full_names)
def test_create_user_in_the_core(
    fleet_aws: Any,
    fresh: Any,
    username: str,
    password: str,
    role: str,
    accounts: str | None,
    email: str,
    full_name: str,
) -> None:
    async def work(auth: AuthService) -> None:
        admin = await auth.login(ADMIN, ADMIN_PASSWORD)
        before = await auth.store.all()
        try:
            view = await auth.create_user(
                admin,
                username=username,
                password=password,
                role=role,
                accounts=accounts,
                email=email,
                full_name=full_name,
            )
        except ValidationFailed as exc:
            assert set(exc.errors) <= FIELDS
            assert await auth.store.all() == before  # nothing written
            return
        except UserExists:
            assert username == EXISTING
            assert await auth.store.all() == before  # the existing user untouched
            return
        stored = await auth.get_user(admin, username)
        assert stored == view and stored.username == username
        assert stored.email == (email.strip() or None if email else None)
        assert (await auth.login(username, password)).username == username
        dynamodb(fleet_aws, fresh).delete_item(TableName=fresh.users_table, Key={"username": {"S": username}})

    on_store(fresh, work)


@SLOW
@given(username=st.one_of(usernames, st.just(ADMIN)), password=st.one_of(passwords, st.text(max_size=2000)))
def test_login_form_inputs(fresh: Any, username: str, password: str) -> None:
    assume((username, password) != (ADMIN, ADMIN_PASSWORD) and (username, password) != (EXISTING, PASSWORD))

    async def work(auth: AuthService) -> None:
        with pytest.raises(LoginFailed) as caught:
            await auth.login(username, password)
        assert str(caught.value) == LOGIN_FAILED

    on_store(fresh, work)


@pytest.fixture
def cli(clean_aws: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: Any) -> CliEnv:
    cli = make_cli_env(clean_aws, tmp_path, monkeypatch, capsys)
    cli.create(EXISTING, "monitor")
    assert cli.login(ADMIN, ADMIN_PASSWORD).code == 0
    return cli


def users_of(cli: CliEnv) -> list[Any]:
    return cli.service(lambda auth: auth.store.all())


def check_result(result: Any, allowed: set[int]) -> None:
    assert result.code in allowed, (result.code, result.err)
    assert "Traceback" not in result.out + result.err
    if result.code != 0:
        assert len(result.err.strip().splitlines()) == 1, result.err
        assert result.err.startswith("heartbeat: ")


@settings(SLOW, max_examples=20)
@given(username=usernames, password=passwords, role=roles, accounts=accounts, email=emails, full_name=full_names)
def test_users_create_on_the_command_line(
    cli: CliEnv, username: str, password: str, role: str, accounts: str | None, email: str, full_name: str
) -> None:
    args = ["users", "create", "--username", username, "--role", role, "--password-stdin"]
    if accounts is not None:
        args += ["--accounts", accounts]
    if email is not None:
        args += ["--email", email]
    if full_name is not None:
        args += ["--full-name", full_name]
    before = users_of(cli)
    result = cli.run(*args, stdin=password + "\n")
    check_result(result, {0, 2})
    after = users_of(cli)
    if result.code != 0:
        assert after == before
        return
    created = [u for u in after if u not in before]
    assert [u.username for u in created] == [username] and len(after) == len(before) + 1
    dynamodb(cli.aws, cli.config).delete_item(TableName=cli.config.users_table, Key={"username": {"S": username}})


words = st.one_of(
    st.sampled_from(
        [
            "users",
            "create",
            "list",
            "disable",
            "enable",
            "set-role",
            "set-accounts",
            "update",
            "reset-password",
            "unlock",
            "login",
            "logout",
            "whoami",
            "aliases",
            "keys",
            "rotate",
            "--username",
            "--role",
            "--accounts",
            "--email",
            "--full-name",
            "--password-stdin",
            "--password",
            "-p",
            "--format",
            "json",
            "admin",
            "user",
            EXISTING,
            ADMIN,
            "ghost",
            "210987654321",
            "--",
            "-",
            "",
            "a\nb",
            "x\x00y",
        ]
    ),
    st.text(max_size=12),
)


@SLOW
@given(argv=st.lists(words, max_size=8), stdin=st.text(max_size=40))
def test_any_command_line(cli: CliEnv, argv: list[str], stdin: str) -> None:
    assume(argv[:1] not in (["logout"], ["refresh"], ["aliases"]))  # valid, slow or session-ending: tested elsewhere
    assume(argv[:2] != ["keys", "rotate"] and argv[:2] != ["keys", "generate"])
    before = {u.username: u for u in users_of(cli)}
    result = cli.run(*argv, stdin=stdin)
    check_result(result, {0, 1, 2, 3, 4})
    after = {u.username: u for u in users_of(cli)}
    # Whatever happened, the admin and the existing user are still there, and only
    # a successful command may have changed anything.
    assert ADMIN in after and EXISTING in after
    if result.code != 0:
        assert after == before
    if result.code == 0 and argv[:1] == ["login"]:
        cli.login(ADMIN, ADMIN_PASSWORD)
    if after != before:
        # Put things back for the next example.
        tables = dynamodb(cli.aws, cli.config)
        for name in set(after) - set(before):
            tables.delete_item(TableName=cli.config.users_table, Key={"username": {"S": name}})
        for name in set(before) & set(after):
            if after[name] != before[name]:
                tables.put_item(TableName=cli.config.users_table, Item=before[name].to_item())
        cli.login(ADMIN, ADMIN_PASSWORD)
