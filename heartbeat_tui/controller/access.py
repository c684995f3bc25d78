"""Who may see and do what: the policy the controller is given.

The plain dashboard is open (every account, every action). The dashboard
behind a login is given a session's policy (`tui/auth_gate.SessionPolicy`):
its accounts only, and admin actions checked again by the users store.
"""

from __future__ import annotations

from typing import Literal, Protocol

from heartbeat_tui.errors import HeartbeatError

Action = Literal["refresh", "admin", "logout"]


class Refused(HeartbeatError):
    """The policy refused an action; the message says why (shown to the operator)."""


class AccessPolicy(Protocol):
    @property
    def active(self) -> bool:
        """May anything of the fleet be polled and shown now (a session is on)?"""

    @property
    def scope(self) -> frozenset[str] | None:
        """The accounts that may be polled and shown; None: all."""

    def permits(self, action: Action) -> bool:
        """The quick check that hides or shows an action (keys, footer, palette)."""

    async def authorize(self, action: Action) -> None:
        """The real check, made before the action runs; raises `Refused` (or ends the session)."""


class OpenPolicy:
    """The dashboard without a login: every account, and a refresh, to whoever runs it
    (no users store, so no user administration and nothing to log out of)."""

    active = True
    scope: frozenset[str] | None = None

    def permits(self, action: Action) -> bool:
        return action == "refresh"

    async def authorize(self, action: Action) -> None:
        if not self.permits(action):
            raise Refused(f"{action}: not available without a login")


OPEN = OpenPolicy()
