"""The audit trail: every login attempt and every admin action.

Each event is one line on the `heartbeat.audit` logger (the log file) and one
item in the auth table (`audit#<time>#<id>`, kept `retention_days` by TTL), so
events from every machine end up in one place. An event names who, what, on
whom and the outcome; never a password, a token or a personal field.
A failed audit write is logged and never blocks the action it describes.
"""

from __future__ import annotations

import logging
import re
import uuid
from datetime import datetime, timezone
from typing import TYPE_CHECKING

from heartbeat_tui.auth.errors import StoreError
from heartbeat_tui.auth.validation import is_valid_username

if TYPE_CHECKING:
    from heartbeat_tui.auth.store import UserStore

audit_log = logging.getLogger("heartbeat.audit")
RETENTION_DAYS = 400
_UNSAFE = re.compile(r"[^\w.@:,=/+ -]")


def safe_name(value: object) -> str:
    """A username fit for the log: what was typed into the username field may be a password."""

    return value if is_valid_username(value) else "(invalid username)"  # type: ignore[return-value]


def _clean(text: str, limit: int = 200) -> str:
    return _UNSAFE.sub("?", text)[:limit]


class AuditLog:
    def __init__(self, store: UserStore | None, *, retention_days: int = RETENTION_DAYS) -> None:
        self._store = store
        self._retention = retention_days * 86400

    async def record(
        self,
        event: str,
        *,
        actor: str,
        now: float,
        target: str | None = None,
        outcome: str = "ok",
        detail: str | None = None,
    ) -> None:
        actor = actor if actor == "-" else safe_name(actor)
        target = safe_name(target) if target else None
        detail = _clean(detail) if detail else None
        audit_log.info(
            "audit event=%s outcome=%s actor=%s target=%s%s",
            event,
            outcome,
            actor,
            target or "-",
            f" detail={detail}" if detail else "",
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
        try:
            await self._store.put_audit(key, fields, expires_at=now + self._retention)
        except StoreError as exc:
            audit_log.warning("audit record not stored in DynamoDB: %s", exc)
