"""Configuration: a TOML file for the fleet, the environment (and `.env`) for secrets.

Precedence, highest first:

* the TOML file: `--config PATH`, else `HEARTBEAT_CONFIG`, else
  `<user config dir>/heartbeat/config.toml` (a missing default file is fine);
* environment variables, then a `.env` file in the working directory, with the
  names operators already use (`AWS_REGION`, `DYNAMODB_USERS_TABLE`,
  `ENCRYPTION_KEY`, `JWT_SECRET`, `JWT_ALGORITHM`, the AWS credential variables).
  `.env` is read only when `heartbeat_tui.envfile` trusts it (the user's own,
  writable by them alone), and the TOML file only from a file and folder no
  other user can change (`heartbeat_tui.localfiles`).

Secrets are never read from the TOML file. Every problem becomes a
`ConfigError` whose message names the file, the key and the reason.
"""

from __future__ import annotations

import json
import os
import re
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any, Literal

import platformdirs
from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic_settings import BaseSettings, SettingsConfigDict

from heartbeat_tui.envfile import DOTENV, NO_DOTENV, DotEnv, read_dotenv
from heartbeat_tui.errors import ConfigError
from heartbeat_tui.localfiles import read_settings_file

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on 3.10 only
    import tomli as tomllib

APP_NAME = "heartbeat"
DEFAULT_USERS_TABLE = "ecs-heartbeat-users"
DEFAULT_REGION = "us-east-1"
# The defaults other modules share (the dashboard's own arguments, the cost
# model, the view's thresholds): one home, here, next to the sections using them.
DEFAULT_INTERVAL_SECONDS = 30
DEFAULT_HISTORY_MINUTES = 180
DEFAULT_WARNING_PERCENT = 70.0
DEFAULT_CRITICAL_PERCENT = 90.0
DEFAULT_THEME = "heartbeat-dark"
MAX_WORKERS = 64
_SECRET_VARIABLES = {
    "encryption_key": "ENCRYPTION_KEY",
    "jwt_secret": "JWT_SECRET",
    "aws_secret_access_key": "AWS_SECRET_ACCESS_KEY",
    "secret_access_key": "AWS_SECRET_ACCESS_KEY",
    "aws_session_token": "AWS_SESSION_TOKEN",
    "session_token": "AWS_SESSION_TOKEN",
}
SECRET_KEYS = frozenset(
    {
        "encryption_key",
        "jwt_secret",
        "aws_secret_access_key",
        "aws_session_token",
        "secret_access_key",
        "session_token",
        "password",
    }
)

_ACCOUNT_ID = re.compile(r"^\d{12}$")
_REGION = re.compile(r"^[a-z]{2}(-gov|-iso[a-z]?)?-[a-z]+-\d{1,2}$")
_ROLE_ARN = re.compile(r"^arn:aws(-[a-z]+)*:iam::(\d{12}):role/[\w+=,.@/-]{1,512}$")
_EXTERNAL_ID = re.compile(r"^[\w+=,.@:/-]{2,1224}$")
_ROLE_NAME = re.compile(r"^[\w+=,.@-]{1,64}$", re.ASCII)
# A profile name as the AWS config files spell it in `[profile NAME]` (no brackets, no spaces).
_PROFILE = re.compile(r"^[\w+=,.@:/-]{1,128}$", re.ASCII)
_GLOB = re.compile(r"^[^\x00-\x1f\x7f]{1,256}$")
_ENDPOINT = re.compile(r"^https?://[^\s/]+(/\S*)?$")
_BINDING_ID = re.compile(r"^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)+$")
_KEY_NAME = re.compile(r"^[^\s,]{1,32}$")  # "r", "R", "?", "f5", "ctrl+r", "question_mark"
MAX_KEYMAP_ENTRIES = 200
MAX_KEYS_PER_BINDING = 8


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


def server_url_problem(url: str, insecure_http: bool = False) -> str | None:
    """Why `url` cannot be a HeartBeat server's address (None: it can).

    Tokens and passwords travel to it, so plain http is for loopback only
    (or behind a TLS-terminating proxy, said explicitly with `insecure_http`)."""

    from ipaddress import ip_address
    from urllib.parse import urlsplit

    try:
        parts = urlsplit(url)
        host = parts.hostname or ""
        parts.port  # noqa: B018 - a port that is not a number raises here
    except ValueError as exc:
        return f"is not a URL ({exc})"
    if not url.isascii():
        return "must be ASCII (an international host name in its xn-- form)"
    if parts.scheme not in ("http", "https") or not host or any(ch.isspace() for ch in url):
        return f"must be an http(s) URL such as 'https://heartbeat.example.com' (got {url!r})"
    if parts.username is not None or parts.password is not None:
        return "must not contain a user name or password"
    if parts.query or parts.fragment:
        return "must not have a query or a fragment"
    if parts.scheme == "http" and not insecure_http:
        try:
            loopback = ip_address(host).is_loopback
        except ValueError:
            loopback = host == "localhost"
        if not loopback:
            return (
                f"{url!r} is plain http to a host that is not this machine: use https"
                " (or set [server].insecure_http = true behind a TLS-terminating proxy)"
            )
    return None


class ServerSection(_Section):
    """A shared `heartbeat serve` to use instead of AWS and DynamoDB (`--server`, `HEARTBEAT_SERVER`)."""

    insecure_http: bool = False  # declared first: the url's check reads it
    url: str | None = None

    @field_validator("url")
    @classmethod
    def _url(cls, value: str | None, info: ValidationInfo) -> str | None:
        if value is not None:
            problem = server_url_problem(value, bool(info.data.get("insecure_http")))
            if problem:
                raise ValueError(problem)
            return value.rstrip("/")
        return value


def _trusted_proxies(value: tuple[str, ...]) -> tuple[str, ...]:
    """Each entry an address or a network (CIDR); checked once, here."""

    from ipaddress import ip_network

    for entry in value:
        try:
            ip_network(entry, strict=False)
        except ValueError:
            raise ValueError(f"{entry[:60]!r} is not an IP address or network (such as 10.0.0.0/8)") from None
    return value


TrustedProxies = Annotated[tuple[str, ...], AfterValidator(_trusted_proxies)]


class ServeSection(_Section):
    """`heartbeat serve`: the proxies whose `X-Forwarded-For` names the client (the audit, the access log)."""

    trusted_proxies: TrustedProxies = ()

    @field_validator("trusted_proxies", mode="before")
    @classmethod
    def _as_tuple(cls, value: Any) -> Any:
        return tuple(value) if isinstance(value, list) else value


class WebSection(_Section):
    """`heartbeat web`: the browser front (its flags override these)."""

    listen: str = "127.0.0.1:8788"
    public_url: str | None = None
    max_sessions: int = Field(default=20, ge=1, le=1000)
    trusted_proxies: TrustedProxies = ()

    @field_validator("trusted_proxies", mode="before")
    @classmethod
    def _as_tuple(cls, value: Any) -> Any:
        return tuple(value) if isinstance(value, list) else value


class AccountConfig(_Section):
    id: AccountId
    role_arn: str | None = None
    # Instead of role_arn: a profile of the AWS config files (SSO, credential_process,
    # static keys, a role chain with source_profile), resolved by botocore itself.
    profile: str | None = None
    external_id: str | None = None
    regions: tuple[Region, ...] | None = None
    alias: str | None = Field(default=None, min_length=1, max_length=63)

    @field_validator("regions", mode="before")
    @classmethod
    def _regions_list(cls, value: Any) -> Any:
        # TOML arrays arrive as lists; strict mode wants the tuple spelled out.
        return tuple(value) if isinstance(value, list) else value

    @field_validator("regions")
    @classmethod
    def _regions_non_empty(cls, value: tuple[str, ...] | None) -> tuple[str, ...] | None:
        if value is not None:
            if not value:
                raise ValueError("must list at least one region (or be omitted)")
            if len(set(value)) != len(value):
                raise ValueError("lists a region twice")
        return value

    @field_validator("role_arn")
    @classmethod
    def _role_arn(cls, value: str | None) -> str | None:
        if value is not None and not _ROLE_ARN.match(value):
            raise ValueError(
                f"must be an IAM role ARN such as 'arn:aws:iam::210987654321:role/HeartbeatReader' (got {value!r})"
            )
        return value

    @field_validator("external_id")
    @classmethod
    def _external_id(cls, value: str | None) -> str | None:
        if value is not None and not _EXTERNAL_ID.match(value):
            raise ValueError("must be 2-1224 characters of letters, digits and +=,.@:/-")
        return value

    @field_validator("profile")
    @classmethod
    def _profile(cls, value: str | None) -> str | None:
        if value is not None and not _PROFILE.match(value):
            raise ValueError(f"must be an AWS profile name such as 'payments-prod' (got {value[:40]!r})")
        return value

    @model_validator(mode="after")
    def _consistent(self) -> AccountConfig:
        if self.role_arn is not None and self.profile is not None:
            raise ValueError("set role_arn or profile, not both")
        if self.role_arn is not None:
            match = _ROLE_ARN.match(self.role_arn)
            assert match is not None  # checked by the field validator
            if match.group(2) != self.id:
                raise ValueError(f"role_arn is in account {match.group(2)}, not in account {self.id}")
        if self.external_id is not None and self.role_arn is None:
            raise ValueError("external_id needs a role_arn")
        return self


def _globs(value: Any) -> Any:
    return tuple(value) if isinstance(value, list) else value


class DiscoverySection(_Section):
    """`[discovery]`: the accounts of an AWS Organization, listed by HeartBeat.

    Each ACTIVE account that passes the filters is read through `role_name` in
    it (and `external_id`), in `regions`, with its account name as alias. The
    filters are globs: an account is kept when it matches one include of each
    kind given (names, OU paths, tags) and no exclude. `role_arn` reaches the
    management or delegated-administrator account; without it the base
    credentials list the organization."""

    organizations: bool = False
    role_name: str | None = None
    external_id: str | None = None
    role_arn: str | None = None
    regions: tuple[Region, ...] | None = None
    refresh_minutes: int = Field(default=60, ge=1, le=7 * 24 * 60)
    include_names: tuple[str, ...] = ()
    exclude_names: tuple[str, ...] = ()
    # OU paths from the root, by name: "Workloads/Production" (a pattern also matches the OUs below).
    include_ous: tuple[str, ...] = ()
    exclude_ous: tuple[str, ...] = ()
    # Tag key = value glob: { env = "prod" }.
    include_tags: dict[str, str] = Field(default_factory=dict)
    exclude_tags: dict[str, str] = Field(default_factory=dict)

    _as_tuples = field_validator(
        "regions", "include_names", "exclude_names", "include_ous", "exclude_ous", mode="before"
    )(_globs)

    @field_validator("include_names", "exclude_names", "include_ous", "exclude_ous")
    @classmethod
    def _patterns(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for pattern in value:
            if not _GLOB.match(pattern):
                raise ValueError(f"{pattern[:40]!r} is not a pattern (1-256 printable characters)")
        return value

    @field_validator("include_tags", "exclude_tags")
    @classmethod
    def _tags(cls, value: dict[str, str]) -> dict[str, str]:
        for key, pattern in value.items():
            if not _GLOB.match(key) or not _GLOB.match(pattern):
                raise ValueError(f"{key[:40]!r} = {pattern[:40]!r} is not a tag key and value pattern")
        return value

    @field_validator("regions")
    @classmethod
    def _regions_non_empty(cls, value: tuple[str, ...] | None) -> tuple[str, ...] | None:
        return AccountConfig._regions_non_empty(value)

    @field_validator("role_name")
    @classmethod
    def _role_name(cls, value: str | None) -> str | None:
        if value is not None and not _ROLE_NAME.match(value):
            raise ValueError(f"must be an IAM role name such as 'HeartbeatReader' (got {value[:40]!r})")
        return value

    @field_validator("external_id")
    @classmethod
    def _external_id(cls, value: str | None) -> str | None:
        return AccountConfig._external_id(value)

    @field_validator("role_arn")
    @classmethod
    def _role_arn(cls, value: str | None) -> str | None:
        return AccountConfig._role_arn(value)

    @model_validator(mode="after")
    def _needs_role_name(self) -> DiscoverySection:
        if self.organizations and self.role_name is None:
            raise ValueError("organizations = true needs role_name (the role HeartBeat assumes in each account)")
        return self

    @property
    def management_account(self) -> AccountConfig | None:
        """The account `role_arn` reaches to list the organization (None: the base credentials')."""

        if self.role_arn is None:
            return None
        match = _ROLE_ARN.match(self.role_arn)
        assert match is not None  # checked by the field validator
        return AccountConfig(id=match.group(2), role_arn=self.role_arn)


class FileConfig(_Section):
    """The TOML file's shape. Unknown keys are errors, not silently ignored."""

    aws: AwsSection = AwsSection()
    refresh: RefreshSection = RefreshSection()
    collector: CollectorSection = CollectorSection()
    thresholds: ThresholdsSection = ThresholdsSection()
    ui: UiSection = UiSection()
    server: ServerSection = ServerSection()
    serve: ServeSection = ServeSection()
    web: WebSection = WebSection()
    auth: AuthSection = AuthSection()
    discovery: DiscoverySection = DiscoverySection()
    cluster: ClusterSection = ClusterSection()
    accounts: tuple[AccountConfig, ...] = ()

    @field_validator("accounts", mode="before")
    @classmethod
    def _accounts_list(cls, value: Any) -> Any:
        return tuple(value) if isinstance(value, list) else value

    @field_validator("accounts")
    @classmethod
    def _unique_accounts(cls, value: tuple[AccountConfig, ...]) -> tuple[AccountConfig, ...]:
        seen: set[str] = set()
        for account in value:
            if account.id in seen:
                raise ValueError(f"account {account.id} is listed twice")
            seen.add(account.id)
        return value


class EnvSettings(BaseSettings):
    """Values from the environment and `.env`; secrets live only here.

    It reads the environment only: `.env` comes in through `load_env`, once
    `read_dotenv` trusts it."""

    model_config = SettingsConfigDict(env_file=None, extra="ignore", frozen=True)

    aws_region: str | None = None
    aws_default_region: str | None = None
    aws_profile: str | None = None
    aws_access_key_id: str | None = None
    aws_secret_access_key: SecretStr | None = None
    aws_session_token: SecretStr | None = None
    dynamodb_users_table: str = DEFAULT_USERS_TABLE
    encryption_key: SecretStr | None = None
    jwt_secret: SecretStr | None = None
    jwt_algorithm: str = "HS256"
    heartbeat_legacy_encryption_key: SecretStr | None = None  # the original HeartBeat's ENCRYPTION_KEY
    heartbeat_config: str | None = None
    heartbeat_server: str | None = None


class Config(BaseModel):
    """Everything a command needs, resolved. Passed in; never read from globals."""

    model_config = ConfigDict(frozen=True, arbitrary_types_allowed=True)

    source: str  # the file it came from, or "defaults"
    file: FileConfig
    env: EnvSettings
    dotenv: DotEnv = NO_DOTENV  # which .env was read, or why not

    @property
    def region(self) -> str:
        return self.file.aws.region or self.env.aws_region or self.env.aws_default_region or DEFAULT_REGION

    @property
    def endpoint_url(self) -> str | None:
        return self.file.aws.endpoint_url

    @property
    def profile(self) -> str | None:
        return self.file.aws.profile or self.env.aws_profile

    @property
    def accounts(self) -> tuple[AccountConfig, ...]:
        """The `[[accounts]]` of the file (discovered ones come from `collector.discovery`)."""
        return self.file.accounts

    @property
    def discovery(self) -> DiscoverySection | None:
        """`[discovery]` when it is on."""
        return self.file.discovery if self.file.discovery.organizations else None

    def regions_for(self, account: AccountConfig) -> tuple[str, ...]:
        return account.regions or (self.region,)

    @property
    def users_table(self) -> str:
        return self.env.dynamodb_users_table


def _format_location(loc: tuple[int | str, ...]) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out


def _clean_location(loc: tuple[int | str, ...]) -> tuple[int | str, ...]:
    # pydantic adds the validator's name for Annotated/union members
    # ("function-after[...]", "tuple[...]"); the operator needs only the key path.
    return tuple(p for p in loc if isinstance(p, int) or "[" not in p)


def _describe(error: Mapping[str, Any]) -> str:
    kind = error.get("type", "")
    inp = error.get("input")
    if kind == "extra_forbidden":
        return "unknown key"
    if kind == "missing":
        return "is required"
    if kind in {"int_type", "int_parsing"}:
        return f"must be an integer (got {inp!r})"
    if kind in {"float_type", "float_parsing"}:
        return f"must be a number (got {inp!r})"
    if kind in {"string_type"}:
        return f"must be a string (got {inp!r})"
    if kind in {"bool_type", "bool_parsing"}:
        return f"must be true or false (got {inp!r})"
    if kind in {"tuple_type", "list_type"}:
        return f"must be a list (got {inp!r})"
    if kind in {"model_type", "model_attributes_type", "dict_type"}:
        return f"must be a table (got {inp!r})"
    message = str(error.get("msg", "is invalid"))
    message = message.removeprefix("Value error, ").removeprefix("Assertion failed, ")
    if kind in {"greater_than_equal", "less_than_equal", "greater_than", "less_than"}:
        return f"{message.lower()} (got {inp!r})"
    return message


def _one_line(source: str, exc: ValidationError) -> ConfigError:
    """Every problem on the one line, the first as the error's key and reason."""

    problems = []
    for error in exc.errors():
        key = _format_location(_clean_location(tuple(error.get("loc", ())))) or None
        problems.append((key, _describe(error)))
    key, reason = problems[0]
    for other_key, other_reason in problems[1:]:
        reason += f"; {other_key}: {other_reason}" if other_key else f"; {other_reason}"
    return ConfigError(source, key, reason)


def _find_secret_keys(data: Mapping[str, Any], prefix: str = "") -> str | None:
    for key, value in data.items():
        path = f"{prefix}.{key}" if prefix else key
        if key.lower() in SECRET_KEYS:
            return path
        if isinstance(value, Mapping):
            found = _find_secret_keys(value, path)
            if found:
                return found
        if isinstance(value, list):
            for i, item in enumerate(value):
                if isinstance(item, Mapping):
                    found = _find_secret_keys(item, f"{path}[{i}]")
                    if found:
                        return found
    return None


def parse_config_data(data: Mapping[str, Any], source: str) -> FileConfig:
    secret = _find_secret_keys(data)
    if secret:
        key = secret.rsplit(".", 1)[-1].split("[")[0].lower()
        if key == "password":
            reason = "passwords are never read from files; enter them at the prompt or with --password-stdin"
        else:
            variable = _SECRET_VARIABLES.get(key, key.upper())
            reason = f"secrets are never read from the config file; set {variable} in the environment or .env"
        raise ConfigError(source, secret, reason)
    try:
        return FileConfig.model_validate(dict(data))
    except ValidationError as exc:
        raise _one_line(source, exc) from None


def read_config_file(path: Path) -> FileConfig:
    source = str(path)
    try:
        raw = read_settings_file(path, "config file")
    except FileNotFoundError:
        raise ConfigError(source, None, "no such file") from None
    except IsADirectoryError:
        raise ConfigError(source, None, "is a directory, not a file") from None
    except PermissionError:
        raise ConfigError(source, None, "permission denied") from None
    except OSError as exc:
        raise ConfigError(source, None, f"cannot be read ({exc.strerror or exc})") from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ConfigError(source, None, f"is not UTF-8 text (byte {exc.start})") from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(source, None, f"is not valid TOML: {exc}") from None
    return parse_config_data(data, source)


def load_env(env_file: str | Path | None = DOTENV) -> EnvSettings:
    return env_settings(read_dotenv(env_file))


def env_settings(dotenv: DotEnv) -> EnvSettings:
    """The environment, then what a trusted `.env` sets that the environment does not."""

    fields = EnvSettings.model_fields
    from_file: dict[str, str] = {}
    try:
        environment = EnvSettings()
        from_file = {
            key.lower(): value
            for key, value in dotenv.values.items()
            if key.lower() in fields and key.lower() not in environment.model_fields_set
        }
        return EnvSettings(**from_file) if from_file else environment  # type: ignore[arg-type]
    except ValidationError as exc:
        first = exc.errors()[0].get("loc", ("",))[0]
        raise _one_line(dotenv.name if first in from_file else "environment", exc) from None


def load_config(
    path: str | Path | None = None,
    *,
    env_file: str | Path | None = ".env",
    environ: Mapping[str, str] | None = None,
    aws: bool = True,
) -> Config:
    """Load the configuration; `path` is `--config` (None: `HEARTBEAT_CONFIG`, then the default).

    `aws=False`: the regions and role ARNs are not checked against botocore's
    partition data (a browser session of `heartbeat web --server` polls nothing
    itself, and `heartbeat web` checked the same file when it started)."""

    dotenv = read_dotenv(env_file)
    env = env_settings(dotenv)
    environ = os.environ if environ is None else environ
    explicit = path if path is not None else (environ.get("HEARTBEAT_CONFIG") or env.heartbeat_config)
    if explicit:
        file_path = Path(explicit).expanduser()
        file = read_config_file(file_path)
        source = str(file_path)
    else:
        file_path = default_config_path()
        if file_path.exists():
            file = read_config_file(file_path)
            source = str(file_path)
        else:
            file = FileConfig()
            source = "defaults"
    config = Config(source=source, file=file, env=env, dotenv=dotenv)
    try:
        _region(config.region)
    except ValueError as exc:
        variable = "AWS_REGION" if env.aws_region else "AWS_DEFAULT_REGION"
        raise ConfigError("environment", variable, str(exc)) from None
    if aws:
        check_partitions(config)
    return config


def config_from_dict(data: Mapping[str, Any], *, env: EnvSettings | None = None, source: str = "<dict>") -> Config:
    """Build a Config from a TOML-shaped dict (the embedded AWS and tests use this)."""

    config = Config(source=source, file=parse_config_data(data, source), env=env or EnvSettings(_env_file=None))
    check_partitions(config)
    return config


def _default_region_origin(config: Config) -> tuple[str, str | None, str]:
    """Where the default region came from: (source, key, words for a message)."""

    if config.file.aws.region:
        return config.source, "aws.region", "[aws].region"
    for variable in ("AWS_REGION", "AWS_DEFAULT_REGION"):
        if getattr(config.env, variable.lower()):
            return "environment", variable, variable
    return config.source, None, "HeartBeat's default: set [aws].region"


def check_partitions(config: Config) -> None:
    """Every region and role ARN is in the partition of the default region.

    The base credentials live in one partition (the default region's: STS there
    assumes every role), and nothing of another partition answers them. A
    region no partition has, or a role ARN naming a partition AWS does not have
    (`arn:aws-evil-partition:...`), would otherwise surface as network errors,
    or send the role's requests somewhere unexpected. Regions are checked
    against botocore's partition data (`heartbeat_tui.partitions`).
    """

    from heartbeat_tui.partitions import known_partitions, partition_of_arn, partition_of_region, partitions

    def unknown(region: str) -> str:
        return f"no AWS partition has a region {region!r} (botocore's endpoint data; a newer botocore may know it)"

    origin_source, origin_key, origin = _default_region_origin(config)
    home = partition_of_region(config.region)
    if home is None:
        raise ConfigError(origin_source, origin_key or "aws.region", unknown(config.region))
    fleet = f"the partition of the default region {config.region} ({origin})"
    for i, account in enumerate(config.accounts):
        if account.role_arn is not None:
            partition = partition_of_arn(account.role_arn)
            if partition not in partitions():
                raise ConfigError(
                    config.source,
                    f"accounts[{i}].role_arn",
                    f"names partition {partition!r}, which AWS does not have (known: {known_partitions()})",
                )
            if partition != home:
                raise ConfigError(
                    config.source,
                    f"accounts[{i}].role_arn",
                    f"is in partition {partition}, not {home} ({fleet}): the base credentials cannot assume it",
                )
        _check_regions(config, f"accounts[{i}]", account.regions or (), home, fleet)
    discovery = config.file.discovery
    _check_regions(config, "discovery", discovery.regions or (), home, fleet)
    if discovery.role_arn is not None and partition_of_arn(discovery.role_arn) != home:
        raise ConfigError(
            config.source,
            "discovery.role_arn",
            f"is in partition {partition_of_arn(discovery.role_arn)}, not {home} ({fleet})",
        )


def _check_regions(config: Config, where: str, regions: tuple[str, ...], home: str, fleet: str) -> None:
    from heartbeat_tui.partitions import partition_of_region

    for j, region in enumerate(regions):
        region_partition = partition_of_region(region)
        if region_partition is None:
            raise ConfigError(
                config.source,
                f"{where}.regions[{j}]",
                f"no AWS partition has a region {region!r} (botocore's endpoint data; a newer botocore may know it)",
            )
        if region_partition != home:
            raise ConfigError(
                config.source,
                f"{where}.regions[{j}]",
                f"{region} is in partition {region_partition}, not {home} ({fleet})",
            )


def dump_toml(data: Mapping[str, Any]) -> str:
    """Write a TOML-shaped dict (tables, arrays of tables, scalars, lists of scalars)."""

    def scalar(value: Any) -> str:
        if isinstance(value, bool):
            return "true" if value else "false"
        if isinstance(value, (int, float)):
            return repr(value)
        if isinstance(value, str):
            # A JSON string is a valid TOML basic string (same escapes).
            return json.dumps(value, ensure_ascii=False).replace("\x7f", "\\u007f")
        if isinstance(value, (list, tuple)):
            return "[" + ", ".join(scalar(v) for v in value) + "]"
        raise TypeError(f"cannot write {type(value).__name__} to TOML")

    def bare(key: str) -> str:
        return key if re.fullmatch(r"[A-Za-z0-9_-]+", key) else scalar(key)

    lines: list[str] = []
    tables: list[tuple[str, Mapping[str, Any]]] = []
    arrays: list[tuple[str, list[Mapping[str, Any]]]] = []
    for key, value in data.items():
        if isinstance(value, Mapping):
            tables.append((key, value))
        elif isinstance(value, (list, tuple)) and value and all(isinstance(v, Mapping) for v in value):
            arrays.append((key, list(value)))
        elif value is not None:
            lines.append(f"{bare(key)} = {scalar(value)}")
    for key, table in tables:
        lines.append(f"\n[{bare(key)}]")
        lines.extend(f"{bare(k)} = {scalar(v)}" for k, v in table.items() if v is not None)
    for key, items in arrays:
        for item in items:
            lines.append(f"\n[[{bare(key)}]]")
            lines.extend(f"{bare(k)} = {scalar(v)}" for k, v in item.items() if v is not None)
    return "\n".join(lines).lstrip("\n") + "\n"


__all__ = [
    "AccountConfig",
    "Config",
    "ConfigError",
    "DiscoverySection",
    "EnvSettings",
    "FileConfig",
    "check_partitions",
    "config_from_dict",
    "default_config_path",
    "dump_toml",
    "load_config",
    "read_config_file",
    "server_url_problem",
    "user_config_dir",
    "user_state_dir",
]
