from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest

from heartbeat_tui.auth.service import AuthService, Session, open_auth
from heartbeat_tui.config import Config

from .helpers import FAST_ITERATIONS, admin_session, auth_config


@pytest.fixture
def config(fleet_aws: Any) -> Config:
    return auth_config(fleet_aws)


@pytest.fixture
async def service(config: Config) -> AsyncIterator[AuthService]:
    async with open_auth(config, iterations=FAST_ITERATIONS) as auth:
        await auth.store.ensure_tables()
        yield auth


@pytest.fixture
async def admin(service: AuthService) -> Session:
    return await admin_session(service)
