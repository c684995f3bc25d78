"""The users store (DynamoDB on the embedded AWS) made unreachable, and an auth
configuration that gives up on it quickly."""

from __future__ import annotations

from typing import Any

from heartbeat_tui.config import Config
from tests.support.auth import auth_config
from tests.support.configs import HUB

STORE_SECONDS = 2.0  # [auth].store_timeout_seconds in these tests
DOWN = {"kind": "error", "code": "ServiceUnavailable"}


def store_down(aws: Any, fault: dict[str, Any], operation: str = "*") -> None:
    aws.add_fault(account=HUB, service="dynamodb", operation=operation, **fault)


def fast_config(aws: Any) -> Config:
    """Auth on the embedded AWS, with a store deadline and few retries: failures are quick."""

    config = auth_config(aws, auth={"store_timeout_seconds": STORE_SECONDS})
    file = config.file.model_copy(update={"aws": config.file.aws.model_copy(update={"max_attempts": 2})})
    return config.model_copy(update={"file": file})
