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

import sys

from heartbeat_tui.config.accounts import AccountConfig, DiscoverySection
from heartbeat_tui.config.base import (
    APP_NAME,
    DEFAULT_CRITICAL_PERCENT,
    DEFAULT_HISTORY_MINUTES,
    DEFAULT_INTERVAL_SECONDS,
    DEFAULT_REGION,
    DEFAULT_THEME,
    DEFAULT_USERS_TABLE,
    DEFAULT_WARNING_PERCENT,
    MAX_WORKERS,
    AccountId,
    Region,
    default_config_path,
    user_config_dir,
    user_state_dir,
)
from heartbeat_tui.config.loading import (
    SECRET_KEYS,
    config_from_dict,
    env_settings,
    load_config,
    load_env,
    parse_config_data,
    read_config_file,
)
from heartbeat_tui.config.model import Config, EnvSettings, FileConfig
from heartbeat_tui.config.regions import check_partitions
from heartbeat_tui.config.sections import (
    AuthSection,
    AwsSection,
    ClusterSection,
    CollectorSection,
    RefreshSection,
    ThresholdsSection,
    UiSection,
)
from heartbeat_tui.config.server import ServerSection, ServeSection, TrustedProxies, WebSection, server_url_problem
from heartbeat_tui.config.tomlwriter import dump_toml
from heartbeat_tui.errors import ConfigError

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on 3.10 only
    import tomli as tomllib

__all__ = [
    "APP_NAME",
    "DEFAULT_CRITICAL_PERCENT",
    "DEFAULT_HISTORY_MINUTES",
    "DEFAULT_INTERVAL_SECONDS",
    "DEFAULT_REGION",
    "DEFAULT_THEME",
    "DEFAULT_USERS_TABLE",
    "DEFAULT_WARNING_PERCENT",
    "MAX_WORKERS",
    "SECRET_KEYS",
    "AccountConfig",
    "AccountId",
    "AuthSection",
    "AwsSection",
    "ClusterSection",
    "CollectorSection",
    "Config",
    "ConfigError",
    "DiscoverySection",
    "EnvSettings",
    "FileConfig",
    "RefreshSection",
    "Region",
    "ServeSection",
    "ServerSection",
    "ThresholdsSection",
    "TrustedProxies",
    "UiSection",
    "WebSection",
    "check_partitions",
    "config_from_dict",
    "default_config_path",
    "dump_toml",
    "env_settings",
    "load_config",
    "load_env",
    "parse_config_data",
    "read_config_file",
    "server_url_problem",
    "tomllib",
    "user_config_dir",
    "user_state_dir",
]
