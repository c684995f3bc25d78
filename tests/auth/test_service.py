"""The auth core against DynamoDB on the embedded AWS: users, logins, lockout,
sessions and role gating. Every rule is checked here, below any screen."""

from __future__ import annotations

import asyncio
import threading
import time
from typing import Any

import pytest

from heartbeat_tui.auth import (
    AdminExists,
    LastAdmin,
    LoginFailed,
    Permission,
    PermissionDenied,
    Role,
    SessionInvalid,
    UserExists,
    UserNotFound,
    ValidationFailed,
)
from heartbeat_tui.auth.errors import LOGIN_FAILED, StoreMissing
from heartbeat_tui.auth.passwords import PasswordHash, PasswordHasher
from heartbeat_tui.auth.service import AuthService, Session, open_auth
from heartbeat_tui.auth.store import UserRecord
from heartbeat_tui.config import Config
from tests.support.auth import ADMIN, ADMIN_PASSWORD, FAST_ITERATIONS, PASSWORD, admin_session, auth_config


async def test_init_is_idempotent(service: AuthService, tables: Any) -> None:
    # The fixture created the tables; a second and third run change nothing.
    assert await service.store.ensure_tables() == []
    assert await service.store.ensure_tables() == []
    ttl = tables.describe_time_to_live(TableName=service.store.auth_table)
    assert ttl["TimeToLiveDescription"] == {"TimeToLiveStatus": "ENABLED", "AttributeName": "expires_at"}


async def test_init_creates_both_tables(config: Any, tables: Any) -> None:
    async with open_auth(config, iterations=FAST_ITERATIONS) as auth:
        with pytest.raises(StoreMissing, match="heartbeat init"):
            await auth.login("nobody", PASSWORD)
        done = await auth.store.ensure_tables()
        assert done == [
            f"created table {config.users_table}",
            f"created table {config.users_table}-auth",
            f"enabled TTL (expires_at) on {config.users_table}-auth",
        ]
        table = tables.describe_table(TableName=config.users_table)
        assert table["Table"]["KeySchema"] == [{"AttributeName": "username", "KeyType": "HASH"}]
        assert table["Table"]["AttributeDefinitions"] == [{"AttributeName": "username", "AttributeType": "S"}]


async def test_bootstrap_admin_once(service: AuthService) -> None:
    view = await service.bootstrap_admin(ADMIN, ADMIN_PASSWORD, email="root@example.com")
    assert view.role is Role.ADMIN and view.active and view.email == "root@example.com"
    with pytest.raises(AdminExists):
        await service.bootstrap_admin("second-admin", ADMIN_PASSWORD)
    assert await service.store.get("second-admin") is None


async def test_login_issues_a_session_with_fresh_allow_list(service: AuthService, admin: Session) -> None:
    await service.create_user(
        admin, username="alice", password=PASSWORD, role="user", accounts="210987654321, 123456789012"
    )
    session = await service.login("alice", PASSWORD)
    assert session.role is Role.USER and session.accounts == ("210987654321", "123456789012")
    assert session.account_scope == frozenset({"210987654321", "123456789012"})
    assert session.may_see("210987654321") and not session.may_see("567890123456")
    assert session.expires_at - session.issued_at == pytest.approx(12 * 3600, abs=2)
    assert "token" not in repr(session) and session.token not in repr(session)
    # The admin narrows the allow-list: the next check sees it, no new login needed.
    await service.set_accounts(admin, "alice", ["210987654321"])
    assert (await service.check(session.token)).accounts == ("210987654321",)
    assert admin.account_scope is None


async def test_lifetimes_by_role(service: AuthService, admin: Session) -> None:
    await service.create_user(admin, username="wall", password=PASSWORD, role="monitor")
    monitor = await service.login("wall", PASSWORD)
    assert monitor.expires_at - monitor.issued_at == pytest.approx(30 * 24 * 3600, abs=2)
    assert admin.expires_at - admin.issued_at == pytest.approx(12 * 3600, abs=2)
    assert monitor.account_scope is None


async def test_configured_lifetimes(fleet_aws: Any) -> None:
    config = auth_config(fleet_aws, auth={"admin_session_hours": 1, "monitor_session_hours": 48})
    async with open_auth(config, iterations=FAST_ITERATIONS) as auth:
        await auth.store.ensure_tables()
        await auth.bootstrap_admin(ADMIN, ADMIN_PASSWORD)
        session = await auth.login(ADMIN, ADMIN_PASSWORD)
        assert session.expires_at - session.issued_at == pytest.approx(3600, abs=2)
        assert auth.lifetime_seconds(Role.MONITOR) == 48 * 3600


async def test_same_message_for_every_failure(service: AuthService, admin: Session) -> None:
    await service.create_user(admin, username="bob", password=PASSWORD, role="user")
    await service.create_user(admin, username="carol", password=PASSWORD, role="user")
    await service.set_active(admin, "carol", False)
    messages = []
    for username, password in [
        ("nobody", PASSWORD),  # unknown
        ("bob", "wrong password!!"),  # wrong password
        ("carol", PASSWORD),  # disabled, right password
        ("NOT A NAME", PASSWORD),  # not even a valid name
        ("bob", ""),  # empty password
    ]:
        with pytest.raises(LoginFailed) as caught:
            await service.login(username, password)
        messages.append(str(caught.value))
    for _ in range(5):
        with pytest.raises(LoginFailed):
            await service.login("bob", "wrong password!!")
    with pytest.raises(LoginFailed) as caught:
        await service.login("bob", PASSWORD)  # locked, right password
    messages.append(str(caught.value))
    assert set(messages) == {LOGIN_FAILED}


async def test_lockout_after_five_and_unlock(service: AuthService, admin: Session) -> None:
    await service.create_user(admin, username="bob", password=PASSWORD, role="user")
    for i in range(4):
        with pytest.raises(LoginFailed):
            await service.login("bob", "wrong password!!")
        assert (await service.store.get("bob")).failed_attempts == i + 1
    # A success resets the streak.
    await service.login("bob", PASSWORD)
    assert (await service.store.get("bob")).failed_attempts == 0
    for _ in range(5):
        with pytest.raises(LoginFailed):
            await service.login("bob", "wrong password!!")
    record = await service.store.get("bob")
    assert record.is_locked(time.time())  # the `service` fixture runs on the wall clock
    assert record.locked_until == pytest.approx(time.time() + 15 * 60, abs=5)
    with pytest.raises(LoginFailed):
        await service.login("bob", PASSWORD)
    view = await service.get_user(admin, "bob")
    assert view.locked
    await service.unlock(admin, "bob")
    assert (await service.login("bob", PASSWORD)).username == "bob"


async def test_lockout_expires(fleet_aws: Any) -> None:
    config = auth_config(fleet_aws, auth={"lockout_threshold": 2, "lockout_minutes": 0.02})
    now = [time.time()]
    async with open_auth(config, iterations=FAST_ITERATIONS, clock=lambda: now[0]) as auth:
        await auth.store.ensure_tables()
        await auth.bootstrap_admin(ADMIN, ADMIN_PASSWORD)
        for _ in range(2):
            with pytest.raises(LoginFailed):
                await auth.login(ADMIN, "wrong password!!")
        with pytest.raises(LoginFailed):
            await auth.login(ADMIN, ADMIN_PASSWORD)
        now[0] += 1.5  # past the 1.2 s lockout, on the service's own clock
        assert (await auth.login(ADMIN, ADMIN_PASSWORD)).role is Role.ADMIN


async def test_failures_while_locked_do_not_extend_it(service: AuthService, admin: Session) -> None:
    await service.create_user(admin, username="bob", password=PASSWORD, role="user")
    for _ in range(5):
        with pytest.raises(LoginFailed):
            await service.login("bob", "wrong password!!")
    until = (await service.store.get("bob")).locked_until
    for _ in range(3):
        with pytest.raises(LoginFailed):
            await service.login("bob", "wrong password!!")
    record = await service.store.get("bob")
    assert record.locked_until == until and record.failed_attempts == 0


async def test_audit_log_of_logins_and_admin_actions(service: AuthService, admin: Session, caplog: Any) -> None:
    caplog.set_level("INFO", logger="heartbeat.audit")
    await service.create_user(admin, username="bob", password=PASSWORD, role="user", email="bob@example.com")
    with pytest.raises(LoginFailed):
        await service.login("bob", "wrong password!!")
    with pytest.raises(LoginFailed):
        await service.login("ghost", PASSWORD)
    with pytest.raises(LoginFailed):
        # A password typed into the username field must not reach the log.
        await service.login("My Secret Password 1", PASSWORD)
    await service.set_role(admin, "bob", "monitor")
    records = await service.store.audit_records()
    events = [(r["event"], r["outcome"], r["actor"], r.get("target")) for r in reversed(records)]
    assert ("create-user", "ok", ADMIN, "bob") in events
    assert ("login", "failure", "bob", None) in events
    assert ("login", "failure", "ghost", None) in events
    assert ("login", "failure", "(invalid username)", None) in events
    assert ("set-role", "ok", ADMIN, "bob") in events
    assert ("login", "ok", ADMIN, None) in events
    details = {r.get("detail") for r in records}
    assert "wrong password" in details and "unknown user" in details
    text = caplog.text + repr(records)
    for secret in (PASSWORD, ADMIN_PASSWORD, "wrong password!!", "My Secret Password", "bob@example.com", admin.token):
        assert secret not in text


async def test_duplicate_user_is_refused_and_untouched(service: AuthService, admin: Session) -> None:
    await service.create_user(admin, username="bob", password=PASSWORD, role="user", email="bob@example.com")
    before = await service.store.get("bob")
    with pytest.raises(UserExists, match="already exists"):
        await service.create_user(admin, username="bob", password="another password!", role="admin")
    after = await service.store.get("bob")
    assert after == before
    assert (await service.login("bob", PASSWORD)).role is Role.USER


async def test_validation_names_each_field(service: AuthService, admin: Session) -> None:
    with pytest.raises(ValidationFailed) as caught:
        await service.create_user(
            admin, username="X", password="short", role="boss", accounts="12", email="nope", full_name="a\x00b"
        )
    assert set(caught.value.errors) == {"username", "password", "role", "accounts", "email", "full_name"}
    with pytest.raises(ValidationFailed) as caught:
        await service.create_user(admin, username="samename123", password="samename123", role="user")
    assert caught.value.errors == {"password": "must be at least 12 characters"}
    with pytest.raises(ValidationFailed) as caught:
        await service.create_user(admin, username="samename1234", password="SameName1234", role="user")
    assert caught.value.errors == {"password": "must not be the username"}
    with pytest.raises(ValidationFailed, match="accounts: only the 'user' role"):
        await service.create_user(admin, username="mon", password=PASSWORD, role="monitor", accounts="210987654321")
    assert [u.username for u in await service.list_users(admin)] == [ADMIN]


async def test_personal_fields_are_encrypted_at_rest(service: AuthService, admin: Session, tables: Any) -> None:
    await service.create_user(
        admin, username="bob", password=PASSWORD, role="user", email="bob@example.com", full_name="Bob Builder"
    )
    raw = tables.get_item(TableName=service.store.users_table, Key={"username": {"S": "bob"}})
    text = repr(raw["Item"])
    assert "bob@example.com" not in text and "Bob Builder" not in text and PASSWORD not in text
    assert raw["Item"]["email_enc"]["S"].startswith("gAAAA")  # a Fernet token
    stored = raw["Item"]["password_hash"]["S"]
    parsed = PasswordHash.parse(stored)
    assert stored.startswith(f"pbkdf2_sha256${FAST_ITERATIONS}$") and len(parsed.salt) == 16
    view = await service.get_user(admin, "bob")
    assert (view.email, view.full_name) == ("bob@example.com", "Bob Builder")
    await service.update_profile(admin, "bob", email="", full_name="Robert Builder")
    view = await service.get_user(admin, "bob")
    assert (view.email, view.full_name) == (None, "Robert Builder")


async def test_hash_upgraded_at_login_when_cost_raised(config: Any, service: AuthService, admin: Session) -> None:
    await service.create_user(admin, username="bob", password=PASSWORD, role="user")
    old = (await service.store.get("bob")).password_hash
    async with open_auth(config, iterations=FAST_ITERATIONS * 3) as stronger:
        await stronger.login("bob", PASSWORD)
        new = (await stronger.store.get("bob")).password_hash
        assert new != old and PasswordHash.parse(new).iterations == FAST_ITERATIONS * 3
        assert (await stronger.login("bob", PASSWORD)).username == "bob"
        # A wrong password never rewrites the hash.
        with pytest.raises(LoginFailed):
            await stronger.login("bob", "wrong password!!")
        assert (await stronger.store.get("bob")).password_hash == new


async def test_hashing_runs_off_the_event_loop(config: Config) -> None:
    threads: list[int] = []

    class Recording(PasswordHasher):
        def verify(self, password: str, stored: str | None) -> bool:
            threads.append(threading.get_ident())
            return super().verify(password, stored)

        def hash(self, password: str) -> str:
            threads.append(threading.get_ident())
            return super().hash(password)

    async with open_auth(config, hasher=Recording(FAST_ITERATIONS)) as service:
        await service.store.ensure_tables()
        admin = await admin_session(service)
        threads.clear()
        await service.create_user(admin, username="bob", password=PASSWORD, role="user")
        await service.login("bob", PASSWORD)
        with pytest.raises(LoginFailed):
            await service.login("ghost", PASSWORD)
        await service.reset_password(admin, "bob", "another long password")
    assert len(threads) == 4 and threading.get_ident() not in threads


async def test_role_gating_in_the_core(service: AuthService, admin: Session) -> None:
    await service.create_user(admin, username="wall", password=PASSWORD, role="monitor")
    await service.create_user(admin, username="bob", password=PASSWORD, role="user", accounts=["210987654321"])
    for name in ("wall", "bob"):
        session = await service.login(name, PASSWORD)
        calls = [
            service.list_users(session),
            service.create_user(session, username="evil", password=PASSWORD, role="admin"),
            service.set_role(session, name, "admin"),
            service.set_active(session, ADMIN, False),
            service.reset_password(session, ADMIN, "hijacked password!"),
            service.unlock(session, name),
            service.set_accounts(session, "bob", ["567890123456"]),
            service.update_profile(session, ADMIN, email="x@example.com"),
            service.rotate_keys(session),
            service.authorize(session, Permission.FORCE_REFRESH),
        ]
        for call in calls:
            with pytest.raises(PermissionDenied, match="needs the admin role"):
                await call
    assert await service.store.get("evil") is None
    assert (await service.store.get("wall")).role is Role.MONITOR
    assert (await service.login(ADMIN, ADMIN_PASSWORD)).role is Role.ADMIN


async def test_a_forged_session_object_gets_nowhere(service: AuthService, admin: Session) -> None:
    await service.create_user(admin, username="bob", password=PASSWORD, role="user")
    bob = await service.login("bob", PASSWORD)
    forged = Session(
        username="bob", role=Role.ADMIN, accounts=(), jti=bob.jti, issued_at=0, expires_at=9e9, token=bob.token
    )
    with pytest.raises(PermissionDenied):
        await service.list_users(forged)
    with pytest.raises(SessionInvalid):
        await service.list_users(
            Session(
                username=ADMIN, role=Role.ADMIN, accounts=(), jti="x" * 32, issued_at=0, expires_at=9e9, token="x.y.z"
            )
        )


async def test_disable_role_change_and_reset_end_sessions(service: AuthService, admin: Session) -> None:
    await service.create_user(admin, username="bob", password=PASSWORD, role="user")
    session = await service.login("bob", PASSWORD)
    await service.set_active(admin, "bob", False)
    with pytest.raises(SessionInvalid, match="disabled"):
        await service.check(session.token)
    await service.set_active(admin, "bob", True)
    # Re-enabling does not bring the old session back.
    with pytest.raises(SessionInvalid, match="ended by an administrator"):
        await service.check(session.token)
    session = await service.login("bob", PASSWORD)
    await service.set_role(admin, "bob", "monitor")
    with pytest.raises(SessionInvalid, match="role has changed"):
        await service.check(session.token)
    session = await service.login("bob", PASSWORD)
    await service.reset_password(admin, "bob", "a brand new password")
    with pytest.raises(SessionInvalid, match="ended by an administrator"):
        await service.check(session.token)
    with pytest.raises(LoginFailed):
        await service.login("bob", PASSWORD)
    fresh = await service.login("bob", "a brand new password")  # same second as the reset: still valid
    assert (await service.check(fresh.token)).role is Role.MONITOR


async def test_logout_revokes(service: AuthService, admin: Session, tables: Any) -> None:
    assert await service.logout(admin.token) == ADMIN
    with pytest.raises(SessionInvalid, match="logged out"):
        await service.check(admin.token)
    item = tables.get_item(TableName=service.store.auth_table, Key={"pk": {"S": f"revoked#{admin.jti}"}})
    assert int(item["Item"]["expires_at"]["N"]) >= admin.expires_at
    assert await service.logout("not a token") is None


async def test_last_admin_cannot_be_removed(service: AuthService, admin: Session) -> None:
    with pytest.raises(LastAdmin):
        await service.set_active(admin, ADMIN, False)
    with pytest.raises(LastAdmin):
        await service.set_role(admin, ADMIN, "monitor")
    await service.create_user(admin, username="second", password=PASSWORD, role="admin")
    await service.set_role(admin, "second", "monitor")
    assert (await service.get_user(admin, "second")).role is Role.MONITOR


async def test_unknown_targets(service: AuthService, admin: Session) -> None:
    for call in (
        service.set_active(admin, "ghost", False),
        service.set_role(admin, "ghost", "user"),
        service.reset_password(admin, "ghost", PASSWORD),
        service.unlock(admin, "ghost"),
        service.get_user(admin, "ghost"),
    ):
        with pytest.raises(UserNotFound):
            await call
    assert await service.store.get("ghost") is None
    with pytest.raises(ValidationFailed, match="username"):
        await service.set_active(admin, "../etc", False)


async def test_concurrent_edits_are_not_lost(service: AuthService, admin: Session) -> None:
    await service.create_user(admin, username="bob", password=PASSWORD, role="user")
    await asyncio.gather(
        service.update_profile(admin, "bob", email="bob@example.com"),
        service.update_profile(admin, "bob", full_name="Bob B"),
        service.set_accounts(admin, "bob", ["210987654321"]),
    )
    view = await service.get_user(admin, "bob")
    assert (view.email, view.full_name, view.accounts) == ("bob@example.com", "Bob B", ("210987654321",))
    assert (await service.store.get("bob")).version == 4


async def test_user_record_round_trip() -> None:
    record = UserRecord(
        username="bob",
        role=Role.USER,
        active=True,
        password_hash="h",
        accounts=("210987654321",),
        email_enc="e",
        version=3,
        locked_until=1.5,
        created_at=1795871926.757,
    )
    assert UserRecord.from_item(record.to_item()) == record
    assert "password_hash" not in repr(record) and "'h'" not in repr(record)
