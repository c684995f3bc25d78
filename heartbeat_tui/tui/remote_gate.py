"""The dashboard's door when it watches a shared `heartbeat serve` (`--server`).

The same `AuthGate` the local dashboard has, with the server as its users
store (`remote.auth.RemoteAuth`): the login screen, the session checks and
user administration go to the server. The session is kept in the session file
with the server's URL (never offered to another server), and the token is
handed to the `RemoteSource` so its polls are the session's.

A server that cannot be reached does not end the session shown (as an
unreachable local users store would): the dashboard keeps the last poll,
stale, which that session was already allowed to see, and nothing new can
arrive until the server answers again, and checks the session there. It ends
when its token expires all the same.
"""

from __future__ import annotations

import asyncio
import logging
import time
from contextlib import AsyncExitStack
from typing import TYPE_CHECKING, cast

from heartbeat_tui.auth import Session, SessionInvalid
from heartbeat_tui.auth.session_file import TOKEN_ENV, delete_token, load_token, save_token
from heartbeat_tui.localfiles import UnsafeLocalFile
from heartbeat_tui.remote.auth import RemoteAuth
from heartbeat_tui.remote.client import RemoteClient, ServerUnavailable
from heartbeat_tui.tui.auth_gate import AuthGate

if TYPE_CHECKING:
    from heartbeat_tui.auth import AuthService

log = logging.getLogger(__name__)


class RemoteGate(AuthGate):
    """An `AuthGate` whose users store is a HeartBeat server."""

    def __init__(
        self,
        url: str,
        source_client: RemoteClient,
        *,
        check_seconds: float = 300.0,
        stored: bool = True,
        forwarded_for: str | None = None,
    ) -> None:
        self.url = url
        self.source_client = source_client
        self.remote = RemoteAuth(RemoteClient(url, forwarded_for=forwarded_for))

        async def connect(stack: AsyncExitStack) -> AuthService:
            stack.push_async_callback(self.remote.client.aclose)
            return cast("AuthService", self.remote)  # the methods the dashboard calls (remote/auth.py)

        # stored=False (a browser session): the session file and HEARTBEAT_TOKEN are never used.
        super().__init__(connect, check_seconds=check_seconds, stored=stored)

    def _hand_on(self, session: Session) -> Session:
        self.source_client.token = session.token
        return session

    async def resume(self) -> Session | None:
        if not self.stored:
            return None
        stored = load_token()
        if stored is None or (stored.server != self.url and stored.source != TOKEN_ENV):
            return None
        return self._hand_on(await self.remote.check(stored.token))

    async def login(self, username: str, password: str) -> Session:
        await self.service()
        session = self._hand_on(await self.remote.login(username, password))
        if not self.remember:
            return session
        try:
            await asyncio.to_thread(save_token, session.token, server=self.url)
        except (OSError, UnsafeLocalFile) as exc:  # logged in all the same, for this run
            log.warning("session not kept on disk: %s", exc)
        return session

    async def check(self, session: Session) -> Session:
        try:
            return self._hand_on(await self.remote.check(session.token))
        except ServerUnavailable as exc:
            if session.expires_at <= time.time():
                raise SessionInvalid("the session has expired; log in again") from None
            log.info("session of %s not re-checked, the server is away: %s", session.username, exc)
            return session

    async def logout(self, session: Session | None) -> None:
        if session is not None:
            try:
                await self.remote.logout(session.token)
            except Exception as exc:  # the local session ends anyway
                log.warning("logout could not revoke the session: %s", exc)
        self.source_client.token = None
        if not self.remember:
            return
        stored = load_token()
        if stored is not None and stored.source != TOKEN_ENV and stored.server == self.url:
            await asyncio.to_thread(delete_token)
