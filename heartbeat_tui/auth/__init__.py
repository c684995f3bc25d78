"""Users, logins, sessions and roles. Plain async Python: no Textual here.

The TUI and the CLI reach the users store only through `AuthService`
(`open_auth(config)`), which checks the caller's session and role on every
operation that needs one.

Names are loaded on first use (PEP 562), so importing a light submodule
(`auth.models`, `auth.roles`, `auth.errors`) does not pull in the store and
the AWS layer: screens import those and nothing else.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

_WHERE = {
    "AdminExists": "errors",
    "AuthError": "errors",
    "LastAdmin": "errors",
    "LoginFailed": "errors",
    "PermissionDenied": "errors",
    "SecretsError": "errors",
    "SessionInvalid": "errors",
    "StoreError": "errors",
    "StoreMissing": "errors",
    "StoreUnavailable": "errors",
    "UserExists": "errors",
    "UserNotFound": "errors",
    "ValidationFailed": "errors",
    "Permission": "roles",
    "Role": "roles",
    "allows": "roles",
    "Session": "models",
    "UserView": "models",
    "AuthSecrets": "keys",
    "AuthService": "service",
    "RotationReport": "service",
    "open_auth": "service",
}

__all__ = [
    "AdminExists",
    "AuthError",
    "AuthSecrets",
    "AuthService",
    "LastAdmin",
    "LoginFailed",
    "Permission",
    "PermissionDenied",
    "Role",
    "RotationReport",
    "SecretsError",
    "Session",
    "SessionInvalid",
    "StoreError",
    "StoreMissing",
    "StoreUnavailable",
    "UserExists",
    "UserNotFound",
    "UserView",
    "ValidationFailed",
    "allows",
    "open_auth",
]


def __getattr__(name: str) -> Any:
    module = _WHERE.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{module}"), name)
    globals()[name] = value
    return value


if TYPE_CHECKING:  # pragma: no cover - for type checkers and editors
    from heartbeat_tui.auth.errors import (
        AdminExists,
        AuthError,
        LastAdmin,
        LoginFailed,
        PermissionDenied,
        SecretsError,
        SessionInvalid,
        StoreError,
        StoreMissing,
        StoreUnavailable,
        UserExists,
        UserNotFound,
        ValidationFailed,
    )
    from heartbeat_tui.auth.keys import AuthSecrets
    from heartbeat_tui.auth.models import Session, UserView
    from heartbeat_tui.auth.roles import Permission, Role, allows
    from heartbeat_tui.auth.service import AuthService, RotationReport, open_auth
