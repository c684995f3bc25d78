"""Issue 15: keys that arrive in one read (a password manager's auto-type,
keystrokes coalesced over SSH) land where they were meant. The real
`heartbeat` in a pseudo-terminal, on the embedded AWS: `user<Tab>password<Enter>`
(and `user<Enter>password<Enter>`) written with one os.write logs in, and the
password is never on screen."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
import time
from pathlib import Path
from typing import Any

import pexpect
import pyte
import pytest

from heartbeat_tui.auth.service import open_auth
from heartbeat_tui.config import dump_toml
from tests.support.auth import ADMIN, ADMIN_PASSWORD, FAST_ITERATIONS, auth_config, environment

HUB = "123456789012"
COLUMNS, LINES = 120, 40


def admin_environment(aws: Any) -> dict[str, str]:
    """An admin in a users table of this test's own; no session stored, so the login form is asked."""

    config = auth_config(aws)

    async def bootstrap() -> None:
        async with open_auth(config, iterations=FAST_ITERATIONS) as auth:
            await auth.store.ensure_tables()
            await auth.bootstrap_admin(ADMIN, ADMIN_PASSWORD)

    asyncio.run(bootstrap())
    return {**os.environ, **environment(aws, config)}


@pytest.mark.parametrize("between", ["\t", "\r"], ids=["tab", "enter"])
def test_a_burst_of_keys_logs_in_with_the_password_in_its_field(fleet_aws: Any, tmp_path: Path, between: str) -> None:
    data = fleet_aws.config_dict()
    data["accounts"] = [a for a in data["accounts"] if a["id"] == HUB]
    config = tmp_path / "config.toml"
    config.write_text(dump_toml(data))
    env = admin_environment(fleet_aws)
    env.update(TERM="xterm-256color", COLORTERM="", PYTHONUNBUFFERED="1", HEARTBEAT_LOG_FILE=str(tmp_path / "hb.log"))
    env.pop("CI", None)
    env.update(COLUMNS=str(COLUMNS), LINES=str(LINES))

    child = pexpect.spawn(
        sys.executable,
        ["-m", "heartbeat_tui", "--config", str(config)],
        env=env,
        dimensions=(LINES, COLUMNS),
        encoding=None,
        timeout=1,
    )
    screen = pyte.Screen(COLUMNS, LINES)
    stream = pyte.ByteStream(screen)

    def shown() -> str:
        return "\n".join(screen.display)

    def pump(seconds: float) -> None:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            try:
                stream.feed(child.read_nonblocking(65536, timeout=0.1))
            except pexpect.TIMEOUT:
                continue
            except pexpect.EOF:
                return

    def wait_for(needle: str, timeout: float = 60.0) -> None:
        deadline = time.monotonic() + timeout
        while needle not in shown():
            assert child.isalive(), "heartbeat exited:\n" + shown()
            assert time.monotonic() < deadline, f"{needle!r} never appeared:\n" + shown()
            pump(0.2)

    try:
        wait_for("log in")
        wait_for("Username")
        pump(0.5)  # the form is mounted and the username field focused
        # One write, one read on the other side: the whole burst arrives at once.
        os.write(child.child_fd, f"{ADMIN}{between}{ADMIN_PASSWORD}\r".encode())
        wait_for(f"{ADMIN} (admin)")  # the dashboard's header: a session started
        assert ADMIN_PASSWORD not in shown()
        child.send("q")
        pump(1.0)
    finally:
        if child.isalive():
            child.kill(signal.SIGKILL)
        child.close()
