"""Starting the dashboard: on the configured fleet (`heartbeat`) or on the
embedded AWS (`heartbeat demo`).

The collector runs on its own event loop in a thread (controller/threaded.py) and is
closed there after the app ends. SIGHUP and SIGTERM end
the app cleanly (app/shell.py), the terminal is restored by Textual, a crash is
logged and reported in one line, and the embedded AWS child is stopped on the
way out (it also dies by itself if this process is killed).
"""

from __future__ import annotations

import asyncio
import logging
import os
import sys
import threading
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from heartbeat_tui.errors import EXIT_INTERNAL, EXIT_OK, HeartbeatError, UsageError

if TYPE_CHECKING:
    from heartbeat_tui.config import Config, UiSection
    from heartbeat_tui.controller import FleetSource
    from heartbeat_tui.tui.auth_gate import AuthGate

log = logging.getLogger(__name__)


DEMO_REFRESH_SECONDS = 5


class DashboardCrashed(HeartbeatError):
    exit_code = EXIT_INTERNAL


def _require_terminal(
    hint: str = "for scripts use `heartbeat snapshot` (json, csv or table)",
) -> None:
    if not (sys.stdin.isatty() and sys.stdout.isatty()):
        raise UsageError(f"the dashboard needs a terminal; {hint}")


def _app_kwargs(config: Config, settings_path: Path | None, ui: UiSection) -> dict[str, Any]:
    from heartbeat_tui.tui.view import Thresholds

    thresholds = config.file.thresholds
    return {
        "interval_seconds": float(config.file.refresh.interval_seconds),
        "thresholds": Thresholds(thresholds.warning_percent, thresholds.critical_percent),
        "history_seconds": config.file.collector.history_minutes * 60,
        "theme": ui.theme,
        "keymap": ui.keymap,  # its ids checked before anything starts (_checked_ui)
        "settings_path": settings_path,
    }


async def _run(
    source: FleetSource,
    config: Config,
    settings_path: Path | None,
    ui: UiSection,
    started: float,
    warm: list[str] | None,
    gate: AuthGate,
    *,
    prefetch: bool = False,
    interval: float | None = None,
    in_browser: bool = False,
) -> int:
    from heartbeat_tui.controller.threaded import ThreadedSource
    from heartbeat_tui.tui.secure_app import SecureApp

    app_kwargs = _app_kwargs(config, settings_path, ui)
    if interval is not None:  # a remote source waits for its server's polls itself
        app_kwargs["interval_seconds"] = interval
    # The collector runs on its own loop in a thread (controller/threaded.py says why);
    # it is created, used and closed there.
    threaded = ThreadedSource(source)
    # The AWS clients are made while the login screen waits for a person, not
    # on the first poll's critical path (Collector.prepare makes no AWS call).
    preparing = asyncio.ensure_future(threaded.prepare())
    try:
        # Behind a login: nothing is polled or shown before a session (secure_app.py).
        lockout = (config.file.auth.lockout_threshold, config.file.auth.lockout_minutes)
        app = SecureApp(
            threaded,
            gate=gate,
            lockout=lockout,
            warm_start=warm,
            prefetch=prefetch,
            in_browser=in_browser,  # `heartbeat web`'s session: a browser's keys
            **app_kwargs,
        )
        await app.run_async()
    finally:
        preparing.cancel()
        await asyncio.gather(preparing, return_exceptions=True)
        await threaded.aclose()
        await gate.aclose()
    if app.first_paint_at is not None:
        log.info("first data painted %.2f s after start", app.first_paint_at - started)
    if app.crashed:
        raise DashboardCrashed(f"internal error: {app.crash_reason or 'see the log'} (details in the log file)")
    return EXIT_OK if app.return_code in (None, 0) else int(app.return_code or 0)


def _first_account(config: Config) -> list[str] | None:
    # With several accounts, the first one is polled alone first: it paints
    # while the first full poll loads every account's history.
    return [config.accounts[0].id] if len(config.accounts) > 1 else None


def run_dashboard(config: Config, *, web: bool = False) -> int:
    """`heartbeat` with no command: the dashboard on the configured fleet.

    `web`: a browser session of `heartbeat web` (heartbeat_tui/web/session.py), drawn by
    Textual's web driver: no terminal to check, no stored session used or written, and
    nothing (the theme) saved to the server's configuration file."""

    from heartbeat_tui.collector.workers import make_collector
    from heartbeat_tui.config import default_config_path
    from heartbeat_tui.tui.auth_gate import AuthGate

    ui = _checked_ui(config.file.ui, config.source)  # a configuration error first, as at load time
    if not web:
        _require_terminal()
    # A missing or short JWT_SECRET / ENCRYPTION_KEY stops here.
    gate = AuthGate.for_config(config, stored=not web)
    started = time.monotonic()
    settings_path: Path | None = None
    if not web:
        settings_path = Path(config.source) if config.source not in ("defaults",) else default_config_path()
        if settings_path.suffix != ".toml":
            settings_path = default_config_path()
    return asyncio.run(
        _run(
            make_collector(config),
            config,
            settings_path,
            ui,
            started,
            _first_account(config),
            gate,
            in_browser=web,
        )
    )


def run_remote_dashboard(config: Config, url: str, *, web: bool = False, forwarded_for: str | None = None) -> int:
    """`heartbeat --server URL`: the dashboard on a shared `heartbeat serve`'s polls.

    `web`: a browser session (see `run_dashboard`); `forwarded_for`: its client's
    address, sent to the server (which believes it from a trusted proxy only)."""

    from heartbeat_tui.config import default_config_path
    from heartbeat_tui.remote.client import RemoteClient
    from heartbeat_tui.remote.source import RemoteSource
    from heartbeat_tui.tui.remote_gate import RemoteGate

    ui = _checked_ui(config.file.ui, config.source)
    if not web:
        _require_terminal()
    source_client = RemoteClient(url, forwarded_for=forwarded_for)
    gate = RemoteGate(
        url,
        source_client,
        check_seconds=config.file.auth.session_check_seconds,
        stored=not web,
        forwarded_for=forwarded_for,
    )
    settings_path: Path | None = None
    if not web:
        settings_path = Path(config.source) if config.source.endswith(".toml") else default_config_path()
    # The server paces the polls (each one a long-poll for its next): a second between them, no more.
    return asyncio.run(
        _run(
            RemoteSource(source_client),
            config,
            settings_path,
            ui,
            time.monotonic(),
            None,
            gate,
            interval=1.0,
            in_browser=web,
        )
    )


def _checked_ui(ui: UiSection, source: str) -> UiSection:
    """`ui`, once its keymap names only bindings that exist (one line, exit 2, if not)."""

    from heartbeat_tui.tui.keymap import check_keymap

    check_keymap(ui.keymap, source)
    return ui


def _remembered_ui(path: Path) -> UiSection:
    """The demo's theme and keymap: the user's own, when their file reads."""

    from heartbeat_tui.config import UiSection, read_config_file

    try:
        return read_config_file(path).ui if path.exists() else UiSection()
    except HeartbeatError as exc:  # the demo runs all the same, with the defaults
        log.warning("demo: not using the theme and keymap of %s: %s", path, exc)
        return UiSection()


class _DemoSource:
    """The collector of the embedded AWS, made once the child is ready: the
    child boots while the UI starts, and the first poll waits for it."""

    def __init__(self, ready: Any) -> None:
        self._ready = ready
        self._collector: Any = None

    async def _get(self) -> Any:
        if self._collector is None:
            from heartbeat_tui.collector import Collector

            self._collector = Collector(await asyncio.to_thread(self._ready))
        return self._collector

    async def prepare(self) -> None:
        await (await self._get()).prepare()

    async def poll(self, only: Any = None) -> Any:
        return await (await self._get()).poll(only)

    async def fetch_service_detail(self, *args: Any) -> Any:
        return await (await self._get()).fetch_service_detail(*args)

    async def fetch_logs(self, query: Any) -> Any:
        return await (await self._get()).fetch_logs(query)

    def relist_next_poll(self) -> None:
        if self._collector is not None:  # else the first poll lists everything anyway
            self._collector.relist_next_poll()

    async def aclose(self) -> None:
        if self._collector is not None:
            await self._collector.aclose()


def run_demo_dashboard(*, step_seconds: float = 2.0) -> int:
    """`heartbeat demo`: the embedded AWS's live fleet in the dashboard."""

    from heartbeat_tui.config import default_config_path

    # The user's own theme and keys, checked before anything starts.
    settings_path = default_config_path()
    ui = _checked_ui(_remembered_ui(settings_path), str(settings_path))
    _require_terminal("without one, `heartbeat demo --serve` runs the demo as a service and prints how to reach it")
    started = time.monotonic()
    from heartbeat_tui.embedded import EmbeddedAWS
    from heartbeat_tui.embedded.fleet import FleetSpec

    # A profile or region from the operator's shell must not steer the demo
    # (demo.isolate_from_real_aws does the same; done here before the child
    # starts, so the environment is not changed while it is read).
    for name in ("AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_ENDPOINT_URL", "MOTO_ACCOUNT_ID"):
        os.environ.pop(name, None)
    fleet = FleetSpec.demo()
    aws = EmbeddedAWS(fleet, step_seconds=step_seconds)
    # The child boots first, before anything else is imported here (1.5 s,
    # the longest wait of the start): on the other core while this process
    # imports the collector and the UI and starts the dashboard. Started from
    # a thread, it is not tied to us by PR_SET_PDEATHSIG, but it still exits
    # when its stdin (our pipe) closes, however this process ends.
    failure: list[BaseException] = []

    def start() -> None:
        try:
            aws.start()
        except BaseException as exc:  # reported by the first poll
            failure.append(exc)

    starter = threading.Thread(target=start, name="embedded-aws-start", daemon=True)
    starter.start()
    try:
        return _demo_dashboard(aws, starter, failure, fleet, started, ui)
    finally:
        starter.join(timeout=30)
        aws.stop()


def _demo_dashboard(
    aws: Any, starter: threading.Thread, failure: list[BaseException], fleet: Any, started: float, ui: UiSection
) -> int:
    from concurrent.futures import ThreadPoolExecutor

    from heartbeat_tui.auth.passwords import PasswordHasher
    from heartbeat_tui.config import AuthSection, Config, EnvSettings, FileConfig, default_config_path
    from heartbeat_tui.demo import demo_config, isolate_from_real_aws
    from heartbeat_tui.tui.auth_gate import AuthGate, demo_password

    password = demo_password()  # a bad $HEARTBEAT_DEMO_PASSWORD: one line (the child is stopped)
    # The demo admin's hash (PBKDF2, a third of a second) is made now, on a
    # thread (hashlib lets go of the GIL), instead of after the AWS is up.
    hashing = ThreadPoolExecutor(1, thread_name_prefix="demo-admin-hash")
    admin_hash = hashing.submit(PasswordHasher(AuthSection().pbkdf2_iterations).hash, password)
    hashing.shutdown(wait=False)
    settings_path = default_config_path()

    configs: list[Config] = []
    making = threading.Lock()

    def ready() -> Config:
        # Asked for by the collector and the users store, from two threads: made once.
        with making:
            if not configs:
                starter.join()
                if failure:
                    raise DashboardCrashed(f"the embedded AWS did not start: {failure[0]}")
                log.info("embedded AWS ready in %.2f s", aws.ready_seconds or 0)
                isolate_from_real_aws()
                config = demo_config(aws)
                # A short refresh so the live simulator is visible.
                refresh = config.file.refresh.model_copy(update={"interval_seconds": DEMO_REFRESH_SECONDS})
                configs.append(config.model_copy(update={"file": config.file.model_copy(update={"refresh": refresh})}))
            return configs[0]

    # The dashboard's settings are the defaults (the demo has no file) with the
    # short refresh; the theme and keymap are those of the user's config.
    ui_config = Config(
        source="embedded AWS",
        file=FileConfig(refresh={"interval_seconds": DEMO_REFRESH_SECONDS}),  # type: ignore[arg-type]
        env=EnvSettings(_env_file=None),
    )
    warm = [fleet.accounts[0].id] if len(fleet.accounts) > 1 else None
    return asyncio.run(
        _run(
            _DemoSource(ready),
            ui_config,
            settings_path,
            ui,
            started,
            warm,
            # Random secrets in memory; the demo admin's credentials on the
            # login screen (auth_gate.py).
            AuthGate.for_demo(ready, password, admin_hash),
            # No real account behind the demo: it polls while the login form
            # is up, and shows the data once the demo admin has logged in.
            prefetch=True,
        )
    )


__all__ = ["run_dashboard", "run_demo_dashboard"]
