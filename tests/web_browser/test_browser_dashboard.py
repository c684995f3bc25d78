"""`heartbeat web --demo` in Debian's chromium: the login form, keys typed in
one burst, a login reaching the fleet (a screenshot kept), the keys a browser
keeps, two tabs on one embedded AWS, the session cap and a foreign Origin.

One server for the module (two sessions at most). A session costs seconds to
start on a loaded machine, so each test walks one tab through several steps;
each closes its tabs and sees their sessions end.
"""

from __future__ import annotations

import asyncio
import struct
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from heartbeat_tui.tui.app import BROWSER_CTRL_C
from tests.support.browser import DEMO_ACCOUNTS, DEMO_PASSWORD, EMBEDDED_AWS_MODULE, Tab, WebServer, on_dashboard
from tests.web_browser.conftest import BROWSER, SESSION_END_SECONDS, Tabs, wait_sessions_gone, wait_until

pytestmark = BROWSER


async def test_login_form_then_a_burst_login_reaches_the_fleet(
    demo_web: WebServer, tabs: Tabs, artifacts: Path
) -> None:
    requested: list[str] = []
    page = await tabs.context.new_page()
    page.on("request", lambda request: requested.append(request.url))
    tab = Tab(page)
    tabs.opened.append(tab)
    await page.goto(demo_web.url)

    # The login form, drawn by this tab's own session.
    await tab.wait_for(lambda text: "HeartBeat · log in" in text and "Username" in text and "Password" in text)
    assert await page.title() == "HeartBeat"
    (session,) = demo_web.sessions()

    # Typed at once, with no click: the terminal has the focus on connect.
    # Alt+Backspace deletes a word (Ctrl+W is the browser's: it would close the tab).
    await page.keyboard.type("ops oncall", delay=0)
    await tab.wait_for("ops oncall")
    await page.keyboard.press("Alt+Backspace")
    await tab.wait_for(lambda text: "ops" in text and "oncall" not in text)
    await page.keyboard.press("Escape")  # clears the form
    await tab.wait_for(lambda text: "ops" not in text)

    # user<Tab>password<Enter> in one burst: each key lands in its field.
    await tab.log_in()
    await tab.wait_for(on_dashboard)
    await tab.wait_for(lambda text: all(alias in text for alias in DEMO_ACCOUNTS[:3]))
    assert DEMO_PASSWORD not in tab.text()  # masked, never drawn

    # A screenshot of the dashboard, kept for people to look at (CI keeps artifacts/).
    shot = artifacts / "dashboard.png"
    await page.screenshot(path=str(shot))
    data = shot.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and data[12:16] == b"IHDR"
    assert struct.unpack(">II", data[16:24]) == (1000, 700)
    assert len(data) > 20_000  # a drawn dashboard, not a blank page

    # The page, its script and its font came from this server: nothing from outside.
    origin = urlsplit(demo_web.url).netloc
    assert requested and all(urlsplit(url).netloc == origin for url in requested), requested

    # Ctrl+C copies here: the session goes on, and says how to quit.
    await page.keyboard.press("Control+c")
    await tab.wait_for(BROWSER_CTRL_C[:40])
    assert not tab.socket_closed.is_set() and session.is_running()
    # Help says how to paste in a browser.
    await page.keyboard.press("?")
    await tab.wait_for("Ctrl+Shift+V")
    await page.keyboard.press("Escape")
    # Help gone first: a `q` that reached it would close help, not the session.
    await tab.wait_for(lambda text: "Ctrl+Shift+V" not in text)
    # `q` ends the session, and its process with it.
    await page.keyboard.press("q")
    await asyncio.wait_for(tab.socket_closed.wait(), SESSION_END_SECONDS * 5)
    assert await wait_sessions_gone([session]) < SESSION_END_SECONDS
    await tabs.close_all(demo_web)


async def test_two_tabs_share_one_embedded_aws_up_to_the_cap(demo_web: WebServer, tabs: Tabs) -> None:
    first = await tabs.open(demo_web)
    await first.wait_for("Password")  # counted: the next place is another one
    second = await tabs.open(demo_web)
    await second.wait_for("Password")

    # The cap (--max-sessions 2): a third visitor gets a page that says so, and no session.
    third = await tabs.open(demo_web, place=False)
    body = await third.page.inner_text("body")
    assert "HeartBeat is full" in body and "2" in body, body
    assert third.socket_url is None and len(demo_web.sessions()) == 2

    await first.log_in()
    await second.log_in()
    await first.wait_for(on_dashboard)
    await second.wait_for(on_dashboard)
    # One embedded AWS, the server's own, for both: a session starts none of its own.
    (aws,) = demo_web.embedded_aws()
    assert aws.ppid() == demo_web.pid
    for session in demo_web.sessions():
        assert not [p for p in session.children(recursive=True) if EMBEDDED_AWS_MODULE in p.cmdline()]

    # A tab closed frees its slot: the next visitor gets the login form.
    await first.close()
    await wait_until(lambda: len(demo_web.sessions()) == 1, SESSION_END_SECONDS)
    fourth = await tabs.open(demo_web)  # waits for the server to offer the place again
    await fourth.wait_for("Password")
    await tabs.close_all(demo_web)


@pytest.fixture(scope="module")
def foreign_site() -> Iterator[str]:
    """Another origin on this machine (another port): a page anyone could serve."""

    class Page(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            body = b"<!doctype html><title>elsewhere</title><p>elsewhere</p>"
            self.send_response(200)
            self.send_header("Content-Type", "text/html")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Page)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()


async def test_a_foreign_origin_is_refused(demo_web: WebServer, tabs: Tabs, foreign_site: str) -> None:
    """A page of another origin that opens the server's websocket gets a 403 and no session."""

    before = set(demo_web.sessions())  # the last test's may be ending still
    page = await tabs.context.new_page()
    tabs.opened.append(Tab(page))
    errors: list[str] = []
    page.on("websocket", lambda socket: socket.on("socketerror", lambda error: errors.append(error)))
    await page.goto(foreign_site)
    socket = demo_web.url.replace("http://", "ws://") + "ws?width=80&height=24"
    outcome = await page.evaluate(
        """url => new Promise(resolve => {
            const socket = new WebSocket(url);
            const seen = [];
            socket.onopen = () => seen.push("open");
            socket.onmessage = () => seen.push("message");
            socket.onerror = () => seen.push("error");
            socket.onclose = event => resolve({seen, code: event.code});
        })""",
        socket,
    )
    assert outcome == {"seen": ["error"], "code": 1006}, outcome
    # Refused by the server (not by the browser's own checks), before any session started.
    assert any("403" in error for error in errors), errors
    assert set(demo_web.sessions()) <= before
