"""The last-admin guard holds under concurrency: two admins who disable or demote
each other at the same moment can never leave the deployment without an active
admin. The guard is one DynamoDB transaction (the update, plus a condition check
that another admin is still active), which DynamoDB serializes; a scan followed
by a write could not be, as both scans would see the other admin still there."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from heartbeat_tui.auth import LastAdmin, Role, SessionInvalid
from heartbeat_tui.auth.service import open_auth
from heartbeat_tui.auth.store import UserStore
from heartbeat_tui.config import dump_toml
from tests.support.auth import ADMIN, ADMIN_PASSWORD, FAST_ITERATIONS, PASSWORD, auth_config, environment

OTHER = "second-admin"
ROOT = Path(__file__).resolve().parents[2]


def both_write_at_once(store: UserStore, monkeypatch: pytest.MonkeyPatch) -> list[dict[str, Any]]:
    """Hold each edit's first write until both edits have read everything they
    decide on (the record, the scan of admins): the worst interleaving, every time."""

    arrived = 0
    both = asyncio.Event()
    writes: list[dict[str, Any]] = []
    real_update = store.update

    async def update(username: str, *args: Any, **kwargs: Any) -> None:
        nonlocal arrived
        writes.append({"username": username, **kwargs})
        if not both.is_set():
            arrived += 1
            if arrived >= 2:
                both.set()
            await asyncio.wait_for(both.wait(), 10)
        await real_update(username, *args, **kwargs)

    monkeypatch.setattr(store, "update", update)
    return writes


@pytest.mark.parametrize("action", ["set_role", "set_active"])
async def test_two_admins_removing_each_other_at_once_leave_one(
    fleet_aws: Any, monkeypatch: pytest.MonkeyPatch, action: str
) -> None:
    config = auth_config(fleet_aws)
    async with open_auth(config, iterations=FAST_ITERATIONS) as auth:
        await auth.store.ensure_tables()
        await auth.bootstrap_admin(ADMIN, ADMIN_PASSWORD)
        first = await auth.login(ADMIN, ADMIN_PASSWORD)
        await auth.create_user(first, username=OTHER, password=PASSWORD, role="admin")
        second = await auth.login(OTHER, PASSWORD)
        writes = both_write_at_once(auth.store, monkeypatch)

        async def remove(session: Any, target: str) -> str:
            try:
                if action == "set_role":
                    await auth.set_role(session, target, "monitor")
                else:
                    await auth.set_active(session, target, False)
            except LastAdmin:
                return "refused: last admin"
            except SessionInvalid:
                return "refused: session ended"  # the other one won, and took this admin's rights
            return "done"

        outcomes = await asyncio.gather(remove(first, OTHER), remove(second, ADMIN))
        assert sorted(outcomes) in (["done", "refused: last admin"], ["done", "refused: session ended"]), outcomes
        assert len(writes) >= 2 and all(w["while_admin"] for w in writes[:2])
        admins = [r for r in await auth.store.all() if r.role is Role.ADMIN and r.active]
        assert len(admins) == 1, admins
        # The one left can still not be removed, by itself or anyone.
        survivor = await auth.login(admins[0].username, ADMIN_PASSWORD if admins[0].username == ADMIN else PASSWORD)
        with pytest.raises(LastAdmin):
            await getattr(auth, action)(
                survivor, survivor.username, *(["monitor"] if action == "set_role" else [False])
            )


async def test_two_processes_demoting_each_other(fleet_aws: Any, tmp_path: Path) -> None:
    """Separate processes, no help with the timing: two admins demote each other at
    the same moment; exactly one of them is left an admin."""

    config = auth_config(fleet_aws)
    names = ["admin-a", "admin-b"]
    async with open_auth(config, iterations=FAST_ITERATIONS) as auth:
        await auth.store.ensure_tables()
        await auth.bootstrap_admin(names[0], PASSWORD)
        root = await auth.login(names[0], PASSWORD)
        await auth.create_user(root, username=names[1], password=PASSWORD, role="admin")
    config_path = tmp_path / "config.toml"
    config_path.write_text(dump_toml(fleet_aws.config_dict()))
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "HEARTBEAT_"))}
    env.update(environment(fleet_aws, config))
    env["HEARTBEAT_LOG_FILE"] = str(tmp_path / "worker.log")
    ready = tmp_path / "ready"
    ready.mkdir()
    workers = [
        subprocess.Popen(
            [sys.executable, "-m", "tests.auth.demote_worker", str(config_path), actor, target, str(ready), "2"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
            cwd=ROOT,
        )
        for actor, target in (names, names[::-1])
    ]
    for worker in workers:  # every worker gets its password before any is waited for
        assert worker.stdin is not None
        worker.stdin.write(PASSWORD + "\n")
        worker.stdin.close()
    outcomes = []
    for worker in workers:
        assert worker.stdout is not None and worker.stderr is not None
        worker.wait(timeout=120)
        out, err = worker.stdout.read(), worker.stderr.read()
        assert worker.returncode == 0, err
        outcomes.append(json.loads(out.strip().splitlines()[-1])["outcome"])
    async with open_auth(config, iterations=FAST_ITERATIONS) as auth:
        admins = [r.username for r in await auth.store.all() if r.role is Role.ADMIN and r.active]
    assert len(admins) == 1, (admins, outcomes)
    assert sorted(outcomes)[0] == "done" and outcomes.count("done") == 1, outcomes
