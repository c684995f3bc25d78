"""`[cluster]` in the configuration and `heartbeat init` (issue 14, part 3): one
line and exit code 2 for anything wrong, the lease table created, the bucket checked."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import tomllib

from heartbeat_tui.cluster import make_source
from heartbeat_tui.config import dump_toml, parse_config_data
from heartbeat_tui.errors import ConfigError, UsageError
from tests.auth.cli_support import CliEnv, make_cli_env
from tests.support.configs import make_config

from .conftest import make_bucket


@pytest.fixture
def bare(clean_aws: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: Any) -> CliEnv:
    return make_cli_env(clean_aws, tmp_path, monkeypatch, capsys, admin=False)


def with_cluster(cli: CliEnv, cluster: dict[str, Any]) -> None:
    data = cli.aws.config_dict()
    data["cluster"] = cluster
    cli.config_path.write_text(dump_toml(data))


def one_line(result: Any, code: int, text: str) -> None:
    assert result.code == code, (result.out, result.err)
    assert len(result.lines) == 1, result.err
    assert result.lines[0].startswith("heartbeat: ") and text in result.lines[0], result.err
    assert "Traceback" not in result.err + result.out


@pytest.mark.parametrize(
    ("cluster", "says"),
    [
        ({"lease_table": "heartbeat-leases"}, "lease_table and bucket go together"),
        ({"bucket": "fleet-parts"}, "lease_table and bucket go together"),
        ({"lease_table": "x", "bucket": "fleet-parts"}, "must be a DynamoDB table name"),
        ({"lease_table": "leases", "bucket": "Fleet_Parts"}, "must be an S3 bucket name"),
        ({"lease_table": "leases", "bucket": "fleet-parts", "prefix": "/abs/"}, "must be a key prefix"),
        ({"lease_table": "leases", "bucket": "fleet-parts", "replica_id": "a b"}, "must be 1-128 of"),
        ({"replica_id": "r1"}, "prefix and replica_id need lease_table and bucket"),
        ({"lease_table": "leases", "bucket": "fleet-parts", "replicas": 3}, "replicas"),
    ],
)
def test_a_bad_cluster_section_is_one_line_and_exit_2(bare: CliEnv, cluster: dict[str, Any], says: str) -> None:
    with_cluster(bare, cluster)
    result = bare.run("init")
    one_line(result, 2, says)
    assert "cluster" in result.lines[0]


def test_init_creates_the_lease_table_and_checks_the_bucket(bare: CliEnv) -> None:
    config = make_config(bare.aws)
    make_bucket(bare.aws, config, "heartbeat-init-parts")
    with_cluster(bare, {"lease_table": "heartbeat-init-leases", "bucket": "heartbeat-init-parts"})
    first = bare.run("init")
    assert first.code == 0 and "created lease table heartbeat-init-leases" in first.out
    assert bare.run("init").out.strip() == "nothing to do: the tables exist"
    with_cluster(bare, {"lease_table": "heartbeat-init-leases", "bucket": "heartbeat-no-such-bucket"})
    one_line(bare.run("init"), 2, "[cluster] bucket heartbeat-no-such-bucket: no such bucket")


def test_a_cluster_needs_a_list_of_accounts(clean_aws: Any) -> None:
    config = make_config(clean_aws, cluster={"lease_table": "leases", "bucket": "fleet-parts"}, accounts=[])
    with pytest.raises(UsageError, match="list them"):
        make_source(config)


def test_the_cluster_section_is_checked_as_the_file_is_read(clean_aws: Any) -> None:
    with pytest.raises(ConfigError, match=r"cluster.*lease_table and bucket go together"):
        make_config(clean_aws, cluster={"bucket": "fleet-parts"})


def test_the_readmes_cluster_examples_are_valid_configuration() -> None:
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    examples = [tomllib.loads(block) for block in re.findall(r"```toml\n(.*?)```", readme, flags=re.DOTALL)]
    clusters = [parse_config_data(data, "README.md").cluster for data in examples if "cluster" in data]
    assert len(clusters) == 2 and all(cluster.enabled for cluster in clusters)
