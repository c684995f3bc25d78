"""`heartbeat web`: the dashboard in a browser, one process per session.

Checked before anything listens (one line, exit 2): the address (beyond
loopback only with `--tls-cert/--tls-key`, or `--insecure-http` behind a
TLS-terminating proxy: the same rule as `heartbeat serve`), the public URL, the
session cap, the trusted proxies, and what the sessions will need (without a
server: the auth secrets; with one: its URL).

Where the sessions' data comes from:
* `--server URL` (or `HEARTBEAT_SERVER`, `[server].url`): each session is a
  dashboard on that `heartbeat serve`, so N browser users cost AWS one poller;
* `--demo`: one embedded AWS and one `heartbeat serve` on it, in this process,
  shared by every session (the demo admin on in-memory secrets, as
  `heartbeat demo --serve`);
* neither: each session polls the configured fleet itself (small teams).

SIGTERM or SIGINT ends every session (their process groups), then the server.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

from aiohttp import web

from heartbeat_tui.errors import EXIT_OK, UsageError

if TYPE_CHECKING:
    from heartbeat_tui.config import Config
    from heartbeat_tui.embedded import EmbeddedAWS

log = logging.getLogger(__name__)

DEFAULT_LISTEN = "127.0.0.1:8788"
DEMO_REFRESH_SECONDS = 5


@dataclass(frozen=True)
class WebOptions:
    host: str
    port: int
    public_url: str | None
    max_sessions: int
    trusted_proxies: tuple[str, ...]
    tls_cert: Path | None
    tls_key: Path | None
    insecure_http: bool
    server_url: str | None
    demo: bool


def check_public_url(url: str) -> str:
    from urllib.parse import urlsplit

    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - a port that is not a number raises here
    except ValueError as exc:
        raise UsageError(f"--public-url {url!r}: not a URL ({exc})") from None
    if parts.scheme not in ("http", "https") or not parts.hostname or not url.isascii():
        raise UsageError(f"--public-url {url!r}: expected http(s)://HOST[:PORT][/PATH]")
    if parts.username or parts.password or parts.query or parts.fragment:
        raise UsageError(f"--public-url {url!r}: no user, password, query or fragment")
    return url.rstrip("/")


def web_options(
    config: Config,
    *,
    listen: str | None,
    public_url: str | None,
    max_sessions: int | None,
    trusted_proxies: list[str] | None,
    tls_cert: str | None,
    tls_key: str | None,
    insecure_http: bool,
    server_url: str | None,
    demo: bool,
) -> WebOptions:
    """The flags over `[web]`, every refusal made (UsageError, exit code 2)."""

    from heartbeat_tui.serve.run import ServeOptions, check_options, checked_proxies, parse_listen

    section = config.file.web
    host, port = parse_listen(listen or section.listen)
    public = public_url if public_url is not None else section.public_url
    cap = max_sessions if max_sessions is not None else section.max_sessions
    if not 1 <= cap <= 1000:
        raise UsageError(f"--max-sessions {cap}: expected 1 to 1000")
    if demo and server_url is not None:
        raise UsageError("--demo runs its own server: give --demo or --server, not both")
    options = WebOptions(
        host=host,
        port=port,
        public_url=check_public_url(public) if public else None,
        max_sessions=cap,
        trusted_proxies=checked_proxies(trusted_proxies) if trusted_proxies else section.trusted_proxies,
        tls_cert=Path(tls_cert) if tls_cert else None,
        tls_key=Path(tls_key) if tls_key else None,
        insecure_http=insecure_http,
        server_url=None if demo else server_url,
        demo=demo,
    )
    # The same refusals as `heartbeat serve`: beyond loopback only with TLS or behind a proxy.
    check_options(ServeOptions(host, port, options.tls_cert, options.tls_key, insecure_http))
    if options.public_url is None and _unspecified(host):
        # No browser sends Origin: http://0.0.0.0:...; every session would be refused.
        raise UsageError(f"listening on {host} needs --public-url: the address browsers open (its Origin is checked)")
    return options


def _unspecified(host: str) -> bool:
    import ipaddress

    try:
        return ipaddress.ip_address(host).is_unspecified
    except ValueError:
        return False


def cmd_web(config: Config, options: WebOptions, log_level: str = "INFO") -> NoReturn:
    from heartbeat_tui.serve.run import ServeOptions, tls_context
    from heartbeat_tui.tui.keymap import check_keymap

    check_keymap(config.file.ui.keymap, config.source)  # a keymap naming no binding: one line now, not per tab
    if options.server_url is None and not options.demo:
        from heartbeat_tui.auth import AuthSecrets

        AuthSecrets.from_config(config)  # each session opens the users store: its secrets must be here
    context = tls_context(ServeOptions(options.host, options.port, options.tls_cert, options.tls_key))
    os.environ.pop("HEARTBEAT_TOKEN", None)  # the operator's session is never a visitor's
    aws: EmbeddedAWS | None = None
    password = None
    if options.demo:
        from heartbeat_tui.demo import isolate_from_real_aws
        from heartbeat_tui.embedded import EmbeddedAWS
        from heartbeat_tui.embedded.fleet import FleetSpec
        from heartbeat_tui.tui.auth_gate import demo_password

        password = demo_password()  # a bad $HEARTBEAT_DEMO_PASSWORD: one line, exit 2
        isolate_from_real_aws()
        # Started from the main thread, which lives as long as we do: the child is
        # tied to us by PR_SET_PDEATHSIG (and its stdin), however this process ends.
        aws = EmbeddedAWS(FleetSpec.demo(), step_seconds=2.0)
        aws.start()
    try:
        code = asyncio.run(_serve(config, options, context, log_level, aws, password))
    finally:
        if aws is not None:
            aws.stop()
        log.info("heartbeat web stopped")
    # Everything is closed: every session's group ended, the servers and the embedded AWS
    # stopped, the log written. Tearing the interpreter down (botocore's models, Textual)
    # took seconds of CPU on a loaded host, past the 3 s a SIGTERM gets: skip it.
    logging.shutdown()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


async def _serve(
    config: Config,
    options: WebOptions,
    context: object,
    log_level: str,
    aws: EmbeddedAWS | None,
    password: str | None,
) -> int:
    from heartbeat_tui.serve.forwarded import TrustedProxies
    from heartbeat_tui.serve.run import AccessLogger, ServeOptions, access_log, listen
    from heartbeat_tui.web.front import Front, allowed_origins, build_front
    from heartbeat_tui.web.sessions import Sessions, SessionSettings

    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        loop.add_signal_handler(signum, stop.set)
    async with contextlib.AsyncExitStack() as stack:
        server_url = options.server_url
        if aws is not None and password is not None:
            server_url = await _start_demo_server(stack, aws, password, stop)
        config_path = config.source if config.source.endswith(".toml") else None
        settings = SessionSettings(
            server_url=server_url,
            config_path=str(Path(config_path).absolute()) if config_path else None,
            log_level=log_level,
        )
        sessions = Sessions(settings, options.max_sessions)
        tls = options.tls_cert is not None
        front = Front(
            sessions,
            allowed_origins(options.public_url, options.host, options.port, tls),
            TrustedProxies(options.trusted_proxies),
            tls,
        )
        runner = web.AppRunner(
            build_front(front),
            access_log_class=AccessLogger,
            access_log=access_log,
            handle_signals=False,
            shutdown_timeout=1.0,
        )
        await runner.setup()
        stack.push_async_callback(runner.cleanup)
        stack.push_async_callback(sessions.end_all)  # runs first: every session's group, at once
        wanted = ServeOptions(options.host, options.port, options.tls_cert, options.tls_key)
        listening = await listen(runner, wanted, context)  # type: ignore[arg-type]
        port, url = listening.port, listening.url
        if options.public_url is None and options.port == 0:  # tests: the origin of the port given now
            front.origins = allowed_origins(None, options.host, port, tls)
        log.info("heartbeat web on %s (%s)", url, server_url or "each session polls the fleet")
        print(f"heartbeat web: listening on {url}", flush=True)
        if options.public_url is not None:
            print(f"heartbeat web: browsers open {options.public_url}/", flush=True)
        if password is not None:
            from heartbeat_tui.tui.auth_gate import DEMO_ADMIN, DEMO_PASSWORD_ENV

            given = "the password in " + DEMO_PASSWORD_ENV if os.environ.get(DEMO_PASSWORD_ENV) else password
            print(f"heartbeat web: demo server on {server_url} (also for `heartbeat --server`)", flush=True)
            print(f"heartbeat web: demo: log in as {DEMO_ADMIN} with {given}", flush=True)
        await stop.wait()
        log.info("heartbeat web stopping: ending %d sessions", len(sessions))
    return EXIT_OK


async def _start_demo_server(
    stack: contextlib.AsyncExitStack, aws: EmbeddedAWS, password: str, stop: asyncio.Event
) -> str:
    """One `heartbeat serve` on the embedded AWS, in this process, for every session; its URL."""

    from heartbeat_tui.auth import AuthSecrets
    from heartbeat_tui.auth.service import open_auth
    from heartbeat_tui.demo import demo_config
    from heartbeat_tui.serve.forwarded import LOOPBACK
    from heartbeat_tui.serve.run import ServeOptions, serve
    from heartbeat_tui.tui.auth_gate import DEMO_ADMIN

    config = demo_config(aws)
    refresh = config.file.refresh.model_copy(update={"interval_seconds": DEMO_REFRESH_SECONDS})
    config = config.model_copy(update={"file": config.file.model_copy(update={"refresh": refresh})})
    # Random secrets in memory: the demo's sessions end with it.
    auth = await stack.enter_async_context(open_auth(config, secrets=AuthSecrets.generate()))
    await auth.store.ensure_tables()
    if await auth.store.get(DEMO_ADMIN) is None:
        await auth.bootstrap_admin(DEMO_ADMIN, password)
    ready: asyncio.Future[str] = asyncio.get_running_loop().create_future()
    # The sessions connect from this machine and name their browser in X-Forwarded-For.
    options = ServeOptions(port=0, trusted_proxies=LOOPBACK)
    serving = asyncio.ensure_future(serve(config, options, stop=stop, ready=_resolver(ready), auth=auth))

    async def stopped() -> None:
        stop.set()
        with contextlib.suppress(Exception):
            await serving

    stack.push_async_callback(stopped)
    first: list[asyncio.Future[Any]] = [ready, serving]
    done, _ = await asyncio.wait(first, return_when=asyncio.FIRST_COMPLETED)
    if ready not in done:
        serving.result()  # its error (one line), or:
        raise UsageError("the demo's server stopped before it listened")
    return ready.result()


def _resolver(future: asyncio.Future[str]) -> Callable[[str], None]:
    def resolve(url: str) -> None:
        if not future.done():
            future.set_result(url)

    return resolve


__all__ = ["DEFAULT_LISTEN", "WebOptions", "cmd_web", "web_options"]
