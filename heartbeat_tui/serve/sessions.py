"""Who is asking: the Bearer token, checked by the users store, kept a few seconds.

`AuthService.check` asks DynamoDB twice (the user, the revocation). A client
that is up to date asks once a poll or more often, so a verified session is
kept `SESSION_CACHE_SECONDS` on this server, and clients sharing a token wait
for one check rather than each making their own. A token in use is checked
again in the background once its session is `SESSION_RECHECK_SECONDS` old, so
its clients do not all wait for the store each time the cache runs out (under
a poll, the store's round trips were the slowest part of a 304).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Any

from aiohttp import web

from heartbeat_tui.auth.service import AuthService, Session
from heartbeat_tui.serve.errors import UNAUTHORIZED, ApiError

# A token the users store verified is trusted this long on this server (an up-to-date
# client's 304 is then one dictionary lookup, not two DynamoDB round trips). A logout
# or any user administration through this server forgets every entry at once; a
# revocation made elsewhere (the CLI, another server) holds within this bound. The
# dashboard re-checks its session every [auth].session_check_seconds (300 s by default).
SESSION_CACHE_SECONDS = 5.0
SESSION_CACHE_ENTRIES = 10_000
# A kept session this old is still answered from the cache, and checked again meanwhile.
SESSION_RECHECK_SECONDS = 4.0
USERNAME: web.RequestKey[str] = web.RequestKey("username", str)  # who asked, once known (the access log)


def bearer_token(request: web.Request) -> str:
    """The request's Bearer token (401 without one)."""

    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token:
        raise ApiError(401, "unauthorized", UNAUTHORIZED)
    return token


def _retrieved(task: asyncio.Task[Any]) -> None:
    """A failed check whose every waiter went away is not an "exception never retrieved"."""

    if not task.cancelled():
        task.exception()


class SessionCache:
    """Sessions the users store verified in the last `SESSION_CACHE_SECONDS`, by token."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self.clock = clock
        self._verified: dict[str, tuple[float, Session]] = {}
        self.epoch = 0  # one more at each `forget_all`: a check begun before it is not kept

    def get(self, token: str) -> Session | None:
        found = self.get_aged(token)
        return None if found is None else found[0]

    def get_aged(self, token: str) -> tuple[Session, float] | None:
        """The kept session of `token` and the seconds since the store verified it."""

        found = self._verified.get(token)
        if found is None:
            return None
        checked_at, session = found
        age = self.clock() - checked_at
        if age > SESSION_CACHE_SECONDS or session.expires_at <= time.time():  # the tokens' own clock
            del self._verified[token]
            return None
        return session, age

    def drop(self, token: str) -> None:
        self._verified.pop(token, None)

    def put(self, token: str, session: Session, epoch: int) -> None:
        if epoch != self.epoch:
            return
        if len(self._verified) >= SESSION_CACHE_ENTRIES:
            self._verified.clear()
        self._verified[token] = (self.clock(), session)

    def forget_all(self) -> None:
        self._verified.clear()
        self.epoch += 1


class Sessions:
    """The session of each request, through the cache and one check per token at a time."""

    def __init__(self, auth: AuthService, clock: Callable[[], float] = time.monotonic) -> None:
        self.auth = auth
        self.cache = SessionCache(clock)
        self._checking: dict[str, asyncio.Task[Session]] = {}

    async def of(self, request: web.Request) -> Session:
        """The request's session, verified by the store at most `SESSION_CACHE_SECONDS` ago (401 otherwise)."""

        token = bearer_token(request)
        kept = self.cache.get_aged(token)
        if kept is None:
            # One store check per token at a time: clients sharing a token (a wall of
            # displays, a script's workers) woken by the same poll wait for the same answer.
            session = await asyncio.shield(self._checking.get(token) or self._start_check(token))
        else:
            session, age = kept
            if age > SESSION_RECHECK_SECONDS and token not in self._checking:
                self._start_check(token)  # still within the bound: answered now, checked for the next ones
        request[USERNAME] = session.username
        return session

    def _start_check(self, token: str) -> asyncio.Task[Session]:
        checking = asyncio.get_running_loop().create_task(self._check(token))
        checking.add_done_callback(_retrieved)
        self._checking[token] = checking
        return checking

    async def _check(self, token: str) -> Session:
        epoch = self.cache.epoch
        try:
            session = await self.auth.check(token)
        except BaseException:
            self.cache.drop(token)  # a background check that failed: the next request asks, and is told
            raise
        else:
            self.cache.put(token, session, epoch)
            return session
        finally:
            del self._checking[token]

    async def settled(self) -> None:
        """Return once no store check is in flight (tests: a background check has ended)."""

        while self._checking:
            await asyncio.gather(*self._checking.values(), return_exceptions=True)

    def forget_all(self) -> None:
        """A logout or user administration happened here: every session is checked again."""

        self.cache.forget_all()
