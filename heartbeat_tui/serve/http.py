"""The request side of the HTTP contract: strict JSON bodies under a cap, known
query parameters, long-poll waits, ETags and gzip negotiation.

A body is a JSON object of at most 64 KiB with exactly the fields its model
names (an unknown one is refused, 422); messages name a field, never its value
(a password may be in it).
"""

from __future__ import annotations

import math
from datetime import datetime, timezone
from typing import Any

import orjson
from aiohttp import web
from pydantic import BaseModel, ConfigDict, ValidationError

from heartbeat_tui.serve.errors import ApiError, bad_request, invalid

MAX_BODY_BYTES = 64 * 1024
MAX_WAIT_SECONDS = 60.0


class Strict(BaseModel):
    """A request body: exactly these fields (an unknown one is refused), strings as strings."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class NoBody(Strict):
    pass


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
