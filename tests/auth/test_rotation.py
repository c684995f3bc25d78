"""`keys rotate`: every record re-encrypted with the newest key; resumable,
idempotent, a concurrent edit is kept, and no record is ever unreadable."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import pytest

from heartbeat_tui.auth.crypto import FieldCipher
from heartbeat_tui.auth.service import AuthService, open_auth
from heartbeat_tui.auth.store import UserRecord
from heartbeat_tui.config import Config
from tests.support.auth import (
    ADMIN,
    ADMIN_PASSWORD,
    FAST_ITERATIONS,
    PASSWORD,
    admin_session,
    auth_config,
    new_fernet_key,
)

from .cli_support import make_cli_env

USERS = 12


class Crash(Exception):
    pass


@pytest.fixture
def keys() -> tuple[str, str]:
    return new_fernet_key(), new_fernet_key()  # (old, new)


@pytest.fixture
def old_config(fleet_aws: Any, keys: tuple[str, str]) -> Config:
    return auth_config(fleet_aws, encryption_key=keys[0])


def with_key(config: Config, fleet_aws: Any, value: str) -> Config:
    assert config.env.jwt_secret is not None
    return auth_config(
        fleet_aws, table=config.users_table, jwt_secret=config.env.jwt_secret.get_secret_value(), encryption_key=value
    )


@asynccontextmanager
async def service_for(config: Config) -> AsyncIterator[AuthService]:
    async with open_auth(config, iterations=FAST_ITERATIONS) as auth:
        yield auth


async def populate(config: Config) -> dict[str, tuple[str | None, str | None]]:
    expected: dict[str, tuple[str | None, str | None]] = {}
    async with service_for(config) as auth:
        await auth.store.ensure_tables()
        admin = await admin_session(auth)
        expected[ADMIN] = (None, None)
        for i in range(USERS):
            email = f"user{i}@example.com" if i % 3 else None
            name = f"User Number {i}" if i % 2 else None
            await auth.create_user(
                admin, username=f"user{i:02d}", password=PASSWORD, role="user", email=email, full_name=name
            )
            expected[f"user{i:02d}"] = (email, name)
    return expected


async def read_all(auth: AuthService) -> dict[str, tuple[str | None, str | None]]:
    admin = await auth.login(ADMIN, ADMIN_PASSWORD)
    return {v.username: (v.email, v.full_name) for v in await auth.list_users(admin)}


def all_current(records: list[UserRecord], cipher: FieldCipher) -> bool:
    return all(cipher.is_current(value) for r in records for value in (r.email_enc, r.full_name_enc) if value)


async def test_rotation_re_encrypts_everything_once(fleet_aws: Any, old_config: Config, keys: tuple[str, str]) -> None:
    expected = await populate(old_config)
    old, new = keys
    async with service_for(with_key(old_config, fleet_aws, f"{new},{old}")) as auth:
        admin = await auth.login(ADMIN, ADMIN_PASSWORD)
        report = await auth.rotate_keys(admin, page_size=5)
        encrypted = sum(1 for email, name in expected.values() if email or name)
        assert (report.scanned, report.rotated, report.already_current, report.failed) == (
            USERS + 1,
            encrypted,
            USERS + 1 - encrypted,
            [],
        )
        again = await auth.rotate_keys(admin)
        assert (again.rotated, again.already_current) == (0, USERS + 1)
        assert "0 re-encrypted" in again.line()
    # The old key can now be dropped: the new one alone reads everything.
    async with service_for(with_key(old_config, fleet_aws, new)) as auth:
        assert await read_all(auth) == expected
        assert all_current(await auth.store.all(), FieldCipher.from_setting(new))


async def test_interrupted_midway_then_resumed(fleet_aws: Any, old_config: Config, keys: tuple[str, str]) -> None:
    expected = await populate(old_config)
    old, new = keys
    both = with_key(old_config, fleet_aws, f"{new},{old}")
    writes = 0

    async def crash_after_four(record: UserRecord) -> None:
        nonlocal writes
        writes += 1
        if writes > 4:
            raise Crash

    async with service_for(both) as auth:
        admin = await auth.login(ADMIN, ADMIN_PASSWORD)
        with pytest.raises(Crash):
            await auth.rotate_keys(admin, page_size=3, before_write=crash_after_four)
        # Midway: a mix of old and new ciphertexts, every one readable with the configured keys.
        records = await auth.store.all()
        cipher = FieldCipher.from_setting(f"{new},{old}")
        states = {cipher.is_current(r.email_enc or r.full_name_enc) for r in records if r.email_enc or r.full_name_enc}
        assert states == {True, False}
        assert await read_all(auth) == expected
        # Resumed: the rest is done, what was done is not redone.
        report = await auth.rotate_keys(admin)
        assert report.rotated + 4 == sum(1 for e, n in expected.values() if e or n) and not report.failed
    async with service_for(with_key(old_config, fleet_aws, new)) as auth:
        assert await read_all(auth) == expected


async def test_a_concurrent_edit_is_not_lost(fleet_aws: Any, old_config: Config, keys: tuple[str, str]) -> None:
    expected = await populate(old_config)
    old, new = keys
    async with (
        service_for(with_key(old_config, fleet_aws, f"{new},{old}")) as rotator,
        service_for(old_config) as editor,
    ):
        admin = await rotator.login(ADMIN, ADMIN_PASSWORD)
        editor_admin = await editor.login(ADMIN, ADMIN_PASSWORD)
        edited: set[str] = set()

        async def edit_first(record: UserRecord) -> None:
            # Another process, still on the old key only, edits between rotation's read and write.
            if record.username in ("user01", "user05") and record.username not in edited:
                edited.add(record.username)
                await editor.update_profile(editor_admin, record.username, email=f"{record.username}@edited.example")
                expected[record.username] = (f"{record.username}@edited.example", expected[record.username][1])

        report = await rotator.rotate_keys(admin, before_write=edit_first)
        assert edited == {"user01", "user05"} and report.retried == 2 and not report.failed
    async with service_for(with_key(old_config, fleet_aws, new)) as auth:
        assert await read_all(auth) == expected
        assert all_current(await auth.store.all(), FieldCipher.from_setting(new))


async def test_never_unreadable_while_rotating(fleet_aws: Any, old_config: Config, keys: tuple[str, str]) -> None:
    expected = await populate(old_config)
    old, new = keys
    both = with_key(old_config, fleet_aws, f"{new},{old}")
    async with service_for(both) as rotator, service_for(both) as reader:
        admin = await rotator.login(ADMIN, ADMIN_PASSWORD)
        reader_admin = await reader.login(ADMIN, ADMIN_PASSWORD)
        done = asyncio.Event()
        reads = 0

        async def keep_reading() -> None:
            nonlocal reads
            while not done.is_set():
                assert {v.username: (v.email, v.full_name) for v in await reader.list_users(reader_admin)} == expected
                reads += 1

        async def rotate() -> None:
            async def slow(record: UserRecord) -> None:
                await asyncio.sleep(0.01)

            try:
                await rotator.rotate_keys(admin, page_size=2, before_write=slow)
            finally:
                done.set()

        await asyncio.gather(keep_reading(), rotate())
        assert reads >= 2


async def test_a_record_no_key_opens_is_reported(fleet_aws: Any, old_config: Config, keys: tuple[str, str]) -> None:
    await populate(old_config)
    stranger = FieldCipher.from_setting(new_fernet_key()).encrypt("lost@example.com")
    async with service_for(old_config) as auth:
        record = await auth.store.get("user01")
        await auth.store.update("user01", record.version, {"email_enc": stranger})
    old, new = keys
    async with service_for(with_key(old_config, fleet_aws, f"{new},{old}")) as auth:
        admin = await auth.login(ADMIN, ADMIN_PASSWORD)
        report = await auth.rotate_keys(admin)
        assert report.failed == ["user01"] and "not readable with any configured key: user01" in report.line()
        assert (await auth.get_user(admin, "user01")).email == "(unreadable: key missing)"
        assert (await auth.store.get("user01")).email_enc == stranger  # left as it was


def test_keys_rotate_on_the_command_line(clean_aws: Any, tmp_path: Any, monkeypatch: Any, capsys: Any) -> None:
    cli = make_cli_env(clean_aws, tmp_path, monkeypatch, capsys)
    cli.create("bob", "user")

    async def add_email(auth: AuthService) -> None:
        admin = await auth.login(ADMIN, ADMIN_PASSWORD)
        await auth.update_profile(admin, "bob", email="bob@example.com")

    cli.service(add_email)
    old = cli.env["ENCRYPTION_KEY"]
    new = new_fernet_key()
    monkeypatch.setenv("ENCRYPTION_KEY", f"{new},{old}")
    cli.login(ADMIN, ADMIN_PASSWORD)
    result = cli.run("keys", "rotate")
    assert result.code == 0 and result.out.startswith("2 user(s) scanned: 1 re-encrypted with key ")
    assert "1 already on it" in result.out
    assert cli.run("keys", "rotate").out.startswith("2 user(s) scanned: 0 re-encrypted")
    monkeypatch.setenv("ENCRYPTION_KEY", new)
    listed = cli.run("users", "list", "--format", "json")
    assert '"email": "bob@example.com"' in listed.out
