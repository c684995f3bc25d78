"""Entry point of the embedded AWS child process (``python -m heartbeat_tui.embedded.server``).

Protocol with the parent (see process.py):

* stdin, first line: JSON ``{"fleet": {...}, "step_seconds": s, "paused": b,
  "pdeathsig": b}``.  stdin then stays open: EOF means the parent is gone
  (it closed the pipe, exited or was SIGKILLed) and the child exits at once.
* stdout: exactly one line, ``HEARTBEAT_EMBEDDED_READY {"port": ...}``; after
  it stdout is pointed at stderr so nothing can fill the unread pipe.
* stderr: the parent's log file; a start failure's last line is its reason.

The child also polls ``os.getppid()`` and, when asked (the parent started us
from its main thread), sets PR_SET_PDEATHSIG so the kernel kills it with the
parent.
"""

from __future__ import annotations

import gc
import http.client
import io
import json
import logging
import os
import signal
import sys
import threading
import time
import traceback
from typing import Any

from heartbeat_tui.embedded.protocol import READY_PREFIX

PR_SET_PDEATHSIG = 1


def _set_pdeathsig() -> None:
    if not sys.platform.startswith("linux"):
        return
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    except (OSError, AttributeError):
        pass


def _watch_parent(parent_pid: int) -> None:
    """Exit as soon as the parent goes away (stdin EOF, or reparenting)."""

    def read_until_eof() -> None:
        # The raw fd, not sys.stdin: a thread blocked inside the buffered reader
        # holds its lock and makes interpreter shutdown abort.
        try:
            while os.read(0, 4096):
                pass
        except OSError:
            pass
        os._exit(0)

    def poll_parent() -> None:
        while True:
            if os.getppid() != parent_pid:
                os._exit(0)
            time.sleep(0.5)

    threading.Thread(target=read_until_eof, name="parent-stdin", daemon=True).start()
    threading.Thread(target=poll_parent, name="parent-poll", daemon=True).start()


def _quiet_logging() -> None:
    """werkzeug logs every request to stderr: keep errors only."""
    for name in ("werkzeug", "moto", "botocore", "urllib3"):
        logging.getLogger(name).setLevel(logging.ERROR)


def _prewarm(dispatcher: Any) -> None:
    """Build moto's per-service Flask apps now rather than on the first request."""
    from moto.moto_server.werkzeug_app import create_backend_app

    for service in ("ecs", "sts", "iam", "cloudwatch", "applicationautoscaling"):
        try:
            dispatcher.app_instances.setdefault(service, create_backend_app(service))
        except Exception:  # an internal API: a moto upgrade only costs the warm-up
            pass


def _load_moto_models() -> None:
    """Load the service models moto parses query-protocol requests with (STS,
    IAM), and the modules its request authorisation imports (moto.s3 among
    them). moto does both on its first request: ~0.3 s of CPU inside the
    first AssumeRole of a poll."""
    try:
        import moto.iam.access_control  # noqa: F401 - imported by moto's first request (with moto.s3)
        from moto.core.utils import get_service_model

        for service in ("sts", "iam"):
            get_service_model(service)
    except Exception:  # an internal API: a moto upgrade only costs the warm-up
        pass


def _seed_app_logs(world: Any) -> None:
    """The demo's application logs (embedded/applogs.py), after the child reported ready."""

    try:
        with world.lock:  # a consistent copy; the writing runs without the lock (ECS calls go on)
            plan = [(s, list(s.tasks.values()), list(s.stopped)) for s in world.ordered_services()]
        world.applogs.seed(plan, time.time(), world.spec.seed)
    except Exception:  # the logs are a nicety: the fleet runs without them
        traceback.print_exc(file=sys.stderr)


def _materialize_history(world: Any) -> None:
    """Generate the metric history in the background, a few services at a time,
    so requests interleave (a query materialises its own series on demand).
    moto's service models first: the first poll's first calls need them."""
    _load_moto_models()
    while True:
        remaining = world.metrics.materialize_some(8)  # the store's own lock, not the world's
        if remaining == 0:
            gc.freeze()  # moto's service models too (see _freeze_heap)
            return
        time.sleep(0)


def _freeze_heap() -> None:
    """Keep what the process built at start out of the garbage collector's way.

    moto, botocore's models and the seeded world are a few hundred thousand
    objects that live as long as the process. Every full collection walked all
    of them (about 0.13 s of CPU, triggered every other poll of the benchmark
    by the requests' own allocations). Frozen, they are never walked again;
    the objects requests create are collected as before. (No collection
    first: the start leaves no garbage to speak of, and one costs 0.1 s.)
    """
    gc.freeze()


# http.client's limits on a request's header block (line length, line count).
_MAX_HEADER_LINE = 65536
_MAX_HEADER_LINES = 100


def _simple_header(line: bytes) -> tuple[str, str] | None:
    """``(name, value)`` of a plain ``Name: value\\r\\n`` header line, exactly as the
    standard library's email parser would store it; None for anything it might
    read differently (folding, a stray CR, an empty or odd name, no colon)."""
    if not line.endswith(b"\r\n"):
        return None
    text = line[:-2].decode("iso-8859-1")
    if "\r" in text:  # the email parser splits lines at a bare CR too
        return None
    name, colon, value = text.partition(":")
    # The parser's header pattern: a name of printable ASCII other than space and ":".
    if not colon or not name or not (name.isascii() and name.isprintable()) or " " in name:
        return None
    return name, value.lstrip(" \t")  # what its compat32 policy keeps of the value


class _Headers(http.client.HTTPMessage):
    """The ``HTTPMessage`` the fast parse fills, cheaper to read.

    werkzeug and moto read every header a few times per request, and each read
    went through the email policy (compat32), which returns a value unchanged
    unless it holds surrogate-escaped bytes: never so for an ASCII string.
    Those are returned directly; any other value takes the policy's way.
    """

    def get(self, name: str, failobj: Any = None) -> Any:
        lowered = name.lower()
        for key, value in self.raw_items():
            if key.lower() == lowered:
                return value if type(value) is str and value.isascii() else self.policy.header_fetch_parse(key, value)
        return failobj

    def values(self) -> list[Any]:
        return [value for _, value in self.items()]

    def items(self) -> list[tuple[str, Any]]:
        fetch = self.policy.header_fetch_parse
        return [
            (key, value if type(value) is str and value.isascii() else fetch(key, value))
            for key, value in self.raw_items()
        ]


class _Replay:
    """The header lines already read off a connection, then the connection: what
    the standard library's request parser reads when the fast parse gives up."""

    def __init__(self, lines: list[bytes], rfile: Any) -> None:
        self._lines = lines
        self._rfile = rfile

    def readline(self, limit: int = -1) -> bytes:
        if self._lines:  # read with the same limit as http.client's
            return self._lines.pop(0)
        line: bytes = self._rfile.readline(limit)
        return line


def _read_config_line() -> bytes:
    """The first stdin line, read byte by byte from the fd so nothing past it is buffered."""
    data = bytearray()
    while not data.endswith(b"\n"):
        chunk = os.read(0, 1)
        if not chunk:
            break
        data += chunk
    return bytes(data)


def main() -> None:
    try:
        _main()
    except BaseException as exc:  # report any start failure in one line
        import traceback

        traceback.print_exc()  # its last line, "ValueError: ...", is the parent's reason
        sys.stderr.write(f"{type(exc).__name__}: {exc}\n")
        sys.stderr.flush()
        os._exit(1)


def _main() -> None:
    t0 = time.monotonic()
    parent_pid = os.getppid()
    line = _read_config_line()
    if not line.strip():
        raise RuntimeError("no configuration on stdin")
    config = json.loads(line)
    if config.get("pdeathsig"):
        _set_pdeathsig()
    _watch_parent(parent_pid)
    signal.signal(signal.SIGTERM, lambda *_: os._exit(0))
    signal.signal(signal.SIGINT, lambda *_: os._exit(0))

    # moto reads these at request time: an inherited MOTO_ACCOUNT_ID would fold
    # every account into one.  The parent already scrubbed them; be sure.
    for key in [k for k in os.environ if k.startswith("MOTO_") or k.startswith("AWS_")]:
        del os.environ[key]
    os.environ["MOTO_ECS_NEW_ARN"] = "true"
    _quiet_logging()
    # moto reads botocore's data files while it imports (EC2's region tables):
    # with orjson that is 0.6 s less before this process is ready.
    from heartbeat_tui.botodata import install_globally

    install_globally()

    from moto.core.request import PRESERVED_HEADER_NAMES_ENVIRON_KEY
    from moto.moto_server.werkzeug_app import (
        DomainDispatcherApplication,
        MotoRequestHandler,
        create_backend_app,
    )
    from werkzeug.serving import WSGIRequestHandler, make_server

    from heartbeat_tui.embedded.fleet import FleetSpec
    from heartbeat_tui.embedded.middleware import HeartbeatApp
    from heartbeat_tui.embedded.seeding import build_world
    from heartbeat_tui.embedded.simulator import Simulator

    class QuietHandler(MotoRequestHandler):
        """Keep-alive, as AWS endpoints do, and no request log.

        werkzeug 3 answers every request with "Connection: close", whatever
        the protocol version: it cannot tell whether the application read the
        whole request body, so after each response it discards whatever the
        client sent next. Each call then cost a new TCP connection on both sides
        and a new thread here (725 connections for two polls of the benchmark).
        Here the body (Content-Length bytes) is read off the connection before
        the application runs, and the answer is written here (`_answer`):
        nothing of the next request can be discarded, and the connection stays
        open. Requests with a chunked body or an Expect header go werkzeug's
        way, and their connection closes.
        """

        protocol_version = "HTTP/1.1"
        _first_values: dict[str, str] | None = None  # set by parse_request's fast way
        # werkzeug's way writes headers and body apart: with Nagle's algorithm on
        # a kept-alive connection the body would wait for the client's delayed
        # ACK (40 ms a call on Linux).
        disable_nagle_algorithm = True

        def parse_request(self) -> bool:
            """The standard library's parse, without its email parser for the
            usual request: ``METHOD /path HTTP/1.1`` and plain header lines.

            ``http.client.parse_headers`` feeds the header block to the email
            package's feed parser: a fifth of this process's CPU per request.
            Here the lines are split by hand into the same ``HTTPMessage``;
            anything unusual (another version, a ``//`` path, folded or odd
            lines, too many or too long ones, a multipart or message body type)
            goes to the standard parse, which reads the lines already read again.
            """
            self._first_values = None
            requestline = str(self.raw_requestline, "iso-8859-1").rstrip("\r\n")
            words = requestline.split()
            if len(words) != 3 or words[2] != "HTTP/1.1" or words[1].startswith("//"):
                return super().parse_request()
            lines: list[bytes] = []
            headers = _Headers()
            # Lower-case name -> first value: what headers.get returns (compat32
            # leaves an ISO-8859-1 string as it is), for this class's own reads.
            first_values: dict[str, str] = {}
            while True:
                line = self.rfile.readline(_MAX_HEADER_LINE + 1)
                lines.append(line)
                if len(line) > _MAX_HEADER_LINE or len(lines) > _MAX_HEADER_LINES:
                    return self._parse_read_lines(lines)
                if line == b"\r\n":
                    break
                header = _simple_header(line)
                if header is None:
                    return self._parse_read_lines(lines)
                headers.set_raw(*header)  # as the parser stores a header
                first_values.setdefault(header[0].lower(), header[1])
            content_type = first_values.get("content-type", "").lstrip().lower()
            if content_type.startswith(("multipart/", "message/")):  # the parser looks into those bodies
                return self._parse_read_lines(lines)
            headers.set_payload("")  # what the parser leaves for an empty body
            self.command, self.path = words[0], words[1]
            self.request_version = words[2]
            self.requestline = requestline
            self.headers = headers
            self._first_values = first_values
            # The rest of the standard parse, for HTTP/1.1 on both sides.
            self.close_connection = first_values.get("connection", "").lower() == "close"
            if first_values.get("expect", "").lower() == "100-continue":
                return bool(self.handle_expect_100())
            return True

        def make_environ(self) -> dict[str, Any]:
            # moto's make_environ (moto is pinned) keeps the spelling of header
            # names with an underscore (S3's x-amz-meta-*); when no name has one,
            # all it adds is an empty map, at a tenth of a request's CPU.
            if any("_" in name for name in self.headers):  # iterating yields the names
                return super().make_environ()
            environ = WSGIRequestHandler.make_environ(self)
            environ[PRESERVED_HEADER_NAMES_ENVIRON_KEY] = {}
            return environ

        def _parse_read_lines(self, lines: list[bytes]) -> bool:
            connection = self.rfile
            self.rfile = _Replay(lines, connection)  # type: ignore[assignment]  # reads lines, as the parser needs
            try:
                return bool(super().parse_request())
            finally:
                self.rfile = connection

        def run_wsgi(self) -> None:
            body = self._read_body()
            if body is None:  # chunked, Expect, or a bad length: werkzeug's way, then close
                super().run_wsgi()
                return
            connection = self.rfile
            self.rfile = io.BytesIO(body)
            try:
                environ = self.environ = self.make_environ()
            finally:
                self.rfile = connection
            self._answer(environ)

        def _answer(self, environ: dict[str, Any]) -> None:
            """Run the application and send its answer in one write.

            werkzeug's own loop writes headers and body apart and then waits up
            to 10 ms on a new selector for whatever else the client sent; with
            the body already read, neither is needed (about 0.1 ms of CPU per
            request). The application (HeartbeatApp) answers every request
            with a complete body, and turns its own failures into a 500.
            """
            captured: list[Any] = []

            def start_response(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
                captured[:] = [status, headers]
                return None

            try:
                result = self.server.app(environ, start_response)
                try:
                    payload = b"".join(result)
                finally:
                    close = getattr(result, "close", None)
                    if close is not None:
                        close()
                status, headers = captured
            except Exception:  # never a hung connection
                self.close_connection = True
                status, headers, payload = "500 Internal Server Error", [("Content-Type", "text/plain")], b"error"
            code = int(status.split(None, 1)[0])
            lines = [f"{self.protocol_version} {status}", f"Server: {self.version_string()}"]
            lines.append(f"Date: {self.date_time_string()}")
            hop = ("content-length", "connection")
            lines += [f"{key}: {value}" for key, value in headers if key.lower() not in hop]
            if not (100 <= code < 200 or code in (204, 304)):
                lines.append(f"Content-Length: {len(payload)}")
            if self.close_connection:
                lines.append("Connection: close")
            if self.command == "HEAD" or 100 <= code < 200 or code in (204, 304):
                payload = b""
            self.wfile.write(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + payload)

        def _header(self, lowered_name: str) -> Any:
            """A request header's first value, as ``self.headers.get`` returns it."""
            if self._first_values is not None:
                return self._first_values.get(lowered_name)
            return self.headers.get(lowered_name)

        def _read_body(self) -> bytes | None:
            if self._header("transfer-encoding") or self._header("expect"):
                return None
            try:
                length = int(self._header("content-length") or 0)
            except ValueError:
                return None
            if length < 0:
                return None
            body = self.rfile.read(length) if length else b""
            return body if len(body) == length else None

        def log_request(self, code: Any = "-", size: Any = "-") -> None:
            pass

    fleet = FleetSpec.from_dict(config["fleet"])
    world = build_world(fleet, time.time())
    simulator = Simulator(world, float(config.get("step_seconds", 60.0)), paused=bool(config.get("paused")))
    dispatcher = DomainDispatcherApplication(create_backend_app)
    _prewarm(dispatcher)
    app = HeartbeatApp(dispatcher, world, simulator)
    server = make_server(
        config.get("host", "127.0.0.1"),
        int(config.get("port", 0)),
        app,
        threaded=True,
        request_handler=QuietHandler,
    )
    ready = {
        "port": server.server_port,
        "pid": os.getpid(),
        "access_key": world.hub_access_key,
        "secret_key": world.hub_secret_key,
        "ready_seconds": round(time.monotonic() - t0, 3),
        "services": len(world.services),
        "clusters": len(world.clusters),
    }
    sys.stdout.write(READY_PREFIX + json.dumps(ready) + "\n")
    sys.stdout.flush()
    os.dup2(sys.stderr.fileno(), sys.stdout.fileno())
    _freeze_heap()
    threading.Thread(target=_materialize_history, args=(world,), name="metric-history", daemon=True).start()
    threading.Thread(target=_seed_app_logs, args=(world,), name="app-logs", daemon=True).start()
    simulator.start()
    server.serve_forever()


if __name__ == "__main__":
    main()
