"""The auth core: logins, sessions, roles and user administration.

Every operation that needs a role takes the caller's `Session` and checks it
again against the store (signature, expiry, revocation, user active, role
unchanged) before acting, so a rule holds whatever a screen shows or hides,
and a `Session` built by hand with a forged or stale token gets nowhere.

The parts: service_sessions.py (logins, sessions, authorization; the base
that holds the store, secrets and settings), service_admin.py (user
administration) and service_rotation.py (key rotation).

Password hashing runs in a worker thread (`asyncio.to_thread`), never on the
event loop of the caller (the Textual app).
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

from heartbeat_tui.auth.audit import SPOOL_FILE_NAME, AuditSpool
from heartbeat_tui.auth.keys import AuthSecrets
from heartbeat_tui.auth.models import Session, UserView
from heartbeat_tui.auth.passwords import PasswordHasher
from heartbeat_tui.auth.service_admin import UNREADABLE, UNSET, Edit, UserAdministration
from heartbeat_tui.auth.service_rotation import KeyRotation, RotationReport
from heartbeat_tui.auth.service_sessions import (
    ENDED_BY_ADMIN,
    REVOKED,
    ROLE_CHANGED,
    USER_DISABLED,
    USER_GONE,
    SessionService,
)
from heartbeat_tui.auth.store import UserStore, store_client
from heartbeat_tui.config import Config, user_state_dir

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
    "RotationReport",
    "Session",
    "SessionService",
    "UserView",
    "open_auth",
]


class AuthService(UserAdministration, KeyRotation):
    """Logins and sessions (`SessionService`), user administration and key rotation."""

    def __repr__(self) -> str:
        return f"AuthService(users_table={self.store.users_table!r})"


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
