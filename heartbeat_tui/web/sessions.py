"""The browser sessions of one `heartbeat web`: at most `max_sessions`, each a
process tree in its own process group that ends with its tab.

Ending one: the dashboard is asked to quit (textual-serve's "quit" packet),
then, past `QUIT_GRACE_SECONDS`, its group gets SIGTERM and, past
`KILL_GRACE_SECONDS` more, SIGKILL; whatever of the group is still there once
the dashboard has exited (a worker process) gets the same. Ending all (the
server stopping) does every session at once, so the whole takes the same
bound as one.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
import sys
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field

from textual_serve.download_manager import DownloadManager

from heartbeat_tui.web._textual_serve_compat import SessionProcess
from heartbeat_tui.web.session import CLIENT_ENV, LOG_LEVEL_ENV, PARENT_ENV, SERVER_ENV

log = logging.getLogger(__name__)

QUIT_GRACE_SECONDS = 0.8
MALLOC_ARENA_MAX = "MALLOC_ARENA_MAX"  # the operator's value, if set, is kept
KILL_GRACE_SECONDS = 0.5
# The server's own secrets a watching-only session never needs (it logs in to the server).
_REMOTE_DROPS = (
    "JWT_SECRET",
    "ENCRYPTION_KEY",
    "HEARTBEAT_LEGACY_ENCRYPTION_KEY",
    "HEARTBEAT_METRICS_TOKEN",
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
    "HEARTBEAT_DEMO_PASSWORD",
)


@dataclass(frozen=True)
class SessionSettings:
    """What every session of this server is started with."""

    server_url: str | None = None  # a `heartbeat serve` to watch; None: the configured fleet
    config_path: str | None = None  # the server's configuration file, when it has one
    log_level: str = "INFO"
    argv: tuple[str, ...] = field(default_factory=lambda: (sys.executable, "-m", "heartbeat_tui.web.session"))

    def environment(self, base: Mapping[str, str], client: str | None) -> dict[str, str]:
        """The session's environment: the driver's (`base`) with ours; secrets only by environment."""

        environment = dict(base)
        environment.pop("HEARTBEAT_TOKEN", None)  # the operator's session is never a visitor's
        environment.pop("HEARTBEAT_SERVER", None)  # the server is said below, or not at all
        if self.server_url is not None:
            for name in _REMOTE_DROPS:
                environment.pop(name, None)
            environment[SERVER_ENV] = self.server_url
        else:
            environment.pop(SERVER_ENV, None)
        if self.config_path is not None:
            environment["HEARTBEAT_CONFIG"] = self.config_path
        # glibc gives each thread that allocates an arena of its own (the UI, the poll's loop,
        # the decode workers), memory that stays with it; two arenas cut a session by 2 MB
        # at no cost here (the interpreter lock serialises most allocation anyway).
        environment.setdefault(MALLOC_ARENA_MAX, "2")
        environment[PARENT_ENV] = str(os.getpid())
        environment[LOG_LEVEL_ENV] = self.log_level
        if client:
            environment[CLIENT_ENV] = client
        else:
            environment.pop(CLIENT_ENV, None)
        return environment


class SessionsFull(Exception):
    """Every one of `max_sessions` is in use."""


class Sessions:
    """The live sessions (see the module docstring)."""

    def __init__(self, settings: SessionSettings, max_sessions: int) -> None:
        self.settings = settings
        self.max_sessions = max_sessions
        self.downloads = DownloadManager()
        self._live: set[SessionProcess] = set()
        self._ending: dict[SessionProcess, asyncio.Future[None]] = {}
        self.closing = False

    def __len__(self) -> int:
        return len(self._live)

    @property
    def full(self) -> bool:
        return self.closing or len(self._live) >= self.max_sessions

    def create(
        self,
        client: str | None,
        *,
        write_bytes: Callable[[bytes], Awaitable[None]],
        write_str: Callable[[str], Awaitable[None]],
        close: Callable[[], Awaitable[object]],
    ) -> SessionProcess:
        """A session, counted from now on (SessionsFull when there is no place); `launch` starts it."""

        if self.full:
            raise SessionsFull()
        process = SessionProcess(
            self.settings.argv,
            lambda base: self.settings.environment(base, client),
            write_bytes=write_bytes,
            write_str=write_str,
            close=close,
            download_manager=self.downloads,
        )
        self._live.add(process)
        return process

    async def launch(self, process: SessionProcess, width: int, height: int, client: str | None) -> None:
        try:
            await process.start(width, height)
        except BaseException:
            self._live.discard(process)
            raise
        log.info("browser session started: pid %s, client %s, %d live", process.pid, client or "-", len(self._live))

    async def end(self, process: SessionProcess) -> None:
        """End one session's whole process tree (see the module docstring); once, however
        many ask (its tab's handler and a stopping server)."""

        ending = self._ending.get(process)
        if ending is None:
            if process not in self._live:
                return
            ending = self._ending[process] = asyncio.ensure_future(self._end(process))
        await asyncio.shield(ending)

    async def _end(self, process: SessionProcess) -> None:
        try:
            stopping = asyncio.ensure_future(process.stop())
            done, _ = await asyncio.wait({stopping}, timeout=QUIT_GRACE_SECONDS)
            pid = process.pid
            if not done and pid is not None:
                _signal_group(pid, signal.SIGTERM)
                done, _ = await asyncio.wait({stopping}, timeout=KILL_GRACE_SECONDS)
                if not done:
                    _signal_group(pid, signal.SIGKILL)
            with contextlib.suppress(Exception):
                await stopping
            if process.process is not None:  # reaped, so a zombie leader does not count below
                with contextlib.suppress(Exception):
                    await asyncio.wait_for(process.process.wait(), KILL_GRACE_SECONDS)
            if pid is not None and _signal_group(pid, signal.SIGTERM):  # the dashboard left something behind
                for _ in range(int(KILL_GRACE_SECONDS / 0.05)):
                    await asyncio.sleep(0.05)
                    if not _signal_group(pid, 0):
                        break
                else:
                    _signal_group(pid, signal.SIGKILL)
        finally:
            self._live.discard(process)
            self._ending.pop(process, None)
            log.info("browser session ended: pid %s, %d live", process.pid, len(self._live))

    async def end_all(self) -> None:
        self.closing = True
        await asyncio.gather(*(self.end(process) for process in list(self._live)), return_exceptions=True)


def _signal_group(pgid: int, signum: int) -> bool:
    """Signal the process group `pgid`; False when it has no process left."""

    try:
        os.killpg(pgid, signum)
    except ProcessLookupError:
        return False
    except PermissionError:  # a pid reused by someone else's group: not ours to signal
        return False
    return True


__all__ = ["SessionSettings", "Sessions", "SessionsFull"]
