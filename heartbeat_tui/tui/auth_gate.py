"""The dashboard's door to `heartbeat_tui.auth`: connect, log in, check, log out,
and the session policy (controller/sessions.py), re-exported here.

Plain asyncio (no Textual): `SecureApp` drives it. Every rule is enforced by
`AuthService` (roles, lockout, revocation); this module only keeps the session
of the running dashboard, persists the token like `heartbeat login` does, and
makes sure the collector is asked only for the session's accounts.
"""

from __future__ import annotations

import asyncio
import logging
import os
import secrets
from collections.abc import Awaitable, Callable
from concurrent.futures import Future
from contextlib import AsyncExitStack
from typing import TYPE_CHECKING

from heartbeat_tui.auth import Permission, Session, SessionInvalid
from heartbeat_tui.auth.session_file import TOKEN_ENV, delete_token, load_token, save_token
from heartbeat_tui.config import Config
from heartbeat_tui.controller import ScopedSource
from heartbeat_tui.controller.sessions import SessionPolicy
from heartbeat_tui.errors import HeartbeatError, UsageError
from heartbeat_tui.localfiles import UnsafeLocalFile

if TYPE_CHECKING:
    # The local users store (DynamoDB, the AWS layer, the key material) is imported when
    # a gate opens one: a dashboard on a server (remote_gate.py) never loads it.
    from heartbeat_tui.auth import AuthService

log = logging.getLogger(__name__)

DEMO_ADMIN = "admin"
DEMO_PASSWORD_ENV = "HEARTBEAT_DEMO_PASSWORD"


class AuthGate:
    """One dashboard's connection to the users store and its current session."""

    def __init__(
        self,
        connect: Callable[[AsyncExitStack], Awaitable[AuthService]],
        *,
        check_seconds: float = 300.0,
        remember: bool = True,
        demo: bool = False,
        demo_password: str | None = None,
        stored: bool = True,
    ) -> None:
        self._connect = connect
        self._stack = AsyncExitStack()
        self._service: AuthService | None = None
        self._lock = asyncio.Lock()
        self.check_seconds = check_seconds
        # False in a browser session (`heartbeat web`): the session file and
        # HEARTBEAT_TOKEN are the server's operator's, never a visitor's.
        self.stored = stored
        self.remember = remember and stored
        self.demo = demo
        self._demo_password = demo_password if demo else None

    @classmethod
    def for_config(cls, config: Config, *, stored: bool = True) -> AuthGate:
        """The gate of `heartbeat` (no command): secrets from the environment, checked now.
        `stored=False`: no stored session is read or written (a browser session)."""

        from heartbeat_tui.auth import AuthSecrets

        secrets_ = AuthSecrets.from_config(config)  # SecretsError: start-up stops with one line

        async def connect(stack: AsyncExitStack) -> AuthService:
            from heartbeat_tui.auth.service import open_auth

            return await stack.enter_async_context(open_auth(config, secrets=secrets_))

        return cls(connect, check_seconds=config.file.auth.session_check_seconds, stored=stored)

    @classmethod
    def for_demo(cls, ready: Callable[[], Config], password: str, made: Future[str] | None = None) -> AuthGate:
        """The demo's gate: random in-memory secrets on the embedded AWS and the demo
        admin (`admin`, `password`), whose credentials the login screen shows in demo
        mode only; no session file is written (it would outlive the secrets).
        `made`: the password's hash, made ahead while the embedded AWS starts."""

        async def connect(stack: AsyncExitStack) -> AuthService:
            from heartbeat_tui.auth import AuthSecrets
            from heartbeat_tui.auth.passwords import PrehashedHasher
            from heartbeat_tui.auth.service import open_auth

            config = await asyncio.to_thread(ready)
            iterations = config.file.auth.pbkdf2_iterations
            hasher = PrehashedHasher(iterations, password, made) if made is not None else None
            auth = await stack.enter_async_context(open_auth(config, secrets=AuthSecrets.generate(), hasher=hasher))
            await auth.store.ensure_tables()
            if await auth.store.get(DEMO_ADMIN) is None:
                await auth.bootstrap_admin(DEMO_ADMIN, password)
            return auth

        return cls(connect, remember=False, demo=True, demo_password=password)

    @property
    def demo_hint(self) -> str:
        """What the login screen shows in demo mode (and only there)."""

        if not self.demo or self._demo_password is None:
            return ""
        return f"Demo username: {DEMO_ADMIN}\nDemo password: {self._demo_password}"

    async def service(self) -> AuthService:
        async with self._lock:
            if self._service is None:
                self._service = await self._connect(self._stack)
            return self._service

    async def aclose(self) -> None:
        await self._stack.aclose()
        self._service = None

    async def resume(self) -> Session | None:
        """The session to start with: the demo's admin, or a stored token that still
        checks out. None: ask for a login. `SessionInvalid`: a stored token was
        refused (the reason is shown on the login screen)."""

        auth = await self.service()  # the store is reachable (the demo admin exists)
        if self.demo or not self.stored:
            return None
        stored = load_token()
        if stored is None or stored.server is not None:  # a server's session is for that server only
            return None
        return await auth.check(stored.token)

    async def login(self, username: str, password: str) -> Session:
        auth = await self.service()
        session = await auth.login(username, password)
        if self.remember:
            try:
                await asyncio.to_thread(save_token, session.token)
            except (OSError, UnsafeLocalFile) as exc:  # logged in all the same, for this run
                log.warning("session not kept on disk: %s", exc)
        return session

    async def check(self, session: Session) -> Session:
        return await (await self.service()).check(session.token)

    async def authorize(self, session: Session, permission: Permission) -> Session:
        return await (await self.service()).authorize(session, permission)

    async def logout(self, session: Session | None) -> None:
        if session is not None:
            try:
                await (await self.service()).logout(session.token)
            except Exception as exc:  # the local session ends anyway
                log.warning("logout could not revoke the session: %s", exc)
        if self.remember:
            stored = load_token_quietly()
            if stored is not None and stored[1] != TOKEN_ENV:
                await asyncio.to_thread(delete_token)


def load_token_quietly() -> tuple[str, str] | None:
    try:
        stored = load_token()
    except SessionInvalid:
        return None
    return (stored.token, stored.source) if stored else None


def demo_password() -> str:
    """`$HEARTBEAT_DEMO_PASSWORD` when set (it must pass the password rules),
    otherwise made up at random."""

    from heartbeat_tui.auth.validation import validate_password

    chosen = os.environ.get(DEMO_PASSWORD_ENV)
    if not chosen:
        return secrets.token_urlsafe(12)
    try:
        validate_password(chosen, DEMO_ADMIN)
    except HeartbeatError as exc:  # one line, exit 2
        raise UsageError(f"{DEMO_PASSWORD_ENV}: {str(exc).removeprefix('password: ')}") from None
    return chosen


__all__ = ["DEMO_ADMIN", "DEMO_PASSWORD_ENV", "AuthGate", "ScopedSource", "SessionPolicy", "demo_password"]
