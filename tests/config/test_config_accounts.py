"""`profile` accounts and `[discovery]` in the configuration file: what loads,
and the one-line errors (exit 2) for what does not."""

from __future__ import annotations

from pathlib import Path

import pytest

from heartbeat_tui.cli import main
from heartbeat_tui.config import ConfigError, load_config

GOOD = """
[aws]
region = "us-east-1"

[discovery]
organizations = true
role_name = "HeartbeatReader"
external_id = "org-external-id"
role_arn = "arn:aws:iam::111122223333:role/OrganizationReader"
regions = ["us-east-1", "eu-west-1"]
refresh_minutes = 30
include_ous = ["Workloads"]
exclude_names = ["*-sandbox"]
include_tags = { env = "prod*" }

[[accounts]]
id = "210987654321"
profile = "payments-sso"
regions = ["eu-west-1"]
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(text)
    path.chmod(0o600)
    return path


def test_profile_accounts_and_discovery_load(tmp_path: Path) -> None:
    config = load_config(write(tmp_path, GOOD))
    [payments] = config.accounts
    assert payments.profile == "payments-sso" and payments.role_arn is None
    discovery = config.discovery
    assert discovery is not None
    assert discovery.role_name == "HeartbeatReader" and discovery.refresh_minutes == 30
    assert discovery.regions == ("us-east-1", "eu-west-1")
    assert discovery.include_tags == {"env": "prod*"}
    management = discovery.management_account
    assert management is not None and management.id == "111122223333"


def test_discovery_is_off_unless_asked_for(tmp_path: Path) -> None:
    config = load_config(write(tmp_path, '[discovery]\nrole_name = "HeartbeatReader"\n'))
    assert config.discovery is None
    assert load_config(write(tmp_path, '[aws]\nregion = "us-east-1"\n')).discovery is None


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        (
            '[[accounts]]\nid = "210987654321"\nprofile = "p"\nrole_arn = "arn:aws:iam::210987654321:role/R"\n',
            "accounts[0]: set role_arn or profile, not both",
        ),
        (
            '[[accounts]]\nid = "210987654321"\nprofile = "has space"\n',
            "accounts[0].profile: must be an AWS profile name",
        ),
        ('[[accounts]]\nid = "210987654321"\nprofile = "p"\nexternal_id = "abc"\n', "external_id needs a role_arn"),
        ("[discovery]\norganizations = true\n", "discovery: organizations = true needs role_name"),
        ('[discovery]\norganizations = true\nrole_name = "a b"\n', "discovery.role_name: must be an IAM role name"),
        (
            '[discovery]\norganizations = true\nrole_name = "R"\nregions = []\n',
            "discovery.regions: must list at least one",
        ),
        ('[discovery]\norganizations = true\nrole_name = "R"\nrefresh_minutes = 0\n', "discovery.refresh_minutes"),
        (
            '[discovery]\norganizations = true\nrole_name = "R"\nincluded_ous = ["x"]\n',
            "discovery.included_ous: unknown key",
        ),
        (
            '[discovery]\norganizations = true\nrole_name = "R"\nregions = ["cn-north-1"]\n',
            "discovery.regions[0]: cn-north-1 is in partition aws-cn, not aws",
        ),
        (
            '[discovery]\norganizations = true\nrole_name = "R"\nrole_arn = "arn:aws-cn:iam::111122223333:role/O"\n',
            "discovery.role_arn: is in partition aws-cn, not aws",
        ),
    ],
)
def test_bad_accounts_and_discovery_are_one_line_errors(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], text: str, reason: str
) -> None:
    path = write(tmp_path, '[aws]\nregion = "us-east-1"\n\n' + text)
    with pytest.raises(ConfigError) as raised:
        load_config(path)
    assert reason in str(raised.value)
    # The command line: one line on stderr, exit 2.
    assert main(["--config", str(path), "doctor"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and reason in err
