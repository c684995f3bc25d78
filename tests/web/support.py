"""A real `heartbeat web` process, a websocket session read through pyte, and
the process tree read from /proc: the server-side tests of the browser front."""

from __future__ import annotations

import asyncio
import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

import aiohttp
import pyte

DEMO_PASSWORD = "Web-demo-pass-4821"
HEARTBEAT = [sys.executable, "-m", "heartbeat_tui"]
_LEAKY_PREFIXES = ("AWS_", "HEARTBEAT_", "MOTO_", "TEXTUAL")
_LEAKY_NAMES = {"DYNAMODB_USERS_TABLE", "ENCRYPTION_KEY", "JWT_SECRET", "JWT_ALGORITHM"}


def clean_environment(home: Path, **extra: str) -> dict[str, str]:
    """The developer's shell left out (as tests/conftest.py does), folders of its own."""

    env = {k: v for k, v in os.environ.items() if not k.startswith(_LEAKY_PREFIXES) and k not in _LEAKY_NAMES}
    for sub in ("config", "state", "cache", "data"):
        (home / sub).mkdir(parents=True, exist_ok=True)
    env.update(
        XDG_CONFIG_HOME=str(home / "config"),
        XDG_STATE_HOME=str(home / "state"),
        XDG_CACHE_HOME=str(home / "cache"),
        XDG_DATA_HOME=str(home / "data"),
        AWS_CONFIG_FILE=str(home / "aws-config"),
        AWS_SHARED_CREDENTIALS_FILE=str(home / "aws-credentials"),
        AWS_EC2_METADATA_DISABLED="true",
        HEARTBEAT_LOG_FILE=str(home / "heartbeat.log"),
    )
    env.update(extra)
    return env


@dataclass
class WebServer:
    process: subprocess.Popen[str]
    url: str
    home: Path
    env: dict[str, str]
    lines: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    @property
    def pid(self) -> int:
        return self.process.pid

    @property
    def demo_server(self) -> str:
        for line in self.lines:
            found = re.search(r"demo server on (\S+)", line)
            if found:
                return found.group(1)
        raise AssertionError(f"no demo server line in {self.lines}")

    @property
    def log_text(self) -> str:
        path = self.home / "heartbeat.log"
        return path.read_text(encoding="utf-8", errors="replace") if path.exists() else ""

    def stop(self, signum: int = signal.SIGTERM, timeout: float = 15.0) -> int:
        if self.process.poll() is None:
            self.process.send_signal(signum)
        try:
            return self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            return self.process.wait(5)


def start_web(home: Path, *args: str, env: Mapping[str, str] | None = None, timeout: float = 90.0) -> WebServer:
    """`heartbeat web ARGS` on a free port; returns once it says where it listens."""

    environment = clean_environment(home, HEARTBEAT_DEMO_PASSWORD=DEMO_PASSWORD, **dict(env or {}))
    work = home / "work"
    work.mkdir(exist_ok=True)
    process = subprocess.Popen(
        [*HEARTBEAT, "web", "--listen", "127.0.0.1:0", *args],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=environment,
        cwd=work,
    )
    lines: list[str] = []
    errors: list[str] = []
    found = threading.Event()
    # Both pipes read for the server's whole life: an unread pipe would block it.
    threading.Thread(target=_drain, args=(process.stdout, lines, found, "--demo" in args), daemon=True).start()
    threading.Thread(target=_drain, args=(process.stderr, errors, None, False), daemon=True).start()
    if not found.wait(timeout) or process.poll() is not None:
        process.kill()
        raise AssertionError(f"heartbeat web did not start: {lines} {errors}")
    url = next(m.group(1) for line in lines if (m := re.search(r"listening on (\S+)", line)))
    return WebServer(process, url, home, environment, lines, errors)


def _drain(pipe: IO[str] | None, into: list[str], found: threading.Event | None, demo: bool) -> None:
    assert pipe is not None
    for line in pipe:
        into.append(line.rstrip("\n"))
        if found is not None and (("demo: log in" in line) if demo else ("listening on" in line)):
            found.set()


class Session:
    """One browser session as the page drives it: a websocket whose frames feed a pyte screen."""

    def __init__(self, socket: aiohttp.ClientWebSocketResponse, width: int, height: int) -> None:
        self.socket = socket
        self.screen = pyte.Screen(width, height)
        self.stream = pyte.ByteStream(self.screen)
        self.texts: list[str] = []
        self._reader = asyncio.ensure_future(self._read())

    async def _read(self) -> None:
        async for message in self.socket:
            if message.type == aiohttp.WSMsgType.BINARY:
                self.stream.feed(message.data)
            elif message.type == aiohttp.WSMsgType.TEXT:
                self.texts.append(message.data)

    @property
    def text(self) -> str:
        return "\n".join(self.screen.display)

    async def wait_for(self, *needles: str, timeout: float = 30.0) -> str:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if all(needle in self.text for needle in needles):
                return self.text
            if self._reader.done():
                break
            await asyncio.sleep(0.1)
        raise AssertionError(f"{needles} not on the screen:\n{self.text}")

    async def type(self, keys: str) -> None:
        await self.socket.send_str(json.dumps(["stdin", keys]))

    async def close(self) -> None:
        await self.socket.close()
        self._reader.cancel()


async def open_session(
    http: aiohttp.ClientSession,
    url: str,
    *,
    origin: str | None = "same",
    width: int = 100,
    height: int = 30,
    headers: Mapping[str, str] | None = None,
) -> Session:
    sent = dict(headers or {})
    if origin is not None:
        sent["Origin"] = url if origin == "same" else origin
    socket = await http.ws_connect(f"{url}/ws?width={width}&height={height}", headers=sent)
    return Session(socket, width, height)


# -- the process tree, from /proc ------------------------------------------------------------


def _stat(pid: int) -> tuple[int, int, str] | None:
    """(ppid, pgid, state) of a live process; None once it is gone (a zombie counts as gone)."""

    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = text[text.rindex(")") + 2 :].split()
    state, ppid, pgid = fields[0], int(fields[1]), int(fields[2])
    return None if state in ("Z", "X") else (ppid, pgid, state)


def _all() -> dict[int, tuple[int, int, str]]:
    found = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            stat = _stat(int(entry))
            if stat is not None:
                found[int(entry)] = stat
    return found


def descendants(pid: int) -> set[int]:
    table = _all()
    children: dict[int, list[int]] = {}
    for child, (ppid, _, _) in table.items():
        children.setdefault(ppid, []).append(child)
    found: set[int] = set()
    todo = [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            if child not in found:
                found.add(child)
                todo.append(child)
    return found


def group_members(pgid: int) -> set[int]:
    return {pid for pid, (_, group, _) in _all().items() if group == pgid}


def cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return ""


def session_pids(server_pid: int) -> set[int]:
    return {pid for pid in descendants(server_pid) if "heartbeat_tui.web.session" in cmdline(pid)}


def alive(pids: set[int]) -> set[int]:
    return {pid for pid in pids if _stat(pid) is not None}


async def wait_gone(pids: set[int], timeout: float) -> float:
    """Seconds until every pid is gone; AssertionError past `timeout`."""

    started = time.monotonic()
    while time.monotonic() - started < timeout:
        if not alive(pids):
            return time.monotonic() - started
        await asyncio.sleep(0.05)
    raise AssertionError(f"still running after {timeout} s: {[(p, cmdline(p)) for p in alive(pids)]}")


async def wait_sessions(server_pid: int, count: int, timeout: float = 30.0) -> set[int]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = session_pids(server_pid)
        if len(found) >= count:
            return found
        await asyncio.sleep(0.05)
    raise AssertionError(f"{count} session processes expected, found {session_pids(server_pid)}")
