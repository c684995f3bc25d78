"""Issue 11, end to end: a task stopped (ecs:StopTask) in a monitored account
with a reason holding OSC 52 (write the operator's clipboard) and OSC 0 (set
the window title). The real `heartbeat` in a pseudo-terminal, against an
embedded AWS of its own, shows the task: the bytes it writes hold neither
sequence, and the reason is on screen with visible escapes."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pexpect
import pyte
import pytest

from heartbeat_tui.auth.service import open_auth
from heartbeat_tui.auth.session_file import save_token
from heartbeat_tui.config import dump_toml
from heartbeat_tui.embedded import EmbeddedAWS
from heartbeat_tui.embedded.fleet import FleetSpec
from tests.support.auth import ADMIN, ADMIN_PASSWORD, FAST_ITERATIONS, auth_config, environment

HUB = "123456789012"
CLUSTER, SERVICE = "platform-tools", "audit-reconciler"
REASON = "Stopped \x1b]52;c;SGVhcnRCZWF0\x07 by \x1b]0;pwned\x07 ops"
SHOWN = "\\x1b]52;c;SGVhcnRCZWF0\\x07 by \\x1b]0;pwned\\x07 ops"
COLUMNS, LINES = 200, 70


@pytest.fixture
def own_aws() -> Iterator[EmbeddedAWS]:
    """An embedded AWS of this test's own: stopping a task changes the fleet
    the suite's shared one must keep as seeded."""

    aws = EmbeddedAWS(FleetSpec.demo(), paused=True)
    aws.start()
    try:
        yield aws
    finally:
        aws.stop()


def stop_a_task(aws: EmbeddedAWS) -> str:
    creds = aws.credentials()
    ecs = boto3.client(
        "ecs",
        region_name="us-west-2",
        endpoint_url=aws.endpoint_url,
        aws_access_key_id=creds["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=creds["AWS_SECRET_ACCESS_KEY"],
    )
    task = ecs.list_tasks(cluster=CLUSTER, serviceName=SERVICE)["taskArns"][0]
    stopped = ecs.stop_task(cluster=CLUSTER, task=task, reason=REASON)["task"]
    assert stopped["stoppedReason"] == REASON  # the embedded AWS keeps it exact, as ECS does
    return task


def logged_in_environment(aws: EmbeddedAWS) -> dict[str, str]:
    config = auth_config(aws)

    async def login() -> str:
        async with open_auth(config, iterations=FAST_ITERATIONS) as auth:
            await auth.store.ensure_tables()
            await auth.bootstrap_admin(ADMIN, ADMIN_PASSWORD)
            return (await auth.login(ADMIN, ADMIN_PASSWORD)).token

    save_token(asyncio.run(login()))
    return {**os.environ, **environment(aws, config)}


def test_a_stopped_reason_cannot_write_the_clipboard_or_the_title(own_aws: Any, tmp_path: Path) -> None:
    stop_a_task(own_aws)
    data = own_aws.config_dict()
    data["accounts"] = [a for a in data["accounts"] if a["id"] == HUB]
    config = tmp_path / "config.toml"
    config.write_text(dump_toml(data))
    env = logged_in_environment(own_aws)
    env.update(TERM="xterm-256color", COLORTERM="", PYTHONUNBUFFERED="1", HEARTBEAT_LOG_FILE=str(tmp_path / "hb.log"))
    env.pop("CI", None)
    env.update(COLUMNS=str(COLUMNS), LINES=str(LINES))  # a size inherited from pytest's own terminal would win

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
    raw = bytearray()

    def pump(seconds: float) -> None:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            try:
                chunk = child.read_nonblocking(65536, timeout=0.1)
            except pexpect.TIMEOUT:
                continue
            except pexpect.EOF:
                return
            raw.extend(chunk)
            stream.feed(chunk)

    def wait_for(needle: str, timeout: float = 60.0) -> None:
        deadline = time.monotonic() + timeout
        while needle not in "\n".join(screen.display):
            assert child.isalive(), "heartbeat exited:\n" + "\n".join(screen.display)
            assert time.monotonic() < deadline, f"{needle!r} never appeared:\n" + "\n".join(screen.display)
            pump(0.2)

    try:
        wait_for(SERVICE)
        child.send("f")  # fleet-wide
        wait_for("All services")
        child.send("/")
        pump(0.3)
        child.send(SERVICE)  # filtered to it
        wait_for(f"/{SERVICE}")
        child.send("\r")  # keep the filter, back to the table
        pump(0.5)
        child.send("\r")  # its detail
        wait_for("2 Tasks")
        child.send("2")  # the tasks tab
        wait_for("stop code")  # the task table is on screen
        child.send("G")  # the stopped task (running ones come first): its story below the table
        wait_for("stopped:")
        pump(1.0)
        assert b"\x1b]52" not in raw  # nothing wrote the clipboard
        assert b"\x1b]0;" not in raw  # nor the window title
        # What the operator sees instead: the reason, its escapes visible.
        wait_for("\\x1b]52;c;SGVhcnRCZWF0")
        shown = "".join(line.strip() for line in screen.display)
        assert SHOWN.replace(" ", "") in shown.replace(" ", "")
        child.send("q")
        pump(1.0)
    finally:
        if child.isalive():
            child.kill(signal.SIGKILL)
        child.close()
