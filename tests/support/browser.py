"""A real browser on `heartbeat web`: Debian's chromium driven by Playwright.

xterm.js draws the terminal on a canvas, so the screen is read the way the
page gets it: every binary frame of the session's websocket (the terminal's
bytes) is fed to pyte. Chromium is launched by its path with a fresh profile
and nothing that reaches outside this machine; `playwright install` (which
downloads a browser) is never used. Shared by tests/web_browser and
benchmarks/web_bench.py.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import psutil
import pyte

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
)
VIEWPORT = {"width": 1000, "height": 700}
# A password that passes the rules, given to the demo by environment only.
DEMO_PASSWORD = "Browser-demo-2026!"
DEMO_USER = "admin"
# The demo fleet's account aliases: on the dashboard once a login reached the fleet.
DEMO_ACCOUNTS = ("shared-services", "payments-prod", "checkout-staging", "data-platform", "legacy-billing")
SESSION_MODULE = "heartbeat_tui.web.session"
EMBEDDED_AWS_MODULE = "heartbeat_tui.embedded.server"


def chromium_missing() -> str | None:
    """Why the browser tests cannot run here, or None when they can."""

    if not os.access(CHROMIUM, os.X_OK):
        return f"{CHROMIUM} is not installed (.ci/run installs Debian's chromium as root)"
    try:
        import playwright.async_api  # noqa: F401
    except ImportError as exc:  # pragma: no cover - the test extra has it
        return f"playwright is not installed: {exc}"
    return None


@asynccontextmanager
async def chromium(profile: Path, *, viewport: dict[str, int] | None = None) -> AsyncIterator[Any]:
    """A headless chromium context on a fresh profile folder (`profile`, created empty)."""

    from playwright.async_api import async_playwright

    profile.mkdir(parents=True, exist_ok=False)
    async with async_playwright() as playwright:
        context = await playwright.chromium.launch_persistent_context(
            str(profile),
            executable_path=str(CHROMIUM),
            args=list(CHROMIUM_ARGS),
            headless=True,
            viewport=viewport or VIEWPORT,  # type: ignore[arg-type]
        )
        try:
            yield context
        finally:
            await context.close()


@dataclass
class Frame:
    at: float  # time.monotonic() when the page received it
    size: int


class Tab:
    """One browser tab on `heartbeat web`, and the terminal its websocket draws."""

    def __init__(self, page: Any) -> None:
        self.page = page
        self.screen = pyte.Screen(80, 24)
        self.stream = pyte.ByteStream(self.screen)
        self.frames: list[Frame] = []
        self.sent: list[str] = []
        self.socket_url: str | None = None
        self.socket_closed = asyncio.Event()
        self.socket_opened = asyncio.Event()
        page.on("websocket", self._attach)

    @classmethod
    async def open(cls, context: Any, url: str) -> Tab:
        tab = cls(await context.new_page())
        await tab.page.goto(url)
        return tab

    async def close(self) -> None:
        if not self.page.is_closed():
            await self.page.close()

    # -- the websocket -------------------------------------------------------------

    def _attach(self, socket: Any) -> None:
        parts = urlsplit(socket.url)
        if not parts.path.endswith("/ws"):
            return
        self.socket_url = socket.url
        query = parse_qs(parts.query)
        width = int(query.get("width", ["80"])[0])
        height = int(query.get("height", ["24"])[0])
        self.screen.resize(height, width)
        socket.on("framereceived", self._received)
        socket.on("framesent", self._sent)
        socket.on("close", lambda _socket: self.socket_closed.set())
        self.socket_opened.set()

    def _received(self, payload: str | bytes) -> None:
        if isinstance(payload, bytes):  # the terminal's bytes; text frames are JSON (pong, ...)
            self.frames.append(Frame(time.monotonic(), len(payload)))
            self.stream.feed(payload)

    def _sent(self, payload: str | bytes) -> None:
        if isinstance(payload, str):
            self.sent.append(payload)
            if payload.startswith('["resize"'):
                size = json.loads(payload)[1]
                self.screen.resize(int(size["height"]), int(size["width"]))

    # -- reading the screen -------------------------------------------------------------

    def text(self) -> str:
        return "\n".join(line.rstrip() for line in self.screen.display)

    async def wait_for(
        self, condition: str | Callable[[str], bool], *, timeout: float = 60.0, step: float = 0.02
    ) -> float:
        """Seconds until the screen holds `condition` (a string, or a test of the text)."""

        test = (lambda text: condition in text) if isinstance(condition, str) else condition
        started = time.monotonic()
        while not test(self.text()):
            if time.monotonic() - started > timeout:
                page = "" if self.socket_url else f"\nno terminal socket; the page: {await self._body()!r}"
                raise AssertionError(f"not on the screen after {timeout:.0f} s: {condition!r}{page}\n{self.text()}")
            await asyncio.sleep(step)
        return time.monotonic() - started

    async def _body(self) -> str:
        try:
            return str(await self.page.inner_text("body"))[:500]
        except Exception as error:  # a closed page: say so rather than hide the first failure
            return f"(unreadable: {error})"

    async def log_in(self, user: str = DEMO_USER, password: str = DEMO_PASSWORD) -> None:
        """The login typed in one burst, as a password manager or a fast typist does."""

        await self.wait_for("Password")
        await self.page.keyboard.type(user, delay=0)
        await self.page.keyboard.press("Tab")
        await self.page.keyboard.type(password, delay=0)
        await self.page.keyboard.press("Enter")


def on_dashboard(text: str) -> bool:
    """The fleet is on the screen: the demo's accounts, past the login."""

    return "log in" not in text and sum(alias in text for alias in DEMO_ACCOUNTS) >= 3


# -- the server and its processes ---------------------------------------------------------


@dataclass
class WebServer:
    """A `heartbeat web` process started for a test or a benchmark."""

    process: subprocess.Popen[bytes]
    url: str
    home: Path
    log: Path
    lines: list[str] = field(default_factory=list)

    @property
    def pid(self) -> int:
        return self.process.pid

    def descendants(self) -> list[psutil.Process]:
        try:
            return psutil.Process(self.pid).children(recursive=True)
        except psutil.NoSuchProcess:
            return []

    def sessions(self) -> list[psutil.Process]:
        """The browser sessions' processes (one per open tab)."""
        return [p for p in self.descendants() if _runs(p, SESSION_MODULE)]

    def embedded_aws(self) -> list[psutil.Process]:
        return [p for p in self.descendants() if _runs(p, EMBEDDED_AWS_MODULE)]

    def has_place(self) -> bool:
        """The server's own word: its page is the login page (200), not "full" (503).

        A session's process can be gone a moment before the server has counted
        it out; a visitor in that moment gets the "full" page, as designed."""

        try:
            with urllib.request.urlopen(self.url, timeout=5) as answer:
                return bool(answer.status == 200)
        except urllib.error.HTTPError as error:
            if error.code == 503:
                return False
            raise

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def _runs(process: psutil.Process, module: str) -> bool:
    try:
        return module in process.cmdline()
    except (psutil.NoSuchProcess, psutil.ZombieProcess, psutil.AccessDenied):
        return False


def alive(processes: list[psutil.Process]) -> list[psutil.Process]:
    """Those of `processes` still running (a zombie is gone: it runs nothing)."""

    left = []
    for process in processes:
        try:
            if process.is_running() and process.status() != psutil.STATUS_ZOMBIE:
                left.append(process)
        except psutil.NoSuchProcess:
            continue
    return left


def heartbeat_environment(home: Path, **extra: str) -> dict[str, str]:
    """A clean environment for a server: its own HOME and XDG folders, nothing of AWS or HeartBeat."""

    environment = {
        name: value
        for name, value in os.environ.items()
        if not name.startswith(("AWS_", "HEARTBEAT_", "MOTO_")) and name not in ("JWT_SECRET", "ENCRYPTION_KEY")
    }
    for sub in ("config", "state", "cache", "data"):
        (home / sub).mkdir(parents=True, exist_ok=True)
    environment.update(
        HOME=str(home),
        XDG_CONFIG_HOME=str(home / "config"),
        XDG_STATE_HOME=str(home / "state"),
        XDG_CACHE_HOME=str(home / "cache"),
        XDG_DATA_HOME=str(home / "data"),
        AWS_CONFIG_FILE=str(home / "aws-config"),
        AWS_SHARED_CREDENTIALS_FILE=str(home / "aws-credentials"),
        AWS_EC2_METADATA_DISABLED="true",
    )
    environment.update(extra)
    return environment


_LISTENING = re.compile(r"listening on (\S+)")


def start_web(home: Path, *args: str, environment: dict[str, str] | None = None, timeout: float = 60.0) -> WebServer:
    """`heartbeat web ARGS --listen 127.0.0.1:0`, once it says where it listens."""

    home.mkdir(parents=True, exist_ok=True)
    env = environment or heartbeat_environment(home, HEARTBEAT_DEMO_PASSWORD=DEMO_PASSWORD)
    log = home / "web.log"
    command = [sys.executable, "-m", "heartbeat_tui", "web", "--listen", "127.0.0.1:0", *args]
    process = subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=log.open("wb"), stdin=subprocess.DEVNULL, env=env, cwd=home
    )
    assert process.stdout is not None
    lines: list[str] = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        line = process.stdout.readline().decode("utf-8", "replace")
        if not line:
            break
        lines.append(line.rstrip("\n"))
        found = _LISTENING.search(line)
        if found:
            url = found.group(1).rstrip("/") + "/"
            return WebServer(process, url, home, log, lines)
    process.kill()
    process.wait()
    raise AssertionError(f"heartbeat web did not start: {lines} {log.read_text(errors='replace')[-2000:]}")


__all__ = [
    "CHROMIUM",
    "CHROMIUM_ARGS",
    "DEMO_ACCOUNTS",
    "DEMO_PASSWORD",
    "DEMO_USER",
    "Tab",
    "WebServer",
    "alive",
    "chromium",
    "chromium_missing",
    "heartbeat_environment",
    "on_dashboard",
    "start_web",
]
