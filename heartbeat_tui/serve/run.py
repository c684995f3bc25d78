"""`heartbeat serve`: start the shared collector service, stop it cleanly.

Before anything listens: the address is checked (anything but loopback needs
TLS, or `--insecure-http` for a TLS-terminating proxy in front), the TLS files
are loaded, and the auth secrets and users store are opened; each failure is
one line and exit code 2. SIGTERM (or Ctrl-C) stops accepting connections,
wakes every long-poll, lets in-flight requests finish (up to `DRAIN_SECONDS`)
and exits 0. The access log goes to the log file, one line a request, and never
holds a header or a query string (where tokens and secrets would be).
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import logging
import signal
import ssl
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from aiohttp import web
from aiohttp.abc import AbstractAccessLogger
from aiohttp.web_request import BaseRequest

from heartbeat_tui.config import Config
from heartbeat_tui.errors import EXIT_OK, UsageError
from heartbeat_tui.models import utcnow
from heartbeat_tui.serve.errors import CLIENT
from heartbeat_tui.serve.sessions import USERNAME

if TYPE_CHECKING:
    from heartbeat_tui.auth.service import AuthService
    from heartbeat_tui.controller import FleetSource

log = logging.getLogger(__name__)
access_log = logging.getLogger("heartbeat.access")

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8787
DRAIN_SECONDS = 10.0


@dataclass(frozen=True)
class ServeOptions:
    host: str = DEFAULT_HOST
    port: int = DEFAULT_PORT
    tls_cert: Path | None = None
    tls_key: Path | None = None
    insecure_http: bool = False
    # Whose X-Forwarded-For names the client; None: the configuration's [serve].trusted_proxies.
    trusted_proxies: tuple[str, ...] | None = None

    @property
    def tls(self) -> bool:
        return self.tls_cert is not None

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{'https' if self.tls else 'http'}://{host}:{self.port}"


def parse_listen(text: str) -> tuple[str, int]:
    """`HOST:PORT`, `[IPv6]:PORT` or `:PORT` (loopback)."""

    host, sep, port_text = text.rpartition(":")
    if not sep or not port_text.isdigit() or not 0 <= int(port_text) <= 65535:
        raise UsageError(f"--listen {text!r}: expected HOST:PORT, such as 127.0.0.1:8787")
    host = host.removeprefix("[").removesuffix("]") or DEFAULT_HOST
    return host, int(port_text)


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False  # a name resolves to whatever it resolves to: treated as reachable from outside


def check_options(options: ServeOptions) -> None:
    """The refusals made before anything listens (UsageError, exit code 2)."""

    if (options.tls_cert is None) != (options.tls_key is None):
        raise UsageError("--tls-cert and --tls-key go together")
    if options.tls and options.insecure_http:
        raise UsageError("--insecure-http and --tls-cert contradict each other: give one")
    if not options.tls and not options.insecure_http and not is_loopback(options.host):
        raise UsageError(
            f"refusing to serve {options.host} without TLS: give --tls-cert and --tls-key,"
            " or --insecure-http behind a TLS-terminating proxy"
        )


def checked_proxies(entries: list[str]) -> tuple[str, ...]:
    """`--trusted-proxy` values (each an address or network; one line, exit 2, if not)."""

    from heartbeat_tui.serve.forwarded import check_entries

    try:
        return check_entries(entries)
    except ValueError as exc:
        raise UsageError(str(exc)) from None


async def listen(runner: web.AppRunner, options: ServeOptions, context: ssl.SSLContext | None) -> ServeOptions:
    """Listen where `options` say (`heartbeat serve` and `heartbeat web`): an address in
    use or refused is one line and exit code 2, not a traceback. Returned: `options`
    with the port listened on (the one the system chose for port 0)."""

    site = web.TCPSite(runner, options.host, options.port, ssl_context=context)
    try:
        await site.start()
    except OSError as exc:
        raise UsageError(f"cannot listen on {options.host}:{options.port}: {exc.strerror or exc}") from None
    port = runner.addresses[0][1] if runner.addresses else options.port
    return ServeOptions(options.host, port, options.tls_cert, options.tls_key)


def tls_context(options: ServeOptions) -> ssl.SSLContext | None:
    if options.tls_cert is None or options.tls_key is None:
        return None
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    try:
        context.load_cert_chain(options.tls_cert, options.tls_key)
    except (OSError, ssl.SSLError) as exc:
        reason = getattr(exc, "strerror", None) or getattr(exc, "reason", None) or type(exc).__name__
        files = f"{options.tls_cert} and {options.tls_key}"
        raise UsageError(f"--tls-cert/--tls-key: cannot load {files}: {reason}") from None
    return context


class AccessLogger(AbstractAccessLogger):
    """One line a request: client, user (once known), method, path, status, size, time.

    The path only (percent-encoded as sent): no query string, no header, so no
    token or secret reaches the log; the log's formatter escapes the rest."""

    def log(self, request: BaseRequest, response: web.StreamResponse, time: float) -> None:
        self.logger.info(
            "%s %s %s %s %d %d %.1fms",
            request.get(CLIENT) or request.remote or "-",
            request.get(USERNAME, "-"),
            request.method,
            request.rel_url.raw_path,
            response.status,
            response.body_length,
            time * 1000,
        )


def _on_signals(stop: asyncio.Event) -> list[signal.Signals]:
    """SIGTERM and SIGINT set `stop`; none where the loop cannot take signals (not the main thread)."""

    handled = []
    for signum in (signal.SIGTERM, signal.SIGINT):
        try:
            asyncio.get_running_loop().add_signal_handler(signum, stop.set)
        except (RuntimeError, ValueError, NotImplementedError):
            continue
        handled.append(signum)
    return handled


def poller(config: Config, *, clock: Callable[[], datetime] = utcnow) -> FleetSource:
    """The service's collector, as `[collector].workers` asks (`make_collector`): in-process
    with one worker ("auto" on two cores), else worker processes, so a large fleet's parsing
    never holds this process's interpreter lock while a request waits.

    Measured on the 2,400-service bench (BENCHMARKS.md): in-process, every target is met by
    one process of about 200 MB; a worker process met the latency targets too, but the
    service then took about 350 MB in two processes."""

    from heartbeat_tui.collector.workers import make_collector

    return make_collector(config, clock=clock)


async def serve(
    config: Config,
    options: ServeOptions,
    *,
    stop: asyncio.Event | None = None,
    ready: Callable[[str], None] | None = None,
    auth: AuthService | None = None,
) -> int:
    """Run the service until `stop` is set (or SIGTERM/SIGINT); `ready` is given its URL.

    `auth`: an auth service already open (the demo's, on its embedded AWS);
    by default one is opened on the configured users store."""

    from heartbeat_tui.auth.service import open_auth
    from heartbeat_tui.cluster import make_source
    from heartbeat_tui.collector.collector import Collector
    from heartbeat_tui.collector.workers import STOP_SECONDS
    from heartbeat_tui.controller.threaded import ThreadedSource
    from heartbeat_tui.serve.app import build_app
    from heartbeat_tui.serve.hub import Hub

    check_options(options)
    context = tls_context(options)
    stop = stop or asyncio.Event()
    async with contextlib.AsyncExitStack() as stack:
        if auth is None:
            auth = await stack.enter_async_context(open_auth(config))
        # The merge of the workers' parts on its own loop in a thread: no poll step runs on the requests' loop.
        # With [cluster], this replica's leased accounts (`[collector].workers` as configured), every
        # account answered from the parts.
        source = make_source(config) if config.file.cluster.enabled else poller(config)
        collector = ThreadedSource(
            source,
            name="heartbeat-poller",
            batch_young=isinstance(source, Collector),
            close_seconds=2 * STOP_SECONDS + 1,  # a worker is asked to stop, then killed: each gets STOP_SECONDS
        )
        stack.push_async_callback(collector.aclose)
        hub = Hub(collector, interval_seconds=config.file.refresh.interval_seconds)
        app = build_app(hub, auth, config, options.trusted_proxies)
        runner = web.AppRunner(
            app,
            access_log_class=AccessLogger,
            access_log=access_log,
            handle_signals=False,
            shutdown_timeout=DRAIN_SECONDS,
        )
        await runner.setup()
        try:
            url = (await listen(runner, options, context)).url
            handled = _on_signals(stop)
            log.info("serving on %s (refresh every %d s)", url, config.file.refresh.interval_seconds)
            await collector.prepare()
            hub.start()
            if ready is not None:
                ready(url)
            await stop.wait()
            log.info("stopping: draining in-flight requests")
            for signum in handled:
                asyncio.get_running_loop().remove_signal_handler(signum)
        finally:
            await hub.close()
            await runner.cleanup()
    log.info("stopped")
    return EXIT_OK


def cmd_serve(
    config: Config,
    listen: str,
    tls_cert: str | None,
    tls_key: str | None,
    insecure_http: bool,
    trusted_proxies: list[str] | None = None,
) -> int:
    host, port = parse_listen(listen)
    options = ServeOptions(
        host=host,
        port=port,
        tls_cert=Path(tls_cert) if tls_cert else None,
        tls_key=Path(tls_key) if tls_key else None,
        insecure_http=insecure_http,
        trusted_proxies=checked_proxies(trusted_proxies) if trusted_proxies else None,
    )
    check_options(options)

    def ready(url: str) -> None:
        print(f"heartbeat serve: listening on {url}", flush=True)

    return asyncio.run(serve(config, options, ready=ready))


__all__ = ["DEFAULT_HOST", "DEFAULT_PORT", "AccessLogger", "ServeOptions", "cmd_serve", "poller", "serve"]
