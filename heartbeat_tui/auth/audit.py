"""The audit trail: every login attempt and every admin action.

Each event is one line on the `heartbeat.audit` logger (the log file) and one
item in the auth table (`audit#<time>#<id>`, kept `retention_days` by TTL), so
events from every machine end up in one place. An event names who, what, on
whom and the outcome; never a password, a token or a personal field.
A failed audit write is logged and never blocks the action it describes.

When the store cannot take an item (it is down: the very case where a login is
refused), the item waits in a local spool (`AuditSpool`: the user state folder,
0600) and goes to the table, with its own time and id, with the next audit
write that succeeds, from this process or any later one on this machine.
"""

from __future__ import annotations

import json
import logging
import os
import re
import secrets
import time
import uuid
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any

from heartbeat_tui.auth.errors import StoreError
from heartbeat_tui.auth.validation import is_valid_username
from heartbeat_tui.localfiles import UnsafeLocalFile, checked_folder, open_written_file

if TYPE_CHECKING:
    from heartbeat_tui.auth.store import UserStore

log = logging.getLogger(__name__)
audit_log = logging.getLogger("heartbeat.audit")
RETENTION_DAYS = 400
SPOOL_FILE_NAME = "audit-pending.jsonl"
_UNSAFE = re.compile(r"[^\w.@:,;=/+() -]")
# Where the request came from, when a server acts for a client (`heartbeat serve`
# sets it per request): each audit event then names the client address too.
client_address: ContextVar[str | None] = ContextVar("audit_client_address", default=None)


@dataclass(frozen=True)
class PendingRecord:
    table: str  # the auth table it belongs to (a machine may serve several deployments)
    key: str  # audit#<key>: its own time and id, so writing it twice is harmless
    fields: dict[str, str | float]
    expires_at: float


class AuditSpool:
    """Audit items the store could not take, one JSON object a line, in a
    file only this user can read (0600, in the 0700 state folder), until the
    store takes them. Bounded (`max_records`): beyond it, the log line is the
    only record, and says so.

    Several processes may share it: appends are single `O_APPEND` writes, and
    a flush first renames the file aside (atomic; the one that wins the rename
    flushes it, the others find nothing), then appends back what it could not
    write. A flush cut short (the process killed) leaves its file aside; the
    next flush picks it up once it is a minute old.
    """

    STALE_SECONDS = 60.0

    def __init__(self, path: Path, *, max_records: int = 1000) -> None:
        self.path = path
        self.max_records = max_records

    def add(self, record: PendingRecord) -> bool:
        """Keep `record`; False when the spool is full or cannot be written."""

        line = json.dumps(
            {"table": record.table, "key": record.key, "fields": record.fields, "expires_at": record.expires_at},
            separators=(",", ":"),
        )
        try:
            checked_folder(self.path.parent, "state folder", create=True, narrow=True)
            if self._count(self.path) >= self.max_records:
                return False
            fd = open_written_file(self.path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, "audit spool")
            try:
                os.write(fd, line.encode() + b"\n")
                os.fsync(fd)
            finally:
                os.close(fd)
        except (OSError, UnsafeLocalFile) as exc:
            log.warning("audit spool %s not writable: %s", self.path, exc)
            return False
        return True

    def pending(self) -> bool:
        return self.path.exists() or any(self._stale_aside())

    def take(self) -> list[PendingRecord]:
        """Everything spooled, moved aside for this process to write."""

        taken: list[Path] = []
        aside = self.path.with_name(f".{self.path.name}.{secrets.token_hex(6)}.flushing")
        try:
            os.rename(self.path, aside)
            taken.append(aside)
        except OSError:
            pass  # nothing spooled, or another process is flushing it
        for stale in self._stale_aside():
            mine = stale.with_name(f".{self.path.name}.{secrets.token_hex(6)}.flushing")
            try:
                os.rename(stale, mine)
                taken.append(mine)
            except OSError:
                pass
        records: list[PendingRecord] = []
        for path in taken:
            try:
                lines = path.read_text(encoding="utf-8").splitlines()
            except OSError:
                continue
            for line in lines:
                try:
                    data: dict[str, Any] = json.loads(line)
                    records.append(
                        PendingRecord(
                            str(data["table"]), str(data["key"]), dict(data["fields"]), float(data["expires_at"])
                        )
                    )
                except (ValueError, KeyError, TypeError):
                    log.warning("audit spool: an unreadable line dropped")
            path.unlink(missing_ok=True)
        return records

    def _stale_aside(self) -> list[Path]:
        now = time.time()
        found = []
        try:
            for path in self.path.parent.glob(f".{self.path.name}.*.flushing"):
                try:
                    if now - path.stat().st_mtime > self.STALE_SECONDS:
                        found.append(path)
                except OSError:
                    continue
        except OSError:
            return []
        return found

    @staticmethod
    def _count(path: Path) -> int:
        try:
            with path.open("rb") as handle:
                return sum(1 for _ in handle)
        except OSError:
            return 0


def safe_name(value: object) -> str:
    """A username fit for the log: what was typed into the username field may be a password."""

    return value if is_valid_username(value) else "(invalid username)"


def _clean(text: str, limit: int = 300) -> str:
    return _UNSAFE.sub("?", text)[:limit]


class AuditLog:
    def __init__(
        self,
        store: UserStore | None,
        *,
        retention_days: int = RETENTION_DAYS,
        spool: AuditSpool | None = None,
    ) -> None:
        self._store = store
        self._retention = retention_days * 86400
        self.spool = spool

    async def record(
        self,
        event: str,
        *,
        actor: str,
        now: float,
        target: str | None = None,
        outcome: str = "ok",
        detail: str | None = None,
        store_down: bool = False,
    ) -> None:
        """Log the event and store it. `store_down`: the store just failed to
        answer (the event is about that): the item goes to the spool at once,
        without another wait on the store, and the log line is a WARNING."""

        actor = actor if actor == "-" else safe_name(actor)
        target = safe_name(target) if target else None
        detail = _clean(detail) if detail else None
        client = client_address.get()
        client = _clean(client, 64) if client else None
        audit_log.log(
            logging.WARNING if store_down else logging.INFO,
            "audit event=%s outcome=%s actor=%s target=%s%s%s",
            event,
            outcome,
            actor,
            target or "-",
            f" detail={detail}" if detail else "",
            f" client={client}" if client else "",
        )
        if self._store is None:
            return
        at = datetime.fromtimestamp(now, timezone.utc)
        key = f"{at.strftime('%Y-%m-%dT%H:%M:%S.%fZ')}#{uuid.uuid4().hex[:12]}"
        fields: dict[str, str | float] = {"event": event, "outcome": outcome, "actor": actor, "at": now}
        if target:
            fields["target"] = target
        if detail:
            fields["detail"] = detail
        if client:
            fields["client"] = client
        record = PendingRecord(self._store.auth_table, key, fields, now + self._retention)
        if store_down:
            self._keep(record, "the users store is unreachable")
            return
        try:
            await self._store.put_audit(key, fields, expires_at=record.expires_at)
        except StoreError as exc:
            audit_log.warning("audit record not stored in DynamoDB: %s", exc)
            self._keep(record, str(exc))
            return
        await self.flush()

    def _keep(self, record: PendingRecord, why: str) -> None:
        if self.spool is None:
            return
        if self.spool.add(record):
            audit_log.warning(
                "audit record %s kept in %s until the store takes it (%s)", record.key, self.spool.path, why
            )
        else:
            audit_log.warning(
                "audit record %s not kept: the audit spool is full or unwritable; this line is its only record",
                record.key,
            )

    async def flush(self) -> int:
        """Write what waits in the spool to the audit table (the store just took
        an item, so it is back). Returns how many were written."""

        if self._store is None or self.spool is None or not self.spool.pending():
            return 0
        from heartbeat_tui.auth.store import ConditionFailed

        written = 0
        records = self.spool.take()
        for n, record in enumerate(records):
            if record.table != self._store.auth_table:
                self.spool.add(record)  # another deployment's: left for it
                continue
            try:
                await self._store.put_audit(
                    record.key, {**record.fields, "stored_late": 1}, expires_at=record.expires_at
                )
            except ConditionFailed:
                pass  # already written by an earlier flush that was cut short
            except StoreError as exc:
                audit_log.warning("audit spool: the store failed again (%s); %d record(s) kept", exc, len(records) - n)
                for left in records[n:]:
                    self.spool.add(left)
                return written
            written += 1
        if written:
            audit_log.info("audit spool: %d record(s) written to %s", written, self._store.auth_table)
        return written
