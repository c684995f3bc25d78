"""The HTTP API of `heartbeat serve` (aiohttp's server): `build_app(hub, auth, config)`.

Every answer goes through the same rules as the CLI: the token is checked
against the users store (signature, expiry, revocation, user and role
unchanged) by the existing `AuthService` (sessions.py), a `user` sees only its
allow-list, and the JSON of `/api/v1/snapshot` is `heartbeat snapshot --format
json`'s, byte for byte, built by export.py. Fleet-wide answers are built once
per poll per scope (the hub's cache); ETag, If-None-Match and `?wait=` make a
client that is up to date cost one 304 per poll.
"""

from __future__ import annotations

import asyncio
import io
import json
from collections.abc import Callable
from typing import Any

from aiohttp import web
from pydantic import StrictStr, ValidationError

from heartbeat_tui.auth.errors import LOGIN_FAILED, LoginFailed
from heartbeat_tui.auth.models import whoami_json
from heartbeat_tui.auth.service import AuthService, Session
from heartbeat_tui.config import Config
from heartbeat_tui.controller import scoped
from heartbeat_tui.export import Filters, service_dict, snapshot_dict
from heartbeat_tui.fleetwire import MEDIA_TYPE_DETAIL, MEDIA_TYPE_FLEET, encode_detail, encode_fleet
from heartbeat_tui.models import AccountSnapshot, Cluster, FleetSnapshot, LogQuery, RegionSnapshot, Service
from heartbeat_tui.serve.errors import (
    TRUSTED,
    ApiError,
    bad_request,
    error_response,
    json_errors,
    json_response,
    not_found,
)
from heartbeat_tui.serve.forwarded import TrustedProxies
from heartbeat_tui.serve.http import (
    MAX_BODY_BYTES,
    NoBody,
    Strict,
    accepts_gzip,
    etag_matches,
    iso,
    query,
    read_body,
    wait_seconds,
)
from heartbeat_tui.serve.hub import Body, Hub
from heartbeat_tui.serve.metrics import metrics_handler
from heartbeat_tui.serve.sessions import USERNAME, Sessions, bearer_token

# Logins hashing at once: a flood of attempts waits its turn instead of taking
# every core from the poller (each costs a PBKDF2 run; the lockout is per user).
MAX_CONCURRENT_LOGINS = 2
JSON = "application/json"

HUB: web.AppKey[Hub] = web.AppKey("hub", Hub)
AUTH: web.AppKey[AuthService] = web.AppKey("auth", AuthService)
SESSIONS: web.AppKey[Sessions] = web.AppKey("sessions", Sessions)


class LoginBody(Strict):
    username: StrictStr
    password: StrictStr


def snapshot_json(snapshot: FleetSnapshot, filters: Filters) -> bytes:
    """`export.to_json(snapshot, filters)`, byte for byte (the tests hold it so), written
    chunk by chunk: `json.dumps` with an indent joins a list of every chunk first, twice
    the peak memory of a 2,400-service answer (42 MB against 20)."""

    out = io.StringIO()
    for chunk in json.JSONEncoder(indent=2).iterencode(snapshot_dict(snapshot, filters)):
        out.write(chunk)
    out.write("\n")
    return out.getvalue().encode()


def scope_key(scope: frozenset[str] | None) -> str:
    return "*" if scope is None else ",".join(sorted(scope))


class Api:
    """The handlers, over one hub and one auth service."""

    def __init__(self, hub: Hub, auth: AuthService, config: Config) -> None:
        self.hub = hub
        self.auth = auth
        self.config = config
        self.logins = asyncio.Semaphore(MAX_CONCURRENT_LOGINS)
        self.sessions = Sessions(auth, hub.monotonic)

    # -- sessions -------------------------------------------------------------------

    async def session(self, request: web.Request) -> Session:
        """The request's Bearer token, checked against the store (401 otherwise)."""

        return await self.sessions.of(request)

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
        username = await self.auth.logout(bearer_token(request))
        self.sessions.forget_all()
        return json_response({"username": username})

    async def me(self, request: web.Request) -> web.Response:
        session = await self.session(request)
        return json_response(whoami_json(session, await self.auth.own_view(session)))

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
            return snapshot_json(scoped(snapshot, scope), filters)

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
        snapshot, account, region, cluster, service = self._service(request, session)
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

    def _service(
        self, request: web.Request, session: Session
    ) -> tuple[FleetSnapshot, AccountSnapshot, RegionSnapshot, Cluster, Service]:
        """The service the path names, in the latest poll, as this session may see it (404 otherwise)."""

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
        return snapshot, account, region, cluster, service

    async def logs(self, request: web.Request) -> web.Response:
        """The service's (or one task's) CloudWatch Logs lines, as the dashboard's logs screen reads them."""

        params = query(request, frozenset({"start", "end", "task", "container"}))
        session = await self.session(request)
        _, account, region, cluster, service = self._service(request, session)
        try:
            log_query = LogQuery(
                account_id=account.id,
                region=region.region,
                cluster_arn=cluster.arn,
                service_name=service.name,
                start=params.get("start") or "",
                end=params.get("end"),
                task_id=params.get("task"),
                container=params.get("container"),
            )
        except ValidationError:
            raise bad_request("start (required) and end are ISO 8601 times") from None
        try:
            batch = await self.hub.source.fetch_logs(log_query)
        except Exception as exc:  # the AWS read failed whole (partial failures are in batch.errors)
            raise ApiError(502, "aws_error", f"reading the service's logs failed: {exc}") from None
        return web.Response(body=batch.model_dump_json(), content_type="application/json")

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


def build_app(
    hub: Hub, auth: AuthService, config: Config, trusted_proxies: tuple[str, ...] | None = None
) -> web.Application:
    """The service's routes over one hub (the shared poller) and one auth service.
    `trusted_proxies`: whose `X-Forwarded-For` names the client (default `[serve].trusted_proxies`)."""

    from heartbeat_tui.serve.users import add_user_routes

    app = web.Application(middlewares=[json_errors], client_max_size=MAX_BODY_BYTES)
    app[HUB] = hub
    app[AUTH] = auth
    app[TRUSTED] = TrustedProxies(config.file.serve.trusted_proxies if trusted_proxies is None else trusted_proxies)
    api = Api(hub, auth, config)
    app[SESSIONS] = api.sessions
    app.on_response_prepare.append(_security_headers)
    app.router.add_get("/health", api.health)
    app.router.add_post("/api/v1/auth/login", api.login)
    app.router.add_post("/api/v1/auth/logout", api.logout)
    app.router.add_get("/api/v1/auth/me", api.me)
    app.router.add_get("/api/v1/snapshot", api.snapshot)
    app.router.add_get("/api/v1/fleet", api.fleet)
    app.router.add_get("/api/v1/accounts/{account}/regions/{region}/clusters/{cluster}/services/{service}", api.service)
    app.router.add_get(
        "/api/v1/accounts/{account}/regions/{region}/clusters/{cluster}/services/{service}/logs", api.logs
    )
    app.router.add_post("/api/v1/refresh", api.refresh)
    add_user_routes(app, api)
    app.router.add_get("/metrics", metrics_handler(hub, auth, config))
    return app


__all__ = ["AUTH", "HUB", "SESSIONS", "Api", "build_app"]
