"""`heartbeat web --demo` over real HTTP and websockets: the page, the hardened
front, and sessions that log in for themselves on one shared server.

One server for the module (one embedded AWS, one `heartbeat serve`); it trusts
loopback as a proxy, so a test can say which client it is in X-Forwarded-For.
"""

from __future__ import annotations

import asyncio
import re
import signal
import subprocess
import time
from pathlib import Path

import aiohttp
import pytest

from tests.web.support import (
    DEMO_PASSWORD,
    HEARTBEAT,
    WebServer,
    descendants,
    open_session,
    session_pids,
    start_web,
    wait_gone,
)

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory):
    server = start_web(tmp_path_factory.mktemp("web-demo"), "--demo", "--trusted-proxy", "127.0.0.1")
    try:
        yield server
    finally:
        # The whole tree (the embedded AWS included) ends within 3 s of a SIGTERM, with exit 0.
        tree = descendants(server.pid) | {server.pid}
        started = time.monotonic()
        assert server.stop(signal.SIGTERM) == 0
        asyncio.run(wait_gone(tree, 3.0 - (time.monotonic() - started)))


async def test_page_is_heartbeats_own_with_only_bundled_resources(demo: WebServer) -> None:
    async with aiohttp.ClientSession() as http:
        async with http.get(demo.url + "/") as page:
            body = await page.text()
            headers = page.headers
        assert page.status == 200
        assert re.search(r"<title>HeartBeat</title>", body)
        assert "connect-src 'self'" in headers["Content-Security-Policy"]
        assert "font-src 'self'" in headers["Content-Security-Policy"]
        # Every resource the page and its stylesheet name is relative and served here.
        async with http.get(demo.url + "/assets/heartbeat.css") as css_answer:
            css = await css_answer.text()
        for text in (body, css):
            assert "http://" not in text and "https://" not in text and "//fonts" not in text
        resources = re.findall(r'(?:href|src)="([^"]+)"', body)
        resources += ["assets/" + u for u in re.findall(r'url\("([^"]+)"\)', css)]
        assert len(resources) >= 5
        for resource in resources:
            async with http.get(f"{demo.url}/{resource}") as answer:
                data = await answer.read()
            assert answer.status == 200, resource
            if resource.endswith(".ttf"):
                assert data[:4] == b"\x00\x01\x00\x00" and len(data) > 50_000  # a TrueType font


@pytest.mark.parametrize("folder", ["/static/", "/static/fonts/", "/static/js", "/assets/"])
async def test_no_directory_listing(demo: WebServer, folder: str) -> None:
    async with aiohttp.ClientSession() as http, http.get(demo.url + folder) as answer:
        body = await answer.text()
    assert answer.status in (403, 404)
    assert "textual.js" not in body and "Index of" not in body and "RobotoMono" not in body


@pytest.mark.parametrize("origin", ["http://evil.example", "null", "http://127.0.0.1:1", None])
async def test_websocket_from_another_origin_is_refused(demo: WebServer, origin: str | None) -> None:
    async with aiohttp.ClientSession() as http:
        with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
            await open_session(http, demo.url, origin=origin)
    assert refused.value.status == 403


async def test_a_session_logs_in_for_itself_and_reaches_the_fleet(demo: WebServer) -> None:
    async with aiohttp.ClientSession() as http:
        session = await open_session(http, demo.url, headers={"X-Forwarded-For": "203.0.113.7"})
        try:
            await session.wait_for("log in", "Username", "Password")
            await session.type(f"admin\t{DEMO_PASSWORD}\r")
            await session.wait_for("Accounts", "payments-prod", timeout=30)
            # A session on the shared server only renders: its HTTP is the standard library's,
            # so aiohttp's compiled parts (and yarl's, multidict's) are never mapped into it.
            (pid,) = session_pids(demo.pid)
            mapped = Path(f"/proc/{pid}/maps").read_text()
            assert not [line for line in mapped.splitlines() if re.search(r"/(aiohttp|yarl|multidict)/", line)]
        finally:
            await session.close()
    # The login's audit record names the browser (X-Forwarded-For from a trusted proxy),
    # carried by the session to the shared server, which trusts loopback.
    audits = [line for line in demo.log_text.splitlines() if "audit event=login" in line and "actor=admin" in line]
    assert any("client=203.0.113.7" in line for line in audits), audits


async def test_the_servers_stored_session_is_not_a_visitors(demo: WebServer) -> None:
    # The operator logs in on the server's machine: a valid session is kept in the session file.
    login = subprocess.run(
        [*HEARTBEAT, "--server", demo.demo_server, "login", "--username", "admin", "--password-stdin"],
        input=DEMO_PASSWORD + "\n",
        env=demo.env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert login.returncode == 0, login.stderr
    whoami = subprocess.run(
        [*HEARTBEAT, "--server", demo.demo_server, "whoami"], env=demo.env, capture_output=True, text=True, timeout=60
    )
    assert whoami.returncode == 0 and "admin" in whoami.stdout
    # A browser still gets the login form, and keeps it: the stored session is never used.
    async with aiohttp.ClientSession() as http:
        session = await open_session(http, demo.url)
        try:
            await session.wait_for("log in", "Username", "Password")
            await asyncio.sleep(2.0)
            assert "log in" in session.text and "Accounts" not in session.text
        finally:
            await session.close()


async def test_terminal_size_is_clamped(demo: WebServer) -> None:
    async with aiohttp.ClientSession() as http:
        session = await open_session(http, demo.url, width=1000, height=400)
        try:
            await session.wait_for("log in", "Username")
            # The login box is centred in the terminal the app was given: 500x200 at most.
            rows = [i for i, line in enumerate(session.screen.display) if "log in" in line]
            column = session.screen.display[rows[0]].index("log in")
            assert rows[0] < 200 and column < 500
            assert 80 < rows[0] < 120 and 200 < column < 300  # centred in 500x200, not in 1000x400
            assert all(not line[500:].strip() for line in session.screen.display)
        finally:
            await session.close()
