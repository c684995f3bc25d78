"""The remote client's own HTTP (remote/http.py) against real sockets: servers that
answer byte for byte as a proxy or a broken peer might, and one over TLS.

Each server is a plain asyncio server on 127.0.0.1 that reads a request's head
and writes the answer the test gives, so framing, keep-alive and failures are
exactly what a test says.
"""

from __future__ import annotations

import asyncio
import gzip
import json
import os
import ssl
import subprocess
import sys
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path

import pytest

from heartbeat_tui.errors import EXIT_INTERNAL, EXIT_UNAVAILABLE, EXIT_USAGE, HeartbeatError
from heartbeat_tui.remote import http
from heartbeat_tui.remote.client import RemoteClient, ServerError, ServerUnavailable
from heartbeat_tui.remote.http import Disconnected, HttpClient, ProtocolError
from tests.support.tls import self_signed

Answer = Callable[[bytes, asyncio.StreamReader, asyncio.StreamWriter], Awaitable[bool]]
BODY = json.dumps({"users": [{"username": "ops", "role": "viewer"}] * 50}).encode()


class Server:
    """Answers each request with `answer(head, reader, writer)` (True: keep the connection)."""

    def __init__(self, answer: Answer) -> None:
        self.answer = answer
        self.connections = 0
        self.heads: list[bytes] = []
        self.port = 0

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                length = next(
                    (
                        int(line.split(b":")[1])
                        for line in head.split(b"\r\n")
                        if line.lower().startswith(b"content-length:")
                    ),
                    0,
                )
                head += await reader.readexactly(length)
                self.heads.append(head)
                if not await self.answer(head, reader, writer):
                    break
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()


@asynccontextmanager
async def serving(answer: Answer, context: ssl.SSLContext | None = None) -> AsyncIterator[Server]:
    server = Server(answer)
    listener = await asyncio.start_server(server._handle, "127.0.0.1", 0, ssl=context)
    server.port = listener.sockets[0].getsockname()[1]
    try:
        yield server
    finally:
        listener.close()


def reply(body: bytes, *, status: str = "200 OK", headers: tuple[str, ...] = (), keep: bool = True) -> Answer:
    async def answer(head: bytes, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> bool:
        lines = [f"HTTP/1.1 {status}", f"Content-Length: {len(body)}", *headers]
        writer.write(("\r\n".join(lines) + "\r\n\r\n").encode() + body)
        await writer.drain()
        return keep

    return answer


def chunked_gzip(head: bytes, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> Awaitable[bool]:
    async def go() -> bool:
        data = gzip.compress(BODY)
        writer.write(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nContent-Encoding: gzip\r\n\r\n")
        for start in range(0, len(data), 100):
            piece = data[start : start + 100]
            writer.write(f"{len(piece):x};ext=1\r\n".encode() + piece + b"\r\n")
        writer.write(b"0\r\nX-Trailer: yes\r\n\r\n")
        await writer.drain()
        return True

    return go()


async def to_the_end(head: bytes, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> bool:
    writer.write(b"HTTP/1.0 200 OK\r\nContent-Type: application/json\r\n\r\n" + BODY)
    await writer.drain()
    return False


@pytest.mark.parametrize(
    "answer",
    [reply(BODY), reply(gzip.compress(BODY), headers=("Content-Encoding: gzip",)), chunked_gzip, to_the_end],
    ids=["content-length", "gzip", "chunked-gzip", "to-the-end"],
)
async def test_every_framing_reads_the_same_answer(answer: Answer) -> None:
    async with serving(answer) as server, RemoteClient(f"http://127.0.0.1:{server.port}", "t0ken") as client:
        assert await client.users() == json.loads(BODY)["users"]
        assert await client.users() == json.loads(BODY)["users"]
    head = server.heads[0].decode()
    assert head.startswith("GET /api/v1/users HTTP/1.1\r\n")
    assert f"\r\nHost: 127.0.0.1:{server.port}\r\n" in head and "\r\nAuthorization: Bearer t0ken\r\n" in head
    # Kept alive unless the answer ran to the connection's end.
    assert server.connections == (2 if answer is to_the_end else 1)


async def test_a_path_prefix_query_and_json_body_are_sent_as_given() -> None:
    async with (
        serving(reply(b'{"token": "abc"}')) as server,
        RemoteClient(f"http://127.0.0.1:{server.port}/hb/") as client,
    ):
        await client.login("ops", "pa ss+word")
        await client.request("GET", "/api/v1/x", params={"start": "2026-12-03T10:00:00+00:00"}, ok=(200,))
    login, query = server.heads
    assert login.startswith(b"POST /hb/api/v1/auth/login HTTP/1.1\r\n") and b"Authorization" not in login
    assert b"\r\nContent-Type: application/json\r\n" in login
    assert json.loads(login.split(b"\r\n\r\n", 1)[1]) == {"username": "ops", "password": "pa ss+word"}
    assert query.startswith(b"GET /hb/api/v1/x?start=2026-12-03T10%3A00%3A00%2B00%3A00 HTTP/1.1\r\n")
    assert b"\r\nAuthorization: Bearer abc\r\n" in query


async def test_a_kept_alive_connection_the_server_closed_is_not_an_outage() -> None:
    # The server answers, says nothing of closing, then closes (as an idle timeout does).
    async with serving(reply(BODY, keep=False)) as server, RemoteClient(f"http://127.0.0.1:{server.port}") as client:
        for _ in range(3):
            assert len(await client.users()) == 50
            await asyncio.sleep(0.05)  # the close reaches the client before the next call
    assert server.connections == 3


async def test_a_get_the_server_dropped_unanswered_is_sent_again_once() -> None:
    # The close crosses the next request: the server reads it and hangs up without an answer.
    async def every_second_dropped(head: bytes, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> bool:
        return len(server.heads) % 2 == 1 and await reply(BODY)(head, reader, writer)

    async with (
        serving(every_second_dropped) as server,
        RemoteClient(f"http://127.0.0.1:{server.port}") as client,
    ):
        assert len(await client.users()) == 50
        assert len(await client.users()) == 50
        with pytest.raises(ServerUnavailable):  # a POST is never sent twice
            await client.user_call("POST", "ops", "unlock")
    assert len(server.heads) == 4 and server.connections == 2


async def test_a_redirect_is_not_followed() -> None:
    answer = reply(b"", status="302 Found", headers=("Location: http://elsewhere.example/",))
    async with serving(answer) as server, RemoteClient(f"http://127.0.0.1:{server.port}") as client:
        with pytest.raises(ServerError) as failed:
            await client.users()
    assert "HTTP 302" in str(failed.value) and len(server.heads) == 1


async def garbage(head: bytes, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> bool:
    writer.write(b"SSH-2.0-OpenSSH_9.2\r\n\r\n")
    await writer.drain()
    return False


async def cut_short(head: bytes, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> bool:
    writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n" + BODY[:10])
    await writer.drain()
    return False


async def huge_header(head: bytes, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> bool:
    writer.write(b"HTTP/1.1 200 OK\r\nX-Big: " + b"a" * 100_000 + b"\r\nContent-Length: 0\r\n\r\n")
    await writer.drain()
    return False


@pytest.mark.parametrize(
    ("answer", "error", "code", "words"),
    [
        (garbage, ServerError, EXIT_INTERNAL, "not an HTTP/1.1 answer"),
        (cut_short, ServerUnavailable, EXIT_UNAVAILABLE, "in the middle of an answer"),
        (huge_header, ServerError, EXIT_INTERNAL, "too long"),
        (reply(b"\x1f\x8b not gzip", headers=("Content-Encoding: gzip",)), ServerError, EXIT_INTERNAL, "gzip"),
        (reply(b"{}", headers=("Content-Encoding: br",)), ServerError, EXIT_INTERNAL, "coding not asked for"),
    ],
    ids=["not-http", "cut-short", "huge-header", "bad-gzip", "brotli"],
)
async def test_a_broken_answer_is_one_clear_error(
    answer: Answer, error: type[HeartbeatError], code: int, words: str
) -> None:
    async with serving(answer) as server, RemoteClient(f"http://127.0.0.1:{server.port}") as client:
        with pytest.raises(error) as failed:
            await client.users()
    assert failed.value.exit_code == code
    assert words in str(failed.value) and f"127.0.0.1:{server.port}" in str(failed.value)


async def test_nothing_listening_is_unavailable() -> None:
    async with serving(reply(b"")) as server:
        port = server.port
    async with RemoteClient(f"http://127.0.0.1:{port}") as client:
        with pytest.raises(ServerUnavailable) as failed:
            await client.users()
    assert "cannot reach the HeartBeat server" in str(failed.value) and failed.value.exit_code == EXIT_UNAVAILABLE


async def test_a_header_with_a_line_break_is_never_sent() -> None:
    async with (
        serving(reply(BODY)) as server,
        RemoteClient(f"http://127.0.0.1:{server.port}", forwarded_for="1.2.3.4\r\nX-Admin: 1") as client,
    ):
        with pytest.raises(Exception) as failed:
            await client.users()
    assert getattr(failed.value, "exit_code", None) == EXIT_USAGE and server.heads == []


async def test_closing_the_client_ends_a_long_poll_at_once() -> None:
    async def never(head: bytes, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> bool:
        await asyncio.Event().wait()
        return False

    async with serving(never) as server:
        client = RemoteClient(f"http://127.0.0.1:{server.port}", "t")
        waiting = asyncio.ensure_future(client.fleet("etag-1", wait=25))
        while not server.heads:
            await asyncio.sleep(0.01)
        await client.aclose()
        with pytest.raises(ServerUnavailable):
            await asyncio.wait_for(waiting, 2.0)


async def test_a_cancelled_request_leaves_no_connection_to_reuse() -> None:
    gate = asyncio.Event()

    async def first_slow(head: bytes, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> bool:
        if len(server.heads) == 1:
            await gate.wait()
        return await reply(BODY)(head, reader, writer)

    async with serving(first_slow) as server, RemoteClient(f"http://127.0.0.1:{server.port}") as client:
        waiting = asyncio.ensure_future(client.users())
        while not server.heads:
            await asyncio.sleep(0.01)
        waiting.cancel()
        gate.set()
        assert len(await client.users()) == 50  # its answer is not the late one of the cancelled call
    assert server.connections == 2


# -- framing, keep-alive and limits (h11 frames; the module caps and decides to retry) ------


def in_turn(server_ref: list[Server], *answers: bytes) -> Answer:
    """The n-th request (over all connections) gets the n-th bytes as they are; connections kept open."""

    async def answer(head: bytes, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> bool:
        writer.write(answers[len(server_ref[0].heads) - 1])
        await writer.drain()
        return True

    return answer


@asynccontextmanager
async def talking(*answers: bytes) -> AsyncIterator[tuple[Server, HttpClient]]:
    ref: list[Server] = []
    async with serving(in_turn(ref, *answers)) as server:
        ref.append(server)
        client = HttpClient(f"http://127.0.0.1:{server.port}", headers={}, connect_seconds=5)
        try:
            yield server, client
        finally:
            await client.aclose()


OK_FRESH = b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nfresh"


@pytest.mark.parametrize(
    ("first", "method", "connections"),
    [
        (b'HTTP/1.1 304 Not Modified\r\nETag: "e1"\r\n\r\n', "GET", 1),
        (b"HTTP/1.1 200 OK\r\nContent-Length: 5000\r\n\r\n", "HEAD", 1),
        (b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok", "GET", 1),
        (b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok", "GET", 2),
        (b"HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\nok", "GET", 2),
        # Bytes nobody asked for after an answer: read as the next answer, they would desynchronise the stream.
        (b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nokHTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nstale", "GET", 2),
    ],
    ids=["304-no-body", "head-no-body", "100-continue", "connection-close", "http-1.0", "stray-bytes"],
)
async def test_a_connection_is_reused_only_when_the_answer_allows_it(
    first: bytes, method: str, connections: int
) -> None:
    async with talking(first, OK_FRESH) as (server, client):
        answer = await client.request(method, "/a", timeout=5)
        assert answer.body == (b"ok" if b"ok" in first else b"")
        again = await client.request("GET", "/b", timeout=5)
    assert (again.status, again.body) == (200, b"fresh")
    assert server.connections == connections


@pytest.mark.parametrize(
    ("answer", "words"),
    [
        (b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nabc\r\n0\r\n\r\n", "malformed body"),
        (b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabcXX0\r\n\r\n", "malformed body"),
        (b"HTTP/1.1 200 OK\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\nabcd", "not an HTTP/1.1 answer"),
        (b"HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\nabcd", "not an HTTP/1.1 answer"),
        (b"HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n", "not an HTTP/1.1 answer"),
        (b"HTTP/1.1 200 OK\r\nX Bad: 1\r\nContent-Length: 0\r\n\r\n", "not an HTTP/1.1 answer"),
        (b"HTTP/2.0 200 OK\r\nContent-Length: 0\r\n\r\n", "not an HTTP/1.1 answer"),
        (b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: h2c\r\n\r\n", "not an HTTP/1.1 answer"),
        (b"HTTP/1.1 200 OK\r\nContent-Length: 2147483648\r\n\r\n", "larger than this client reads"),
        (b"HTTP/1.1 200 OK\r\n" + b"X-A: 1\r\n" * 101 + b"Content-Length: 0\r\n\r\n", "too many"),
    ],
    ids=[
        "chunk-size",
        "chunk-end",
        "two-lengths",
        "te-gzip",
        "negative-length",
        "bad-name",
        "http-2",
        "101",
        "huge-length",
        "101-headers",
    ],
)
async def test_a_malformed_answer_is_the_modules_protocol_error(answer: bytes, words: str) -> None:
    async with talking(answer, OK_FRESH) as (server, client):
        with pytest.raises(ProtocolError, match=words):
            await client.request("GET", "/", timeout=5)
        assert (await client.request("GET", "/", timeout=5)).body == b"fresh"  # on a new connection
    assert len(server.heads) == 2 and server.connections == 2


@pytest.mark.parametrize("first_piece", [0, 1000], ids=["one-write", "two-writes"])
async def test_the_header_block_cap_is_exact_however_the_bytes_arrive(first_piece: int) -> None:
    def head(size: int) -> bytes:
        start, end = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nX-Pad: ", b"\r\n\r\n"
        return start + b"p" * (size - len(start) - len(end)) + end + b"ok"

    answers = [head(http.MAX_HEADER_BYTES), head(http.MAX_HEADER_BYTES + 1)]

    # h11 alone bounds only a head it has not yet parsed: fed in one piece, or in pieces whose last
    # one completes it, it would parse either size.
    async def in_pieces(request: bytes, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> bool:
        data = answers[len(server.heads) - 1]
        if first_piece:
            writer.write(data[:first_piece])
            await writer.drain()
            await asyncio.sleep(0.05)  # the client reads the first piece on its own
        writer.write(data[first_piece:])
        await writer.drain()
        return True

    async with serving(in_pieces) as server:
        client = HttpClient(f"http://127.0.0.1:{server.port}", headers={}, connect_seconds=5)
        assert (await client.request("GET", "/", timeout=5)).body == b"ok"
        with pytest.raises(ProtocolError, match="headers are too long"):
            await client.request("GET", "/", timeout=5)
        await client.aclose()
    assert len(server.heads) == 2 and server.connections == 1


async def test_the_body_cap_holds_for_every_framing(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(http, "MAX_BODY_BYTES", 1000)
    chunk = b"1f4\r\n" + b"c" * 500 + b"\r\n"
    answers = [
        b"HTTP/1.1 200 OK\r\nContent-Length: 1001\r\n\r\n" + b"x" * 1001,
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n" + chunk * 3 + b"0\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nContent-Length: 1000\r\nContent-Encoding: gzip\r\n\r\n",  # a gzip bomb, below
        b"HTTP/1.0 200 OK\r\n\r\n" + b"e" * 1001,
    ]
    bomb = gzip.compress(b"\0" * 100_000)
    answers[2] = answers[2].replace(b"1000", str(len(bomb)).encode()) + bomb
    async with talking(*answers) as (server, client):
        for _ in answers:
            with pytest.raises(ProtocolError, match="larger than this client reads"):
                await client.request("GET", "/", timeout=5)
    assert len(server.heads) == 4


async def test_an_answer_cut_short_is_disconnected_and_never_sent_again() -> None:
    async def half_a_head_the_second_time(
        head: bytes, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> bool:
        if len(server.heads) == 1:
            return await reply(BODY)(head, reader, writer)
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Le")
        await writer.drain()
        return False

    async with serving(half_a_head_the_second_time) as server:
        client = HttpClient(f"http://127.0.0.1:{server.port}", headers={}, connect_seconds=5)
        assert (await client.request("GET", "/", timeout=5)).body == BODY
        with pytest.raises(Disconnected, match="in an answer's headers"):
            await client.request("GET", "/", timeout=5)  # a reused connection, but part of an answer came
        await client.aclose()
    assert len(server.heads) == 2


async def test_a_large_gzip_body_decodes() -> None:
    data = json.dumps([{"i": i, "salt": os.urandom(16).hex()} for i in range(20_000)]).encode()
    packed = gzip.compress(data)
    assert len(packed) > 256 * 1024  # large enough to be decoded off the event loop
    async with talking(
        b"HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nContent-Length: %d\r\n\r\n" % len(packed) + packed
    ) as (_, client):
        assert (await client.request("GET", "/", timeout=30)).body == data


async def test_no_cookie_is_kept_and_no_proxy_is_taken_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("HTTP_PROXY", "http_proxy", "HTTPS_PROXY", "https_proxy", "ALL_PROXY", "all_proxy"):
        monkeypatch.setenv(name, "http://127.0.0.1:9")  # the discard port: a proxy taken would fail
    set_cookie = b"HTTP/1.1 200 OK\r\nSet-Cookie: session=s3cret; Path=/\r\nContent-Length: 2\r\n\r\nok"
    async with talking(set_cookie, set_cookie) as (server, client):
        await client.request("GET", "/", timeout=5)
        await client.request("GET", "/", timeout=5)
    assert all(b"cookie" not in head.lower() for head in server.heads) and len(server.heads) == 2


async def test_a_request_past_its_total_timeout_ends_and_its_connection_is_not_reused() -> None:
    async with talking(b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nhalf", OK_FRESH) as (server, client):
        with pytest.raises(TimeoutError):
            await client.request("GET", "/", timeout=0.2)
        assert (await client.request("GET", "/", timeout=5)).body == b"fresh"
    assert server.connections == 2


async def test_a_server_that_never_finishes_the_tls_handshake_is_unavailable_after_connect_seconds() -> None:
    async def never(head: bytes, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> bool:
        return False

    # Plain TCP: the client's TLS hello is never answered.
    async with (
        serving(never) as server,
        RemoteClient(f"https://127.0.0.1:{server.port}", connect_seconds=0.3) as client,
    ):
        with pytest.raises(ServerUnavailable) as failed:
            await asyncio.wait_for(client.users(), 10)
    assert "cannot reach the HeartBeat server" in str(failed.value) and server.heads == []


# -- TLS ----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    return self_signed(tmp_path_factory.mktemp("tls"), ca=True)


def tls_context(certificate: tuple[Path, Path]) -> ssl.SSLContext:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(*certificate)
    return context


async def test_tls_refuses_a_certificate_the_system_does_not_trust(certificate: tuple[Path, Path]) -> None:
    async with (
        serving(reply(BODY), tls_context(certificate)) as server,
        RemoteClient(f"https://127.0.0.1:{server.port}") as client,
    ):
        with pytest.raises(ServerUnavailable) as failed:
            await client.users()
    assert "CERTIFICATE_VERIFY_FAILED" in str(failed.value) and server.heads == []


def test_tls_verifies_against_the_trust_store_it_is_given(certificate: tuple[Path, Path]) -> None:
    # SSL_CERT_FILE is read when the client's TLS context is made: a process of its own.
    script = (
        "import asyncio, sys\n"
        "from heartbeat_tui.remote.client import RemoteClient\n"
        "async def main():\n"
        "    async with RemoteClient(sys.argv[1]) as client:\n"
        "        print(len(await client.users()))\n"
        "asyncio.run(main())\n"
    )

    async def run() -> subprocess.CompletedProcess[str]:
        async with serving(reply(BODY), tls_context(certificate)) as server:
            process = await asyncio.create_subprocess_exec(
                sys.executable,
                "-c",
                script,
                f"https://127.0.0.1:{server.port}",
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                env={"SSL_CERT_FILE": str(certificate[0]), "PATH": "/usr/bin:/bin"},
            )
            out, err = await asyncio.wait_for(process.communicate(), 60)
            return subprocess.CompletedProcess([], process.returncode or 0, out.decode(), err.decode())

    done = asyncio.run(run())
    assert done.returncode == 0 and done.stdout.strip() == "50", done.stderr
