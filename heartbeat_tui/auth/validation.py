"""Input rules for users: usernames, passwords, roles, account allow-lists, personal fields.

Every function returns the normalised value or raises `ValidationFailed` naming
the field. `validate_new_user` collects one message per field, for forms.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Iterable
from typing import TypeGuard, TypeVar

from heartbeat_tui.auth.errors import ValidationFailed
from heartbeat_tui.auth.roles import Role

T = TypeVar("T")

USERNAME_RULE = "3-64 characters of a-z, 0-9, '.', '_' and '-'"
MIN_PASSWORD_CHARS = 12
MAX_PASSWORD_CHARS = 1024
PASSWORD_RULE = f"at least {MIN_PASSWORD_CHARS} characters, not the username"
MAX_ACCOUNTS = 1000
MAX_EMAIL_CHARS = 254
MAX_FULL_NAME_CHARS = 128

_USERNAME = re.compile(r"[a-z0-9._-]{3,64}")
_ACCOUNT_ID = re.compile(r"\d{12}")
_EMAIL = re.compile(r"[^@\s]{1,64}@[^@\s.]+(\.[^@\s.]+)+")


def is_valid_username(value: object) -> TypeGuard[str]:
    return isinstance(value, str) and _USERNAME.fullmatch(value) is not None


def validate_username(value: object) -> str:
    if not isinstance(value, str) or not value:
        raise ValidationFailed.one("username", "is required")
    if not _USERNAME.fullmatch(value):
        raise ValidationFailed.one("username", f"must be {USERNAME_RULE}")
    return value


def _has_control(text: str) -> bool:
    return any(unicodedata.category(ch) in ("Cc", "Cs") for ch in text)


def normalise_password(password: str) -> str:
    """NFKC, as NIST SP 800-63B suggests, so the same password typed differently matches."""

    return unicodedata.normalize("NFKC", password)


def validate_password(password: object, username: str | None = None) -> str:
    if not isinstance(password, str) or not password:
        raise ValidationFailed.one("password", "is required")
    if _has_control(password):
        raise ValidationFailed.one("password", "must not contain control characters")
    normalised = normalise_password(password)
    if len(normalised) < MIN_PASSWORD_CHARS:
        raise ValidationFailed.one("password", f"must be at least {MIN_PASSWORD_CHARS} characters")
    if len(normalised) > MAX_PASSWORD_CHARS:
        raise ValidationFailed.one("password", f"must be at most {MAX_PASSWORD_CHARS} characters")
    if username is not None and normalised.casefold() == username.casefold():
        raise ValidationFailed.one("password", "must not be the username")
    return password


def validate_role(value: object) -> Role:
    if isinstance(value, Role):
        return value
    try:
        return Role(str(value).strip().lower())
    except ValueError:
        choices = ", ".join(r.value for r in Role)
        raise ValidationFailed.one("role", f"must be one of {choices} (got {str(value)[:40]!r})") from None


def parse_accounts(value: str | Iterable[str] | None) -> tuple[str, ...]:
    """`"111111111111, 222222222222"` or an iterable of ids -> unique 12-digit ids, in order."""

    if value is None:
        return ()
    items = value.split(",") if isinstance(value, str) else list(value)
    seen: dict[str, None] = {}
    for raw in items:
        if not isinstance(raw, str):
            raise ValidationFailed.one("accounts", "must be 12-digit AWS account ids separated by commas")
        item = raw.strip()
        if not item:
            continue
        if not _ACCOUNT_ID.fullmatch(item):
            raise ValidationFailed.one("accounts", f"must be 12-digit AWS account ids (got {item[:40]!r})")
        seen[item] = None
    if len(seen) > MAX_ACCOUNTS:
        raise ValidationFailed.one("accounts", f"at most {MAX_ACCOUNTS} accounts")
    return tuple(seen)


def validate_email(value: object) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise ValidationFailed.one("email", "must be text")
    value = value.strip()
    if not value:
        return None
    if len(value) > MAX_EMAIL_CHARS or _has_control(value) or not _EMAIL.fullmatch(value):
        raise ValidationFailed.one("email", "must be an address such as 'name@example.com'")
    return value


def validate_full_name(value: object) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise ValidationFailed.one("full_name", "must be text")
    value = " ".join(value.split())
    if not value:
        return None
    if len(value) > MAX_FULL_NAME_CHARS:
        raise ValidationFailed.one("full_name", f"must be at most {MAX_FULL_NAME_CHARS} characters")
    if _has_control(value):
        raise ValidationFailed.one("full_name", "must not contain control characters")
    return value


def validate_new_user(
    *,
    username: object,
    password: object,
    role: object,
    accounts: str | Iterable[str] | None = None,
    email: object = None,
    full_name: object = None,
) -> tuple[str, str, Role, tuple[str, ...], str | None, str | None]:
    """Check every field; raise one `ValidationFailed` with a message per bad field."""

    errors: dict[str, str] = {}
    new_name = _checked(errors, lambda: validate_username(username), "")
    new_password = _checked(
        errors, lambda: validate_password(password, username if isinstance(username, str) else None), ""
    )
    new_role = _checked(errors, lambda: validate_role(role), Role.USER)
    no_accounts: tuple[str, ...] = ()
    new_accounts = _checked(errors, lambda: parse_accounts(accounts), no_accounts)
    new_email = _checked(errors, lambda: validate_email(email), None)
    new_full_name = _checked(errors, lambda: validate_full_name(full_name), None)
    if not errors and new_accounts and new_role is not Role.USER:
        errors["accounts"] = "only the 'user' role has an account allow-list (admin and monitor see every account)"
    if errors:
        raise ValidationFailed(errors)
    return new_name, new_password, new_role, new_accounts, new_email, new_full_name


def _checked(errors: dict[str, str], check: Callable[[], T], fallback: T) -> T:
    """One field's check: its value, or `fallback` with its message added to `errors`
    (every field is checked, so one `ValidationFailed` names every bad field)."""

    try:
        return check()
    except ValidationFailed as exc:
        errors.update(exc.errors)
        return fallback
