"""Opaque, validated page tokens and range checks shared by the API handlers.

Tokens carry the operation, the request's scope (cluster, filters) and the
position after which the next page starts.  A token from another operation,
scope, or plain garbage is rejected the way AWS rejects it.  Positions are
"after this sort key" rather than offsets, so items added between two pages
(the simulator runs concurrently) neither repeat nor vanish.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Sequence
from typing import Any, TypeVar

T = TypeVar("T")


class ApiError(Exception):
    """An AWS error to send back in the request's protocol."""

    def __init__(self, code: str, message: str, status: int = 400, *, query_code: str | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.status = status
        self.query_code = query_code


def encode_token(operation: str, scope: str, position: Any) -> str:
    raw = json.dumps({"v": 1, "op": operation, "scope": scope, "pos": position}, separators=(",", ":"))
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode_token(token: Any, operation: str, scope: str, error: ApiError) -> Any:
    """The position stored in ``token``; raises ``error`` when it is not ours."""
    if not isinstance(token, str) or not token:
        raise error
    try:
        padded = token + "=" * (-len(token) % 4)
        data = json.loads(base64.urlsafe_b64decode(padded.encode()))
    except (ValueError, binascii.Error, UnicodeDecodeError):
        raise error from None
    if not isinstance(data, dict) or data.get("v") != 1 or data.get("op") != operation or data.get("scope") != scope:
        raise error
    return data.get("pos")


def int_param(params: dict[str, Any], name: str, *, low: int, high: int, default: int, error: ApiError) -> int:
    """An integer parameter within [low, high]; absent means ``default``."""
    if name not in params or params[name] is None:
        return default
    value = params[name]
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise error
    return value


def page_after(items: Sequence[T], keys: Sequence[Any], after: Any, limit: int) -> tuple[list[T], Any | None]:
    """Items whose key sorts after ``after`` (keys ascending), at most ``limit``;
    returns the page and the key to continue from (None on the last page)."""
    start = 0
    if after is not None:
        import bisect

        start = bisect.bisect_right(list(keys), _normalise(after))
    page = list(items[start : start + limit])
    more = start + limit < len(items)
    return page, (keys[start + limit - 1] if more else None)


def _normalise(value: Any) -> Any:
    # JSON turns tuples into lists; keys are compared as tuples.
    return tuple(value) if isinstance(value, list) else value
