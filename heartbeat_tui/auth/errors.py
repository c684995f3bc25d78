"""Errors of the auth layer. Each one is a single line for the operator and an exit code.

The wording never depends on whether a user exists: a failed login always
reads `LOGIN_FAILED`.
"""

from __future__ import annotations

from collections.abc import Mapping

from heartbeat_tui.errors import EXIT_AUTH, EXIT_FORBIDDEN, EXIT_PARTIAL, EXIT_UNAVAILABLE, EXIT_USAGE, HeartbeatError

LOGIN_FAILED = "invalid username or password"


class AuthError(HeartbeatError):
    """No valid session: a failed login or a refused token (exit code 3)."""

    exit_code = EXIT_AUTH


class LoginFailed(AuthError):
    """The one message for an unknown user, a wrong password, a locked or a disabled user."""

    def __init__(self) -> None:
        super().__init__(LOGIN_FAILED)


class SessionInvalid(AuthError):
    """A missing, tampered, expired, revoked or foreign token, or a user who changed."""

    def __init__(self, reason: str) -> None:
        self.reason = reason
        super().__init__(reason)


class PermissionDenied(HeartbeatError):
    """A valid session whose role does not allow the action (exit code 4)."""

    exit_code = EXIT_FORBIDDEN


class ValidationFailed(HeartbeatError):
    """Bad input. `errors` maps each field to its message (for forms); `str()` names them all."""

    exit_code = EXIT_USAGE

    def __init__(self, errors: Mapping[str, str]) -> None:
        if not errors:
            raise ValueError("ValidationFailed needs at least one error")
        self.errors = dict(errors)
        # Every problem, on the one line: fixing one at a time costs a round trip each.
        super().__init__("; ".join(f"{field}: {message}" for field, message in self.errors.items()))

    @classmethod
    def one(cls, field: str, message: str) -> ValidationFailed:
        return cls({field: message})


class UserExists(HeartbeatError):
    exit_code = EXIT_USAGE

    def __init__(self, username: str) -> None:
        self.username = username
        super().__init__(f"user {username!r} already exists (nothing was changed)")


class UserNotFound(HeartbeatError):
    exit_code = EXIT_USAGE

    def __init__(self, username: str) -> None:
        self.username = username
        super().__init__(f"no user {username!r}")


class AdminExists(HeartbeatError):
    exit_code = EXIT_USAGE

    def __init__(self) -> None:
        super().__init__(
            "an active admin already exists: nothing was changed (an admin creates users with `heartbeat users create`)"
        )


class LastAdmin(HeartbeatError):
    exit_code = EXIT_USAGE

    def __init__(self, username: str) -> None:
        super().__init__(f"{username!r} is the last active admin; make another admin first (nothing was changed)")


class SecretsError(HeartbeatError):
    """JWT_SECRET / ENCRYPTION_KEY missing or too weak: start-up stops (exit code 2)."""

    exit_code = EXIT_USAGE


class StoreError(HeartbeatError):
    """The users store failed (unreachable, throttled, ...): exit code 1."""

    exit_code = EXIT_PARTIAL


class StoreUnavailable(StoreError):
    """The users store cannot be reached or answers with a server error, throttling or
    a timeout: nothing was decided, try again when it is back (exit code 75)."""

    exit_code = EXIT_UNAVAILABLE


class StoreMissing(StoreError):
    """A table does not exist yet: `heartbeat init` creates it (exit code 2)."""

    exit_code = EXIT_USAGE


class ConcurrentUpdate(StoreError):
    """The record kept changing under us; nothing was overwritten."""
