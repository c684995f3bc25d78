"""Logins, sessions and authorization: one part of `AuthService` (service.py).

`SessionService` holds what every part of the service uses (the store, the
secrets, the settings, the hasher, the token codec, the cipher, the clock and
the audit log) and decides who may act: `authorize` re-checks the caller's
session against the store before any operation that needs a role.

Password hashing runs in a worker thread (`asyncio.to_thread`), never on the
event loop of the caller (the Textual app).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable

from heartbeat_tui.auth.audit import AuditLog, AuditSpool
from heartbeat_tui.auth.crypto import DecryptError
from heartbeat_tui.auth.errors import ConcurrentUpdate, LoginFailed, PermissionDenied, SessionInvalid, StoreUnavailable
from heartbeat_tui.auth.keys import AuthSecrets
from heartbeat_tui.auth.models import Session
from heartbeat_tui.auth.passwords import PasswordHasher
from heartbeat_tui.auth.roles import Permission, Role, roles_with
from heartbeat_tui.auth.store import LegacyUpgrade, UserRecord, UserStore
from heartbeat_tui.auth.tokens import Claims, TokenCodec, audience_for
from heartbeat_tui.auth.validation import MAX_PASSWORD_CHARS, is_valid_username
from heartbeat_tui.config import AuthSection

# The service's log lines keep the logger they had before the split.
log = logging.getLogger("heartbeat_tui.auth.service")

REVOKED = "the session was ended (logged out); log in again"
USER_GONE = "the session's user no longer exists; log in again"
USER_DISABLED = "the session's user is disabled"
ROLE_CHANGED = "the session's role has changed; log in again"
_LEGACY_ATTEMPTS = 3
ENDED_BY_ADMIN = "the session was ended by an administrator (password reset or account change); log in again"


class SessionService:
    """The login, session and authorization part of `AuthService`; the other parts
    (administration, key rotation) use its store, audit log, hasher, cipher and
    clock, and its `authorize`."""

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
        self.store = store
        self.secrets = secrets
        self.settings = settings or AuthSection()
        self.hasher = hasher or PasswordHasher(self.settings.pbkdf2_iterations)
        self._codec = TokenCodec(secrets.jwt_secret, secrets.jwt_algorithm, audience_for(store.users_table))
        self.cipher = secrets.cipher
        self.clock = clock
        self.audit = AuditLog(store, spool=audit_spool)

    # -- settings ------------------------------------------------------------

    def lifetime_seconds(self, role: Role) -> float:
        hours = {
            Role.ADMIN: self.settings.admin_session_hours,
            Role.MONITOR: self.settings.monitor_session_hours,
            Role.USER: self.settings.user_session_hours,
        }[role]
        return hours * 3600.0

    @property
    def lockout_seconds(self) -> float:
        return self.settings.lockout_minutes * 60.0

    @property
    def iterations(self) -> int:
        return self.hasher.iterations

    # -- login, sessions -----------------------------------------------------

    async def login(self, username: str, password: str) -> Session:
        """A new session, or `LoginFailed`: the same message and about the same time
        for an unknown user, a wrong password, a locked and a disabled user.

        `StoreUnavailable` when the users store cannot answer: nothing decided,
        and the refused attempt is audited all the same (a WARNING in the log at
        once; the audit item from the spool once the store is back)."""

        now = self.clock()
        try:
            for _ in range(_LEGACY_ATTEMPTS):
                try:
                    return await self._login(username, password, now)
                except _LegacyRaced:
                    # Another login (or a migration) upgraded this legacy user between our
                    # read and our write: read it again and log in against what it is now.
                    continue
            raise ConcurrentUpdate(f"user {username!r} kept changing during the login; try again")
        except StoreUnavailable as exc:
            await self.audit.record(
                "login", actor=username, now=now, outcome="unverified", detail=str(exc), store_down=True
            )
            raise

    async def _login(self, username: str, password: str, now: float) -> Session:
        plausible = is_valid_username(username)
        usable = isinstance(password, str) and 0 < len(password) <= MAX_PASSWORD_CHARS
        record = await self.store.get(username) if plausible else None
        stored = record.password_hash if record is not None and usable else None
        if record is not None and record.legacy_password and stored is not None:
            matched = await asyncio.to_thread(self.hasher.verify_legacy, password, stored)
        else:
            matched = await asyncio.to_thread(self.hasher.verify, password if usable else "", stored)

        if record is not None and matched and record.active and not record.is_locked(now):
            if record.legacy_password:
                return await self._legacy_login(record, password, now)
            if await self.store.record_success(username, now, record.password_hash):
                session = self._issue(record, now)
                await self.audit.record("login", actor=username, now=now, detail=f"role={record.role.value}")
                await self._upgrade_hash(record, password)
                return session
            reason = "refused: the user changed during the login"
        elif record is None:
            reason = "unknown user"
        elif record.is_locked(now):
            reason = "locked"
        elif not record.active:
            reason = "disabled"
        else:
            reason = "wrong password"

        if plausible:
            # Runs for unknown users too (the conditional write finds nothing), so the
            # round trips, like the hashing, are the same whatever the reason.
            failures, locked_now = await self.store.record_failure(
                username,
                now,
                stale_before=now - self.lockout_seconds,
                threshold=self.settings.lockout_threshold,
                lock_until=now + self.lockout_seconds,
            )
            if locked_now:
                reason += f"; locked for {self.settings.lockout_minutes:g} min after {failures} failures"
        await self.audit.record("login", actor=username, now=now, outcome="failure", detail=reason)
        raise LoginFailed()

    async def _legacy_login(self, record: UserRecord, password: str, now: float) -> Session:
        """A legacy user's first login: the record upgraded in place (the current hash,
        the email and name under the current key, HeartBeat's fields) in the one
        conditional write that also stamps the login. `_LegacyRaced` when the item
        changed since it was read: nothing written, the caller logs in again."""

        new_hash = await asyncio.to_thread(self.hasher.hash, password)
        upgraded = await self.store.upgrade_legacy_login(record, now, new_hash, self.legacy_upgrade(record))
        if upgraded is None:
            raise _LegacyRaced()
        log.info("legacy user %s upgraded at login", record.username)
        await self.audit.record("legacy-upgrade", actor=record.username, target=record.username, now=now)
        session = self._issue(upgraded, now)
        await self.audit.record("login", actor=record.username, now=now, detail=f"role={upgraded.role.value}")
        return session

    def legacy_upgrade(self, record: UserRecord) -> LegacyUpgrade:
        """The personal fields of a legacy record under the current key; one the
        legacy key cannot open (or no legacy key) stays as it is, never lost."""

        email = None
        if record.legacy_email_enc is not None and self.secrets.legacy_cipher is not None:
            try:
                email = self.cipher.encrypt(self.secrets.legacy_cipher.decrypt(record.legacy_email_enc))
            except DecryptError:
                log.warning("the email of legacy user %s is not readable with the legacy key", record.username)
        name = self.cipher.encrypt(record.legacy_full_name) if record.legacy_full_name else None
        return LegacyUpgrade(email_enc=email, full_name_enc=name)

    def _issue(self, record: UserRecord, now: float) -> Session:
        token, claims = self._codec.issue(record.username, record.role, now, self.lifetime_seconds(record.role))
        return _session(record, claims, token)

    async def _upgrade_hash(self, record: UserRecord, password: str) -> None:
        if not self.hasher.needs_upgrade(record.password_hash):
            return
        new_hash = await asyncio.to_thread(self.hasher.hash, password)
        if await self.store.replace_hash(record.username, record.password_hash, new_hash):
            log.info("password hash of %s upgraded to %d iterations", record.username, self.hasher.iterations)

    async def check(self, token: str) -> Session:
        """Verify a token completely; `SessionInvalid` with the reason otherwise."""

        claims = self._codec.decode(token)
        record, revoked = await asyncio.gather(self.store.get(claims.sub), self.store.is_revoked(claims.jti))
        if revoked:
            raise SessionInvalid(REVOKED)
        if record is None:
            raise SessionInvalid(USER_GONE)
        if not record.active:
            raise SessionInvalid(USER_DISABLED)
        if record.role is not claims.role:
            raise SessionInvalid(ROLE_CHANGED)
        if record.sessions_valid_after is not None and claims.iat < record.sessions_valid_after:
            raise SessionInvalid(ENDED_BY_ADMIN)
        # The store answers again: audit items kept while it did not go to it now
        # (a wall display's session check may be the first to find it back).
        await self.audit.flush()
        return _session(record, claims, token.strip())

    async def logout(self, token: str) -> str | None:
        """Revoke the token until it would have expired. Returns the username, or None
        if the token was no longer valid anyway (nothing to revoke)."""

        try:
            claims = self._codec.decode(token)
        except SessionInvalid:
            return None
        await self.store.revoke(claims.jti, claims.sub, claims.exp)
        await self.audit.record("logout", actor=claims.sub, now=self.clock())
        return claims.sub

    async def authorize(self, session: Session, permission: Permission) -> Session:
        """The session re-checked against the store, if its (current) role allows `permission`."""

        fresh = await self.check(session.token)
        if not fresh.can(permission):
            await self.audit.record(
                "denied", actor=fresh.username, now=self.clock(), outcome="denied", detail=permission.name
            )
            needed = " or ".join(r.value for r in roles_with(permission))
            raise PermissionDenied(f"{permission.value} needs the {needed} role ({fresh.username} is {fresh.role})")
        return fresh

    async def authorize_refresh(self, session: Session) -> Session:
        """A forced full refresh: admins only, and audited."""

        actor = await self.authorize(session, Permission.FORCE_REFRESH)
        await self.audit.record("refresh", actor=actor.username, now=self.clock())
        return actor


class _LegacyRaced(Exception):
    """A legacy record changed between the login's read and its upgrade."""


def _session(record: UserRecord, claims: Claims, token: str) -> Session:
    """The session a verified (or just issued) token stands for."""

    return Session(
        username=record.username,
        role=record.role,
        accounts=record.accounts,
        jti=claims.jti,
        issued_at=claims.iat,
        expires_at=claims.exp,
        token=token,
    )
