"""Every failure of `heartbeat serve` as JSON: `{"error": "<one line>", "code": "<snake_case>"}`.

One middleware turns the engine's errors (auth, validation, the users store)
and aiohttp's own (no route, a body over the cap) into the status and code of
the HTTP contract (README, "Shared collector service"); anything unexpected is
a 500 whose body says only "internal error" (the traceback goes to the log
file). It also tells the audit log which client each request came from: the
peer, or what a configured trusted proxy says in `X-Forwarded-For` (forwarded.py).
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

import orjson
from aiohttp import web

from heartbeat_tui.auth.audit import client_address
from heartbeat_tui.auth.errors import (
    AuthError,
    LastAdmin,
    PermissionDenied,
    StoreError,
    UserExists,
    UserNotFound,
    ValidationFailed,
)
from heartbeat_tui.errors import HeartbeatError
from heartbeat_tui.reasons import one_line
from heartbeat_tui.serve.forwarded import TrustedProxies

log = logging.getLogger(__name__)

UNAUTHORIZED = "not authenticated: log in again"
_BEARER = {"WWW-Authenticate": "Bearer"}
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
TRUSTED: web.AppKey[TrustedProxies] = web.AppKey("trusted_proxies", TrustedProxies)
CLIENT: web.RequestKey[str] = web.RequestKey("client", str)  # the client's address (the access log)

_AIOHTTP_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    413: "too_large",
    415: "unsupported_media_type",
    422: "invalid",
}


class ApiError(Exception):
    """An answer other than success, raised from a handler."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message


def bad_request(message: str) -> ApiError:
    return ApiError(400, "bad_request", message)


def not_found(message: str) -> ApiError:
    return ApiError(404, "not_found", message)


def invalid(message: str) -> ApiError:
    return ApiError(422, "invalid", message)


def json_response(data: object, status: int = 200, headers: dict[str, str] | None = None) -> web.Response:
    """orjson: a NaN is null (the JSON standard has none), a string keeps its exact value."""

    return web.Response(body=orjson.dumps(data), status=status, content_type="application/json", headers=headers)


def error_response(status: int, code: str, message: str, headers: dict[str, str] | None = None) -> web.Response:
    return json_response({"error": one_line(message), "code": code}, status, headers)


def _for_engine_error(exc: HeartbeatError) -> tuple[int, str, str]:
    if isinstance(exc, AuthError):
        return 401, "unauthorized", UNAUTHORIZED
    if isinstance(exc, PermissionDenied):
        return 403, "forbidden", str(exc)
    if isinstance(exc, ValidationFailed):
        return 422, "invalid", str(exc)
    if isinstance(exc, UserNotFound):
        return 404, "not_found", str(exc)
    if isinstance(exc, UserExists | LastAdmin):
        return 409, "conflict", str(exc)
    if isinstance(exc, StoreError):
        return 503, "unavailable", f"the users store cannot answer now: {exc}"
    return 400, "bad_request", str(exc)


@web.middleware
async def json_errors(request: web.Request, handler: Handler) -> web.StreamResponse:
    trusted = request.app.get(TRUSTED)
    client = trusted.client(request.remote, request.headers.getall("X-Forwarded-For", [])) if trusted else None
    client = client or request.remote
    if client:
        request[CLIENT] = client
    token = client_address.set(client)
    try:
        return await handler(request)
    except ApiError as exc:
        return error_response(exc.status, exc.code, exc.message, _BEARER if exc.status == 401 else None)
    except web.HTTPException as exc:  # aiohttp's own: no such route, a method not allowed, a body over the cap
        if exc.status < 400:
            raise
        code = _AIOHTTP_CODES.get(exc.status, "bad_request" if exc.status < 500 else "internal")
        message = "the request body is over the 64 KiB limit" if exc.status == 413 else exc.reason
        headers = {"Allow": exc.headers["Allow"]} if "Allow" in exc.headers else None
        return error_response(exc.status, code, message, headers)
    except HeartbeatError as exc:
        status, code, message = _for_engine_error(exc)
        if status == 401:
            log.info("refused %s %s: %s", request.method, request.rel_url.raw_path, exc)
        return error_response(status, code, message, _BEARER if status == 401 else None)
    except Exception:
        log.exception("internal error answering %s %s", request.method, request.rel_url.raw_path)
        return error_response(500, "internal", "internal error (details in the server's log file)")
    finally:
        client_address.reset(token)
