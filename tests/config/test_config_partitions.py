"""Role ARNs and regions are in the fleet's partition (the default region's),
and exist in it: otherwise one line naming the file, the key and the reason,
and exit code 2."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from heartbeat_tui.config import ConfigError, config_from_dict, load_config
from heartbeat_tui.embedded.fleet import FleetSpec
from heartbeat_tui.partitions import partition_of_arn, partition_of_region, partitions

ROLE = "arn:{partition}:iam::210987654321:role/HeartbeatReader"


def account(partition: str = "aws", regions: list[str] | None = None) -> str:
    text = f"[[accounts]]\nid = '210987654321'\nrole_arn = '{ROLE.format(partition=partition)}'\n"
    return text + (f"regions = {regions!r}\n" if regions is not None else "")


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(text)
    return path


def test_botocore_partition_data_is_what_the_check_reads() -> None:
    """Read through botocore's loader: a botocore whose partition data changed
    shape or lost the three partitions fails here, not in an operator's config."""

    known = partitions()
    assert {"aws", "aws-cn", "aws-us-gov"} <= known.keys()
    assert {"us-east-1", "eu-west-1", "us-west-2", "ap-southeast-2", "eu-central-1"} <= known["aws"]
    assert {"cn-north-1", "cn-northwest-1"} <= known["aws-cn"]
    assert {"us-gov-west-1", "us-gov-east-1"} <= known["aws-us-gov"]
    assert not any(region.endswith("-global") for regions in known.values() for region in regions)
    assert partition_of_region("cn-northwest-1") == "aws-cn"
    assert partition_of_region("us-east-9") is None
    assert partition_of_arn("arn:aws-evil-partition:iam::210987654321:role/R") == "aws-evil-partition"


@pytest.mark.parametrize(
    ("text", "key", "reason"),
    [
        # The two: a partition AWS does not have, and aws-cn with us-east-1.
        (
            account("aws-evil-partition"),
            "accounts[0].role_arn",
            "names partition 'aws-evil-partition', which AWS does not have (known: aws, aws-cn, ",
        ),
        (
            "[aws]\nregion = 'us-east-1'\n" + account("aws-cn", ["us-east-1"]),
            "accounts[0].role_arn",
            "is in partition aws-cn, not aws (the partition of the default region us-east-1 ([aws].region)):"
            " the base credentials cannot assume it",
        ),
        # Regions omitted: HeartBeat's own default region (us-east-1) decides.
        (
            account("aws-us-gov"),
            "accounts[0].role_arn",
            "is in partition aws-us-gov, not aws (the partition of the default region us-east-1"
            " (HeartBeat's default: set [aws].region))",
        ),
        # A China fleet listing a region of the aws partition.
        (
            "[aws]\nregion = 'cn-north-1'\n" + account("aws-cn", ["cn-north-1", "us-east-1"]),
            "accounts[0].regions[1]",
            "us-east-1 is in partition aws, not aws-cn (the partition of the default region cn-north-1",
        ),
        # Well-formed names no partition has.
        (
            account("aws", ["us-east-1", "us-east-9"]),
            "accounts[0].regions[1]",
            "no AWS partition has a region 'us-east-9'",
        ),
        ("[aws]\nregion = 'eu-west-9'\n", "aws.region", "no AWS partition has a region 'eu-west-9'"),
        # An account without a role is held to the same partition.
        (
            "[aws]\nregion = 'us-gov-west-1'\n[[accounts]]\nid = '123456789012'\nregions = ['us-west-2']\n",
            "accounts[0].regions[0]",
            "us-west-2 is in partition aws, not aws-us-gov",
        ),
    ],
)
def test_partition_mismatches_are_one_clear_line(tmp_path: Path, text: str, key: str, reason: str) -> None:
    path = write(tmp_path, text)
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    message = str(caught.value)
    assert caught.value.exit_code == 2
    assert "\n" not in message
    assert message.startswith(f"{path}: {key}: "), message
    assert reason in message, message


def test_the_environment_region_is_named_when_it_decides(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_REGION", "us-east-9")
    with pytest.raises(ConfigError) as caught:
        load_config(write(tmp_path, account("aws")))
    assert str(caught.value).startswith("environment: AWS_REGION: no AWS partition has a region 'us-east-9'")

    monkeypatch.setenv("AWS_REGION", "cn-north-1")
    path = write(tmp_path, account("aws"))
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    assert str(caught.value) == (
        f"{path}: accounts[0].role_arn: is in partition aws, not aws-cn (the partition of the default region"
        " cn-north-1 (AWS_REGION)): the base credentials cannot assume it"
    )
    # The same account, with the China role: good.
    config = load_config(write(tmp_path, account("aws-cn")))
    assert config.regions_for(config.accounts[0]) == ("cn-north-1",)


@pytest.mark.parametrize(
    ("text", "regions"),
    [
        ("[aws]\nregion = 'cn-northwest-1'\n" + account("aws-cn", ["cn-north-1", "cn-northwest-1"]), 2),
        ("[aws]\nregion = 'us-gov-east-1'\n" + account("aws-us-gov", ["us-gov-west-1"]), 1),
        ("[aws]\nregion = 'eu-west-1'\n" + account("aws", ["us-east-1", "ap-southeast-2"]), 2),
    ],
)
def test_a_fleet_in_one_partition_loads(tmp_path: Path, text: str, regions: int) -> None:
    config = load_config(write(tmp_path, text))
    assert len(config.regions_for(config.accounts[0])) == regions


def test_the_embedded_fleets_validate() -> None:
    """The demo's and the benchmarks' configurations (their regions and roles)."""

    for fleet in (FleetSpec.demo(), FleetSpec.benchmark(regions=5)):
        config = config_from_dict(fleet.config_dict("http://127.0.0.1:5000"))
        assert len(config.accounts) == len(fleet.accounts)
    with pytest.raises(ConfigError, match=r"^<dict>: accounts\[0\]\.role_arn: names partition 'aws-evil'"):
        config_from_dict({"accounts": [{"id": "210987654321", "role_arn": ROLE.format(partition="aws-evil")}]})


@pytest.mark.parametrize(
    ("text", "key"),
    [
        (account("aws-evil-partition"), "accounts[0].role_arn"),
        ("[aws]\nregion = 'us-east-1'\n" + account("aws-cn", ["us-east-1"]), "accounts[0].role_arn"),
        (account("aws", ["us-east-9"]), "accounts[0].regions[0]"),
    ],
)
def test_cli_exits_2_with_the_line(tmp_path: Path, text: str, key: str) -> None:
    path = write(tmp_path, text)
    result = subprocess.run(
        [sys.executable, "-m", "heartbeat_tui", "--config", str(path), "doctor"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"heartbeat: {path}: {key}: "), result.stderr
