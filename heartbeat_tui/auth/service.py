"""The auth core: logins, sessions, roles and user administration.

Every operation that needs a role takes the caller's `Session` and checks it
again against the store (signature, expiry, revocation, user active, role
unchanged) before acting, so a rule holds whatever a screen shows or hides,
and a `Session` built by hand with a forged or stale token gets nowhere.

`AuthService` composes three parts: service_sessions.py (logins, sessions,
authorization; it holds the store, secrets, settings, hasher, cipher, clock
and audit log the other parts use), service_admin.py (user administration)
and service_rotation.py (key rotation).

Password hashing runs in a worker thread (`asyncio.to_thread`), never on the
event loop of the caller (the Textual app).
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable
from contextlib import asynccontextmanager
from typing import Any

from heartbeat_tui.auth.audit import SPOOL_FILE_NAME, AuditLog, AuditSpool
from heartbeat_tui.auth.keys import AuthSecrets
from heartbeat_tui.auth.models import Session, UserView
from heartbeat_tui.auth.passwords import PasswordHasher
from heartbeat_tui.auth.roles import Permission, Role
from heartbeat_tui.auth.service_admin import UNREADABLE, UNSET, Edit, UserAdministration
from heartbeat_tui.auth.service_legacy import LegacyMigration, MigrationReport
from heartbeat_tui.auth.service_rotation import KeyRotation, RotationReport
from heartbeat_tui.auth.service_sessions import (
    ENDED_BY_ADMIN,
    REVOKED,
    ROLE_CHANGED,
    USER_DISABLED,
    USER_GONE,
    SessionService,
)
from heartbeat_tui.auth.store import UserRecord, UserStore, store_client
from heartbeat_tui.config import AuthSection, Config, user_state_dir

__all__ = [
    "ENDED_BY_ADMIN",
    "REVOKED",
    "ROLE_CHANGED",
    "UNREADABLE",
    "UNSET",
    "USER_DISABLED",
    "USER_GONE",
    "AuthService",
    "Edit",
    "MigrationReport",
    "RotationReport",
    "Session",
    "SessionService",
    "UserView",
    "open_auth",
]


class AuthService:
    """Logins and sessions (`sessions`), user administration (`admin`), key
    rotation (`rotation`) and the original HeartBeat's records (`legacy`): one
    object for the app and the CLI, each operation forwarded to the part that
    owns it."""

    def __init__(
        self,
        store: UserStore,
        secrets: AuthSecrets,
        settings: AuthSection | None = None,
        *,
        hasher: PasswordHasher | None = None,
        clock: Callable[[], float] = time.time,
        audit_spool: AuditSpool | None = None,
    ) -> None:
        self.sessions = SessionService(store, secrets, settings, hasher=hasher, clock=clock, audit_spool=audit_spool)
        self.admin = UserAdministration(self.sessions)
        self.rotation = KeyRotation(self.sessions)
        self.legacy = LegacyMigration(self.sessions)

    def __repr__(self) -> str:
        return f"AuthService(users_table={self.store.users_table!r})"

    # -- what the sessions part holds ------------------------------------------

    @property
    def store(self) -> UserStore:
        return self.sessions.store

    @property
    def secrets(self) -> AuthSecrets:
        return self.sessions.secrets

    @property
    def settings(self) -> AuthSection:
        return self.sessions.settings

    @property
    def audit(self) -> AuditLog:
        return self.sessions.audit

    @property
    def lockout_seconds(self) -> float:
        return self.sessions.lockout_seconds

    @property
    def iterations(self) -> int:
        return self.sessions.iterations

    def lifetime_seconds(self, role: Role) -> float:
        return self.sessions.lifetime_seconds(role)

    # -- logins, sessions, authorization ---------------------------------------

    async def login(self, username: str, password: str) -> Session:
        return await self.sessions.login(username, password)

    async def check(self, token: str) -> Session:
        return await self.sessions.check(token)

    async def logout(self, token: str) -> str | None:
        return await self.sessions.logout(token)

    async def authorize(self, session: Session, permission: Permission) -> Session:
        return await self.sessions.authorize(session, permission)

    async def authorize_refresh(self, session: Session) -> Session:
        return await self.sessions.authorize_refresh(session)

    # -- user administration ---------------------------------------------------

    async def bootstrap_admin(
        self, username: str, password: str, *, email: str | None = None, full_name: str | None = None
    ) -> UserView:
        return await self.admin.bootstrap_admin(username, password, email=email, full_name=full_name)

    async def create_user(
        self,
        session: Session,
        *,
        username: str,
        password: str,
        role: Role | str,
        accounts: str | Iterable[str] | None = None,
        email: str | None = None,
        full_name: str | None = None,
    ) -> UserView:
        return await self.admin.create_user(
            session,
            username=username,
            password=password,
            role=role,
            accounts=accounts,
            email=email,
            full_name=full_name,
        )

    async def own_view(self, session: Session) -> UserView:
        return await self.admin.own_view(session)

    async def migrate_legacy(self, session: Session, *, dry_run: bool = False) -> MigrationReport:
        return await self.legacy.migrate(session, dry_run=dry_run)

    async def list_users(self, session: Session) -> list[UserView]:
        return await self.admin.list_users(session)

    async def get_user(self, session: Session, username: str) -> UserView:
        return await self.admin.get_user(session, username)

    async def set_active(self, session: Session, username: str, active: bool) -> UserView:
        return await self.admin.set_active(session, username, active)

    async def set_role(self, session: Session, username: str, role: Role | str) -> UserView:
        return await self.admin.set_role(session, username, role)

    async def set_accounts(self, session: Session, username: str, accounts: str | Iterable[str]) -> UserView:
        return await self.admin.set_accounts(session, username, accounts)

    async def update_profile(
        self, session: Session, username: str, *, email: str | None = UNSET, full_name: str | None = UNSET
    ) -> UserView:
        return await self.admin.update_profile(session, username, email=email, full_name=full_name)

    async def reset_password(self, session: Session, username: str, password: str) -> UserView:
        return await self.admin.reset_password(session, username, password)

    async def unlock(self, session: Session, username: str) -> UserView:
        return await self.admin.unlock(session, username)

    # -- key rotation ----------------------------------------------------------

    async def rotate_keys(
        self,
        session: Session,
        *,
        page_size: int = 100,
        before_write: Callable[[UserRecord], Awaitable[None]] | None = None,
    ) -> RotationReport:
        return await self.rotation.rotate_keys(session, page_size=page_size, before_write=before_write)


@asynccontextmanager
async def open_auth(
    config: Config,
    *,
    secrets: AuthSecrets | None = None,
    demo: bool = False,
    access: Any = None,
    iterations: int | None = None,
    hasher: PasswordHasher | None = None,
    clock: Callable[[], float] = time.time,
) -> AsyncIterator[AuthService]:
    """An `AuthService` on the configured DynamoDB (the embedded AWS in demo mode).

    Secrets come from the environment (`SecretsError` if missing or short)
    unless given; in demo mode they are made at random. `iterations` lets
    tests use a cheap hash; everything else takes `[auth].pbkdf2_iterations`
    (or `hasher`'s).
    """

    from heartbeat_tui.aws.access import AwsAccess

    if secrets is None:
        secrets = AuthSecrets.generate() if demo else AuthSecrets.from_config(config)
    own = access is None
    access = access or AwsAccess(config)
    try:
        deadline = config.file.auth.store_timeout_seconds
        store = UserStore(await store_client(access, deadline), config.users_table, call_seconds=deadline)
        hasher = hasher or PasswordHasher(iterations or config.file.auth.pbkdf2_iterations)
        spool = AuditSpool(user_state_dir() / SPOOL_FILE_NAME)
        yield AuthService(store, secrets, config.file.auth, hasher=hasher, clock=clock, audit_spool=spool)
    finally:
        if own:
            await access.close()
