"""A small HTTP/1.1 client over asyncio streams: what `RemoteClient` needs, no more.

Why not aiohttp's client: every browser tab of `heartbeat web` is a dashboard
process of its own, and importing aiohttp (with yarl, multidict, attrs and its
parsers) cost each one about 8 MB RSS, a tenth of its budget. The API of
`heartbeat serve` asks little of a client: one origin, small requests, JSON or
fleetwire answers, gzip, keep-alive and a long-poll.

What it keeps: TLS verified against the system's trust store with the host
name checked (`ssl.create_default_context()`; `SSL_CERT_FILE` honoured); no
cookies, no proxy taken from the environment, no redirect followed; a connect
timeout and a total one per request. Answers: `Content-Length`, chunked, or to
the end of the connection; gzip decoded (the only coding it asks for). The
header block and the body are capped, so a broken peer cannot exhaust memory.
A GET sent on a kept-alive connection the server had meanwhile closed is sent
once more on a new one (nothing of it was answered); nothing else is retried.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
import ssl
import time
import zlib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from urllib.parse import urlencode, urlsplit

MAX_HEADER_BYTES = 64 * 1024
MAX_HEADERS = 100
MAX_BODY_BYTES = 1 << 30  # a fleet of 40,000 services is about a tenth of this
IDLE_SECONDS = 15.0  # a kept-alive connection older than this is not reused (servers close them at 60-75 s)
MAX_IDLE = 4
_THREAD_DECOMPRESS_BYTES = 256 * 1024  # larger gzip bodies are decoded off the event loop
_TOKEN = re.compile(rb"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")
_STATUS_LINE = re.compile(rb"HTTP/1\.([01]) ([0-9]{3})(?: [^\r\n]*)?\r?\n")


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
    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader = reader
        self.writer = writer
        self.idle_since = time.monotonic()
        self.used = False

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
        for key, value in self.headers.items():
            _check_header(key, value)
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
        head = [f"{method} {target} HTTP/1.1"]
        sent = {**self.headers, **(headers or {})}
        if body is not None or method in ("POST", "PUT", "PATCH"):
            sent["Content-Length"] = str(len(body or b""))
        for key, value in sent.items():
            _check_header(key, value)
            head.append(f"{key}: {value}")
        message = ("\r\n".join(head) + "\r\n\r\n").encode("latin-1") + (body or b"")
        async with asyncio.timeout(timeout):
            while True:
                connection = await self._connection()
                reused = connection.used
                connection.used = True
                try:
                    connection.writer.write(message)
                    await connection.writer.drain()
                    response, keep = await _read_response(connection.reader, method)
                except (Disconnected, ConnectionResetError, BrokenPipeError) as exc:
                    self._drop(connection)
                    # A kept-alive connection the server had closed: a GET is asked again, once, on a new one.
                    if reused and method == "GET" and not getattr(exc, "answered", False):
                        continue
                    raise
                except BaseException:
                    self._drop(connection)  # cancelled, timed out or garbled: never reused
                    raise
                if keep and not self.closed and len(self._idle) < MAX_IDLE:
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


def _check_header(name: str, value: str) -> None:
    if not _TOKEN.fullmatch(name.encode("latin-1", "replace")) or any(c in value for c in "\r\n\0"):
        raise ValueError(f"not a valid header: {name!r}")


async def _read_response(reader: asyncio.StreamReader, method: str) -> tuple[Response, bool]:
    """The next final answer on `reader` (1xx skipped), and whether the connection can carry another."""

    while True:
        try:
            line = await reader.readuntil(b"\n")
        except asyncio.IncompleteReadError as exc:
            raise Disconnected("the server closed the connection without an answer") from exc
        except asyncio.LimitOverrunError as exc:
            raise ProtocolError("an answer's status line is too long") from exc
        found = _STATUS_LINE.fullmatch(line)
        if found is None:
            raise _answered(ProtocolError("not an HTTP/1.1 answer"))
        minor, status = int(found.group(1)), int(found.group(2))
        headers = await _read_headers(reader)
        if 100 <= status < 200 and status != 101:
            continue
        break
    connection = headers.get("Connection", "").lower()
    keep = "close" not in connection and (minor == 1 or "keep-alive" in connection)
    if method == "HEAD" or status in (204, 304) or 100 <= status < 200:
        return Response(status, headers, b""), keep
    try:
        if "Transfer-Encoding" in headers:
            codings = [c.strip().lower() for c in headers["Transfer-Encoding"].split(",")]
            if codings[-1] != "chunked":
                raise ProtocolError(f"an answer framed as {headers['Transfer-Encoding']}")
            body = await _read_chunked(reader)
        elif "Content-Length" in headers:
            lengths = {v.strip() for v in headers["Content-Length"].split(",")}
            if len(lengths) != 1 or not (length := lengths.pop()).isdigit():
                raise ProtocolError("an answer with a bad Content-Length")
            if int(length) > MAX_BODY_BYTES:
                raise ProtocolError("an answer larger than this client reads")
            body = await reader.readexactly(int(length))
        else:
            body, keep = await _read_to_end(reader), False
    except asyncio.IncompleteReadError as exc:
        raise _answered(Disconnected("the server closed the connection in the middle of an answer")) from exc
    except asyncio.LimitOverrunError as exc:
        raise _answered(ProtocolError("an answer with a malformed chunk")) from exc
    return Response(status, headers, body), keep


def _answered(exc: Exception) -> Exception:
    exc.answered = True  # type: ignore[attr-defined]  # part of an answer came: never sent again
    return exc


async def _read_headers(reader: asyncio.StreamReader) -> Headers:
    pairs: list[tuple[str, str]] = []
    size = 0
    while True:
        try:
            line = await reader.readuntil(b"\n")
        except asyncio.IncompleteReadError as exc:
            raise _answered(Disconnected("the server closed the connection in an answer's headers")) from exc
        except asyncio.LimitOverrunError as exc:
            raise _answered(ProtocolError("an answer's header is too long")) from exc
        size += len(line)
        if size > MAX_HEADER_BYTES or len(pairs) > MAX_HEADERS:
            raise _answered(ProtocolError("an answer's headers are too large"))
        line = line.rstrip(b"\r\n")
        if not line:
            return Headers(pairs)
        name, colon, value = line.partition(b":")
        if not colon or not _TOKEN.fullmatch(name):  # obsolete line folding included
            raise _answered(ProtocolError("an answer with a malformed header"))
        pairs.append((name.decode("ascii"), value.strip().decode("latin-1")))


async def _read_chunked(reader: asyncio.StreamReader) -> bytes:
    parts: list[bytes] = []
    total = 0
    while True:
        line = await reader.readuntil(b"\n")
        size_text = line.split(b";", 1)[0].strip()
        try:
            size = int(size_text, 16)
        except ValueError:
            raise _answered(ProtocolError("an answer with a malformed chunk")) from None
        if size == 0:
            await _read_headers(reader)  # trailers, if any: read and ignored
            return b"".join(parts)
        total += size
        if total > MAX_BODY_BYTES:
            raise _answered(ProtocolError("an answer larger than this client reads"))
        parts.append(await reader.readexactly(size))
        if (await reader.readuntil(b"\n")).strip():
            raise _answered(ProtocolError("an answer with a malformed chunk"))


async def _read_to_end(reader: asyncio.StreamReader) -> bytes:
    parts: list[bytes] = []
    total = 0
    while chunk := await reader.read(1 << 16):
        total += len(chunk)
        if total > MAX_BODY_BYTES:
            raise _answered(ProtocolError("an answer larger than this client reads"))
        parts.append(chunk)
    return b"".join(parts)


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
