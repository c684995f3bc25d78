"""`RemoteClient`: the HTTP API of `heartbeat serve`, as the engine's own errors.

Every answer other than success becomes the `HeartbeatError` a local command
would have raised, so `--server` ends with the same line and exit code as the
local command: 401 is no valid session (3), 403 a role that does not allow it
(4), 503 or a server that cannot be reached is "try again later" (75), bad
input (400, 404, 409, 413, 422) is 2. The server's one-line `error` is shown
as it is (it is our own server's wording, escaped when printed).

The token is sent in an `Authorization` header only, never in a URL, and is
bound to the server it came from (`auth.session_file`). HTTP is `remote/http.py`
(the standard library's streams and TLS: a browser session never loads aiohttp).
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Mapping
from datetime import datetime
from typing import Any
from urllib.parse import quote

from heartbeat_tui import __version__
from heartbeat_tui.auth.errors import LoginFailed, PermissionDenied, SessionInvalid
from heartbeat_tui.errors import EXIT_INTERNAL, EXIT_UNAVAILABLE, EXIT_USAGE, HeartbeatError, UsageError
from heartbeat_tui.fleetwire import MEDIA_TYPE_DETAIL, MEDIA_TYPE_FLEET, FleetMemo, decode_detail, decode_fleet
from heartbeat_tui.models import FleetSnapshot, LogBatch, LogQuery, ServiceDetail
from heartbeat_tui.remote.http import HttpClient, ProtocolError

log = logging.getLogger(__name__)

API = "/api/v1"
MAX_WAIT_SECONDS = 60
CONNECT_SECONDS = 5.0
READ_SECONDS = 30.0  # a plain request; a long-poll adds its wait


class ServerUnavailable(HeartbeatError):
    """The server cannot be reached, or answered 503 (starting, its users store down): try again later."""

    exit_code = EXIT_UNAVAILABLE


class ServerRefused(HeartbeatError):
    """Bad input the server refused (400, 404, 409, 413, 422): the same exit code as the local command's."""

    exit_code = EXIT_USAGE

    def __init__(self, message: str, status: int, code: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code


class ServerError(HeartbeatError):
    """The server failed (500) or answered something that is not HeartBeat's API."""

    exit_code = EXIT_INTERNAL


def _message(body: bytes, status: int) -> tuple[str, str]:
    try:
        data = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        data = None
    if isinstance(data, dict) and isinstance(data.get("error"), str):
        return data["error"], str(data.get("code") or "")
    return f"HTTP {status}", ""


def error_for(status: int, body: bytes, *, login: bool = False) -> HeartbeatError:
    """The engine's error for one refused answer (see the module docstring)."""

    message, code = _message(body, status)
    if status == 401:
        return LoginFailed() if login else SessionInvalid(f"the server refused the session: {message}")
    if status == 403:
        return PermissionDenied(message)
    if status == 503:
        return ServerUnavailable(f"the HeartBeat server cannot answer now: {message}")
    if status in (400, 404, 409, 413, 422):
        return ServerRefused(message, status, code)
    return ServerError(f"the HeartBeat server failed: {message} (HTTP {status})")


class RemoteClient:
    """One server's API; `token` is sent with every call that needs a session."""

    def __init__(
        self,
        base_url: str,
        token: str | None = None,
        *,
        connect_seconds: float = CONNECT_SECONDS,
        forwarded_for: str | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.token = token
        # A browser session's client (`heartbeat web`): the server trusts it only from a configured proxy.
        self.forwarded_for = forwarded_for
        self._connect_seconds = connect_seconds
        self._http: HttpClient | None = None
        self._fleet_memo = FleetMemo()  # the last fleet decode: the next reuses what is unchanged

    async def __aenter__(self) -> RemoteClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        if self._http is not None:
            await self._http.aclose()
            self._http = None

    def _client(self) -> HttpClient:
        if self._http is None or self._http.closed:
            # No cookies, no proxy from the environment, no redirects: only what we send.
            headers = {"User-Agent": f"heartbeat/{__version__}"}
            if self.forwarded_for:
                headers["X-Forwarded-For"] = self.forwarded_for
            self._http = HttpClient(self.base_url, headers=headers, connect_seconds=self._connect_seconds)
        return self._http

    async def request(
        self,
        method: str,
        path: str,
        *,
        body: Mapping[str, Any] | None = None,
        params: Mapping[str, str] | None = None,
        headers: Mapping[str, str] | None = None,
        wait: float = 0.0,
        login: bool = False,
        ok: tuple[int, ...] = (200,),
    ) -> tuple[int, Mapping[str, str], bytes]:
        """One call: (status, headers, body) for a status in `ok`, the engine's error otherwise."""

        sent = dict(headers or {})
        if self.token and not login:
            sent["Authorization"] = f"Bearer {self.token}"
        payload = None
        if body is not None:
            payload = json.dumps(body).encode()
            sent["Content-Type"] = "application/json"
        try:
            answer = await self._client().request(
                method, path, query=params, headers=sent, body=payload, timeout=READ_SECONDS + wait
            )
        except TimeoutError:
            raise ServerUnavailable(f"the HeartBeat server at {self.base_url} did not answer in time") from None
        except OSError as exc:  # refused, reset, no route, a certificate that does not verify
            reason = exc.strerror if isinstance(exc.strerror, str) and exc.strerror else exc
            raise ServerUnavailable(f"cannot reach the HeartBeat server at {self.base_url}: {reason}") from None
        except ProtocolError as exc:
            raise ServerError(f"the server at {self.base_url} did not answer HeartBeat's API: {exc}") from None
        except ValueError as exc:  # a header that cannot be sent (a line break in it): nothing was sent
            raise UsageError(f"cannot call the HeartBeat server at {self.base_url}: {exc}") from None
        if answer.status not in ok:
            raise error_for(answer.status, answer.body, login=login)
        return answer.status, answer.headers, answer.body

    async def json(self, method: str, path: str, **kwargs: Any) -> Any:
        _, _, data = await self.request(method, path, **kwargs)
        try:
            return json.loads(data) if data else None
        except ValueError:
            raise ServerError(f"the server at {self.base_url} did not answer HeartBeat's API (not JSON)") from None

    # -- sessions ------------------------------------------------------------------------

    async def login(self, username: str, password: str) -> dict[str, Any]:
        data = await self.json(
            "POST", f"{API}/auth/login", body={"username": username, "password": password}, login=True
        )
        if not isinstance(data, dict) or not isinstance(data.get("token"), str):
            raise ServerError(f"the server at {self.base_url} did not answer a login with a token")
        self.token = data["token"]
        return data

    async def logout(self) -> None:
        await self.request("POST", f"{API}/auth/logout", ok=(200, 204))

    async def me(self) -> dict[str, Any]:
        data = await self.json("GET", f"{API}/auth/me")
        if not isinstance(data, dict):
            raise ServerError(f"the server at {self.base_url} did not answer who the session is")
        return data

    # -- the fleet -----------------------------------------------------------------------

    async def fleet(self, etag: str | None = None, wait: float = 0.0) -> tuple[FleetSnapshot | None, str | None]:
        """The scoped snapshot and its ETag; (None, etag) when the server has nothing newer
        than `etag` (a 304, after waiting up to `wait` seconds for a new poll)."""

        headers = {"Accept": MEDIA_TYPE_FLEET, "Accept-Encoding": "gzip"}
        params: dict[str, str] = {}
        if etag is not None:
            headers["If-None-Match"] = etag
            if wait > 0:
                params["wait"] = f"{min(wait, MAX_WAIT_SECONDS):g}"
        status, answer, data = await self.request(
            "GET", f"{API}/fleet", headers=headers, params=params, wait=wait, ok=(200, 304)
        )
        if status == 304:
            return None, etag
        snapshot = await asyncio.to_thread(decode_fleet, data, self._fleet_memo)  # unchanged objects reused
        return snapshot, answer.get("ETag")

    async def detail(
        self, account_id: str, region: str, cluster: str, service: str, *, tasks: bool = True
    ) -> ServiceDetail:
        parts = ("accounts", account_id, "regions", region, "clusters", cluster, "services", service)
        path = API + "".join(f"/{_seg(part)}" for part in parts)
        _, _, data = await self.request(
            "GET", path, params={"tasks": "1"} if tasks else None, headers={"Accept": MEDIA_TYPE_DETAIL}
        )
        return await asyncio.to_thread(decode_detail, data)

    async def logs(self, query: LogQuery) -> LogBatch:
        """A service's (or one task's) log lines, read by the server as the local logs screen reads them."""

        cluster = query.cluster_arn.split(":cluster/", 1)[-1]
        parts = ("accounts", query.account_id, "regions", query.region, "clusters", cluster, "services")
        path = API + "".join(f"/{_seg(part)}" for part in (*parts, query.service_name)) + "/logs"
        params = {"start": query.start.isoformat()}
        if query.end is not None:
            params["end"] = query.end.isoformat()
        if query.task_id is not None:
            params["task"] = query.task_id
        if query.container is not None:
            params["container"] = query.container
        _, _, data = await self.request("GET", path, params=params)
        return LogBatch.model_validate_json(data)

    async def refresh(self) -> Any:
        return await self.json("POST", f"{API}/refresh", ok=(200, 202))

    # -- users ---------------------------------------------------------------------------

    async def users(self) -> list[dict[str, Any]]:
        data = await self.json("GET", f"{API}/users")
        if isinstance(data, dict):
            data = data.get("users")
        if not isinstance(data, list):
            raise ServerError(f"the server at {self.base_url} did not answer a list of users")
        return data

    async def user_call(self, method: str, username: str | None, action: str | None, body: Any = None) -> Any:
        path = f"{API}/users"
        if username is not None:
            path += f"/{_seg(username)}"
        if action:
            path += f"/{action}"
        return await self.json(method, path, body=body, ok=(200, 201, 204))


def _seg(value: str) -> str:
    """One path segment, escaped: a name with a slash stays one segment."""

    return quote(value, safe="")


def parse_time(value: Any) -> float | None:
    """An API time (ISO 8601 or epoch seconds) as epoch seconds."""

    if value is None:
        return None
    if isinstance(value, (int, float)):
        return float(value)
    if isinstance(value, str):
        try:
            return datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()
        except ValueError:
            return None
    return None
