"""Two real `heartbeat serve` replicas with `[cluster]` (issue 14, part 3): each
polls its share, both answer every account, and when one is killed (SIGKILL,
mid-whatever) the other takes its accounts over. Real processes keep real time:
the interval is the shortest allowed (5 s), and the test waits on conditions."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from heartbeat_tui.auth.service import open_auth
from heartbeat_tui.cluster import ensure_cluster
from heartbeat_tui.config import dump_toml
from tests.support.auth import ADMIN, ADMIN_PASSWORD, FAST_ITERATIONS, auth_config, dynamodb, environment
from tests.support.configs import DENIED_ACCOUNT, make_config

from .conftest import make_bucket, unique_names

pytestmark = pytest.mark.slow

INTERVAL = 5


class Replica:
    def __init__(self, process: subprocess.Popen[str], url: str) -> None:
        self.process = process
        self.url = url
        self.token = ""

    def request(self, path: str, body: object = None, headers: dict[str, str] | None = None) -> tuple[int, Any]:
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(self.url + path, data=data, headers=headers or {})
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                return response.status, json.loads(response.read())
        except urllib.error.HTTPError as error:
            return error.code, None

    def accounts(self) -> dict[str, dict[str, Any]]:
        if not self.token:
            status, answer = self.request("/api/v1/auth/login", {"username": ADMIN, "password": ADMIN_PASSWORD})
            assert status == 200
            self.token = answer["token"]
        status, answer = self.request("/api/v1/snapshot", headers={"Authorization": f"Bearer {self.token}"})
        return {a["id"]: a for a in answer["accounts"]} if status == 200 else {}


def until(what: str, condition: Callable[[], bool], seconds: float) -> float:
    """Wait (real time: these are real processes) until `condition`; the seconds it took."""

    started = time.monotonic()
    while time.monotonic() - started < seconds:
        if condition():
            return time.monotonic() - started
        threading.Event().wait(0.25)
    pytest.fail(f"not within {seconds} s: {what}")


@pytest.fixture
def replicas(clean_aws: Any, tmp_path: Path) -> Iterator[tuple[list[Replica], Any, str]]:
    config = auth_config(clean_aws)
    table, bucket = unique_names()

    async def setup() -> None:
        async with open_auth(config, iterations=FAST_ITERATIONS) as auth:
            await auth.store.ensure_tables()
            await auth.bootstrap_admin(ADMIN, ADMIN_PASSWORD)

    asyncio.run(setup())
    data = clean_aws.config_dict()
    data["refresh"] = {"interval_seconds": INTERVAL}
    data["collector"] = {"workers": 1}
    data["cluster"] = {"lease_table": table, "bucket": bucket}  # replica ids: <host>-<pid>
    make_bucket(clean_aws, config, bucket)
    asyncio.run(ensure_cluster(make_config(clean_aws, cluster=data["cluster"])))
    path = tmp_path / "config.toml"
    path.write_text(dump_toml(data))
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "HEARTBEAT_"))}
    env.update(environment(clean_aws, config))
    env["HEARTBEAT_LOG_FILE"] = str(tmp_path / "heartbeat.log")
    started = []
    for _ in range(2):
        process = subprocess.Popen(
            [sys.executable, "-m", "heartbeat_tui", "--config", str(path), "serve", "--listen", "127.0.0.1:0"],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
            cwd=tmp_path,
        )
        assert process.stdout is not None
        line = process.stdout.readline()
        assert "listening on" in line, line
        started.append(Replica(process, line.rsplit(" ", 1)[1].strip()))
    try:
        yield started, dynamodb(clean_aws, config), table
    finally:
        for replica in started:
            if replica.process.poll() is None:
                replica.process.kill()
            replica.process.wait(10)


def owners(db: Any, table: str) -> dict[str, str]:
    items = db.scan(TableName=table, ConsistentRead=True)["Items"]
    return {i["lease_key"]["S"][8:]: i["owner"]["S"] for i in items if i["lease_key"]["S"].startswith("account#")}


def test_two_processes_share_the_accounts_and_one_takes_over_when_the_other_is_killed(
    replicas: tuple[list[Replica], Any, str],
) -> None:
    (a, b), db, table = replicas
    everyone = {"123456789012", "210987654321", "345678901234", "456789012345", DENIED_ACCOUNT}

    def fresh(replica: Replica) -> bool:
        shown = replica.accounts()
        return set(shown) == everyone and all(shown[x]["status"] == "ok" for x in everyone if x != DENIED_ACCOUNT)

    until("both replicas answer every account, fresh", lambda: fresh(a) and fresh(b), 120)
    until("the leases are shared", lambda: len(set(owners(db, table).values())) == 2, 60)
    pid = str(a.process.pid)
    a.process.send_signal(signal.SIGKILL)
    a.process.wait(10)
    killed = time.monotonic()
    until("b holds every lease", lambda: all(not o.endswith(pid) for o in owners(db, table).values()), 60)
    until("b answers every account fresh", lambda: fresh(b), 60)
    # Covered within two intervals (and a poll's time, on a shared machine: generous).
    assert time.monotonic() - killed < 2 * INTERVAL + 20
