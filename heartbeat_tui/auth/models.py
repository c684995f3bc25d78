"""What the auth core hands out: a verified `Session` and a `UserView`.

No I/O and no AWS here, so screens can import these types without reaching
the store (the import contracts in pyproject.toml keep it that way).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from heartbeat_tui.auth.roles import Permission, Role, allows


@dataclass(frozen=True)
class Session:
    """A verified session. Only `AuthService` makes them; it re-checks them before any action."""

    username: str
    role: Role
    accounts: tuple[str, ...]
    jti: str
    issued_at: float
    expires_at: float
    token: str = field(repr=False, compare=False)

    def can(self, permission: Permission) -> bool:
        return allows(self.role, permission)

    @property
    def account_scope(self) -> frozenset[str] | None:
        """The account ids this session may see; None means every account."""

        return None if self.can(Permission.VIEW_ALL_ACCOUNTS) else frozenset(self.accounts)

    def may_see(self, account_id: str) -> bool:
        scope = self.account_scope
        return scope is None or account_id in scope


@dataclass(frozen=True)
class UserView:
    """A user as an admin sees it: personal fields decrypted, no password hash."""

    username: str
    role: Role
    active: bool
    locked: bool
    locked_until: float | None
    failed_attempts: int
    last_login_at: float | None
    accounts: tuple[str, ...]
    email: str | None
    full_name: str | None
    created_at: float | None
    created_by: str | None
    legacy: bool = False  # still (partly) as the original HeartBeat wrote it
