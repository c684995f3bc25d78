"""Configurations and services for auth tests against the embedded AWS.

Each test gets its own users table (a uuid suffix), so tests stay independent
on the shared embedded AWS and under pytest-xdist. Hashing uses a low
iteration count (`FAST_ITERATIONS`) except in the tests that prove the real
parameters.
"""

from __future__ import annotations

import base64
import os
import uuid
from typing import Any

import boto3
from pydantic import SecretStr

from heartbeat_tui.auth.service import AuthService, Session
from heartbeat_tui.config import AuthSection, Config, EnvSettings
from tests.support.configs import make_config

FAST_ITERATIONS = 1_000
ADMIN = "root-admin"
ADMIN_PASSWORD = "correct horse battery"
PASSWORD = "a long enough password"


def new_fernet_key() -> str:
    return base64.urlsafe_b64encode(os.urandom(32)).decode()


def unique_table() -> str:
    return f"hb-users-{uuid.uuid4().hex[:12]}"


def auth_config(
    aws: Any,
    *,
    table: str | None = None,
    jwt_secret: str | None = None,
    encryption_key: str | None = None,
    auth: dict[str, Any] | None = None,
) -> Config:
    config = make_config(aws, **({"auth": auth} if auth else {}))
    env = EnvSettings(
        _env_file=None,  # type: ignore[call-arg]
        aws_access_key_id=config.env.aws_access_key_id,
        aws_secret_access_key=config.env.aws_secret_access_key,
        dynamodb_users_table=table or unique_table(),
        jwt_secret=SecretStr(jwt_secret or base64.urlsafe_b64encode(os.urandom(48)).decode()),
        encryption_key=SecretStr(encryption_key or new_fernet_key()),
    )
    return config.model_copy(update={"env": env})


def environment(aws: Any, config: Config) -> dict[str, str]:
    """Environment variables that give a subprocess the same configuration (with --config)."""

    env = dict(aws.credentials())
    env["DYNAMODB_USERS_TABLE"] = config.users_table
    assert config.env.jwt_secret is not None and config.env.encryption_key is not None
    env["JWT_SECRET"] = config.env.jwt_secret.get_secret_value()
    env["ENCRYPTION_KEY"] = config.env.encryption_key.get_secret_value()
    return env


async def admin_session(service: AuthService, username: str = ADMIN, password: str = ADMIN_PASSWORD) -> Session:
    if await service.store.get(username) is None:
        await service.bootstrap_admin(username, password)
    return await service.login(username, password)


def settings(**overrides: Any) -> AuthSection:
    return AuthSection(**overrides)


def dynamodb(aws: Any, config: Config) -> Any:
    """A boto3 DynamoDB client on the embedded AWS (base credentials, over HTTP):
    what the tables hold, read or changed as any other tool would, not through
    the store under test."""

    credentials = aws.credentials()
    return boto3.client(
        "dynamodb",
        region_name=config.region,
        endpoint_url=aws.endpoint_url,
        aws_access_key_id=credentials["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=credentials["AWS_SECRET_ACCESS_KEY"],
        aws_session_token=credentials.get("AWS_SESSION_TOKEN"),
    )
