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

The request goes out on the client's aiohttp session itself, as aiobotocore's
`send` would send it, unless a proxy is configured for its URL (then through
`send`, which handles proxies).

Direct calls (`LeanCalls.call`, the collector's entry through `AwsAccess.call`)
skip botocore's per-call pipeline too: parameter events, endpoint resolution,
the request dict, `before-call` and `after-call`, about 100 us a call. The
first call of an operation on a client goes through the client's method, and
`before-call` keeps botocore's request (URL, headers, signing scope) when the
body the client's serializer makes of the caller's own parameters is
botocore's body (no handler changed them). Later calls build that request with
a fresh body and signature. A throttle, a 5xx, an operation not learnt (a
proxy, another protocol, another auth scheme), or a paused client go through
the method as above. No event fires for a call answered directly: the call
counter counts it itself. Handlers that observe calls through botocore's
events see only the others; the collector's own (the counter, the refused
attempt's `RetryAttempts`) do not rely on them.

The private parts used, the client's HTTP session (`_http_session`) and its
`_proxy_config` and `_get_session`, are read here only;
`tests/aws/test_lean.py` fails loudly when an upgrade moves them, and
`tests/aws/test_direct_calls.py` when direct calls stop being learnt.
"""

from __future__ import annotations

import asyncio
import contextvars
import hashlib
import hmac
import logging
import time
from collections.abc import Awaitable, Callable
from datetime import datetime, timezone
from typing import Any, NamedTuple
from urllib.parse import urlsplit

import orjson
from aiobotocore.awsrequest import AioAWSResponse
from botocore.awsrequest import AWSPreparedRequest
from botocore.exceptions import ClientError
from botocore.parsers import create_parser
from botocore.retries.standard import RetryContext, StandardRetryConditions
from yarl import URL

from heartbeat_tui.aws.counting import count_call, on_send
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
#: In a direct call's context: the caller wants its answer's digest (the value: the digest it knows).
_DIGEST = "heartbeat_lean_digest"
#: In a direct call's answer, when asked for (`LeanCalls.call`, `digest`): the hash of the
#: answer's body; or, instead of the decoded answer, True: the body is the one `known` hashes.
BODY_DIGEST = "HeartBeatBodyDigest"
UNCHANGED = "HeartBeatUnchanged"


#: A client's operation, as the collector calls it (keyword arguments, a parsed answer).
Operation = Callable[..., Awaitable[dict[str, Any]]]


class _Request(NamedTuple):
    """botocore's request of an operation on one client, as a lean call sends it:
    all but its body and the per-attempt headers (signature, date, retry count)."""

    model: Any
    url: str
    host: str
    headers: dict[str, str]
    region: str
    service: str


#: While a direct call goes through the client's method to learn its request: (caller, operation, parameters).
_LEARNING: contextvars.ContextVar[tuple[LeanCalls, str, dict[str, Any]] | None] = contextvars.ContextVar(
    "heartbeat_lean_learning", default=None
)


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
        serializer: Any = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        """`clock` (seconds) times the pause after a refused call. `serializer`
        (the client's) makes the bodies of direct calls (`call`); without it,
        every call goes through the client's method."""

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
        self._urls: dict[str, URL | None] = {}
        self._serializer = serializer
        self._exceptions: Any = None
        # Direct calls: the client's method names of `operations`, and what is known of their requests.
        self._names: dict[str, str] = {}
        self._counted = {name: f"{self._service_name}.{name}" for name in self._operations}
        self._requests: dict[str, _Request] = {}
        if http is not None and credentials is not None:
            if serializer is not None:
                self._exceptions = client.exceptions
                mapping = client.meta.method_to_api_mapping
                self._names = {method: name for method, name in mapping.items() if name in self._operations}
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
        signing = context.get("signing") or {}
        request = _Request(
            model,
            params["url"],
            host,
            {k: v for k, v in headers_out.items() if k.lower() not in _PER_ATTEMPT},
            signing.get("region") or self._region,
            signing.get("signing_name") or self._signing_name,
        )
        learning = _LEARNING.get()
        if learning is not None and learning[0] is self and learning[1] == model.name:
            self._learn(request, body, learning[2])
        headers = dict(request.headers)
        if not await self._signed(request, headers, body):
            return None
        answer = await self._exchange(request, headers, body, context)
        if answer is None:
            context[_REFUSED] = True
        return answer

    async def _signed(self, request: _Request, headers: dict[str, str], body: bytes) -> bool:
        """Sign `headers` with the client's credentials as they are now; False when it has none usable."""

        credentials = await self._credentials.get_frozen_credentials()
        if credentials is None or not credentials.access_key or not credentials.secret_key:
            return False
        self._signer.sign(
            headers,
            body,
            host=request.host,
            region=request.region,
            service=request.service,
            access_key=credentials.access_key,
            secret_key=credentials.secret_key,
            token=credentials.token,
            now=datetime.now(timezone.utc),
        )
        return True

    async def _exchange(
        self, request: _Request, headers: dict[str, str], body: bytes, context: dict[str, Any]
    ) -> tuple[Any, dict[str, Any]] | None:
        """The signed request sent (one HTTP request of the poll); None: refused, and the client paused."""

        on_send()
        answer = await self._send(request.model, request.url, headers, body, context)
        if answer is None:
            self._paused_until = self._clock() + PAUSE_SECONDS
        return answer

    # -- the direct entry ------------------------------------------------------

    def _learn(self, request: _Request, body: bytes, parameters: dict[str, Any]) -> None:
        """Keep botocore's request of an operation (all but its body and the
        per-attempt headers) when the body the serializer makes of the caller's
        own parameters is botocore's: no handler changed them on the way. With
        a proxy for its URL, the operation stays on botocore's path."""

        try:
            ours = self._serializer.serialize_to_request(parameters, request.model).get("body")
        except Exception:  # botocore's request stands; the operation stays botocore's
            return
        if isinstance(ours, str):
            ours = ours.encode()
        if ours == body and not self._proxied(request.url):
            self._requests[request.model.name] = request

    def _proxied(self, url: str) -> bool:
        try:
            config = self._http._proxy_config
            return config.proxy_url_for(url) is not None or bool(config.proxy_headers_for(url))
        except AttributeError:  # moved by an upgrade: botocore's path (tests/aws/test_lean.py fails)
            return True

    async def call(
        self, method: Operation, parameters: dict[str, Any], *, digest: bool = False, known: int | None = None
    ) -> dict[str, Any]:
        """`method(**parameters)`, a call of one of the client's operations:
        answered here when it is one of `operations` and botocore's request
        for it is known, without botocore's per-call pipeline; otherwise by the
        method, exactly as before.

        The request is botocore's (learnt from its first call of the operation
        on this client: URL, headers, signing scope) with the body made by the
        client's serializer from `parameters`; it is signed, sent and decoded
        as `before-call` does. A 200 is the answer; an error botocore would not
        retry is raised as botocore raises it (`client.exceptions`); anything
        else (a throttle, a 5xx, no connection) pauses the client and the
        method sends the call again, with botocore's retries, rate limiter and
        error parsing, the refused attempt counted in `RetryAttempts`.

        No event fires for a call answered here: the call counter counts it
        directly (`count_call`, `on_send`).

        With `digest`, an answer sent here carries the hash of its body
        (`BODY_DIGEST`); and when that hash is `known` (the caller's digest of
        an answer it has already read), the body is not decoded at all: the
        answer is `{UNCHANGED: True}` with its `ResponseMetadata`. Most
        DescribeServices answers, most polls, are the bytes of the last poll's:
        decoding them again made objects only to be thrown away. An answer
        from botocore's path has no digest: the caller reads it as new.
        """

        operation = self._names.get(getattr(method, "__name__", ""))
        if operation is None or self._paused():
            return await method(**parameters)
        request = self._requests.get(operation)
        if request is None:
            token = _LEARNING.set((self, operation, parameters))
            try:
                return await method(**parameters)
            finally:
                _LEARNING.reset(token)
        try:
            body = self._serializer.serialize_to_request(parameters, request.model)["body"]
        except Exception:  # botocore's own error for these parameters
            return await method(**parameters)
        if isinstance(body, str):
            body = body.encode()
        headers = dict(request.headers)
        if not await self._signed(request, headers, body):
            return await method(**parameters)
        name = self._counted[operation]
        count_call(name)  # before it is sent, as botocore's `before-call` counts it
        answer = await self._exchange(request, headers, body, {_DIGEST: known} if digest else {})
        if answer is None:
            count_call(name, -1)  # the method counts the call
            return await _after_refusal(method, parameters)
        response, parsed = answer
        if response.status_code >= 300:
            code = parsed.get("Error", {}).get("Code")
            raise self._exceptions.from_code(code)(parsed, operation)
        return parsed

    def _direct(self, url: str) -> URL | None:
        """The URL as aiohttp takes it, when the request goes to it without a proxy;
        None: through aiobotocore's `send` (which handles proxies)."""

        if url in self._urls:
            return self._urls[url]
        config = self._http._proxy_config
        direct = config.proxy_url_for(url) is None and not config.proxy_headers_for(url)
        target = URL(url, encoded=True) if direct else None
        if len(self._urls) < 64:
            self._urls[url] = target
        return target

    async def _post(self, url: str, headers: dict[str, str], body: bytes) -> tuple[Any, bytes, dict[str, str]]:
        """(response, body, headers) of the request, sent as aiobotocore's `send`
        sends it (its aiohttp session, the same headers, no decompression), on
        the client's aiohttp session itself when no proxy is in the way: what
        `send` adds per request (proxy lookups, header copies, a second headers
        object) was a tenth of a call's CPU."""

        target = self._direct(url)
        if target is None:
            request = AWSPreparedRequest(method="POST", url=url, headers=headers, body=body, stream_output=False)
            response = await self._http.send(request)
            content: bytes = await response.content
            return response, content, dict(response.headers)
        session = await self._http._get_session(None)
        headers["Accept-Encoding"] = "identity"  # aiobotocore's (botocore issue 1255)
        raw = await session.request("POST", target, chunked=None, headers=headers, data=body)
        content = await raw.read() or b""
        received = {k.decode("utf-8").lower(): v.decode("utf-8") for k, v in raw.raw_headers}
        response = AioAWSResponse(url, raw.status, received, raw)
        response._content = content
        return response, content, received

    async def _send(
        self, model: Any, url: str, headers: dict[str, str], body: bytes, context: dict[str, Any]
    ) -> tuple[Any, dict[str, Any]] | None:
        operation = model.name
        try:
            response, content, received = await self._post(url, headers, body)
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
        digest = hash(content) if _DIGEST in context else None
        if digest is not None and digest == context[_DIGEST]:
            data: Any = {UNCHANGED: True}
        else:
            try:
                data = loads_answer(operation, content)
            except orjson.JSONDecodeError:
                return None
            if not isinstance(data, dict):
                return None
            if digest is not None:
                data[BODY_DIGEST] = digest
        data["ResponseMetadata"] = {
            "RequestId": received.get("x-amzn-requestid", ""),
            "HTTPStatusCode": 200,
            "HTTPHeaders": received,
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

    if isinstance(context, dict) and context.pop(_REFUSED, False):
        _add_attempt(parsed)


async def _after_refusal(method: Operation, parameters: dict[str, Any]) -> dict[str, Any]:
    """The call sent by the client's method after a refused direct attempt, which counts in `RetryAttempts`."""

    try:
        parsed = await method(**parameters)
    except ClientError as exc:
        _add_attempt(exc.response)
        raise
    _add_attempt(parsed)
    return parsed


def _add_attempt(parsed: Any) -> None:
    if isinstance(parsed, dict):
        metadata = parsed.setdefault("ResponseMetadata", {})
        metadata["RetryAttempts"] = int(metadata.get("RetryAttempts") or 0) + 1


# botocore's own JSON error parsing and retry conditions (attempts aside: 2 means "one more").
_ERROR_PARSER = create_parser("json")
_RETRYABLE = StandardRetryConditions(max_attempts=2)


__all__ = ["BODY_DIGEST", "PAUSE_SECONDS", "UNCHANGED", "LeanCalls", "Operation", "SigV4Signer"]
