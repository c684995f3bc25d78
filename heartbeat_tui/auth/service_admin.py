"""User administration: the first admin, creating, listing and editing users
(role, accounts, profile, password, enabled, unlock), each edit a conditional
write on the version read that never leaves the deployment without an active
admin. Personal fields are encrypted on write and decrypted for `UserView`."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from heartbeat_tui.auth.crypto import DecryptError
from heartbeat_tui.auth.errors import (
    AdminExists,
    ConcurrentUpdate,
    LastAdmin,
    UserNotFound,
    ValidationFailed,
)
from heartbeat_tui.auth.models import Session, UserView
from heartbeat_tui.auth.roles import Permission, Role
from heartbeat_tui.auth.service_sessions import SessionService
from heartbeat_tui.auth.store import ConditionFailed, UserRecord
from heartbeat_tui.auth.validation import (
    parse_accounts,
    validate_email,
    validate_full_name,
    validate_new_user,
    validate_password,
    validate_role,
    validate_username,
)

#: Read-change-write rounds before a concurrent edit is reported (`ConcurrentUpdate`).
EDIT_ATTEMPTS = 5
UNREADABLE = "(unreadable: key missing)"
LEGACY_UNREADABLE = "(unreadable: set HEARTBEAT_LEGACY_ENCRYPTION_KEY)"


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


class UserAdministration:
    """The user administration part of `AuthService`, over its sessions part."""

    def __init__(self, sessions: SessionService) -> None:
        self._sessions = sessions

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
        await self._sessions.store.create(record)
        await self._sessions.audit.record("bootstrap-admin", actor="-", target=username, now=self._sessions.clock())
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
        actor = await self._sessions.authorize(session, Permission.MANAGE_USERS)
        username, password, role, accounts_t, email, full_name = validate_new_user(
            username=username, password=password, role=role, accounts=accounts, email=email, full_name=full_name
        )
        record = await self._new_record(username, password, role, accounts_t, email, full_name, actor.username)
        try:
            await self._sessions.store.create(record)
        except Exception:
            await self._sessions.audit.record(
                "create-user", actor=actor.username, target=username, now=self._sessions.clock(), outcome="failure"
            )
            raise
        await self._sessions.audit.record(
            "create-user",
            actor=actor.username,
            target=username,
            now=self._sessions.clock(),
            detail=f"role={role.value}",
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
        password_hash = await asyncio.to_thread(self._sessions.hasher.hash, password)
        now = self._sessions.clock()
        return UserRecord(
            username=username,
            role=role,
            active=True,
            password_hash=password_hash,
            accounts=accounts,
            email_enc=self._sessions.cipher.encrypt(email) if email else None,
            full_name_enc=self._sessions.cipher.encrypt(full_name) if full_name else None,
            version=1,
            created_at=now,
            created_by=created_by,
            updated_at=now,
            updated_by=created_by,
        )

    async def list_users(self, session: Session) -> list[UserView]:
        await self._sessions.authorize(session, Permission.MANAGE_USERS)
        records = await self._sessions.store.all()
        return sorted((self._view(r) for r in records), key=lambda v: v.username)

    async def get_user(self, session: Session, username: str) -> UserView:
        await self._sessions.authorize(session, Permission.MANAGE_USERS)
        record = await self._sessions.store.get(validate_username(username))
        if record is None:
            raise UserNotFound(username)
        return self._view(record)

    async def set_active(self, session: Session, username: str, active: bool) -> UserView:
        actor = await self._sessions.authorize(session, Permission.MANAGE_USERS)
        now = self._sessions.clock()

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
        actor = await self._sessions.authorize(session, Permission.MANAGE_USERS)
        new_role = validate_role(role)
        now = self._sessions.clock()

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
        actor = await self._sessions.authorize(session, Permission.MANAGE_USERS)
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

        actor = await self._sessions.authorize(session, Permission.MANAGE_USERS)
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
                    values[name] = self._sessions.cipher.encrypt(value)
            return Edit(values, removes)

        record = await self._edit(actor, username, "update-profile", change)
        return self._view(record)

    async def reset_password(self, session: Session, username: str, password: str) -> UserView:
        """New password, lockout cleared, every existing session of the user ended."""

        actor = await self._sessions.authorize(session, Permission.MANAGE_USERS)
        username = validate_username(username)
        validate_password(password, username)
        password_hash = await asyncio.to_thread(self._sessions.hasher.hash, password)
        now = self._sessions.clock()

        async def change(record: UserRecord) -> Edit:
            values = {"password_hash": password_hash, "sessions_valid_after": now, "failed_attempts": 0}
            return Edit(values, ["locked_until", "last_failure_at"])

        record = await self._edit(actor, username, "reset-password", change)
        return self._view(record)

    async def unlock(self, session: Session, username: str) -> UserView:
        actor = await self._sessions.authorize(session, Permission.MANAGE_USERS)
        username = validate_username(username)
        if not await self._sessions.store.unlock(username):
            raise UserNotFound(username)
        await self._sessions.audit.record("unlock", actor=actor.username, target=username, now=self._sessions.clock())
        record = await self._sessions.store.get(username)
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
        for _ in range(EDIT_ATTEMPTS):
            record = await self._sessions.store.get(username)
            if record is None:
                raise UserNotFound(username)
            edit = await change(record)
            if not edit.values and not edit.removes:
                return record
            values = {**edit.values, "updated_at": self._sessions.clock(), "updated_by": actor.username}
            try:
                await self._sessions.store.update(
                    username, record.version, values, edit.removes, while_admin=edit.while_admin
                )
            except ConditionFailed:
                continue
            await self._sessions.audit.record(
                event, actor=actor.username, target=username, now=self._sessions.clock(), detail=detail
            )
            updated = await self._sessions.store.get(username)
            if updated is None:
                raise UserNotFound(username)
            return updated
        raise ConcurrentUpdate(f"user {username!r} kept changing; nothing was overwritten, try again")

    async def _active_admins(self, exclude: str | None = None) -> list[str]:
        records = await self._sessions.store.all()
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
            return self._sessions.cipher.decrypt(token)
        except DecryptError:
            return UNREADABLE

    def _email(self, record: UserRecord) -> str | None:
        if record.email_enc is not None or record.legacy_email_enc is None:
            return self._decrypt(record.email_enc)
        legacy = self._sessions.secrets.legacy_cipher
        if legacy is None:
            return LEGACY_UNREADABLE
        try:
            return legacy.decrypt(record.legacy_email_enc)
        except DecryptError:
            return LEGACY_UNREADABLE

    def _view(self, record: UserRecord) -> UserView:
        now = self._sessions.clock()
        return UserView(
            username=record.username,
            role=record.role,
            active=record.active,
            locked=record.is_locked(now),
            locked_until=record.locked_until if record.is_locked(now) else None,
            failed_attempts=record.failed_attempts,
            last_login_at=record.last_login_at,
            accounts=record.accounts,
            email=self._email(record),
            full_name=self._decrypt(record.full_name_enc) if record.full_name_enc else record.legacy_full_name,
            created_at=record.created_at,
            created_by=record.created_by,
            legacy=record.legacy,
        )

    def view(self, record: UserRecord) -> UserView:
        """`record` as an admin sees it (for the other parts of the service)."""

        return self._view(record)

    async def own_view(self, session: Session) -> UserView:
        """The session's own user, as `heartbeat whoami` shows it: any valid session."""

        fresh = await self._sessions.check(session.token)
        record = await self._sessions.store.get(fresh.username)
        if record is None:
            raise UserNotFound(fresh.username)
        return self._view(record)
