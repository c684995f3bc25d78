"""`heartbeat serve` polls as `[collector].workers` asks (`poller`): in worker
processes, what it serves is what the in-process collector's hub serves, byte
for byte, for the same poll."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import datetime, timezone
from typing import Any

from aiohttp.test_utils import TestClient, TestServer

from heartbeat_tui.auth.service import AuthService, open_auth
from heartbeat_tui.collector import Collector
from heartbeat_tui.collector.workers import ShardedCollector
from heartbeat_tui.config import Config
from heartbeat_tui.controller import FleetSource, ManualScheduler
from heartbeat_tui.controller.threaded import ThreadedSource
from heartbeat_tui.serve.app import build_app
from heartbeat_tui.serve.hub import Hub
from heartbeat_tui.serve.run import poller
from tests.serve.conftest import INTERVAL, PAYMENTS, Wall
from tests.support.auth import ADMIN, ADMIN_PASSWORD, FAST_ITERATIONS, admin_session, auth_config

NOW = datetime(2026, 12, 3, 12, 0, tzinfo=timezone.utc)


@asynccontextmanager
async def serving(source: FleetSource, auth: AuthService, config: Config) -> AsyncIterator[TestClient[Any, Any]]:
    """An app over `source`, polled once."""

    scheduler = ManualScheduler()
    hub = Hub(source, interval_seconds=INTERVAL, scheduler=scheduler, clock=Wall(), monotonic=scheduler.monotonic)
    client: TestClient[Any, Any] = TestClient(TestServer(build_app(hub, auth, config)))
    await client.start_server()
    try:
        await source.prepare()
        assert hub.controller.poll_now()
        await scheduler.drain()
        assert hub.generation == 1, hub.last_error
        yield client
    finally:
        await hub.close()
        await scheduler.drain()
        await client.close()
        await source.aclose()


async def test_the_process_poller_serves_what_the_in_process_one_does(clean_aws: Any) -> None:
    config = auth_config(clean_aws)
    assert isinstance(poller(config.model_copy(update={"file": with_workers(config, 1)})), Collector)
    config = config.model_copy(update={"file": with_workers(config, 2)})
    source = poller(config, clock=lambda: NOW)
    assert isinstance(source, ShardedCollector) and source.workers == 2
    async with open_auth(config, iterations=FAST_ITERATIONS) as auth:
        await auth.store.ensure_tables()
        await admin_session(auth)
        answers: list[list[bytes]] = []
        for polled in (ThreadedSource(source, batch_young=False), Collector(config, clock=lambda: NOW)):
            async with serving(polled, auth, config) as client:
                login = await client.post("/api/v1/auth/login", json={"username": ADMIN, "password": ADMIN_PASSWORD})
                bearer = {"Authorization": f"Bearer {(await login.json())['token']}"}
                bodies = []
                for query in ("", f"?account={PAYMENTS}"):
                    response = await client.get(f"/api/v1/snapshot{query}", headers=bearer)
                    assert response.status == 200, await response.text()
                    bodies.append(await response.read())
                answers.append(bodies)
                if isinstance(polled, ThreadedSource):  # polled in other processes, one per shard
                    pids = set(source.worker_pids().values())
                    assert pids and os.getpid() not in pids
        assert source.worker_pids() == {}  # closed with its app: no worker left behind
    process, in_process = answers
    assert b'"accounts": [' in process[0] and PAYMENTS.encode() in process[1]
    # The same bytes but the poll's own duration, which is the time it took.
    assert [duration_masked(body) for body in process] == [duration_masked(body) for body in in_process]


def with_workers(config: Config, workers: int) -> Any:
    collector = config.file.collector.model_copy(update={"workers": workers})
    return config.file.model_copy(update={"collector": collector})


def duration_masked(body: bytes) -> bytes:
    head, found, tail = body.partition(b'"duration_seconds": ')
    assert found
    return head + found + b"X" + tail[tail.index(b",") :]
