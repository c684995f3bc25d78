"""Reading the configuration: the file (trusted, UTF-8 TOML, no secrets in it),
the environment and a trusted `.env`, each problem one `ConfigError` line that
names the file, the key and the reason."""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from heartbeat_tui.config.base import _region, default_config_path
from heartbeat_tui.config.model import Config, EnvSettings, FileConfig
from heartbeat_tui.config.regions import check_partitions
from heartbeat_tui.envfile import DOTENV, DotEnv, read_dotenv
from heartbeat_tui.errors import ConfigError
from heartbeat_tui.localfiles import read_settings_file

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on 3.10 only
    import tomli as tomllib

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
