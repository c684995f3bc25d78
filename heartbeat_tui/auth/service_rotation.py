"""Key rotation: every personal field re-encrypted with the newest key,
resumable and idempotent, without losing a concurrent edit."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from heartbeat_tui.auth.crypto import DecryptError
from heartbeat_tui.auth.errors import ConcurrentUpdate
from heartbeat_tui.auth.models import Session
from heartbeat_tui.auth.roles import Permission
from heartbeat_tui.auth.service_admin import EDIT_ATTEMPTS
from heartbeat_tui.auth.service_sessions import SessionService
from heartbeat_tui.auth.store import ConditionFailed, UserRecord

# The service's log lines keep the logger they had before the split.
log = logging.getLogger("heartbeat_tui.auth.service")


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


class KeyRotation:
    """The key rotation part of `AuthService`, over its sessions part."""

    def __init__(self, sessions: SessionService) -> None:
        self._sessions = sessions

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

        actor = await self._sessions.authorize(session, Permission.ROTATE_KEYS)
        report = RotationReport(primary_key_id=self._sessions.cipher.primary_key_id)
        await self._sessions.audit.record(
            "rotate-keys",
            actor=actor.username,
            now=self._sessions.clock(),
            outcome="started",
            detail=report.primary_key_id,
        )
        async for page in self._sessions.store.pages(page_size):
            for record in page:
                report.scanned += 1
                await self._rotate_record(record, actor, report, before_write)
        await self._sessions.audit.record(
            "rotate-keys",
            actor=actor.username,
            now=self._sessions.clock(),
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
        username = record.username if record is not None else ""
        for attempt in range(EDIT_ATTEMPTS + 1):
            if record is None:
                return  # deleted meanwhile: nothing to rotate
            fields = {"email_enc": record.email_enc, "full_name_enc": record.full_name_enc}
            stale = {
                name: value for name, value in fields.items() if value and not self._sessions.cipher.is_current(value)
            }
            if not stale:
                if attempt == 0:
                    report.already_current += 1
                else:
                    report.rotated += 1  # the concurrent edit already wrote the newest key
                return
            try:
                rotated = {name: self._sessions.cipher.rotate(value) for name, value in stale.items()}
            except DecryptError:
                report.failed.append(record.username)
                log.warning("key rotation: %s is not readable with any configured key", record.username)
                return
            if before_write is not None:
                await before_write(record)
            try:
                await self._sessions.store.update(record.username, record.version, rotated)
            except ConditionFailed:
                report.retried += 1
                record = await self._sessions.store.get(record.username)
                continue
            report.rotated += 1
            return
        raise ConcurrentUpdate(f"user {username!r} kept changing during key rotation; run it again")
