"""A `heartbeat serve` app on the embedded AWS, over real HTTP (aiohttp's TestServer),
with its polls driven by hand (`ManualScheduler`) and a wall clock the test sets."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer

from heartbeat_tui.auth.service import AuthService, Session, open_auth
from heartbeat_tui.collector import Collector
from heartbeat_tui.config import Config
from heartbeat_tui.controller import ManualScheduler
from heartbeat_tui.serve.app import build_app
from heartbeat_tui.serve.hub import Hub
from tests.support.auth import ADMIN, ADMIN_PASSWORD, FAST_ITERATIONS, PASSWORD, admin_session, auth_config
from tests.support.configs import HUB, PAYMENTS

INTERVAL = 30


@dataclass
class Wall:
    now: float = 1_800_000_000.0

    def __call__(self) -> float:
        return self.now


@dataclass
class Served:
    """The app under test, its hub, its auth service and the users made for the test."""

    aws: Any
    config: Config
    auth: AuthService
    hub: Hub
    scheduler: ManualScheduler
    wall: Wall
    client: TestClient[Any, Any]
    admin: Session
    tokens: dict[str, str] = field(default_factory=dict)

    async def poll(self) -> None:
        """One poll of the hub, to its end."""

        before = self.hub.generation
        assert self.hub.controller.poll_now()
        await self.scheduler.drain()
        assert self.hub.generation == before + 1, self.hub.last_error

    async def login(self, username: str, password: str = PASSWORD) -> str:
        response = await self.client.post("/api/v1/auth/login", json={"username": username, "password": password})
        assert response.status == 200, await response.text()
        token: str = (await response.json())["token"]
        return token

    def bearer(self, who: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[who]}"}


@pytest.fixture
async def served(clean_aws: Any) -> AsyncIterator[Served]:
    config = auth_config(clean_aws)
    async with open_auth(config, iterations=FAST_ITERATIONS) as auth, Collector(config) as collector:
        await auth.store.ensure_tables()
        admin = await admin_session(auth)
        await auth.create_user(admin, username="mona", password=PASSWORD, role="monitor")
        await auth.create_user(admin, username="uma", password=PASSWORD, role="user", accounts=[PAYMENTS])
        await auth.create_user(admin, username="nobody", password=PASSWORD, role="user", accounts=[])
        scheduler, wall = ManualScheduler(), Wall()
        hub = Hub(collector, interval_seconds=INTERVAL, scheduler=scheduler, clock=wall, monotonic=scheduler.monotonic)
        client: TestClient[Any, Any] = TestClient(TestServer(build_app(hub, auth, config)))
        await client.start_server()
        try:
            made = Served(clean_aws, config, auth, hub, scheduler, wall, client, admin)
            made.tokens = {
                "admin": await made.login(ADMIN, ADMIN_PASSWORD),
                "monitor": await made.login("mona"),
                "user": await made.login("uma"),
                "nobody": await made.login("nobody"),
            }
            yield made
        finally:
            await hub.close()
            await scheduler.drain()
            await client.close()


__all__ = ["HUB", "INTERVAL", "PAYMENTS", "Served"]
