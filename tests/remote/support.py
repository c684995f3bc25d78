"""A real `heartbeat serve` app for client tests, on its own event loop in a thread.

The CLI under test runs `asyncio.run` itself, and the dashboard under Pilot
has its own loop: the server needs a loop of its own, as a real server would.
Its polls are driven by hand (`ManualScheduler`): `poll()` returns once the
hub has published a new generation. `stop()` closes the listening socket (the
server "goes away"); `start()` listens again on the same port.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Coroutine
from typing import Any, TypeVar

from aiohttp import web

from heartbeat_tui.auth.service import AuthService, open_auth
from heartbeat_tui.collector import Collector
from heartbeat_tui.config import Config
from heartbeat_tui.controller import ManualScheduler
from heartbeat_tui.serve.app import build_app
from heartbeat_tui.serve.hub import Hub
from tests.support.auth import FAST_ITERATIONS

T = TypeVar("T")


class ThreadedServer:
    def __init__(self, config: Config, interval: float = 30.0) -> None:
        self.config = config
        self.interval = interval
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, name="test-serve", daemon=True)
        self.thread.start()
        self.port = 0
        self.site: web.TCPSite | None = None
        self.call(self._open())

    def call(self, coroutine: Coroutine[Any, Any, T], timeout: float = 120) -> T:
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop).result(timeout)

    async def _open(self) -> None:
        self._auth_cm = open_auth(self.config, iterations=FAST_ITERATIONS)
        self.auth: AuthService = await self._auth_cm.__aenter__()
        self.collector = Collector(self.config)
        self.scheduler = ManualScheduler()
        self.hub = Hub(self.collector, interval_seconds=self.interval, scheduler=self.scheduler)
        await self._listen()

    async def _listen(self) -> None:
        self.runner = web.AppRunner(build_app(self.hub, self.auth, self.config), shutdown_timeout=1.0)
        await self.runner.setup()
        self.site = web.TCPSite(self.runner, "127.0.0.1", self.port)
        await self.site.start()
        self.port = self.runner.addresses[-1][1]

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def poll(self) -> int:
        """One poll of the shared hub, to its end; its generation."""

        async def go() -> int:
            before = self.hub.generation
            assert self.hub.controller.poll_now()
            await self.scheduler.drain()
            assert self.hub.generation == before + 1, self.hub.last_error
            return self.hub.generation

        return self.call(go())

    def stop(self) -> None:
        """The server goes away: nothing listens on its port any more."""

        async def go() -> None:
            await self.runner.cleanup()  # its connections too: a keep-alive must not outlive it
            self.site = None

        self.call(go())

    def start(self) -> None:
        self.call(self._listen())

    def close(self) -> None:
        async def go() -> None:
            await self.hub.close()
            await self.scheduler.drain()
            if self.site is not None:
                await self.runner.cleanup()
            await self.collector.aclose()
            await self._auth_cm.__aexit__(None, None, None)

        try:
            self.call(go())
        finally:
            self.loop.call_soon_threadsafe(self.loop.stop)
            self.thread.join(10)
