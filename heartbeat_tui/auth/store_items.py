"""The users table's items: DynamoDB attribute values (explicit types, so the
same code runs against real DynamoDB and the embedded AWS) and `UserRecord`."""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from heartbeat_tui.auth.legacy import (
    LEGACY_ACTIVE,
    LEGACY_EMAIL,
    LEGACY_FULL_NAME,
    LEGACY_LAST_LOGIN,
    LEGACY_PASSWORD,
    parse_legacy_time,
)
from heartbeat_tui.auth.roles import Role

# The store's log lines keep the logger they had before the split.
log = logging.getLogger("heartbeat_tui.auth.store")

# -- attribute values ------------------------------------------------------------------------------


def str_value(value: str) -> dict[str, str]:
    return {"S": value}


def num_value(value: float | int) -> dict[str, str]:
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return {"N": repr(value) if isinstance(value, float) else str(value)}


def bool_value(value: bool) -> dict[str, bool]:
    return {"BOOL": bool(value)}


def list_value(values: Sequence[str]) -> dict[str, list[dict[str, str]]]:
    return {"L": [str_value(v) for v in values]}


def get_str(item: Mapping[str, Any], name: str) -> str | None:
    value = item.get(name)
    return value["S"] if value and "S" in value else None


def get_num(item: Mapping[str, Any], name: str) -> float | None:
    value = item.get(name)
    if not value or "N" not in value:
        return None
    number = Decimal(value["N"])
    return float(number)


def get_int(item: Mapping[str, Any], name: str, default: int = 0) -> int:
    number = get_num(item, name)
    return int(number) if number is not None else default


def get_bool(item: Mapping[str, Any], name: str, default: bool = False) -> bool:
    value = item.get(name)
    return bool(value["BOOL"]) if value and "BOOL" in value else default


def get_list(item: Mapping[str, Any], name: str) -> tuple[str, ...]:
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
    # What is still in the original HeartBeat's format (legacy.py): its email
    # (its own cipher), a plain full name, and the names of its attributes still
    # on the item. `password_hash` then holds its ``SALT:HEX`` until a login.
    legacy_email_enc: str | None = field(default=None, repr=False)
    legacy_full_name: str | None = field(default=None, repr=False)
    legacy_attributes: frozenset[str] = frozenset()

    @property
    def legacy(self) -> bool:
        """Something on the item is still in the original's format."""

        return bool(self.legacy_attributes)

    @property
    def legacy_password(self) -> bool:
        """The password is the original's hash: only a login can upgrade it."""

        return LEGACY_PASSWORD in self.legacy_attributes

    def is_locked(self, now: float) -> bool:
        return self.locked_until is not None and self.locked_until > now

    @classmethod
    def from_item(cls, item: Mapping[str, Any]) -> UserRecord:
        role_text = get_str(item, "role") or ""
        try:
            role = Role(role_text)
        except ValueError:
            # An item edited by hand with a role we do not know: treat as the least privileged.
            log.warning("user %r has an unknown role %r; treated as disabled", get_str(item, "username"), role_text)
            return cls(username=get_str(item, "username") or "", role=Role.USER, active=False, password_hash="")
        legacy = _legacy_attributes(item)
        password_hash = get_str(item, "password_hash")
        if password_hash is None:
            password_hash = get_str(item, LEGACY_PASSWORD)
        return cls(
            username=get_str(item, "username") or "",
            role=role,
            active=get_bool(item, "active") if "active" in item else get_bool(item, LEGACY_ACTIVE),
            password_hash=password_hash or "",
            accounts=get_list(item, "accounts"),
            email_enc=get_str(item, "email_enc"),
            full_name_enc=get_str(item, "full_name_enc"),
            # An item no HeartBeat wrote has no version: 0, which the conditional
            # update reads as "still without one" (store_users.py).
            version=get_int(item, "version", 0),
            failed_attempts=get_int(item, "failed_attempts"),
            last_failure_at=get_num(item, "last_failure_at"),
            locked_until=get_num(item, "locked_until"),
            last_login_at=_first_time(item, "last_login_at", LEGACY_LAST_LOGIN),
            sessions_valid_after=get_num(item, "sessions_valid_after"),
            created_at=_first_time(item, "created_at", "created_at"),
            created_by=get_str(item, "created_by"),
            updated_at=get_num(item, "updated_at"),
            updated_by=get_str(item, "updated_by"),
            legacy_email_enc=get_str(item, LEGACY_EMAIL) if "email_enc" not in item else None,
            legacy_full_name=get_str(item, LEGACY_FULL_NAME) if "full_name_enc" not in item else None,
            legacy_attributes=legacy,
        )

    def to_item(self) -> dict[str, Any]:
        item: dict[str, Any] = {
            "username": str_value(self.username),
            "role": str_value(self.role.value),
            "active": bool_value(self.active),
            "password_hash": str_value(self.password_hash),
            "accounts": list_value(self.accounts),
            "version": num_value(self.version),
            "failed_attempts": num_value(self.failed_attempts),
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
        item.update({k: str_value(v) for k, v in optional_s.items() if v is not None})
        item.update({k: num_value(v) for k, v in optional_n.items() if v is not None})
        return item


def _legacy_attributes(item: Mapping[str, Any]) -> frozenset[str]:
    """The original's attributes still on `item` (a `created_at` as text is one too)."""

    names = {LEGACY_ACTIVE, LEGACY_LAST_LOGIN, LEGACY_FULL_NAME, LEGACY_EMAIL}
    found = {name for name in names if name in item}
    if LEGACY_PASSWORD in item and "password_hash" not in item:
        found.add(LEGACY_PASSWORD)
    if "S" in (item.get("created_at") or {}):
        found.add("created_at")
    return frozenset(found)


def _first_time(item: Mapping[str, Any], name: str, legacy_name: str) -> float | None:
    """HeartBeat's epoch seconds, else the original's ISO 8601 text."""

    number = get_num(item, name)
    return number if number is not None else parse_legacy_time(get_str(item, legacy_name))
