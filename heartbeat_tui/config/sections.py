"""The TOML file's simple sections: `[aws]`, `[refresh]`, `[collector]`,
`[thresholds]`, `[ui]`, `[auth]` and `[cluster]`, each checked as it is read
(the accounts, discovery and the server sections have modules of their own)."""

from __future__ import annotations

import os
import re
from typing import Any, Literal

from pydantic import Field, field_validator, model_validator

from heartbeat_tui.config.base import (
    DEFAULT_CRITICAL_PERCENT,
    DEFAULT_HISTORY_MINUTES,
    DEFAULT_INTERVAL_SECONDS,
    DEFAULT_THEME,
    DEFAULT_WARNING_PERCENT,
    MAX_WORKERS,
    Region,
    _Section,
)

_ENDPOINT = re.compile(r"^https?://[^\s/]+(/\S*)?$")
_BINDING_ID = re.compile(r"^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)+$")
_KEY_NAME = re.compile(r"^[^\s,]{1,32}$")  # "r", "R", "?", "f5", "ctrl+r", "question_mark"
MAX_KEYMAP_ENTRIES = 200
MAX_KEYS_PER_BINDING = 8


class AwsSection(_Section):
    region: Region | None = None
    endpoint_url: str | None = None
    profile: str | None = Field(default=None, min_length=1, max_length=128)
    connect_timeout_seconds: float = Field(default=5.0, gt=0, le=120)
    read_timeout_seconds: float = Field(default=15.0, gt=0, le=300)
    # Attempts in all, the first one included (1: no retry).
    max_attempts: int = Field(default=5, ge=1, le=20)

    @field_validator("endpoint_url")
    @classmethod
    def _endpoint(cls, value: str | None) -> str | None:
        if value is not None and not _ENDPOINT.match(value):
            raise ValueError(f"must be an http(s) URL such as 'http://127.0.0.1:5000' (got {value!r})")
        if value is not None and "@" in value.split("/")[2]:
            raise ValueError("must not contain a user name or password")
        return value.rstrip("/") if value else value


class RefreshSection(_Section):
    interval_seconds: int = Field(default=DEFAULT_INTERVAL_SECONDS, ge=5, le=3600)


class CollectorSection(_Section):
    history_minutes: int = Field(default=DEFAULT_HISTORY_MINUTES, ge=10, le=24 * 60)
    max_in_flight_per_account: int = Field(default=10, ge=1, le=100)
    events_per_service: int = Field(default=20, ge=0, le=100)
    # An account not polled within this time is reported as failed (with its last
    # good data) so it cannot hold back every other account's fresh data.
    account_deadline_seconds: float = Field(default=60.0, ge=5, le=900)
    # Worker processes the accounts are sharded across; "auto": a core each but one.
    workers: int | Literal["auto"] = "auto"

    @field_validator("workers", mode="before")
    @classmethod
    def _workers(cls, value: Any) -> Any:
        # One reason, not one per member of the union.
        if value != "auto" and (type(value) is not int or not 1 <= value <= MAX_WORKERS):
            shown = repr(value)[:40]
            raise ValueError(f'must be "auto" or a number of processes from 1 to {MAX_WORKERS} (got {shown})')
        return value

    @property
    def worker_count(self) -> int:
        """The processes to poll with: "auto" leaves a core to the dashboard
        and the embedded AWS (cores - 1, at least 1); 1 polls in-process."""

        if self.workers == "auto":
            return max(1, (os.cpu_count() or 1) - 1)
        return int(self.workers)


class ThresholdsSection(_Section):
    warning_percent: float = Field(default=DEFAULT_WARNING_PERCENT, ge=0, le=100)
    critical_percent: float = Field(default=DEFAULT_CRITICAL_PERCENT, ge=0, le=100)

    @model_validator(mode="after")
    def _ordered(self) -> ThresholdsSection:
        if self.warning_percent > self.critical_percent:
            raise ValueError("warning_percent must not be above critical_percent")
        return self


class UiSection(_Section):
    theme: str = Field(default=DEFAULT_THEME, min_length=1, max_length=64)
    # The operator's own keys: binding id -> keys, comma-separated ("app.refresh" = "r,f5").
    # The ids are checked against the dashboard's bindings when it starts.
    keymap: dict[str, str] = Field(default_factory=dict)

    @field_validator("keymap")
    @classmethod
    def _keymap(cls, value: dict[str, str]) -> dict[str, str]:
        if len(value) > MAX_KEYMAP_ENTRIES:
            raise ValueError(f"at most {MAX_KEYMAP_ENTRIES} bindings")
        for ident, keys in value.items():
            if not _BINDING_ID.match(ident):
                raise ValueError(f"{ident[:40]!r} is not a binding id (such as 'app.refresh')")
            parts = [key.strip() for key in keys.split(",")]
            if not 1 <= len(parts) <= MAX_KEYS_PER_BINDING or not all(_KEY_NAME.match(part) for part in parts):
                raise ValueError(
                    f"{ident}: {keys[:40]!r} is not a list of up to {MAX_KEYS_PER_BINDING} keys (such as 'r,f5')"
                )
        return value


class AuthSection(_Section):
    """Sessions, lockout and password hashing (the secrets stay in the environment)."""

    user_session_hours: float = Field(default=12.0, gt=0, le=24 * 90)
    monitor_session_hours: float = Field(default=30 * 24.0, gt=0, le=24 * 90)
    admin_session_hours: float = Field(default=12.0, gt=0, le=24 * 90)
    session_check_seconds: int = Field(default=300, ge=10, le=3600)
    # The longest one users-store call may take (retries included) before "user store unreachable".
    store_timeout_seconds: float = Field(default=10.0, gt=0, le=120)
    lockout_threshold: int = Field(default=5, ge=1, le=100)
    lockout_minutes: float = Field(default=15.0, gt=0, le=24 * 60)
    # PBKDF2-HMAC-SHA256; stored hashes below this are upgraded at the next login.
    pbkdf2_iterations: int = Field(default=600_000, ge=600_000, le=10_000_000)


_TABLE_NAME = re.compile(r"^[A-Za-z0-9_.-]{3,255}$")
_BUCKET_NAME = re.compile(r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")
_PREFIX = re.compile(r"^[A-Za-z0-9!_.*'()-]+(/[A-Za-z0-9!_.*'()-]+)*$")
_REPLICA_ID = re.compile(r"^[A-Za-z0-9_.:-]{1,128}$")


class ClusterSection(_Section):
    """`[cluster]`: several `heartbeat serve` replicas share the accounts through
    a DynamoDB lease table and an S3 bucket (heartbeat_tui/cluster). Absent: one
    process polls every account, as always."""

    lease_table: str | None = None
    bucket: str | None = None
    prefix: str = Field(default="heartbeat", max_length=200)
    # Default: "<host name>-<process id>" (heartbeat_tui/cluster/__init__.py).
    replica_id: str | None = None

    @field_validator("lease_table")
    @classmethod
    def _table(cls, value: str | None) -> str | None:
        if value is not None and not _TABLE_NAME.match(value):
            raise ValueError(f"must be a DynamoDB table name: 3-255 of A-Z a-z 0-9 _ . - (got {value[:60]!r})")
        return value

    @field_validator("bucket")
    @classmethod
    def _bucket(cls, value: str | None) -> str | None:
        if value is not None and (not _BUCKET_NAME.match(value) or ".." in value):
            raise ValueError(f"must be an S3 bucket name: 3-63 of a-z 0-9 . - (got {value[:70]!r})")
        return value

    @field_validator("prefix")
    @classmethod
    def _prefix(cls, value: str) -> str:
        if not _PREFIX.match(value):
            raise ValueError(f"must be a key prefix such as 'heartbeat' or 'teams/ops' (got {value[:60]!r})")
        return value

    @field_validator("replica_id")
    @classmethod
    def _replica(cls, value: str | None) -> str | None:
        if value is not None and not _REPLICA_ID.match(value):
            raise ValueError(f"must be 1-128 of A-Z a-z 0-9 _ . : - (got {value[:60]!r})")
        return value

    @model_validator(mode="after")
    def _complete(self) -> ClusterSection:
        if (self.lease_table is None) != (self.bucket is None):
            raise ValueError("lease_table and bucket go together: give both, or neither for one replica")
        if self.lease_table is None and (self.replica_id is not None or "prefix" in self.model_fields_set):
            raise ValueError("prefix and replica_id need lease_table and bucket")
        return self

    @property
    def enabled(self) -> bool:
        return self.lease_table is not None and self.bucket is not None
