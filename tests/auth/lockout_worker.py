"""A separate process that hammers one user with logins (for test_cross_process).

    python -m tests.auth.lockout_worker CONFIG USERNAME ATTEMPTS START_AT

The password comes on stdin; secrets and the users table come from the
environment, as for `heartbeat`. Waits until START_AT (epoch seconds) so the
processes overlap, then tries ATTEMPTS logins as fast as it can and prints one
JSON line: how many failed and how many succeeded.
"""

from __future__ import annotations

import asyncio
import json
import sys
import time

from heartbeat_tui.auth import LoginFailed
from heartbeat_tui.auth.service import open_auth
from heartbeat_tui.config import load_config
from tests.support.auth import FAST_ITERATIONS


async def hammer(config_path: str, username: str, password: str, attempts: int, start_at: float) -> dict[str, int]:
    config = load_config(config_path, env_file=None)
    failed = succeeded = 0
    async with open_auth(config, iterations=FAST_ITERATIONS) as auth:
        await auth.store.get(username)  # connections warm before the start line
        await asyncio.sleep(max(0.0, start_at - time.time()))
        for _ in range(attempts):
            try:
                await auth.login(username, password)
            except LoginFailed:
                failed += 1
            else:
                succeeded += 1
    return {"failed": failed, "succeeded": succeeded}


def main() -> None:
    config_path, username, attempts, start_at = sys.argv[1:5]
    password = sys.stdin.readline().rstrip("\n")
    result = asyncio.run(hammer(config_path, username, password, int(attempts), float(start_at)))
    print(json.dumps(result))


if __name__ == "__main__":
    main()
