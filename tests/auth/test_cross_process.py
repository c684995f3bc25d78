"""Lockout holds across processes: the failure count lives in DynamoDB, updated atomically."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from heartbeat_tui.auth import LoginFailed
from heartbeat_tui.config import dump_toml
from tests.support.auth import ADMIN, ADMIN_PASSWORD, FAST_ITERATIONS, PASSWORD, auth_config, environment

ROOT = Path(__file__).resolve().parents[2]


def start_workers(aws: Any, config: Any, config_path: Path, username: str, password: str, attempts: int, count: int):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "HEARTBEAT_"))}
    env.update(environment(aws, config))
    env["HEARTBEAT_LOG_FILE"] = str(config_path.parent / "worker.log")
    start_at = time.time() + 4.0
    workers = [
        subprocess.Popen(
            [
                sys.executable,
                "-m",
                "tests.auth.lockout_worker",
                str(config_path),
                username,
                str(attempts),
                str(start_at),
            ],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
            cwd=ROOT,
        )
        for _ in range(count)
    ]
    results = []
    for worker in workers:
        out, err = worker.communicate(password + "\n", timeout=120)
        assert worker.returncode == 0, err
        results.append(json.loads(out.strip().splitlines()[-1]))
    return results


@pytest.fixture
def deployment(fleet_aws: Any, tmp_path: Path):
    from heartbeat_tui.auth.service import open_auth

    config = auth_config(fleet_aws)
    path = tmp_path / "config.toml"
    path.write_text(dump_toml(fleet_aws.config_dict()))

    async def setup() -> None:
        async with open_auth(config, iterations=FAST_ITERATIONS) as auth:
            await auth.store.ensure_tables()
            await auth.bootstrap_admin(ADMIN, ADMIN_PASSWORD)
            admin = await auth.login(ADMIN, ADMIN_PASSWORD)
            await auth.create_user(admin, username="target", password=PASSWORD, role="user")

    import asyncio

    asyncio.run(setup())
    return config, path


async def audit_of(config: Any) -> list[dict[str, Any]]:
    from heartbeat_tui.auth.service import open_auth

    async with open_auth(config, iterations=FAST_ITERATIONS) as auth:
        return [r for r in await auth.store.audit_records() if r["event"] == "login" and r["actor"] == "target"]


async def test_failures_from_two_processes_add_up(fleet_aws: Any, deployment: Any) -> None:
    from heartbeat_tui.auth.service import open_auth

    config, path = deployment
    # Three wrong passwords each: neither process alone reaches five, together they do.
    results = start_workers(fleet_aws, config, path, "target", "wrong password!!", attempts=3, count=2)
    assert results == [{"failed": 3, "succeeded": 0}] * 2
    async with open_auth(config, iterations=FAST_ITERATIONS) as auth:
        record = await auth.store.get("target")
        assert record.is_locked(time.time())
        with pytest.raises(LoginFailed):
            await auth.login("target", PASSWORD)
    details = [r["detail"] for r in await audit_of(config)]
    assert sum("locked for" in d for d in details) == 1


async def test_two_processes_hammering_one_user(fleet_aws: Any, deployment: Any) -> None:
    config, path = deployment
    results = start_workers(fleet_aws, config, path, "target", "wrong password!!", attempts=10, count=2)
    assert all(r == {"failed": 10, "succeeded": 0} for r in results)
    details = [r["detail"] for r in await audit_of(config)]
    assert len(details) == 20
    # Exactly one lock; at most one attempt per other process was still in flight when it fell.
    assert sum("locked for" in d for d in details) == 1
    evaluated = sum(d.startswith("wrong password") for d in details)
    assert 5 <= evaluated <= 6
    assert sum(d == "locked" for d in details) == 20 - evaluated
    # The right password from both processes, now: refused while the lock lasts.
    results = start_workers(fleet_aws, config, path, "target", PASSWORD, attempts=2, count=2)
    assert results == [{"failed": 2, "succeeded": 0}] * 2
