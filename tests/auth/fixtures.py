"""Fixtures other test packages import to get a session for session-gated commands.

from tests.auth.fixtures import cli_session  # noqa: F401 - a fixture

@pytest.mark.usefixtures("cli_session")
def test_something_that_runs_heartbeat_snapshot(...): ...
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from heartbeat_tui.auth.service import AuthService, Session, open_auth
from heartbeat_tui.auth.session_file import save_token
from tests.support.auth import ADMIN, ADMIN_PASSWORD, FAST_ITERATIONS, auth_config, environment


@pytest.fixture
def cli_session(clean_aws: Any, monkeypatch: pytest.MonkeyPatch) -> Session:
    """An admin logged in for `heartbeat` child processes: JWT_SECRET, ENCRYPTION_KEY
    and a users table of its own in the environment, the token in the session file
    of the test's state folder (as `heartbeat login` leaves it)."""

    config = auth_config(clean_aws)
    for name, value in environment(clean_aws, config).items():
        if not name.startswith("AWS_"):
            monkeypatch.setenv(name, value)

    async def work() -> Session:
        auth: AuthService
        async with open_auth(config, iterations=FAST_ITERATIONS) as auth:
            await auth.store.ensure_tables()
            await auth.bootstrap_admin(ADMIN, ADMIN_PASSWORD)
            return await auth.login(ADMIN, ADMIN_PASSWORD)

    session = asyncio.run(work())
    save_token(session.token)
    return session
