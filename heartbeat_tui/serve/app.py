"""The HTTP API of `heartbeat serve` (aiohttp's server): `build_app(hub, auth, config)`.

Every answer goes through the same rules as the CLI: the token is checked
against the users store on each request (signature, expiry, revocation, user
and role unchanged) by the existing `AuthService`, a `user` sees only its
allow-list, and the JSON of `/api/v1/snapshot` is `heartbeat snapshot --format
json`'s, byte for byte, built by export.py. Fleet-wide answers are built once
per poll per scope (the hub's cache); ETag, If-None-Match and `?wait=` make a
client that is up to date cost one 304 per poll.
"""

from __future__ import annotations

import asyncio
import math
import time
from collections.abc import Callable
from datetime import datetime, timezone
from typing import Any

import orjson
from aiohttp import web
from pydantic import BaseModel, ConfigDict, StrictStr, ValidationError

from heartbeat_tui.auth.errors import LOGIN_FAILED, LoginFailed
from heartbeat_tui.auth.service import AuthService, Session
from heartbeat_tui.config import Config
from heartbeat_tui.controller import scoped
from heartbeat_tui.export import Filters, service_dict, to_json
from heartbeat_tui.fleetwire import MEDIA_TYPE_DETAIL, MEDIA_TYPE_FLEET, encode_detail, encode_fleet
from heartbeat_tui.models import FleetSnapshot
from heartbeat_tui.serve.errors import (
    UNAUTHORIZED,
    ApiError,
    bad_request,
    error_response,
    invalid,
    json_errors,
    json_response,
    not_found,
)
from heartbeat_tui.serve.hub import Body, Hub
from heartbeat_tui.serve.metrics import metrics_handler

MAX_BODY_BYTES = 64 * 1024
MAX_WAIT_SECONDS = 60.0
# Logins hashing at once: a flood of attempts waits its turn instead of taking
# every core from the poller (each costs a PBKDF2 run; the lockout is per user).
MAX_CONCURRENT_LOGINS = 2
# A token the users store verified is trusted this long on this server (an up-to-date
# client's 304 is then one dictionary lookup, not two DynamoDB round trips). A logout
# or any user administration through this server forgets every entry at once; a
# revocation made elsewhere (the CLI, another server) holds within this bound. The
# dashboard re-checks its session every [auth].session_check_seconds (300 s by default).
SESSION_CACHE_SECONDS = 5.0
SESSION_CACHE_ENTRIES = 10_000
JSON = "application/json"

HUB: web.AppKey[Hub] = web.AppKey("hub", Hub)
AUTH: web.AppKey[AuthService] = web.AppKey("auth", AuthService)
USERNAME: web.RequestKey[str] = web.RequestKey("username", str)  # who asked, once known (the access log)


class Strict(BaseModel):
    """A request body: exactly these fields (an unknown one is refused), strings as strings."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class NoBody(Strict):
    pass


class LoginBody(Strict):
    username: StrictStr
    password: StrictStr


def iso(timestamp: float | None) -> str | None:
    """Epoch seconds as the CLI's JSON writes them (whole seconds, UTC, `Z`)."""

    if timestamp is None:
        return None
    return datetime.fromtimestamp(timestamp, timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


async def read_body(request: web.Request, model: type[Strict]) -> Any:
    """The JSON body as `model`: 413 over the cap, 400 if not a JSON object, 422 for an
    unknown, missing or mistyped field (the message names the field, never its value:
    a password may be in it)."""

    if request.content_length is not None and request.content_length > MAX_BODY_BYTES:
        raise ApiError(413, "too_large", "the request body is over the 64 KiB limit")
    raw = await request.read()  # aiohttp's client_max_size caps a body sent without a length
    try:
        data = orjson.loads(raw) if raw.strip() else {}
    except orjson.JSONDecodeError:
        raise bad_request("the request body is not JSON") from None
    if not isinstance(data, dict):
        raise bad_request("the request body is not a JSON object")
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        first = exc.errors(include_input=False)[0]
        where = ".".join(str(part) for part in first["loc"]) or "body"
        if first["type"] == "extra_forbidden":
            raise invalid(f"unknown field {where!r}") from None
        if first["type"] == "missing":
            raise invalid(f"missing field {where!r}") from None
        raise invalid(f"field {where!r}: {first['msg']}") from None


def query(request: web.Request, allowed: frozenset[str]) -> dict[str, str]:
    """The query parameters, each at most once and each one of `allowed` (400 otherwise)."""

    found: dict[str, str] = {}
    for name, value in request.query.items():
        if name not in allowed:
            raise bad_request(f"unknown query parameter {name!r}")
        if name in found:
            raise bad_request(f"query parameter {name!r} given twice")
        found[name] = value
    return found


def wait_seconds(params: dict[str, str]) -> float:
    text = params.get("wait")
    if text is None:
        return 0.0
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not 0 <= value <= MAX_WAIT_SECONDS:
        raise bad_request(f"wait must be a number of seconds from 0 to {MAX_WAIT_SECONDS:g}")
    return value


def etag_matches(request: web.Request, etag: str) -> bool:
    header = request.headers.get("If-None-Match")
    if not header:
        return False
    tags = {tag.strip().removeprefix("W/") for tag in header.split(",")}
    return "*" in tags or etag in tags


def accepts_gzip(request: web.Request) -> bool:
    for part in request.headers.get("Accept-Encoding", "").split(","):
        name, _, params = part.strip().partition(";")
        if name.strip().lower() in ("gzip", "*"):
            quality = params.strip().removeprefix("q=").strip()
            try:
                return not params or float(quality) > 0
            except ValueError:
                return True
    return False


def scope_key(scope: frozenset[str] | None) -> str:
    return "*" if scope is None else ",".join(sorted(scope))


def session_json(session: Session) -> dict[str, Any]:
    """What `heartbeat whoami --format json` prints."""

    return {
        "username": session.username,
        "role": session.role.value,
        "accounts": None if session.account_scope is None else list(session.accounts),
        "issued_at": iso(session.issued_at),
        "expires_at": iso(session.expires_at),
    }


class SessionCache:
    """Sessions the users store verified in the last `SESSION_CACHE_SECONDS`, by token."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self.clock = clock
        self._verified: dict[str, tuple[float, Session]] = {}

    def get(self, token: str) -> Session | None:
        found = self._verified.get(token)
        if found is None:
            return None
        checked_at, session = found
        if (
            self.clock() - checked_at > SESSION_CACHE_SECONDS or session.expires_at <= time.time()
        ):  # the tokens' own clock
            del self._verified[token]
            return None
        return session

    def put(self, token: str, session: Session) -> None:
        if len(self._verified) >= SESSION_CACHE_ENTRIES:
            self._verified.clear()
        self._verified[token] = (self.clock(), session)

    def forget_all(self) -> None:
        self._verified.clear()


class Api:
    """The handlers, over one hub and one auth service."""

    def __init__(self, hub: Hub, auth: AuthService, config: Config) -> None:
        self.hub = hub
        self.auth = auth
        self.config = config
        self.logins = asyncio.Semaphore(MAX_CONCURRENT_LOGINS)
        self.sessions = SessionCache(hub.monotonic)

    # -- sessions -------------------------------------------------------------------

    async def session(self, request: web.Request) -> Session:
        """The request's Bearer token, checked against the store now (401 otherwise)."""

        scheme, _, token = request.headers.get("Authorization", "").partition(" ")
        token = token.strip()
        if scheme.lower() != "bearer" or not token:
            raise ApiError(401, "unauthorized", UNAUTHORIZED)
        session = self.sessions.get(token)
        if session is None:
            session = await self.auth.check(token)
            self.sessions.put(token, session)
        request[USERNAME] = session.username
        return session

    async def login(self, request: web.Request) -> web.Response:
        body: LoginBody = await read_body(request, LoginBody)
        try:
            async with self.logins:
                session = await self.auth.login(body.username, body.password)
        except LoginFailed:
            return error_response(401, "unauthorized", LOGIN_FAILED)
        request[USERNAME] = session.username
        return json_response(
            {
                "token": session.token,
                "expires_at": iso(session.expires_at),
                "role": session.role.value,
                "username": session.username,
            }
        )

    async def logout(self, request: web.Request) -> web.Response:
        await read_body(request, NoBody)
        scheme, _, token = request.headers.get("Authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise ApiError(401, "unauthorized", UNAUTHORIZED)
        username = await self.auth.logout(token.strip())
        self.sessions.forget_all()
        return json_response({"username": username})

    async def me(self, request: web.Request) -> web.Response:
        return json_response(session_json(await self.session(request)))

    # -- fleet-wide answers, built once per poll per scope ----------------------------

    async def snapshot(self, request: web.Request) -> web.StreamResponse:
        params = query(request, frozenset({"account", "cluster", "service", "wait"}))
        wait = wait_seconds(params)
        session = await self.session(request)
        scope = session.account_scope
        filters = Filters(account=params.get("account"), cluster=params.get("cluster"), service=params.get("service"))
        latest = self.hub.snapshot
        # An account outside the allow-list reads as absent: the same answer as an unknown one.
        if (
            filters.account is not None
            and latest is not None
            and not any(filters.account_matches(a) for a in scoped(latest, scope).accounts)
        ):
            raise not_found(f"no account matches --account {filters.account!r}")

        def build(snapshot: FleetSnapshot) -> bytes:
            return to_json(scoped(snapshot, scope), filters).encode()

        key = ("snapshot", scope_key(scope), filters.account, filters.cluster, filters.service)
        return await self.answer(request, key, build, JSON, wait)

    async def fleet(self, request: web.Request) -> web.StreamResponse:
        wait = wait_seconds(query(request, frozenset({"wait"})))
        session = await self.session(request)
        scope = session.account_scope

        def build(snapshot: FleetSnapshot) -> bytes:
            return encode_fleet(scoped(snapshot, scope))

        return await self.answer(request, ("fleet", scope_key(scope)), build, MEDIA_TYPE_FLEET, wait)

    async def answer(
        self,
        request: web.Request,
        key: tuple[Any, ...],
        build: Callable[[FleetSnapshot], bytes],
        media_type: str,
        wait: float,
    ) -> web.StreamResponse:
        """The cached body for `key`: 304 when the client's ETag is current (after
        waiting up to `wait` seconds for a newer poll), the body otherwise."""

        body = await self.hub.body(key, build, media_type)
        if body is None and wait > 0 and await self.hub.wait_newer(0, wait):
            body = await self.hub.body(key, build, media_type)
        if body is None:
            raise ApiError(503, "starting", "no poll has finished yet; try again in a few seconds")
        if etag_matches(request, body.etag):
            if not (wait > 0 and await self.hub.wait_newer(body.generation, wait)):
                return web.Response(status=304, headers=self.cache_headers(body))
            await self.session(request)  # still valid after the wait?
            newer = await self.hub.body(key, build, media_type)
            body = newer or body
        return self.send(request, body)

    @staticmethod
    def cache_headers(body: Body) -> dict[str, str]:
        return {"ETag": body.etag, "Cache-Control": "private, no-cache", "Vary": "Authorization, Accept-Encoding"}

    def send(self, request: web.Request, body: Body) -> web.Response:
        headers = self.cache_headers(body)
        if accepts_gzip(request):
            headers["Content-Encoding"] = "gzip"
            return web.Response(body=body.gzipped, content_type=body.media_type, headers=headers)
        return web.Response(body=body.data, content_type=body.media_type, headers=headers)

    # -- one service ------------------------------------------------------------------

    async def service(self, request: web.Request) -> web.Response:
        params = query(request, frozenset({"tasks"}))
        if params.get("tasks", "0") not in ("0", "1"):
            raise bad_request("tasks must be 0 or 1")
        session = await self.session(request)
        match = request.match_info
        account_id, region_name = match["account"], match["region"]
        cluster_name, service_name = match["cluster"], match["service"]
        snapshot = self.hub.snapshot
        if snapshot is None:
            raise ApiError(503, "starting", "no poll has finished yet; try again in a few seconds")
        account = next((a for a in snapshot.accounts if a.id == account_id), None)
        # An account outside the allow-list reads exactly as one that does not exist.
        if account is None or not session.may_see(account.id):
            raise not_found(f"no account {account_id!r}")
        found = next(
            (
                (region, cluster, service)
                for region, cluster, service in account.services()
                if region.region == region_name and cluster.name == cluster_name and service.name == service_name
            ),
            None,
        )
        if found is None:
            raise not_found(f"no service {service_name!r} in cluster {cluster_name!r} of {account_id} {region_name}")
        region, cluster, service = found
        wire = MEDIA_TYPE_DETAIL in request.headers.get("Accept", "")
        detail = None
        if wire or params.get("tasks") == "1":
            try:
                detail = await self.hub.source.fetch_service_detail(
                    account.id, region.region, cluster.arn, service.name
                )
            except Exception as exc:  # the AWS read failed whole (the partial failures are in detail.errors)
                raise ApiError(502, "aws_error", f"reading the service's tasks failed: {exc}") from None
        if wire:
            assert detail is not None
            return web.Response(body=encode_detail(detail), content_type=MEDIA_TYPE_DETAIL)
        metrics = service.metrics
        return json_response(
            {
                "account_id": account.id,
                "account_alias": account.alias,
                "region": region.region,
                "cluster": cluster.name,
                "cluster_arn": cluster.arn,
                "generated_at": iso(snapshot.generated_at.timestamp()),
                "service": service_dict(service, snapshot.generated_at, region.metrics_fetched_at),
                "history": {
                    name: {"timestamps": series.timestamps.tolist(), "values": series.values.tolist()}
                    for name, series in (
                        ("cpu_average", metrics.cpu_average),
                        ("cpu_maximum", metrics.cpu_maximum),
                        ("memory_average", metrics.memory_average),
                        ("memory_maximum", metrics.memory_maximum),
                    )
                },
                "detail": None if detail is None else detail.model_dump(mode="json"),
            }
        )

    # -- admin ------------------------------------------------------------------------

    async def refresh(self, request: web.Request) -> web.Response:
        await read_body(request, NoBody)
        await self.auth.authorize_refresh(await self.session(request))
        started = await self.hub.refresh()
        return json_response({"started": started, "generation": self.hub.generation}, status=202)

    # -- no auth ----------------------------------------------------------------------

    async def health(self, request: web.Request) -> web.Response:
        status, body = self.hub.health()
        return json_response(body, status=status)


async def _security_headers(request: web.Request, response: web.StreamResponse) -> None:
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("Cache-Control", "no-store")  # tokens and users: never kept by a proxy


def build_app(hub: Hub, auth: AuthService, config: Config) -> web.Application:
    """The service's routes over one hub (the shared poller) and one auth service."""

    from heartbeat_tui.serve.users import add_user_routes

    app = web.Application(middlewares=[json_errors], client_max_size=MAX_BODY_BYTES)
    app[HUB] = hub
    app[AUTH] = auth
    api = Api(hub, auth, config)
    app.on_response_prepare.append(_security_headers)
    app.router.add_get("/health", api.health)
    app.router.add_post("/api/v1/auth/login", api.login)
    app.router.add_post("/api/v1/auth/logout", api.logout)
    app.router.add_get("/api/v1/auth/me", api.me)
    app.router.add_get("/api/v1/snapshot", api.snapshot)
    app.router.add_get("/api/v1/fleet", api.fleet)
    app.router.add_get("/api/v1/accounts/{account}/regions/{region}/clusters/{cluster}/services/{service}", api.service)
    app.router.add_post("/api/v1/refresh", api.refresh)
    add_user_routes(app, api)
    app.router.add_get("/metrics", metrics_handler(hub, auth, config))
    return app


__all__ = ["AUTH", "HUB", "MAX_BODY_BYTES", "USERNAME", "Api", "build_app", "read_body"]
