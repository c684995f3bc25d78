"""The original HeartBeat's users table: records written exactly as the original
wrote them (computed here from its format, not with HeartBeat's own code) are
listed, guarded, logged in with the old password, upgraded in place once, even
by two first logins at once, and migrated by `heartbeat users migrate`."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import os
import statistics
import threading
import time
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest
from cryptography.fernet import Fernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.pbkdf2 import PBKDF2HMAC
from pydantic import SecretStr

from heartbeat_tui.auth import AdminExists, LastAdmin, LoginFailed, Role
from heartbeat_tui.auth.crypto import FieldCipher
from heartbeat_tui.auth.passwords import PasswordHasher
from heartbeat_tui.auth.service import AuthService, open_auth
from heartbeat_tui.auth.service_admin import LEGACY_UNREADABLE
from heartbeat_tui.config import Config
from tests.support.auth import ADMIN, ADMIN_PASSWORD, FAST_ITERATIONS, auth_config, dynamodb

from .cli_support import make_cli_env

PASSPHRASE = "the original's ENCRYPTION_KEY"  # any length: the original stretched it
OLD_PASSWORD = "old web password"
CREATED = "2025-03-14T09:26:53.589793"  # datetime.utcnow().isoformat(), as the original stamped it


def original_hash(password: str) -> str:
    """The original's PasswordService.hash_password: SALT:HEX, the salt's hex text as the salt."""

    salt = os.urandom(16).hex()
    digest = hashlib.pbkdf2_hmac("sha256", password.encode(), salt.encode(), 100_000)
    return f"{salt}:{digest.hex()}"


def original_encrypt(passphrase: str, text: str) -> str:
    """The original's EncryptionService.encrypt: a Fernet token, URL-safe base64 once more."""

    kdf = PBKDF2HMAC(algorithm=hashes.SHA256(), length=32, salt=b"your_salt", iterations=100_000)
    fernet = Fernet(base64.urlsafe_b64encode(kdf.derive(passphrase.encode())))
    return base64.urlsafe_b64encode(fernet.encrypt(text.encode())).decode()


def original_item(
    username: str, role: str = "user", *, active: bool = True, email: str | None = None
) -> dict[str, Any]:
    """One item as the original's boto3 Table.put_item left it (last_login None: a NULL)."""

    item: dict[str, Any] = {
        "username": {"S": username},
        "id": {"S": str(uuid.uuid4())},
        "role": {"S": role},
        "is_active": {"BOOL": active},
        "created_at": {"S": CREATED},
        "last_login": {"NULL": True},
        "encrypted_password": {"S": original_hash(OLD_PASSWORD)},
    }
    if email is not None:
        item["encrypted_email"] = {"S": original_encrypt(PASSPHRASE, email)}
    return item


def with_legacy_key(config: Config, passphrase: str | None = PASSPHRASE) -> Config:
    env = config.env.model_copy(
        update={"heartbeat_legacy_encryption_key": SecretStr(passphrase) if passphrase else None}
    )
    return config.model_copy(update={"env": env})


@pytest.fixture
def config(fleet_aws: Any) -> Config:
    return with_legacy_key(auth_config(fleet_aws))


@pytest.fixture
def tables(fleet_aws: Any, config: Config) -> Any:
    return dynamodb(fleet_aws, config)


@asynccontextmanager
async def service_for(config: Config, hasher: PasswordHasher | None = None) -> AsyncIterator[AuthService]:
    async with open_auth(config, iterations=FAST_ITERATIONS, hasher=hasher) as auth:
        await auth.store.ensure_tables()
        yield auth


def raw(tables: Any, config: Config, username: str) -> dict[str, Any]:
    item: dict[str, Any] = tables.get_item(
        TableName=config.users_table, Key={"username": {"S": username}}, ConsistentRead=True
    )["Item"]
    return item


def put(tables: Any, config: Config, item: dict[str, Any]) -> None:
    tables.put_item(TableName=config.users_table, Item=item)


def current_cipher(config: Config) -> FieldCipher:
    assert config.env.encryption_key is not None
    return FieldCipher.from_setting(config.env.encryption_key.get_secret_value())


async def test_a_legacy_user_logs_in_with_the_old_password_and_is_upgraded(config: Config, tables: Any) -> None:
    async with service_for(config) as auth:
        item = original_item("olduser", "monitor", email="old@example.com")
        put(tables, config, item)
        with pytest.raises(LoginFailed):
            await auth.login("olduser", "not the old password")
        assert raw(tables, config, "olduser")["encrypted_password"] == item["encrypted_password"]

        session = await auth.login("olduser", OLD_PASSWORD)
        assert session.role is Role.MONITOR and session.username == "olduser"
        # The monitor's 30-day lifetime, as the original's.
        assert session.expires_at - session.issued_at == pytest.approx(30 * 24 * 3600)

        stored = raw(tables, config, "olduser")
        for gone in ("encrypted_password", "encrypted_email", "is_active", "last_login"):
            assert gone not in stored, gone
        assert stored["id"] == item["id"]  # the original's own identifier stays
        assert stored["password_hash"]["S"].startswith(f"pbkdf2_sha256${FAST_ITERATIONS}$")
        assert PasswordHasher(FAST_ITERATIONS).verify(OLD_PASSWORD, stored["password_hash"]["S"])
        assert current_cipher(config).decrypt(stored["email_enc"]["S"]) == "old@example.com"
        assert stored["active"] == {"BOOL": True} and stored["version"] == {"N": "1"}
        assert float(stored["created_at"]["N"]) == pytest.approx(1741944413.589793)
        assert float(stored["last_login_at"]["N"]) == pytest.approx(session.issued_at, abs=2)

        # From now on an ordinary user: the same password, the current hash.
        again = await auth.login("olduser", OLD_PASSWORD)
        assert again.role is Role.MONITOR
        assert raw(tables, config, "olduser")["password_hash"] == stored["password_hash"]


async def test_legacy_records_are_listed_and_guarded_like_any_other(config: Config, tables: Any) -> None:
    async with service_for(config) as auth:
        put(tables, config, original_item("oldadmin", "admin", email="boss@example.com"))
        put(tables, config, original_item("olduser", "user", active=False))
        # `init --admin` sees the original's active admin.
        with pytest.raises(AdminExists):
            await auth.bootstrap_admin(ADMIN, ADMIN_PASSWORD)
        legacy_admin = await auth.login("oldadmin", OLD_PASSWORD)  # (upgraded: a second one stays legacy below)
        put(tables, config, original_item("oldadmin2", "admin", email="two@example.com"))
        users = {u.username: u for u in await auth.list_users(legacy_admin)}
        assert users["oldadmin2"].active and users["oldadmin2"].role is Role.ADMIN and users["oldadmin2"].legacy
        assert users["oldadmin2"].email == "two@example.com"
        assert users["oldadmin2"].created_at == pytest.approx(1741944413.589793)
        assert not users["olduser"].active and users["olduser"].email is None
        assert not users["oldadmin"].legacy and users["oldadmin"].email == "boss@example.com"

        # Admin actions on a record without a version: no "kept changing".
        assert (await auth.set_role(legacy_admin, "olduser", "monitor")).role is Role.MONITOR
        assert (await auth.set_active(legacy_admin, "olduser", True)).active
        assert "is_active" not in raw(tables, config, "olduser")  # `active` replaced it
        # The last-admin guard counts the original's active admins, and only those.
        await auth.set_active(legacy_admin, "oldadmin2", False)
        with pytest.raises(LastAdmin):
            await auth.set_active(legacy_admin, "oldadmin", False)
        put(tables, config, original_item("oldadmin3", "admin", email="three@example.com"))
        await auth.set_active(legacy_admin, "oldadmin", False)  # oldadmin3 is an active admin
        assert raw(tables, config, "oldadmin")["active"] == {"BOOL": False}

    # Without the original's passphrase, its emails are shown as unreadable, never lost.
    async with service_for(with_legacy_key(config, None)) as auth:
        session = await auth.login("oldadmin3", OLD_PASSWORD)
        # That login upgraded oldadmin3's password, but its email stays as the original wrote it.
        assert "encrypted_email" in raw(tables, config, "oldadmin3")
        assert "encrypted_password" not in raw(tables, config, "oldadmin3")
        users = {u.username: u for u in await auth.list_users(session)}
        assert users["oldadmin3"].email == LEGACY_UNREADABLE
    async with service_for(config) as auth:
        session = await auth.login("oldadmin3", OLD_PASSWORD)
        users = {u.username: u for u in await auth.list_users(session)}
        assert users["oldadmin3"].email == "three@example.com"


async def test_users_migrate_upgrades_what_needs_no_password(config: Config, tables: Any) -> None:
    async with service_for(config) as auth:
        put(tables, config, original_item("alice", "user", email="alice@example.com"))
        put(tables, config, original_item("bob", "monitor", active=False))
        await auth.bootstrap_admin(ADMIN, ADMIN_PASSWORD)
        admin = await auth.login(ADMIN, ADMIN_PASSWORD)
        before = {name: raw(tables, config, name) for name in ("alice", "bob")}

        dry = await auth.migrate_legacy(admin, dry_run=True)
        assert {u.username for u in dry.users} == {"alice", "bob"} and dry.upgraded == 0
        assert all(u.password and u.fields for u in dry.users)
        assert {name: raw(tables, config, name) for name in ("alice", "bob")} == before

        report = await auth.migrate_legacy(admin)
        assert report.upgraded == 2 and report.unreadable == []
        alice = raw(tables, config, "alice")
        assert alice["encrypted_password"] == before["alice"]["encrypted_password"]  # only a login upgrades it
        assert "password_hash" not in alice and "encrypted_email" not in alice and "is_active" not in alice
        assert current_cipher(config).decrypt(alice["email_enc"]["S"]) == "alice@example.com"
        assert alice["version"] == {"N": "1"} and alice["accounts"] == {"L": []}
        assert raw(tables, config, "bob")["active"] == {"BOOL": False}

        again = await auth.migrate_legacy(admin)
        assert again.upgraded == 0 and {u.username for u in again.users if u.password} == {"alice", "bob"}
        assert raw(tables, config, "alice") == alice  # idempotent

        # The hash upgrades at the next login, after the migration too.
        assert (await auth.login("alice", OLD_PASSWORD)).role is Role.USER
        upgraded = raw(tables, config, "alice")
        assert "encrypted_password" not in upgraded and upgraded["version"] == {"N": "2"}
        with pytest.raises(LoginFailed):
            await auth.login("bob", OLD_PASSWORD)  # disabled in the original: still disabled
        assert (await auth.migrate_legacy(admin)).lines()[1].strip().startswith("bob (password")


class MeetingHasher(PasswordHasher):
    """Makes the new hash of the first two logins only once both have read and
    verified the legacy record: the two upgrades then really race at the store."""

    def __init__(self, iterations: int, barrier: threading.Barrier) -> None:
        super().__init__(iterations)
        self._barrier = barrier

    def hash(self, password: str) -> str:
        if not self._barrier.broken and self._barrier.n_waiting < self._barrier.parties:
            try:
                self._barrier.wait(timeout=30)
            except threading.BrokenBarrierError:
                pass
        return super().hash(password)


def test_two_concurrent_first_logins_upgrade_once(config: Config, tables: Any) -> None:
    async def prepare() -> None:
        async with service_for(config):
            pass

    asyncio.run(prepare())
    put(tables, config, original_item("racer", "admin", email="racer@example.com"))
    barrier = threading.Barrier(2)
    results: dict[int, Any] = {}

    def login(n: int) -> None:
        async def go() -> Any:
            async with open_auth(config, hasher=MeetingHasher(FAST_ITERATIONS, barrier)) as auth:
                return await auth.login("racer", OLD_PASSWORD)

        try:
            results[n] = asyncio.run(go())
        except Exception as exc:  # reported by the assertion below
            results[n] = exc

    threads = [threading.Thread(target=login, args=(n,)) for n in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not barrier.broken  # both had read the legacy record before either wrote
    assert all(getattr(results[n], "role", None) is Role.ADMIN for n in range(2)), results
    stored = raw(tables, config, "racer")
    assert stored["version"] == {"N": "1"}  # one upgrade; the other login found it done
    assert "encrypted_password" not in stored and "encrypted_email" not in stored
    assert PasswordHasher(FAST_ITERATIONS).verify(OLD_PASSWORD, stored["password_hash"]["S"])
    assert current_cipher(config).decrypt(stored["email_enc"]["S"]) == "racer@example.com"


def test_the_command_line(clean_aws: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: Any) -> None:
    cli = make_cli_env(clean_aws, tmp_path, monkeypatch, capsys)
    monkeypatch.setenv("HEARTBEAT_LEGACY_ENCRYPTION_KEY", PASSPHRASE)
    tables = dynamodb(clean_aws, cli.config)
    put(tables, cli.config, original_item("carol", "user", email="carol@example.com"))
    put(tables, cli.config, original_item("dave", "user", email="dave@example.com"))
    assert cli.login(ADMIN, ADMIN_PASSWORD).code == 0

    dry = cli.run("users", "migrate", "--dry-run")
    assert dry.code == 0, dry.err
    assert (
        dry.out.splitlines()[0] == "2 legacy user(s); would upgrade 2; 2 password(s) upgrade at the user's next login"
    )
    assert "  carol (fields, email; password at the next login)" in dry.out.splitlines()
    assert "encrypted_email" in raw(tables, cli.config, "carol")

    monkeypatch.delenv("HEARTBEAT_LEGACY_ENCRYPTION_KEY")
    partial = cli.run("users", "migrate")
    assert partial.code == 1 and "set HEARTBEAT_LEGACY_ENCRYPTION_KEY" in partial.err
    assert "encrypted_email" in raw(tables, cli.config, "carol")  # kept, not lost

    monkeypatch.setenv("HEARTBEAT_LEGACY_ENCRYPTION_KEY", PASSPHRASE)
    done = cli.run("users", "migrate")
    assert done.code == 0 and done.out.startswith("2 legacy user(s); upgraded 2")
    assert cli.login("carol", OLD_PASSWORD).code == 0
    assert "carol  role=user" in cli.run("whoami").out
    assert "password_hash" in raw(tables, cli.config, "carol")
    assert cli.login("carol", "wrong password!").code == 3


async def test_a_legacy_user_costs_what_anyone_costs(fleet_aws: Any) -> None:
    """The original's hash is 6 times cheaper than ours: padded, a wrong password for
    a legacy user takes what one for an unknown user takes (real parameters;
    interleaved, medians, a band around 1 as in test_timing.py). Unpadded the
    ratio would be near 0.17."""

    config = with_legacy_key(auth_config(fleet_aws, auth={"lockout_threshold": 100}))
    tables = dynamodb(fleet_aws, config)
    async with open_auth(config) as auth:
        assert auth.iterations == 600_000
        await auth.store.ensure_tables()
        put(tables, config, original_item("olduser"))
        legacy, unknown = [], []
        for i in range(6):
            pair = [("olduser", legacy), ("nobody-here", unknown)]
            for username, bucket in pair if i % 2 else reversed(pair):
                started = time.perf_counter()
                with pytest.raises(LoginFailed):
                    await auth.login(username, "not the old password")
                if i:  # the first round warms up
                    bucket.append(time.perf_counter() - started)
    assert statistics.median(unknown) > 0.05  # the real cost, not a shortcut
    ratio = statistics.median(legacy) / statistics.median(unknown)
    assert 0.75 <= ratio <= 1.33, (legacy, unknown)
    assert "encrypted_password" in raw(tables, config, "olduser")  # a failed login upgrades nothing
