"""The users table's items: DynamoDB attribute values (explicit types, so the
same code runs against real DynamoDB and the embedded AWS) and `UserRecord`."""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from heartbeat_tui.auth.roles import Role

# The store's log lines keep the logger they had before the split.
log = logging.getLogger("heartbeat_tui.auth.store")

# -- attribute values ------------------------------------------------------------------------------


def _s(value: str) -> dict[str, str]:
    return {"S": value}


def _n(value: float | int) -> dict[str, str]:
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return {"N": repr(value) if isinstance(value, float) else str(value)}


def _bool(value: bool) -> dict[str, bool]:
    return {"BOOL": bool(value)}


def _list(values: Sequence[str]) -> dict[str, list[dict[str, str]]]:
    return {"L": [_s(v) for v in values]}


def _get_s(item: Mapping[str, Any], name: str) -> str | None:
    value = item.get(name)
    return value["S"] if value and "S" in value else None


def _get_n(item: Mapping[str, Any], name: str) -> float | None:
    value = item.get(name)
    if not value or "N" not in value:
        return None
    number = Decimal(value["N"])
    return float(number)


def _get_int(item: Mapping[str, Any], name: str, default: int = 0) -> int:
    number = _get_n(item, name)
    return int(number) if number is not None else default


def _get_bool(item: Mapping[str, Any], name: str, default: bool = False) -> bool:
    value = item.get(name)
    return bool(value["BOOL"]) if value and "BOOL" in value else default


def _get_list(item: Mapping[str, Any], name: str) -> tuple[str, ...]:
    value = item.get(name)
    if not value or "L" not in value:
        return ()
    return tuple(v["S"] for v in value["L"] if "S" in v)


# -- records ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class UserRecord:
    """One users-table item, as stored (personal fields still encrypted)."""

    username: str
    role: Role
    active: bool
    password_hash: str = field(repr=False)
    accounts: tuple[str, ...] = ()
    email_enc: str | None = field(default=None, repr=False)
    full_name_enc: str | None = field(default=None, repr=False)
    version: int = 1
    failed_attempts: int = 0
    last_failure_at: float | None = None
    locked_until: float | None = None
    last_login_at: float | None = None
    sessions_valid_after: float | None = None
    created_at: float | None = None
    created_by: str | None = None
    updated_at: float | None = None
    updated_by: str | None = None

    def is_locked(self, now: float) -> bool:
        return self.locked_until is not None and self.locked_until > now

    @classmethod
    def from_item(cls, item: Mapping[str, Any]) -> UserRecord:
        role_text = _get_s(item, "role") or ""
        try:
            role = Role(role_text)
        except ValueError:
            # An item edited by hand with a role we do not know: treat as the least privileged.
            log.warning("user %r has an unknown role %r; treated as disabled", _get_s(item, "username"), role_text)
            return cls(username=_get_s(item, "username") or "", role=Role.USER, active=False, password_hash="")
        return cls(
            username=_get_s(item, "username") or "",
            role=role,
            active=_get_bool(item, "active"),
            password_hash=_get_s(item, "password_hash") or "",
            accounts=_get_list(item, "accounts"),
            email_enc=_get_s(item, "email_enc"),
            full_name_enc=_get_s(item, "full_name_enc"),
            version=_get_int(item, "version", 1),
            failed_attempts=_get_int(item, "failed_attempts"),
            last_failure_at=_get_n(item, "last_failure_at"),
            locked_until=_get_n(item, "locked_until"),
            last_login_at=_get_n(item, "last_login_at"),
            sessions_valid_after=_get_n(item, "sessions_valid_after"),
            created_at=_get_n(item, "created_at"),
            created_by=_get_s(item, "created_by"),
            updated_at=_get_n(item, "updated_at"),
            updated_by=_get_s(item, "updated_by"),
        )

    def to_item(self) -> dict[str, Any]:
        item: dict[str, Any] = {
            "username": _s(self.username),
            "role": _s(self.role.value),
            "active": _bool(self.active),
            "password_hash": _s(self.password_hash),
            "accounts": _list(self.accounts),
            "version": _n(self.version),
            "failed_attempts": _n(self.failed_attempts),
        }
        optional_s = {
            "email_enc": self.email_enc,
            "full_name_enc": self.full_name_enc,
            "created_by": self.created_by,
            "updated_by": self.updated_by,
        }
        optional_n = {
            "last_failure_at": self.last_failure_at,
            "locked_until": self.locked_until,
            "last_login_at": self.last_login_at,
            "sessions_valid_after": self.sessions_valid_after,
            "created_at": self.created_at,
            "updated_at": self.updated_at,
        }
        item.update({k: _s(v) for k, v in optional_s.items() if v is not None})
        item.update({k: _n(v) for k, v in optional_n.items() if v is not None})
        return item
