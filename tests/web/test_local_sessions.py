"""`heartbeat web` without a server: each tab polls the configured fleet and
logs in against the users table itself, and still never uses the operator's
stored session (file or `HEARTBEAT_TOKEN`); its audit records name the browser."""

from __future__ import annotations

import asyncio
import subprocess
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from heartbeat_tui.auth.service import open_auth
from heartbeat_tui.config import dump_toml
from tests.support.auth import ADMIN, ADMIN_PASSWORD, FAST_ITERATIONS, auth_config, environment
from tests.web.support import HEARTBEAT, clean_environment, open_session, start_web

pytestmark = pytest.mark.slow


async def test_a_local_session_ignores_the_operators_session_and_names_its_client(
    clean_aws: Any, tmp_path: Path
) -> None:
    config = auth_config(clean_aws)
    async with open_auth(config, iterations=FAST_ITERATIONS) as auth:
        await auth.store.ensure_tables()
        await auth.bootstrap_admin(ADMIN, ADMIN_PASSWORD)
    path = tmp_path / "config.toml"
    path.write_text(dump_toml(clean_aws.config_dict()))
    home = tmp_path / "home"
    settings = {**environment(clean_aws, config), "HEARTBEAT_CONFIG": str(path)}
    # The operator of the web server is logged in, by file and by HEARTBEAT_TOKEN.
    login = subprocess.run(
        [*HEARTBEAT, "login", "--username", ADMIN, "--password-stdin"],
        input=ADMIN_PASSWORD + "\n",
        env=clean_environment(home, **settings),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert login.returncode == 0, login.stderr
    session_file = home / "state" / "heartbeat" / "session.jwt"
    stored = session_file.read_bytes()
    token = stored.split(b"\n")[0].decode()

    web = start_web(home, "--trusted-proxy", "127.0.0.1", env={**settings, "HEARTBEAT_TOKEN": token})
    try:
        async with aiohttp.ClientSession() as http:
            session = await open_session(http, web.url, headers={"X-Forwarded-For": "198.51.100.23"})
            try:
                await session.wait_for("log in", "Username", "Password", timeout=60)
                await asyncio.sleep(2.0)  # a stored session, were it used, would have replaced the form
                assert "log in" in session.text and "Accounts" not in session.text
                await session.type(f"{ADMIN}\t{ADMIN_PASSWORD}\r")
                await session.wait_for("Accounts", timeout=60)
            finally:
                await session.close()
    finally:
        web.stop()
    # The browser's login wrote nothing over the operator's session.
    assert session_file.read_bytes() == stored
    audits = [line for line in web.log_text.splitlines() if "audit event=login" in line]
    assert any("outcome=ok" in line and "client=198.51.100.23" in line for line in audits), audits
