"""A separate process in which one admin demotes another (for test_last_admin_race).

    python -m tests.auth.demote_worker CONFIG ACTOR TARGET READY_DIR WORKERS

The actor's password comes on stdin; secrets and the users table come from the
environment, as for `heartbeat`. Logs in, reads the target (connections warm),
says it is ready (a file in READY_DIR) and waits until all WORKERS are, so the
demotions overlap, then demotes the target to monitor and prints one JSON line
with the outcome.
"""

from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path

from heartbeat_tui.auth import LastAdmin, SessionInvalid
from heartbeat_tui.auth.service import open_auth
from heartbeat_tui.config import load_config
from tests.support.auth import FAST_ITERATIONS


async def demote(config_path: str, actor: str, password: str, target: str, ready: Path, workers: int) -> dict[str, str]:
    config = load_config(config_path, env_file=None)
    async with open_auth(config, iterations=FAST_ITERATIONS) as auth:
        session = await auth.login(actor, password)
        await auth.store.get(target)
        (ready / actor).touch()
        for _ in range(600):
            if len(list(ready.iterdir())) >= workers:
                break
            await asyncio.sleep(0.05)
        try:
            await auth.set_role(session, target, "monitor")
        except LastAdmin:
            return {"outcome": "refused: last admin"}
        except SessionInvalid:
            return {"outcome": "refused: session ended"}
    return {"outcome": "done"}


def main() -> None:
    config_path, actor, target, ready, workers = sys.argv[1:6]
    password = sys.stdin.readline().rstrip("\n")
    print(json.dumps(asyncio.run(demote(config_path, actor, password, target, Path(ready), int(workers)))))


if __name__ == "__main__":
    main()
