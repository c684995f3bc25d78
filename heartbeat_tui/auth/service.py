"""The auth core: logins, sessions, roles and user administration.

Every operation that needs a role takes the caller's `Session` and checks it
again against the store (signature, expiry, revocation, user active, role
unchanged) before acting, so a rule holds whatever a screen shows or hides,
and a `Session` built by hand with a forged or stale token gets nowhere.

Password hashing runs in a worker thread (`asyncio.to_thread`), never on the
event loop of the caller (the Textual app).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

from heartbeat_tui.auth.audit import SPOOL_FILE_NAME, AuditLog, AuditSpool
from heartbeat_tui.auth.crypto import DecryptError
from heartbeat_tui.auth.errors import (
    AdminExists,
    ConcurrentUpdate,
    LastAdmin,
    LoginFailed,
    PermissionDenied,
    SessionInvalid,
    StoreUnavailable,
    UserNotFound,
    ValidationFailed,
)
from heartbeat_tui.auth.keys import AuthSecrets
from heartbeat_tui.auth.models import Session, UserView
from heartbeat_tui.auth.passwords import PasswordHasher
from heartbeat_tui.auth.roles import Permission, Role, roles_with
from heartbeat_tui.auth.store import ConditionFailed, UserRecord, UserStore, store_client
from heartbeat_tui.auth.tokens import TokenCodec, audience_for
from heartbeat_tui.auth.validation import (
    MAX_PASSWORD_CHARS,
    is_valid_username,
    parse_accounts,
    validate_email,
    validate_full_name,
    validate_new_user,
    validate_password,
    validate_role,
    validate_username,
)
from heartbeat_tui.config import AuthSection, Config, user_state_dir

log = logging.getLogger(__name__)

REVOKED = "the session was ended (logged out); log in again"
USER_GONE = "the session's user no longer exists; log in again"
USER_DISABLED = "the session's user is disabled"
ROLE_CHANGED = "the session's role has changed; log in again"
ENDED_BY_ADMIN = "the session was ended by an administrator (password reset or account change); log in again"
_EDIT_ATTEMPTS = 5
UNREADABLE = "(unreadable: key missing)"


@dataclass(frozen=True)
class Edit:
    """What `_edit` writes: attributes to set and to remove, and (when the change
    takes an active admin away) another active admin who must still be one."""

    values: dict[str, Any] = field(default_factory=dict)
    removes: list[str] = field(default_factory=list)
    while_admin: str | None = None


class _Unset:
    def __repr__(self) -> str:
        return "UNSET"


UNSET: Any = _Unset()


@dataclass
class RotationReport:
    primary_key_id: str
    scanned: int = 0
    rotated: int = 0
    already_current: int = 0
    retried: int = 0
    failed: list[str] = field(default_factory=list)

    def line(self) -> str:
        text = (
            f"{self.scanned} user(s) scanned: {self.rotated} re-encrypted with key {self.primary_key_id},"
            f" {self.already_current} already on it"
        )
        if self.retried:
            text += f", {self.retried} retried after a concurrent edit"
        if self.failed:
            text += f"; {len(self.failed)} not readable with any configured key: {', '.join(self.failed[:10])}"
        return text


class AuthService:
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
        self._hasher = hasher or PasswordHasher(self.settings.pbkdf2_iterations)
        self._codec = TokenCodec(secrets.jwt_secret, secrets.jwt_algorithm, audience_for(store.users_table))
        self._cipher = secrets.cipher
        self._clock = clock
        self.audit = AuditLog(store, spool=audit_spool)

    def __repr__(self) -> str:
        return f"AuthService(users_table={self.store.users_table!r})"

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
        return self._hasher.iterations

    # -- login, sessions -----------------------------------------------------

    async def login(self, username: str, password: str) -> Session:
        """A new session, or `LoginFailed`: the same message and about the same time
        for an unknown user, a wrong password, a locked and a disabled user.

        `StoreUnavailable` when the users store cannot answer: nothing decided,
        and the refused attempt is audited all the same (a WARNING in the log at
        once; the audit item from the spool once the store is back)."""

        now = self._clock()
        try:
            return await self._login(username, password, now)
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
        matched = await asyncio.to_thread(self._hasher.verify, password if usable else "", stored)

        if record is not None and matched and record.active and not record.is_locked(now):
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

    def _issue(self, record: UserRecord, now: float) -> Session:
        token, claims = self._codec.issue(record.username, record.role, now, self.lifetime_seconds(record.role))
        return Session(
            username=record.username,
            role=record.role,
            accounts=record.accounts,
            jti=claims.jti,
            issued_at=claims.iat,
            expires_at=claims.exp,
            token=token,
        )

    async def _upgrade_hash(self, record: UserRecord, password: str) -> None:
        if not self._hasher.needs_upgrade(record.password_hash):
            return
        new_hash = await asyncio.to_thread(self._hasher.hash, password)
        if await self.store.replace_hash(record.username, record.password_hash, new_hash):
            log.info("password hash of %s upgraded to %d iterations", record.username, self._hasher.iterations)

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
        return Session(
            username=record.username,
            role=record.role,
            accounts=record.accounts,
            jti=claims.jti,
            issued_at=claims.iat,
            expires_at=claims.exp,
            token=token.strip(),
        )

    async def logout(self, token: str) -> str | None:
        """Revoke the token until it would have expired. Returns the username, or None
        if the token was no longer valid anyway (nothing to revoke)."""

        try:
            claims = self._codec.decode(token)
        except SessionInvalid:
            return None
        await self.store.revoke(claims.jti, claims.sub, claims.exp)
        await self.audit.record("logout", actor=claims.sub, now=self._clock())
        return claims.sub

    async def authorize(self, session: Session, permission: Permission) -> Session:
        """The session re-checked against the store, if its (current) role allows `permission`."""

        fresh = await self.check(session.token)
        if not fresh.can(permission):
            await self.audit.record(
                "denied", actor=fresh.username, now=self._clock(), outcome="denied", detail=permission.name
            )
            needed = " or ".join(r.value for r in roles_with(permission))
            raise PermissionDenied(f"{permission.value} needs the {needed} role ({fresh.username} is {fresh.role})")
        return fresh

    async def authorize_refresh(self, session: Session) -> Session:
        """A forced full refresh: admins only, and audited."""

        actor = await self.authorize(session, Permission.FORCE_REFRESH)
        await self.audit.record("refresh", actor=actor.username, now=self._clock())
        return actor

    # -- user administration -------------------------------------------------

    async def bootstrap_admin(
        self, username: str, password: str, *, email: str | None = None, full_name: str | None = None
    ) -> UserView:
        """The first admin (`heartbeat init --admin`): refused when an active admin exists."""

        username, password, role, accounts, email, full_name = validate_new_user(
            username=username, password=password, role=Role.ADMIN, email=email, full_name=full_name
        )
        if await self._active_admins():
            raise AdminExists()
        record = await self._new_record(username, password, role, accounts, email, full_name, "heartbeat init")
        await self.store.create(record)
        await self.audit.record("bootstrap-admin", actor="-", target=username, now=self._clock())
        return self._view(record)

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
        actor = await self.authorize(session, Permission.MANAGE_USERS)
        username, password, role, accounts_t, email, full_name = validate_new_user(
            username=username, password=password, role=role, accounts=accounts, email=email, full_name=full_name
        )
        record = await self._new_record(username, password, role, accounts_t, email, full_name, actor.username)
        try:
            await self.store.create(record)
        except Exception:
            await self.audit.record(
                "create-user", actor=actor.username, target=username, now=self._clock(), outcome="failure"
            )
            raise
        await self.audit.record(
            "create-user", actor=actor.username, target=username, now=self._clock(), detail=f"role={role.value}"
        )
        return self._view(record)

    async def _new_record(
        self,
        username: str,
        password: str,
        role: Role,
        accounts: tuple[str, ...],
        email: str | None,
        full_name: str | None,
        created_by: str,
    ) -> UserRecord:
        password_hash = await asyncio.to_thread(self._hasher.hash, password)
        now = self._clock()
        return UserRecord(
            username=username,
            role=role,
            active=True,
            password_hash=password_hash,
            accounts=accounts,
            email_enc=self._cipher.encrypt(email) if email else None,
            full_name_enc=self._cipher.encrypt(full_name) if full_name else None,
            version=1,
            created_at=now,
            created_by=created_by,
            updated_at=now,
            updated_by=created_by,
        )

    async def list_users(self, session: Session) -> list[UserView]:
        await self.authorize(session, Permission.MANAGE_USERS)
        records = await self.store.all()
        return sorted((self._view(r) for r in records), key=lambda v: v.username)

    async def get_user(self, session: Session, username: str) -> UserView:
        await self.authorize(session, Permission.MANAGE_USERS)
        record = await self.store.get(validate_username(username))
        if record is None:
            raise UserNotFound(username)
        return self._view(record)

    async def set_active(self, session: Session, username: str, active: bool) -> UserView:
        actor = await self.authorize(session, Permission.MANAGE_USERS)
        now = self._clock()

        async def change(record: UserRecord) -> Edit:
            keeper = None
            if not active and record.role is Role.ADMIN and record.active:
                keeper = await self._other_active_admin(record.username)
            values: dict[str, Any] = {"active": active}
            if not active:
                values["sessions_valid_after"] = now
            return Edit(values, while_admin=keeper)

        record = await self._edit(actor, username, "enable" if active else "disable", change)
        return self._view(record)

    async def set_role(self, session: Session, username: str, role: Role | str) -> UserView:
        actor = await self.authorize(session, Permission.MANAGE_USERS)
        new_role = validate_role(role)
        now = self._clock()

        async def change(record: UserRecord) -> Edit:
            if record.role is new_role:
                return Edit()
            keeper = None
            if record.role is Role.ADMIN and record.active:
                keeper = await self._other_active_admin(record.username)
            return Edit({"role": new_role.value, "sessions_valid_after": now}, while_admin=keeper)

        record = await self._edit(actor, username, "set-role", change, detail=f"role={new_role.value}")
        return self._view(record)

    async def set_accounts(self, session: Session, username: str, accounts: str | Iterable[str]) -> UserView:
        actor = await self.authorize(session, Permission.MANAGE_USERS)
        ids = parse_accounts(accounts)

        async def change(record: UserRecord) -> Edit:
            if ids and record.role is not Role.USER:
                raise ValidationFailed.one(
                    "accounts", f"only the 'user' role has an account allow-list ({record.username} is {record.role})"
                )
            return Edit({"accounts": list(ids)})

        record = await self._edit(actor, username, "set-accounts", change, detail=f"{len(ids)} account(s)")
        return self._view(record)

    async def update_profile(
        self, session: Session, username: str, *, email: str | None = UNSET, full_name: str | None = UNSET
    ) -> UserView:
        """Change email and/or full name (empty text removes one)."""

        actor = await self.authorize(session, Permission.MANAGE_USERS)
        errors: dict[str, str] = {}
        new_email = new_name = None
        if email is not UNSET:
            try:
                new_email = validate_email(email)
            except ValidationFailed as exc:
                errors.update(exc.errors)
        if full_name is not UNSET:
            try:
                new_name = validate_full_name(full_name)
            except ValidationFailed as exc:
                errors.update(exc.errors)
        if errors:
            raise ValidationFailed(errors)

        async def change(record: UserRecord) -> Edit:
            values: dict[str, Any] = {}
            removes: list[str] = []
            for given, value, name in ((email, new_email, "email_enc"), (full_name, new_name, "full_name_enc")):
                if given is UNSET:
                    continue
                if value is None:
                    removes.append(name)
                else:
                    values[name] = self._cipher.encrypt(value)
            return Edit(values, removes)

        record = await self._edit(actor, username, "update-profile", change)
        return self._view(record)

    async def reset_password(self, session: Session, username: str, password: str) -> UserView:
        """New password, lockout cleared, every existing session of the user ended."""

        actor = await self.authorize(session, Permission.MANAGE_USERS)
        username = validate_username(username)
        validate_password(password, username)
        password_hash = await asyncio.to_thread(self._hasher.hash, password)
        now = self._clock()

        async def change(record: UserRecord) -> Edit:
            values = {"password_hash": password_hash, "sessions_valid_after": now, "failed_attempts": 0}
            return Edit(values, ["locked_until", "last_failure_at"])

        record = await self._edit(actor, username, "reset-password", change)
        return self._view(record)

    async def unlock(self, session: Session, username: str) -> UserView:
        actor = await self.authorize(session, Permission.MANAGE_USERS)
        username = validate_username(username)
        if not await self.store.unlock(username):
            raise UserNotFound(username)
        await self.audit.record("unlock", actor=actor.username, target=username, now=self._clock())
        record = await self.store.get(username)
        if record is None:
            raise UserNotFound(username)
        return self._view(record)

    async def _edit(
        self,
        actor: Session,
        username: str,
        event: str,
        change: Callable[[UserRecord], Awaitable[Edit]],
        detail: str | None = None,
    ) -> UserRecord:
        """Read, change, write on the version read; re-read and redo on a concurrent edit
        (or when the admin that had to stay one no longer is: `change` looks again)."""

        username = validate_username(username)
        for _ in range(_EDIT_ATTEMPTS):
            record = await self.store.get(username)
            if record is None:
                raise UserNotFound(username)
            edit = await change(record)
            if not edit.values and not edit.removes:
                return record
            values = {**edit.values, "updated_at": self._clock(), "updated_by": actor.username}
            try:
                await self.store.update(username, record.version, values, edit.removes, while_admin=edit.while_admin)
            except ConditionFailed:
                continue
            await self.audit.record(event, actor=actor.username, target=username, now=self._clock(), detail=detail)
            updated = await self.store.get(username)
            if updated is None:
                raise UserNotFound(username)
            return updated
        raise ConcurrentUpdate(f"user {username!r} kept changing; nothing was overwritten, try again")

    async def _active_admins(self, exclude: str | None = None) -> list[str]:
        records = await self.store.all()
        return [r.username for r in records if r.role is Role.ADMIN and r.active and r.username != exclude]

    async def _other_active_admin(self, username: str) -> str:
        """An active admin other than `username` (`LastAdmin` if none), whom the write
        taking `username`'s admin rights away requires to still be one."""

        others = await self._active_admins(exclude=username)
        if not others:
            raise LastAdmin(username)
        return sorted(others)[0]

    def _decrypt(self, token: str | None) -> str | None:
        if token is None:
            return None
        try:
            return self._cipher.decrypt(token)
        except DecryptError:
            return UNREADABLE

    def _view(self, record: UserRecord) -> UserView:
        now = self._clock()
        return UserView(
            username=record.username,
            role=record.role,
            active=record.active,
            locked=record.is_locked(now),
            locked_until=record.locked_until if record.is_locked(now) else None,
            failed_attempts=record.failed_attempts,
            last_login_at=record.last_login_at,
            accounts=record.accounts,
            email=self._decrypt(record.email_enc),
            full_name=self._decrypt(record.full_name_enc),
            created_at=record.created_at,
            created_by=record.created_by,
        )

    # -- key rotation --------------------------------------------------------

    async def rotate_keys(
        self,
        session: Session,
        *,
        page_size: int = 100,
        before_write: Callable[[UserRecord], Awaitable[None]] | None = None,
    ) -> RotationReport:
        """Re-encrypt every personal field with the newest key.

        Resumable and idempotent: a record whose fields the newest key already
        opens is skipped, so a run that stopped midway is simply run again.
        Each record is rewritten in one conditional write on the `version` read;
        a concurrent edit makes it re-read and redo that record, so the edit is
        kept. A record is never unreadable: it holds either the old ciphertext or
        the new one, and every key stays configured until rotation is done.
        `before_write` is a hook for tests (a crash or an edit between read and write).
        """

        actor = await self.authorize(session, Permission.ROTATE_KEYS)
        report = RotationReport(primary_key_id=self._cipher.primary_key_id)
        await self.audit.record(
            "rotate-keys", actor=actor.username, now=self._clock(), outcome="started", detail=report.primary_key_id
        )
        async for page in self.store.pages(page_size):
            for record in page:
                report.scanned += 1
                await self._rotate_record(record, actor, report, before_write)
        await self.audit.record(
            "rotate-keys",
            actor=actor.username,
            now=self._clock(),
            outcome="ok" if not report.failed else "partial",
            detail=f"{report.rotated} rotated, {report.already_current} current, {len(report.failed)} unreadable",
        )
        return report

    async def _rotate_record(
        self,
        record: UserRecord | None,
        actor: Session,
        report: RotationReport,
        before_write: Callable[[UserRecord], Awaitable[None]] | None,
    ) -> None:
        for attempt in range(_EDIT_ATTEMPTS + 1):
            if record is None:
                return  # deleted meanwhile: nothing to rotate
            fields = {"email_enc": record.email_enc, "full_name_enc": record.full_name_enc}
            stale = {name: value for name, value in fields.items() if value and not self._cipher.is_current(value)}
            if not stale:
                if attempt == 0:
                    report.already_current += 1
                else:
                    report.rotated += 1  # the concurrent edit already wrote the newest key
                return
            try:
                rotated = {name: self._cipher.rotate(value) for name, value in stale.items()}
            except DecryptError:
                report.failed.append(record.username)
                log.warning("key rotation: %s is not readable with any configured key", record.username)
                return
            if before_write is not None:
                await before_write(record)
            try:
                await self.store.update(record.username, record.version, rotated)
            except ConditionFailed:
                report.retried += 1
                record = await self.store.get(record.username)
                continue
            report.rotated += 1
            return
        raise ConcurrentUpdate(f"user {record.username!r} kept changing during key rotation; run it again")


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
