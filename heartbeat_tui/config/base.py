"""What every part of the configuration shares: the defaults other modules use,
where the user's files live, the account id and region checks, and the base of
every section (unknown keys are errors, values are strict and frozen)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated

import platformdirs
from pydantic import AfterValidator, BaseModel, ConfigDict

APP_NAME = "heartbeat"
DEFAULT_USERS_TABLE = "ecs-heartbeat-users"
DEFAULT_REGION = "us-east-1"
# The defaults other modules share (the dashboard's own arguments, the cost
# model, the view's thresholds): one home, here, beside what the sections share.
DEFAULT_INTERVAL_SECONDS = 30
DEFAULT_HISTORY_MINUTES = 180
DEFAULT_WARNING_PERCENT = 70.0
DEFAULT_CRITICAL_PERCENT = 90.0
DEFAULT_THEME = "heartbeat-dark"
MAX_WORKERS = 64

_ACCOUNT_ID = re.compile(r"^\d{12}$")
_REGION = re.compile(r"^[a-z]{2}(-gov|-iso[a-z]?)?-[a-z]+-\d{1,2}$")


def user_config_dir() -> Path:
    return Path(platformdirs.user_config_dir(APP_NAME, appauthor=False))


def user_state_dir() -> Path:
    return Path(platformdirs.user_state_dir(APP_NAME, appauthor=False))


def default_config_path() -> Path:
    return user_config_dir() / "config.toml"


def _account_id(value: str) -> str:
    if not _ACCOUNT_ID.match(value):
        raise ValueError(f"must be a 12-digit AWS account id (got {value!r})")
    return value


def _region(value: str) -> str:
    if not _REGION.match(value):
        raise ValueError(f"is not an AWS region name such as 'us-east-1' (got {value!r})")
    return value


AccountId = Annotated[str, AfterValidator(_account_id)]
Region = Annotated[str, AfterValidator(_region)]


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)
