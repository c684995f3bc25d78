from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest

from heartbeat_tui.auth.service import AuthService, Session, open_auth
from heartbeat_tui.config import Config
from tests.support.auth import FAST_ITERATIONS, admin_session, auth_config, dynamodb


@pytest.fixture
def config(fleet_aws: Any) -> Config:
    return auth_config(fleet_aws)


@pytest.fixture
def tables(fleet_aws: Any, config: Config) -> Any:
    """The embedded AWS's DynamoDB, as boto3 sees it over HTTP (see `dynamodb`)."""
    return dynamodb(fleet_aws, config)


@pytest.fixture
async def service(config: Config) -> AsyncIterator[AuthService]:
    async with open_auth(config, iterations=FAST_ITERATIONS) as auth:
        await auth.store.ensure_tables()
        yield auth


@pytest.fixture
async def admin(service: AuthService) -> Session:
    return await admin_session(service)
