"""The collector's hot read calls, sent without most of botocore's per-request pipeline.

A poll of 40,000 services makes about 5,000 calls, nearly all the same few
reads (DescribeServices, 10 services a call, is 4,000 of them). botocore spends
about 1 ms of CPU on each, whatever the answer: request objects, events, retry
bookkeeping, response parsing, and a SigV4 signature that derives its key again
every time.

botocore still prepares each call (its parameters, endpoint rules, serializer,
User-Agent) and then asks its `before-call` handlers whether one of them
answers it: the documented way a handler takes over a call (botocore's own
stubber answers this way). `LeanCalls`, the last such handler, answers
`operations`: it signs botocore's request with SigV4 for the scope botocore's
endpoint rules chose, keeping the derived key for the day, and sends it over
the client's own HTTP session (its connection pool, TLS settings, proxies and
timeouts). botocore then emits `after-call` and returns the answer as usual;
every handler (the call counter among them) sees the call as before.

A 200 answer is decoded with one `orjson.loads` (`wire.loads_answer`). An error that botocore
would not retry (access denied, a missing cluster) is parsed by botocore's own
JSON parser and handed back: botocore raises its usual `ClientError`, and the
request is not sent twice. Anything else (a throttle, a 5xx, a timeout, a
closed connection) and the handler answers nothing: botocore sends the request
again itself, with its retries and its rate limiter; and the client stays on
botocore's path for `PAUSE_SECONDS`, so that while AWS pushes back, botocore's
adaptive rate limiter sees every request. The refused attempt counts as an
HTTP request of the poll, the call once, and as an attempt in the answer's
`RetryAttempts` (so "throttled after N attempts" counts every request sent).

The one private attribute used, the client's HTTP session, is read in
`_http_session`; `tests/aws/test_lean.py` fails loudly when an upgrade moves it.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import logging
import time
from collections.abc import Callable
from datetime import datetime, timezone
from typing import Any
from urllib.parse import urlsplit

import orjson
from botocore.awsrequest import AWSPreparedRequest
from botocore.parsers import create_parser
from botocore.retries.standard import RetryContext, StandardRetryConditions

from heartbeat_tui.aws.counting import on_send
from heartbeat_tui.aws.wire import loads_answer

log = logging.getLogger(__name__)

#: How long a client sends everything through botocore after a lean call was refused.
PAUSE_SECONDS = 60.0
_ALGORITHM = "AWS4-HMAC-SHA256"
# Headers of botocore's request that are per attempt (signature, date, retry
# count): the lean call sets its own, or none.
_PER_ATTEMPT = frozenset(
    {
        "authorization",
        "x-amz-date",
        "x-amz-security-token",
        "x-amz-content-sha256",
        "amz-sdk-invocation-id",
        "amz-sdk-request",
        "content-length",
        "expect",
        "transfer-encoding",
    }
)
# Headers SigV4 leaves unsigned (botocore's list).
_UNSIGNED = frozenset(
    {
        "baggage",
        "connection",
        "expect",
        "keep-alive",
        "proxy-authenticate",
        "proxy-authorization",
        "te",
        "traceparent",
        "tracestate",
        "trailer",
        "transfer-encoding",
        "upgrade",
        "user-agent",
        "x-amzn-trace-id",
    }
)
_DEFAULT_PORTS = {"http": 80, "https": 443}
#: In a call's context: a lean attempt was sent and refused (botocore's attempts follow it).
_REFUSED = "heartbeat_lean_refused"


def _host_header(url: str) -> str | None:
    """The Host header botocore signs: the URL's host, with its port unless it is the scheme's default."""

    parts = urlsplit(url)
    if parts.hostname is None:
        return None
    host = parts.hostname
    if ":" in host:  # IPv6
        host = f"[{host}]"
    port = parts.port
    if port is not None and port != _DEFAULT_PORTS.get(parts.scheme):
        host = f"{host}:{port}"
    return host


class SigV4Signer:
    """SigV4 (header-signed, payload hashed) for JSON-protocol POSTs to "/", as
    botocore's `SigV4Auth` signs them, with the derived key kept per day, region
    and service instead of derived again for every request."""

    def __init__(self) -> None:
        self._keys: dict[tuple[str, str, str, str], bytes] = {}

    def _key(self, secret: str, day: str, region: str, service: str) -> bytes:
        cache_key = (secret, day, region, service)
        key = self._keys.get(cache_key)
        if key is None:
            if len(self._keys) > 64:  # old days and rotated secrets
                self._keys.clear()
            key = hmac.new(f"AWS4{secret}".encode(), day.encode(), hashlib.sha256).digest()
            for part in (region, service, "aws4_request"):
                key = hmac.new(key, part.encode(), hashlib.sha256).digest()
            self._keys[cache_key] = key
        return key

    def sign(
        self,
        headers: dict[str, str],
        body: bytes,
        *,
        host: str,
        region: str,
        service: str,
        access_key: str,
        secret_key: str,
        token: str | None,
        now: datetime,
    ) -> None:
        """Add X-Amz-Date, the session token (if any) and Authorization to `headers`."""

        stamp = now.strftime("%Y%m%dT%H%M%SZ")
        day = stamp[:8]
        headers["X-Amz-Date"] = stamp
        if token:
            headers["X-Amz-Security-Token"] = token
        signed: dict[str, str] = {"host": host}
        for name, value in headers.items():
            lower = name.lower()
            if lower not in _UNSIGNED:
                signed[lower] = " ".join(value.split())
        names = sorted(signed)
        canonical_headers = "".join(f"{name}:{signed[name]}\n" for name in names)
        signed_names = ";".join(names)
        canonical = f"POST\n/\n\n{canonical_headers}\n{signed_names}\n{hashlib.sha256(body).hexdigest()}"
        scope = f"{day}/{region}/{service}/aws4_request"
        to_sign = f"{_ALGORITHM}\n{stamp}\n{scope}\n{hashlib.sha256(canonical.encode()).hexdigest()}"
        signature = hmac.digest(self._key(secret_key, day, region, service), to_sign.encode(), "sha256").hex()
        headers["Authorization"] = (
            f"{_ALGORITHM} Credential={access_key}/{scope}, SignedHeaders={signed_names}, Signature={signature}"
        )


def _http_session(client: Any) -> Any | None:
    """The client's aiobotocore HTTP session (private: `client._endpoint.http_session`)."""

    endpoint = getattr(client, "_endpoint", None)
    session = getattr(endpoint, "http_session", None)
    return session if callable(getattr(session, "send", None)) else None


class LeanCalls:
    """A client's `before-call` handler (registered last) that sends the
    `operations` itself: botocore then takes the answer as if it had made the
    request (its documented way for a handler to answer a call)."""

    def __init__(
        self,
        client: Any,
        credentials: Any,
        operations: tuple[str, ...],
        *,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        """`clock` (seconds) times the pause after a refused call."""

        self._credentials = credentials
        http = _http_session(client)
        self._http: Any = http
        self._operations = frozenset(operations)
        model = client.meta.service_model
        self._region = client.meta.region_name
        self._signing_name = model.signing_name
        self._service_name = model.service_name
        self._clock = clock
        self._signer = SigV4Signer()
        self._paused_until = 0.0
        self._hosts: dict[str, str | None] = {}
        if http is not None and credentials is not None:
            # On the event itself, last: every other handler (the call counter) runs first.
            client.meta.events.register_last("before-call", self._before_call)
            client.meta.events.register_first("after-call", _count_refused)

    def _paused(self) -> bool:
        if not self._paused_until:  # never paused: no need to read the clock
            return False
        # A clock set back ends the pause rather than stretching it.
        return self._paused_until - PAUSE_SECONDS <= self._clock() < self._paused_until

    def _host(self, url: str) -> str | None:
        """The Host header of a URL "/" (None for any other URL: botocore's)."""

        host = self._hosts.get(url, "")
        if host == "":
            parts = urlsplit(url)
            host = _host_header(url) if parts.path in ("", "/") and not parts.query else None
            if len(self._hosts) < 64:
                self._hosts[url] = host
        return host

    async def _before_call(
        self, model: Any = None, params: Any = None, context: Any = None, **_: Any
    ) -> tuple[Any, dict[str, Any]] | None:
        """(HTTP response, parsed answer) of a lean call; None: botocore sends the request."""

        if model is None or model.name not in self._operations or self._paused() or not isinstance(params, dict):
            return None
        context = context if isinstance(context, dict) else {}
        body = params.get("body")
        if isinstance(body, str):
            body = body.encode()
        host = self._host(str(params.get("url")))
        headers_out = params.get("headers") or {}
        if (
            host is None
            or params.get("method") != "POST"
            or not isinstance(body, bytes)
            or context.get("auth_type") not in (None, "v4")
            # botocore's JSON protocol (CloudWatch's model prefers CBOR; botocore speaks JSON to it)
            or not str(headers_out.get("Content-Type", "")).startswith("application/x-amz-json-")
        ):
            return None
        credentials = await self._credentials.get_frozen_credentials()
        if credentials is None or not credentials.access_key or not credentials.secret_key:
            return None
        signing = context.get("signing") or {}
        headers = {k: v for k, v in headers_out.items() if k.lower() not in _PER_ATTEMPT}
        self._signer.sign(
            headers,
            body,
            host=host,
            region=signing.get("region") or self._region,
            service=signing.get("signing_name") or self._signing_name,
            access_key=credentials.access_key,
            secret_key=credentials.secret_key,
            token=credentials.token,
            now=datetime.now(timezone.utc),
        )
        request = AWSPreparedRequest(method="POST", url=params["url"], headers=headers, body=body, stream_output=False)
        on_send()
        answer = await self._send(model, request, context)
        if answer is None:
            self._paused_until = self._clock() + PAUSE_SECONDS
            context[_REFUSED] = True
        return answer

    async def _send(self, model: Any, request: Any, context: dict[str, Any]) -> tuple[Any, dict[str, Any]] | None:
        operation = model.name
        try:
            response = await self._http.send(request)
            content = await response.content
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # botocore sends it again, with its retries
            name = type(exc).__name__
            log.debug("%s %s: lean call failed (%s); botocore takes over", self._service_name, operation, name)
            return None
        if response.status_code != 200:
            return self._refused(model, response, content, context)
        if not content.startswith(b"{"):
            return None
        try:
            data = loads_answer(operation, content)
        except orjson.JSONDecodeError:
            return None
        if not isinstance(data, dict):
            return None
        headers = response.headers
        data["ResponseMetadata"] = {
            "RequestId": headers.get("x-amzn-requestid", ""),
            "HTTPStatusCode": 200,
            "HTTPHeaders": dict(headers),
            "RetryAttempts": 0,
        }
        return response, data

    def _refused(
        self, model: Any, response: Any, content: bytes, context: dict[str, Any]
    ) -> tuple[Any, dict[str, Any]] | None:
        """An error answer: one that botocore would retry (a throttle, a 5xx) is
        sent again by botocore, with its backoff and rate limiter; any other
        (access denied, a missing cluster) is botocore's answer as it stands,
        parsed by botocore, raised as the usual `ClientError`, not sent twice."""

        parsed: dict[str, Any] = _ERROR_PARSER.parse(
            {"headers": response.headers, "status_code": response.status_code, "body": content, "context": context},
            model.output_shape,
        )
        retry = RetryContext(
            attempt_number=1,
            operation_model=model,
            parsed_response=parsed,
            http_response=response,
            request_context=context,
        )
        code = parsed.get("Error", {}).get("Code")
        if "Error" not in parsed or _RETRYABLE.is_retryable(retry):
            log.debug("%s %s: answered %s; botocore takes over", self._service_name, model.name, code)
            return None
        parsed.setdefault("ResponseMetadata", {})["RetryAttempts"] = 0
        return response, parsed


def _count_refused(parsed: Any = None, context: Any = None, **_: Any) -> None:
    """`after-call`, first: botocore counted only its own attempts; add the refused lean one."""

    if isinstance(context, dict) and context.pop(_REFUSED, False) and isinstance(parsed, dict):
        metadata = parsed.setdefault("ResponseMetadata", {})
        metadata["RetryAttempts"] = int(metadata.get("RetryAttempts") or 0) + 1


# botocore's own JSON error parsing and retry conditions (attempts aside: 2 means "one more").
_ERROR_PARSER = create_parser("json")
_RETRYABLE = StandardRetryConditions(max_attempts=2)


__all__ = ["PAUSE_SECONDS", "LeanCalls", "SigV4Signer"]
