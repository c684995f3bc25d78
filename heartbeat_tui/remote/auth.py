"""`RemoteAuth`: the part of `AuthService` the dashboard uses, answered by a server.

The login screen, the session checks and the user administration screen call
the same methods on it as on the local `AuthService`; every rule (lockout,
roles, the last-admin guard, validation) is the server's, which runs the
very same `AuthService`. Its refusals come back as the same errors.
"""

from __future__ import annotations

from typing import Any

from heartbeat_tui.auth import Permission, PermissionDenied, Session, UserView
from heartbeat_tui.remote.client import RemoteClient


def session_of(data: dict[str, Any], token: str) -> Session:
    """`/api/v1/auth/me` (whoami's JSON) as a `Session` holding `token`."""

    from heartbeat_tui.auth import Role
    from heartbeat_tui.remote.client import parse_time

    return Session(
        username=str(data["username"]),
        role=Role(data["role"]),
        accounts=tuple(data.get("accounts") or ()),
        jti="",
        issued_at=parse_time(data.get("issued_at")) or 0.0,
        expires_at=parse_time(data.get("expires_at")) or 0.0,
        token=token,
    )


def user_of(data: dict[str, Any]) -> UserView:
    """A user of `/api/v1/users` (`users list --format json`'s shape) as a `UserView`.

    Field by field from `UserView` itself, so a field added there (and to the
    JSON) comes across without a change here: times are ISO 8601, `role` a
    role name, `accounts` a list."""

    from dataclasses import fields

    from heartbeat_tui.auth import Role
    from heartbeat_tui.remote.client import parse_time

    values: dict[str, Any] = {}
    for field in fields(UserView):
        value = data.get(field.name)
        if field.name == "role":
            value = Role(value)
        elif field.name == "accounts":
            value = tuple(value) if isinstance(value, list) else ()
        elif field.name.endswith(("_at", "_until")):
            value = parse_time(value)
        elif field.name == "failed_attempts":
            value = int(value or 0)
        elif field.name in ("active", "locked"):
            value = bool(value)
        values[field.name] = value
    return UserView(**values)


class RemoteAuth:
    """The dashboard's users store, over the API (see the module docstring)."""

    def __init__(self, client: RemoteClient) -> None:
        self.client = client

    def _as(self, session: Session) -> RemoteClient:
        self.client.token = session.token
        return self.client

    async def login(self, username: str, password: str) -> Session:
        data = await self.client.login(username, password)
        return await self.check(data["token"])

    async def check(self, token: str) -> Session:
        self.client.token = token
        return session_of(await self.client.me(), token)

    async def logout(self, token: str) -> str | None:
        self.client.token = token
        data = await self.client.json("POST", "/api/v1/auth/logout")
        return data.get("username") if isinstance(data, dict) else None

    async def authorize(self, session: Session, permission: Permission) -> Session:
        fresh = await self.check(session.token)
        if not fresh.can(permission):
            raise PermissionDenied(f"the {fresh.role.value} role does not allow this")
        return fresh

    async def authorize_refresh(self, session: Session) -> Session:
        # The server checks it again when asked for the poll (POST /api/v1/refresh).
        return await self.authorize(session, Permission.FORCE_REFRESH)

    async def list_users(self, session: Session) -> list[UserView]:
        return [user_of(u) for u in await self._as(session).users()]

    async def create_user(self, session: Session, **fields: Any) -> UserView:
        body = {key: value for key, value in fields.items() if value is not None}
        if isinstance(body.get("accounts"), (tuple, frozenset, set)):
            body["accounts"] = list(body["accounts"])
        return user_of(await self._as(session).user_call("POST", None, None, body))

    async def set_active(self, session: Session, username: str, active: bool) -> UserView:
        return user_of(await self._as(session).user_call("POST", username, "enable" if active else "disable"))

    async def unlock(self, session: Session, username: str) -> UserView:
        return user_of(await self._as(session).user_call("POST", username, "unlock"))

    async def set_role(self, session: Session, username: str, role: Any) -> UserView:
        return user_of(await self._as(session).user_call("POST", username, "role", {"role": str(role)}))

    async def set_accounts(self, session: Session, username: str, accounts: Any) -> UserView:
        value = accounts if isinstance(accounts, str) else list(accounts)
        return user_of(await self._as(session).user_call("POST", username, "accounts", {"accounts": value}))

    async def reset_password(self, session: Session, username: str, password: str) -> UserView:
        return user_of(await self._as(session).user_call("POST", username, "password", {"password": password}))

    async def update_profile(self, session: Session, username: str, **fields: Any) -> UserView:
        body = {key: value for key, value in fields.items() if isinstance(value, str) or value is None}
        return user_of(await self._as(session).user_call("PATCH", username, None, body))
