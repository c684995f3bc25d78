"""Configuration: the shape, the precedence and the one-line errors (exit 2)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from heartbeat_tui.config import (
    DEFAULT_USERS_TABLE,
    ConfigError,
    default_config_path,
    dump_toml,
    load_config,
)

GOOD = """
[aws]
region = "us-west-2"
endpoint_url = "http://127.0.0.1:5000/"
profile = "ops"

[refresh]
interval_seconds = 45

[[accounts]]
id = "210987654321"
role_arn = "arn:aws:iam::210987654321:role/HeartbeatReader"
external_id = "optional-id"
regions = ["us-east-1", "eu-west-1"]
alias = "payments-prod"

[[accounts]]
id = "123456789012"
"""


def write(tmp_path: Path, text: str, name: str = "config.toml") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def test_full_example_loads(tmp_path: Path) -> None:
    config = load_config(write(tmp_path, GOOD))
    assert config.region == "us-west-2"
    assert config.endpoint_url == "http://127.0.0.1:5000"
    assert config.profile == "ops"
    assert config.file.refresh.interval_seconds == 45
    first, second = config.accounts
    assert first.role_arn == "arn:aws:iam::210987654321:role/HeartbeatReader"
    assert config.regions_for(first) == ("us-east-1", "eu-west-1")
    assert config.regions_for(second) == ("us-west-2",)  # omitted: [aws].region
    assert second.role_arn is None and second.alias is None
    assert config.users_table == DEFAULT_USERS_TABLE


def test_no_file_means_defaults(tmp_path: Path) -> None:
    assert not default_config_path().exists()
    config = load_config()
    assert config.source == "defaults"
    assert config.accounts == ()
    assert config.file.refresh.interval_seconds == 30
    assert config.region == "us-east-1"


def test_default_path_is_in_user_config_dir(isolated_environment: Path) -> None:
    assert default_config_path() == isolated_environment / "config" / "heartbeat" / "config.toml"
    default_config_path().parent.mkdir(parents=True)
    default_config_path().write_text('[aws]\nregion = "eu-central-1"\n')
    assert load_config().region == "eu-central-1"


def test_heartbeat_config_variable_and_flag_precedence(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from_env = write(tmp_path, '[aws]\nregion = "eu-west-1"\n', "env.toml")
    from_flag = write(tmp_path, '[aws]\nregion = "ap-south-1"\n', "flag.toml")
    monkeypatch.setenv("HEARTBEAT_CONFIG", str(from_env))
    assert load_config().region == "eu-west-1"
    assert load_config(from_flag).region == "ap-south-1"


def test_environment_and_dotenv(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    Path(".env").write_text(
        "AWS_REGION=eu-north-1\nDYNAMODB_USERS_TABLE=team-users\nJWT_SECRET=from-dotenv\nJWT_ALGORITHM=HS512\n"
    )
    monkeypatch.setenv("JWT_SECRET", "from-environment")
    config = load_config()
    assert config.region == "eu-north-1"  # no [aws].region: AWS_REGION
    assert config.users_table == "team-users"
    assert config.env.jwt_algorithm == "HS512"
    # The real environment wins over .env.
    assert config.env.jwt_secret is not None
    assert config.env.jwt_secret.get_secret_value() == "from-environment"
    # The TOML region wins over AWS_REGION.
    assert load_config(write(tmp_path, '[aws]\nregion = "sa-east-1"\n')).region == "sa-east-1"


def test_secrets_are_never_shown_in_reprs(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("JWT_SECRET", "s3cret-value-that-must-not-leak-0123456789")
    config = load_config()
    assert "s3cret" not in repr(config)
    assert "s3cret" not in str(config.env)


@pytest.mark.parametrize(
    ("text", "key", "reason"),
    [
        ("[aws]\nregoin = 'x'\n", "aws.regoin", "unknown key"),
        ("[refresh]\ninterval_seconds = 'thirty'\n", "refresh.interval_seconds", "must be an integer"),
        ("[refresh]\ninterval_seconds = 2\n", "refresh.interval_seconds", "greater than or equal to 5"),
        ("[[accounts]]\nid = '1234'\n", "accounts[0].id", "12-digit AWS account id"),
        ("[[accounts]]\nid = 210987654321\n", "accounts[0].id", "must be a string"),
        (
            "[[accounts]]\nid = '210987654321'\nrole_arn = 'arn:aws:iam::21098765432:role/X'\n",
            "accounts[0].role_arn",
            "IAM role ARN",
        ),
        (
            "[[accounts]]\nid = '210987654321'\nrole_arn = 'arn:aws:iam::123456789012:role/X'\n",
            "accounts[0]",
            "role_arn is in account 123456789012",
        ),
        ("[[accounts]]\nid = '210987654321'\nregions = ['moon-1']\n", "accounts[0].regions[0]", "AWS region"),
        ("[[accounts]]\nid = '210987654321'\nregions = []\n", "accounts[0].regions", "at least one region"),
        (
            "[[accounts]]\nid = '210987654321'\n[[accounts]]\nid = '210987654321'\n",
            "accounts",
            "listed twice",
        ),
        ("[aws]\nendpoint_url = 'ftp://x'\n", "aws.endpoint_url", "http(s) URL"),
        ("jwt_secret = 'abc'\n", "jwt_secret", "set JWT_SECRET in the environment"),
        ("[aws]\nsecret_access_key = 'abc'\n", "aws.secret_access_key", "never read from the config file"),
        ("aws = 3\n", "aws", "must be a table"),
        ("[thresholds]\nwarning_percent = 95\ncritical_percent = 90\n", "thresholds", "must not be above"),
    ],
)
def test_bad_configuration_is_one_clear_line(tmp_path: Path, text: str, key: str, reason: str) -> None:
    path = write(tmp_path, text)
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    message = str(caught.value)
    assert "\n" not in message
    assert message.startswith(f"{path}: {key}: ")
    assert reason in message


@pytest.mark.parametrize(
    ("setup", "reason"),
    [
        (lambda p: None, "no such file"),
        (lambda p: p.mkdir(), "is a directory"),
        (lambda p: p.write_text("[aws\n"), "is not valid TOML"),
        (lambda p: p.write_bytes(b"\xff\xfe[aws]"), "is not UTF-8"),
    ],
)
def test_unreadable_files(tmp_path: Path, setup, reason: str) -> None:
    path = tmp_path / "config.toml"
    setup(path)
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    assert str(caught.value).startswith(f"{path}: ")
    assert reason in str(caught.value)


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads any file")
def test_permission_denied(tmp_path: Path) -> None:
    path = write(tmp_path, GOOD)
    path.chmod(0)
    with pytest.raises(ConfigError, match="permission denied"):
        load_config(path)


def test_bad_environment_region(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_REGION", "nowhere")
    with pytest.raises(ConfigError, match="^environment: AWS_REGION: "):
        load_config()


def test_dump_toml_round_trips(tmp_path: Path) -> None:
    data = {
        "aws": {"region": "us-west-2", "endpoint_url": "http://127.0.0.1:1234"},
        "accounts": [
            {"id": "210987654321", "role_arn": "arn:aws:iam::210987654321:role/R", "regions": ["us-east-1"]},
            {"id": "123456789012", "alias": 'with "quotes"'},
        ],
    }
    config = load_config(write(tmp_path, dump_toml(data)))
    assert [a.id for a in config.accounts] == ["210987654321", "123456789012"]
    assert config.accounts[1].alias == 'with "quotes"'


@pytest.mark.parametrize(
    "text",
    ["[aws]\nregoin = 'x'\n", "[[accounts]]\nid = 'nope'\n", "not toml at all ["],
)
def test_cli_exits_2_with_one_line_and_no_traceback(tmp_path: Path, text: str) -> None:
    path = write(tmp_path, text)
    result = subprocess.run(
        [sys.executable, "-m", "heartbeat_tui", "--config", str(path), "snapshot"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith(f"heartbeat: {path}: ")
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize(
    ("text", "key"),
    [("[aws]\nendpoint-url = 'http://x'\n", "aws.endpoint-url"), ("[foo-bar]\nx = 1\n", "foo-bar")],
)
def test_hyphenated_typos_are_named(tmp_path: Path, text: str, key: str) -> None:
    with pytest.raises(ConfigError) as caught:
        load_config(write(tmp_path, text))
    assert f": {key}: unknown key" in str(caught.value)


def test_endpoint_url_with_credentials_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="user name or password"):
        load_config(write(tmp_path, "[aws]\nendpoint_url = 'http://me:pw@127.0.0.1:1'\n"))


def test_dump_toml_escapes_anything(tmp_path: Path) -> None:
    nasty = 'tab\t "quote" back\\slash \x00 \x7f \n newline é'
    data = {"ui": {"theme": nasty}, "odd key": {"a.b": 1}}
    from heartbeat_tui.config import tomllib

    assert tomllib.loads(dump_toml(data)) == data
