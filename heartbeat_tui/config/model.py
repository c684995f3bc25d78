"""The resolved configuration: the file's shape (`FileConfig`), the environment's
(`EnvSettings`, where the secrets live) and `Config`, what every command is
handed; never read from globals."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from heartbeat_tui.config.accounts import AccountConfig, DiscoverySection
from heartbeat_tui.config.base import DEFAULT_REGION, DEFAULT_USERS_TABLE, _Section
from heartbeat_tui.config.sections import (
    AuthSection,
    AwsSection,
    ClusterSection,
    CollectorSection,
    RefreshSection,
    ThresholdsSection,
    UiSection,
)
from heartbeat_tui.config.server import ServerSection, ServeSection, WebSection
from heartbeat_tui.envfile import NO_DOTENV, DotEnv


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
