"""A small HTTP/1.1 client over asyncio streams: what `RemoteClient` needs, no more.

Why not aiohttp's client: every browser tab of `heartbeat web` is a dashboard
process of its own, and importing aiohttp (with yarl, multidict, attrs and its
parsers) cost each one about 8 MB RSS, a tenth of its budget. The API of
`heartbeat serve` asks little of a client: one origin, small requests, JSON or
fleetwire answers, gzip, keep-alive and a long-poll.

Who does what: h11 (a pure-Python HTTP/1.1 state machine, a fraction of a MB)
writes the requests and reads the answers: status lines, headers,
`Content-Length`, chunked or to-the-end bodies, 1xx, HEAD/204/304, and whether
a connection may carry another request. This module does the I/O, the limits,
gzip and the one retry; it parses no HTTP of its own.

What it keeps: TLS verified against the system's trust store with the host
name checked (`ssl.create_default_context()`; `SSL_CERT_FILE` honoured); no
cookies, no proxy taken from the environment, no redirect followed; a connect
timeout and a total one per request. gzip is decoded (the only coding it asks
for), off the event loop when large. The header block and the body are capped,
so a broken peer cannot exhaust memory. A GET sent on a kept-alive connection
the server had meanwhile closed is sent once more on a new one (nothing of it
was answered); nothing else is retried.
"""

from __future__ import annotations

import asyncio
import contextlib
import ssl
import time
import zlib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from urllib.parse import urlencode, urlsplit

import h11

MAX_HEADER_BYTES = 64 * 1024
MAX_HEADERS = 100
MAX_BODY_BYTES = 1 << 30  # a fleet of 40,000 services is about a tenth of this
IDLE_SECONDS = 15.0  # a kept-alive connection older than this is not reused (servers close them at 60-75 s)
MAX_IDLE = 4
_THREAD_DECOMPRESS_BYTES = 256 * 1024  # larger gzip bodies are decoded off the event loop


class ProtocolError(ValueError):
    """The peer's answer is not HTTP/1.1 as this client reads it."""


class Disconnected(ConnectionError):
    """The connection ended before the answer did."""


class Headers(Mapping[str, str]):
    """An answer's headers, names matched without regard to case (repeats joined by ", ")."""

    def __init__(self, pairs: list[tuple[str, str]]) -> None:
        self._items: dict[str, str] = {}
        for name, value in pairs:
            key = name.lower()
            self._items[key] = f"{self._items[key]}, {value}" if key in self._items else value

    def __getitem__(self, name: str) -> str:
        return self._items[name.lower()]

    def __iter__(self) -> Iterator[str]:
        return iter(self._items)

    def __len__(self) -> int:
        return len(self._items)

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and name.lower() in self._items


@dataclass(frozen=True)
class Response:
    status: int
    headers: Headers
    body: bytes


class _Connection:
    """One socket and the h11 state machine that frames what crosses it."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader = reader
        self.writer = writer
        self.http = h11.Connection(h11.CLIENT, max_incomplete_event_size=MAX_HEADER_BYTES)
        self.idle_since = time.monotonic()
        self.used = False

    def reusable(self) -> bool:
        """h11's word on keep-alive (both sides DONE: no `Connection: close`, no read-to-the-end
        body, HTTP/1.1), and nothing sent after the answer that nobody asked for."""

        http = self.http
        return http.our_state is h11.DONE and http.their_state is h11.DONE and not http.trailing_data[0]

    def abort(self) -> None:
        transport = self.writer.transport
        if not transport.is_closing():
            transport.abort()


class HttpClient:
    """Requests to one origin (`base_url`, with an optional path prefix); see the module docstring."""

    def __init__(self, base_url: str, *, headers: Mapping[str, str], connect_seconds: float) -> None:
        parts = urlsplit(base_url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"not an http(s) URL: {base_url}")
        self.host = parts.hostname
        self.tls = parts.scheme == "https"
        self.port = parts.port or (443 if self.tls else 80)
        self.prefix = parts.path.rstrip("/")
        name = f"[{self.host}]" if ":" in self.host else self.host
        default = self.port == (443 if self.tls else 80)
        self.headers = {"Host": name if default else f"{name}:{self.port}", **headers}
        _request("GET", "/", self.headers)  # a header that can never be sent fails here, not per call
        self.connect_seconds = connect_seconds
        self._ssl: ssl.SSLContext | None = None
        self._idle: list[_Connection] = []
        self._open: set[_Connection] = set()
        self.closed = False

    async def request(
        self,
        method: str,
        path: str,
        *,
        query: Mapping[str, str] | None = None,
        headers: Mapping[str, str] | None = None,
        body: bytes | None = None,
        timeout: float,
    ) -> Response:
        """One exchange, within `timeout` seconds in all (TimeoutError past it); OSError
        (ConnectionError, ssl.SSLError) when the server cannot be reached or drops the
        connection; ProtocolError when it answers something else than HTTP."""

        if self.closed:
            raise Disconnected("the client is closed")
        target = self.prefix + path + (f"?{urlencode(dict(query))}" if query else "")
        sent = {**self.headers, **(headers or {})}
        if body is not None or method in ("POST", "PUT", "PATCH"):
            sent["Content-Length"] = str(len(body or b""))
        request = _request(method, target, sent)
        async with asyncio.timeout(timeout):
            while True:
                connection = await self._connection()
                reused = connection.used
                connection.used = True
                try:
                    response = await _exchange(connection, request, body or b"")
                except (Disconnected, ConnectionResetError, BrokenPipeError) as exc:
                    self._drop(connection)
                    # A kept-alive connection the server had closed: a GET is asked again, once, on a new one.
                    if reused and method == "GET" and not getattr(exc, "answered", False):
                        continue
                    raise
                except BaseException:
                    self._drop(connection)  # cancelled, timed out or garbled: never reused
                    raise
                if connection.reusable() and not self.closed and len(self._idle) < MAX_IDLE:
                    connection.http.start_next_cycle()
                    connection.idle_since = time.monotonic()
                    self._idle.append(connection)
                else:
                    self._drop(connection)
                break
        encoding = response.headers.get("Content-Encoding", "identity").strip().lower()
        if encoding in ("gzip", "x-gzip") and response.body:
            if len(response.body) > _THREAD_DECOMPRESS_BYTES:
                data = await asyncio.to_thread(_gunzip, response.body)
            else:
                data = _gunzip(response.body)
            return Response(response.status, response.headers, data)
        if encoding not in ("identity", "gzip", "x-gzip"):
            raise ProtocolError(f"an answer in a coding not asked for ({encoding})")
        return response

    async def _connection(self) -> _Connection:
        while self._idle:
            connection = self._idle.pop()
            if time.monotonic() - connection.idle_since < IDLE_SECONDS and not connection.reader.at_eof():
                return connection
            self._drop(connection)
        context = self._context() if self.tls else None
        try:
            reader, writer = await asyncio.wait_for(
                asyncio.open_connection(
                    self.host,
                    self.port,
                    ssl=context,
                    server_hostname=self.host if context is not None else None,
                    ssl_handshake_timeout=self.connect_seconds if context is not None else None,
                    happy_eyeballs_delay=0.25,
                    limit=MAX_HEADER_BYTES,
                ),
                self.connect_seconds,
            )
        except TimeoutError:  # this wait's own: the request's overall timeout cancels, it does not raise here
            raise ConnectionError(f"no connection within {self.connect_seconds:g} s") from None
        connection = _Connection(reader, writer)
        self._open.add(connection)
        return connection

    def _context(self) -> ssl.SSLContext:
        if self._ssl is None:
            self._ssl = ssl.create_default_context()  # certificates and host names verified
        return self._ssl

    def _drop(self, connection: _Connection) -> None:
        self._open.discard(connection)
        with contextlib.suppress(ValueError):
            self._idle.remove(connection)
        connection.abort()

    async def aclose(self) -> None:
        """Close every connection, in use or idle (a request still waiting ends with an error)."""

        self.closed = True
        for connection in list(self._open):
            self._drop(connection)
        await asyncio.sleep(0)  # the transports' close callbacks run


def _request(method: str, target: str, headers: Mapping[str, str]) -> h11.Request:
    """The request's head, validated by h11 (a line break or a NUL in a value, a name that is
    not a token: ValueError, and nothing is sent)."""

    try:
        return h11.Request(method=method, target=target, headers=list(headers.items()))
    except h11.LocalProtocolError:
        bad = next((k for k, v in headers.items() if not _valid_header(k, v)), "")
        raise ValueError(f"not a valid header: {bad!r}" if bad else f"not a valid request: {method} {target}") from None


def _valid_header(name: str, value: str) -> bool:
    try:
        h11.Request(method="GET", target="/", headers=[("Host", "h"), (name, value)])
    except h11.LocalProtocolError:
        return False
    return True


class _Answered:
    """How much of an answer came, so a failure can say whether the request may be sent again."""

    def __init__(self) -> None:
        self.received = 0
        self.eof = False

    def error(self, exc: Exception) -> Exception:
        if self.received:
            exc.answered = True  # type: ignore[attr-defined]  # part of an answer came: never sent again
        return exc


async def _exchange(connection: _Connection, request: h11.Request, body: bytes) -> Response:
    """Send `request` and read its final answer (1xx skipped); h11 frames both ways, this does
    the I/O and the caps. h11's errors become ProtocolError, or Disconnected when the peer hung up."""

    http, reader = connection.http, connection.reader
    out = http.send(request) or b""
    if body:
        out += http.send(h11.Data(data=body)) or b""
    connection.writer.write(out + (http.send(h11.EndOfMessage()) or b""))
    await connection.writer.drain()

    came = _Answered()
    head: h11.Response | None = None
    parts: list[bytes] = []
    total = 0
    while True:
        try:
            event = http.next_event()
        except h11.RemoteProtocolError:
            if came.eof:
                where = "in an answer's headers" if head is None else "in the middle of an answer"
                words = f"the server closed the connection {where}" if came.received else _NO_ANSWER
                raise came.error(Disconnected(words)) from None
            words = "not an HTTP/1.1 answer" if head is None else "an answer with a malformed body"
            raise came.error(ProtocolError(words)) from None
        if event is h11.NEED_DATA:
            if head is None and came.received >= MAX_HEADER_BYTES:
                raise came.error(ProtocolError("an answer's headers are too long"))
            # The head is read in pieces that never take it past the cap: h11 would parse any size it is fed.
            size = 1 << 18 if head is not None else min(1 << 16, MAX_HEADER_BYTES - came.received)
            try:
                data = await reader.read(size)
            except ConnectionError as exc:
                raise came.error(exc) from None
            came.received += len(data)
            came.eof = not data
            http.receive_data(data)
        elif isinstance(event, h11.Response):
            if event.http_version not in (b"1.0", b"1.1"):
                raise came.error(ProtocolError("not an HTTP/1.1 answer"))
            if len(event.headers) > MAX_HEADERS:
                raise came.error(ProtocolError("an answer's headers are too many"))
            head = event
            length = next((value for name, value in event.headers if name == b"content-length"), None)
            if length is not None and int(length) > MAX_BODY_BYTES:  # h11 checked it is digits
                raise came.error(ProtocolError("an answer larger than this client reads"))
        elif isinstance(event, h11.Data):
            total += len(event.data)
            if total > MAX_BODY_BYTES:
                raise came.error(ProtocolError("an answer larger than this client reads"))
            parts.append(event.data)  # a bytearray h11 cut for us: joined, not copied once more
        elif isinstance(event, h11.EndOfMessage) and head is not None:
            headers = Headers([(k.decode("ascii"), v.decode("latin-1")) for k, v in head.headers])
            return Response(head.status_code, headers, b"".join(parts))
        elif isinstance(event, h11.ConnectionClosed):  # pragma: no cover - h11 raises before this
            raise came.error(Disconnected(_NO_ANSWER))
        # h11.InformationalResponse (a 1xx): skipped; the final answer follows


_NO_ANSWER = "the server closed the connection without an answer"


def _gunzip(data: bytes) -> bytes:
    decoder = zlib.decompressobj(16 + zlib.MAX_WBITS)
    try:
        out = decoder.decompress(data, MAX_BODY_BYTES + 1)
        if len(out) > MAX_BODY_BYTES or decoder.unconsumed_tail:
            raise ProtocolError("an answer larger than this client reads")
        out += decoder.flush()
    except zlib.error as exc:
        raise ProtocolError(f"an answer whose gzip does not decode ({exc})") from None
    if not decoder.eof:
        raise ProtocolError("an answer whose gzip is cut short")
    return out


__all__ = ["Disconnected", "Headers", "HttpClient", "ProtocolError", "Response"]
