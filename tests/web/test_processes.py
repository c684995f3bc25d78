"""A browser session's process tree never outlives its tab or its server, and
the session cap holds. Checked from /proc: every descendant of the server.

The sessions watch a server that is not there (`--server` on a closed port):
each is a real dashboard process showing its login form, started in a
fraction of the demo's time.
"""

from __future__ import annotations

import asyncio
import signal
import socket
from pathlib import Path

import aiohttp
import pytest

from tests.web.support import (
    WebServer,
    alive,
    descendants,
    group_members,
    open_session,
    session_pids,
    start_web,
    wait_gone,
    wait_sessions,
)

pytestmark = pytest.mark.slow


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


SECRETS = {
    "JWT_SECRET": "web-test-jwt-secret-0123456789abcdef",
    "ENCRYPTION_KEY": "web-test-encryption-key-0123456789",
    "AWS_SECRET_ACCESS_KEY": "web-test-aws-secret",
    "HEARTBEAT_TOKEN": "web-test-operators-token",
}


@pytest.fixture
def web(tmp_path: Path):
    # The server's environment holds the deployment's secrets and the operator's token.
    server = start_web(tmp_path, "--server", f"http://127.0.0.1:{_closed_port()}", "--max-sessions", "2", env=SECRETS)
    try:
        yield server
    finally:
        server.stop(signal.SIGKILL)


async def test_closing_the_tab_ends_the_sessions_process_group(web: WebServer) -> None:
    async with aiohttp.ClientSession() as http:
        first = await open_session(http, web.url)
        await first.wait_for("log in")
        (first_pid,) = await wait_sessions(web.pid, 1)
        second = await open_session(http, web.url)
        await second.wait_for("log in")
        (second_pid,) = await wait_sessions(web.pid, 2) - {first_pid}
        # A session watching a server holds none of them, in its environment or its argv.
        for pid in (first_pid, second_pid):
            environment = Path(f"/proc/{pid}/environ").read_bytes()
            argv = Path(f"/proc/{pid}/cmdline").read_bytes()
            for name, value in SECRETS.items():
                assert name.encode() + b"=" not in environment and value.encode() not in environment + argv
            assert b"HEARTBEAT_WEB_CLIENT=127.0.0.1" in environment
            assert b"\0MALLOC_ARENA_MAX=2\0" in b"\0" + environment  # two malloc arenas: 2 MB less a session
        # Each session leads a process group of its own, apart from the server's.
        assert first_pid in group_members(first_pid) and second_pid in group_members(second_pid)
        assert web.pid not in group_members(first_pid)
        first_group = group_members(first_pid)
        await first.close()
        took = await wait_gone(first_group, 2.0)
        assert took < 2.0
        # The other tab's session is untouched.
        assert alive({second_pid})
        await second.type("x")
        await second.wait_for("log in")
        second_group = group_members(second_pid)
        await second.close()
        await wait_gone(second_group, 2.0)
        assert not session_pids(web.pid)


async def test_session_cap_refuses_with_a_reason_and_a_page(web: WebServer) -> None:
    async with aiohttp.ClientSession() as http:
        first = await open_session(http, web.url)
        second = await open_session(http, web.url)
        await first.wait_for("log in")
        await second.wait_for("log in")
        third = await http.ws_connect(f"{web.url}/ws", headers={"Origin": web.url})
        message = await third.receive(timeout=10)
        assert message.type == aiohttp.WSMsgType.CLOSE
        assert third.close_code == 1013
        assert "full" in str(message.extra) and "2 browser sessions" in str(message.extra)
        async with http.get(web.url + "/") as page:
            body = await page.text()
        assert page.status == 503 and "full" in body and "<title>HeartBeat</title>" in body
        assert len(session_pids(web.pid)) == 2
        # A place freed is a place to take again.
        await first.close()
        await _page_open(http, web.url)
        again = await open_session(http, web.url)
        await again.wait_for("log in")
        await again.close()
        await second.close()


async def _page_open(http: aiohttp.ClientSession, url: str, timeout: float = 2.0) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        async with http.get(url + "/") as page:
            if page.status == 200:
                return
        assert loop.time() < deadline, "the closed tab's place was not freed"
        await asyncio.sleep(0.05)


async def test_sigterm_ends_every_session_within_3_seconds(web: WebServer) -> None:
    async with aiohttp.ClientSession() as http:
        first = await open_session(http, web.url)
        second = await open_session(http, web.url)
        await first.wait_for("log in")
        await second.wait_for("log in")
        tree = descendants(web.pid)
        assert len(session_pids(web.pid)) == 2
        loop = asyncio.get_running_loop()
        started = loop.time()
        web.process.send_signal(signal.SIGTERM)
        await wait_gone(tree | {web.pid}, 3.0)
        assert loop.time() - started < 3.0
        assert web.process.wait(1) == 0


async def test_sigkill_of_the_server_leaves_no_session_behind(web: WebServer) -> None:
    async with aiohttp.ClientSession() as http:
        first = await open_session(http, web.url)
        second = await open_session(http, web.url)
        await first.wait_for("log in")
        await second.wait_for("log in")
        tree = descendants(web.pid)
        assert len(session_pids(web.pid)) == 2
        web.process.kill()
        web.process.wait(2)
        # Orphaned, they notice their parent is gone (PR_SET_PDEATHSIG, the getppid watchdog).
        took = await wait_gone(tree, 5.0)
        assert took < 5.0
