"""`heartbeat users migrate`: the original HeartBeat's records upgraded as far as
they can be without a password (legacy.py, store_legacy.py).

What needs no password is upgraded: the email re-encrypted under the current
key (with `HEARTBEAT_LEGACY_ENCRYPTION_KEY`), `is_active` as `active`, the
original's times as numbers, a `version` and HeartBeat's other fields. The
``SALT:HEX`` hashes stay until each user's next login replaces them (only the
password can make the current hash). Each record is one conditional write on
the version read; a concurrent edit or login makes it read the record again.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from heartbeat_tui.auth.errors import ConcurrentUpdate
from heartbeat_tui.auth.legacy import LEGACY_EMAIL, LEGACY_PASSWORD
from heartbeat_tui.auth.models import Session
from heartbeat_tui.auth.roles import Permission
from heartbeat_tui.auth.service_admin import EDIT_ATTEMPTS
from heartbeat_tui.auth.service_sessions import SessionService
from heartbeat_tui.auth.store import UserRecord


@dataclass(frozen=True)
class LegacyUser:
    """One legacy record: what a migration does (or did) to it."""

    username: str
    fields: bool  # HeartBeat's fields added, the original's converted
    email: bool  # the email re-encrypted under the current key
    email_unreadable: bool  # an email the legacy key (or its absence) cannot open: left as it is
    password: bool  # the original's hash, upgraded at the user's next login

    def describe(self) -> str:
        done = [what for what, flag in (("fields", self.fields), ("email", self.email)) if flag]
        parts = [", ".join(done)] if done else []
        if self.email_unreadable:
            parts.append("email not readable: set HEARTBEAT_LEGACY_ENCRYPTION_KEY")
        if self.password:
            parts.append("password at the next login")
        return f"{self.username} ({'; '.join(parts)})"


@dataclass
class MigrationReport:
    dry_run: bool
    users: list[LegacyUser] = field(default_factory=list)
    upgraded: int = 0
    retried: int = 0

    @property
    def unreadable(self) -> list[str]:
        return [u.username for u in self.users if u.email_unreadable]

    def lines(self) -> list[str]:
        if not self.users:
            return ["no legacy user: every record is HeartBeat's"]
        verb = "would upgrade" if self.dry_run else "upgraded"
        changing = sum(1 for u in self.users if u.fields or u.email)
        head = f"{len(self.users)} legacy user(s); {verb} {changing if self.dry_run else self.upgraded}"
        pending = sum(1 for u in self.users if u.password)
        if pending:
            head += f"; {pending} password(s) upgrade at the user's next login"
        if self.retried:
            head += f"; {self.retried} retried after a concurrent change"
        return [head, *(f"  {u.describe()}" for u in sorted(self.users, key=lambda u: u.username))]


class LegacyMigration:
    """The `users migrate` part of `AuthService`, over its sessions part."""

    def __init__(self, sessions: SessionService) -> None:
        self._sessions = sessions

    async def migrate(self, session: Session, *, dry_run: bool = False) -> MigrationReport:
        actor = await self._sessions.authorize(session, Permission.MANAGE_USERS)
        report = MigrationReport(dry_run=dry_run)
        async for page in self._sessions.store.pages():
            for record in page:
                if record.legacy or record.version == 0:
                    await self._migrate(record, report)
        if not dry_run:
            await self._sessions.audit.record(
                "legacy-migrate",
                actor=actor.username,
                now=self._sessions.clock(),
                detail=f"{len(report.users)} legacy, {report.upgraded} upgraded",
            )
        return report

    def _plan(self, record: UserRecord) -> LegacyUser:
        upgrade = self._sessions.legacy_upgrade(record)
        email = upgrade.email_enc is not None
        return LegacyUser(
            username=record.username,
            fields=bool(record.legacy_attributes - {LEGACY_PASSWORD, LEGACY_EMAIL}) or record.version == 0,
            email=email,
            email_unreadable=record.legacy_email_enc is not None and not email,
            password=record.legacy_password,
        )

    async def _migrate(self, record: UserRecord | None, report: MigrationReport) -> None:
        username = record.username if record is not None else ""
        for _ in range(EDIT_ATTEMPTS):
            if record is None or not (record.legacy or record.version == 0):
                return  # deleted, or upgraded by a login, meanwhile
            plan = self._plan(record)
            if report.dry_run or not (plan.fields or plan.email):
                report.users.append(plan)
                return
            now = self._sessions.clock()
            upgraded = await self._sessions.store.upgrade_legacy_fields(
                record, now, self._sessions.legacy_upgrade(record)
            )
            if upgraded is not None:
                report.users.append(plan)
                report.upgraded += 1
                return
            report.retried += 1
            record = await self._sessions.store.get(username)
        raise ConcurrentUpdate(f"user {username!r} kept changing during the migration; run it again")
