"""`heartbeat web --server URL` (the shared collector service; here `heartbeat
demo --serve`) on a machine where someone ran `heartbeat login`: a visitor
still gets the login form, never that person's session, and a login typed in
the browser is not saved for the next visitor."""

from __future__ import annotations

import re
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.support.browser import (
    DEMO_PASSWORD,
    DEMO_USER,
    WebServer,
    heartbeat_environment,
    on_dashboard,
    start_web,
)
from tests.web_browser.conftest import BROWSER, SESSION_END_SECONDS, Tabs

pytestmark = BROWSER


@dataclass
class Served:
    web: WebServer
    session_file: Path
    server_url: str


def _heartbeat(*args: str, home: Path, stdin: str = "", **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "heartbeat_tui", *args],
        input=stdin,
        capture_output=True,
        text=True,
        env=heartbeat_environment(home, **env),
        cwd=home,
        timeout=60,
    )


@pytest.fixture(scope="module")
def served(chromium_ready: None, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    base = tmp_path_factory.mktemp("served")
    service_home = base / "service"
    service_home.mkdir()
    service = subprocess.Popen(
        [sys.executable, "-m", "heartbeat_tui", "demo", "--serve"],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        stdin=subprocess.DEVNULL,
        env=heartbeat_environment(service_home, HEARTBEAT_DEMO_PASSWORD=DEMO_PASSWORD),
        cwd=service_home,
        text=True,
    )
    web = None
    try:
        assert service.stdout is not None
        url = None
        for line in service.stdout:
            found = re.search(r"--server (\S+) login", line)
            if found:
                url = found.group(1)
                break
        assert url, "heartbeat demo --serve printed no server URL"
        # Someone logged in on the web server's machine, as its user: a real, valid session.
        home = base / "web"
        login = _heartbeat(
            "--server", url, "login", "--username", DEMO_USER, "--password-stdin", home=home, stdin=DEMO_PASSWORD + "\n"
        )
        assert login.returncode == 0, login.stderr
        assert _heartbeat("--server", url, "whoami", home=home).returncode == 0
        (session_file,) = (home / "state").rglob("session.jwt")
        token = session_file.read_text().splitlines()[0]
        # ... and exported it too: neither is a visitor's.
        environment = heartbeat_environment(home, HEARTBEAT_TOKEN=token)
        web = start_web(home, "--server", url, environment=environment)
        yield Served(web, session_file, url)
    finally:
        if web is not None:
            web.stop()
        service.terminate()
        service.wait(timeout=30)


async def test_a_stored_session_is_never_a_visitors(served: Served, tabs: Tabs) -> None:
    before = served.session_file.read_bytes(), served.session_file.stat().st_mtime_ns
    tab = await tabs.open(served.web)
    await tab.wait_for("Password")
    # The form stays: no stored session skips it, however long the visitor waits.
    await tab.page.wait_for_timeout(1500)
    assert "Password" in tab.text() and not on_dashboard(tab.text())

    # The visitor's own login reaches the fleet on the shared service ...
    await tab.log_in()
    await tab.wait_for(on_dashboard)
    # ... and is kept in the session's process only: the file on disk is as it was.
    assert (served.session_file.read_bytes(), served.session_file.stat().st_mtime_ns) == before
    assert len(list(served.session_file.parent.glob("*.jwt"))) == 1
    assert await tabs.close_all(served.web) < SESSION_END_SECONDS
