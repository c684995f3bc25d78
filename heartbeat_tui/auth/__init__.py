"""Users, logins, sessions and roles. Plain async Python: no Textual here.

The TUI and the CLI reach the users store only through `AuthService`
(`open_auth(config)`), which checks the caller's session and role on every
operation that needs one.
"""

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
    UserExists,
    UserNotFound,
    ValidationFailed,
)
from heartbeat_tui.auth.keys import AuthSecrets
from heartbeat_tui.auth.roles import Permission, Role, allows
from heartbeat_tui.auth.service import AuthService, RotationReport, Session, UserView, open_auth

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
    "UserExists",
    "UserNotFound",
    "UserView",
    "ValidationFailed",
    "allows",
    "open_auth",
]
