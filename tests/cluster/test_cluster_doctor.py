"""`heartbeat doctor` with `[cluster]`: the lease table (there, ACTIVE, `heartbeat
init`'s key, readable and conditionally writable) and the bucket (there, put,
get and delete under the prefix), one line each with the fix, on the embedded
AWS's DynamoDB and S3; a FAIL makes doctor's exit code 1, as any check's."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from heartbeat_tui.cluster import ensure_cluster
from heartbeat_tui.config import Config, dump_toml
from heartbeat_tui.doctor import run_doctor
from heartbeat_tui.errors import EXIT_OK, EXIT_PARTIAL
from tests.auth.cli_support import CliEnv, make_cli_env
from tests.support.auth import dynamodb
from tests.support.configs import HUB, make_config

from .conftest import make_bucket, s3_client, unique_names

NAMES = ("lease table", "lease table access", "parts bucket", "parts bucket access")


def cluster_config(aws: Any, table: str, bucket: str) -> Config:
    # No accounts: only the base credentials' checks beside the cluster's.
    return make_config(aws, cluster={"lease_table": table, "bucket": bucket, "prefix": "teams/ops"}, accounts=[])


async def cluster_lines(config: Config) -> dict[str, str]:
    return {c.name: f"{c.status} {c.detail}" for c in await run_doctor(config) if c.name in NAMES}


@pytest.fixture
async def ready(clean_aws: Any) -> Config:
    """A lease table made by `heartbeat init`'s code and an empty bucket."""

    config = cluster_config(clean_aws, *unique_names())
    make_bucket(clean_aws, config, config.file.cluster.bucket or "")
    await ensure_cluster(config)
    return config


def objects(aws: Any, config: Config) -> list[str]:
    listed = s3_client(aws, config).list_objects_v2(Bucket=config.file.cluster.bucket)
    return [item["Key"] for item in listed.get("Contents", ())]


async def test_a_ready_cluster_is_four_ok_lines_and_leaves_nothing_behind(clean_aws: Any, ready: Config) -> None:
    table, bucket = ready.file.cluster.lease_table, ready.file.cluster.bucket
    assert await cluster_lines(ready) == {
        "lease table": f"OK {table} is ACTIVE, key lease_key (string)",
        "lease table access": f"OK {table}: Scan, conditional PutItem and UpdateItem allowed (nothing written)",
        "parts bucket": f"OK {bucket} exists",
        "parts bucket access": f"OK {bucket}: put, get and delete under teams/ops/ work",
    }
    assert dynamodb(clean_aws, ready).scan(TableName=table)["Items"] == []  # the conditional writes wrote nothing
    assert objects(clean_aws, ready) == []  # the probe object is gone
    calls = {(row["service"], row["operation"]) for row in clean_aws.stats() if row["count"] > row["faulted"]}
    assert {("s3", "PutObject"), ("s3", "GetObject"), ("s3", "DeleteObject")} <= calls


async def test_without_a_cluster_section_there_are_no_cluster_lines(clean_aws: Any) -> None:
    assert await cluster_lines(make_config(clean_aws, accounts=[])) == {}


async def test_a_missing_table_and_bucket_say_what_to_do(clean_aws: Any) -> None:
    config = cluster_config(clean_aws, *unique_names())
    table, bucket = config.file.cluster.lease_table, config.file.cluster.bucket
    assert await cluster_lines(config) == {
        "lease table": f"FAIL {table} does not exist (run `heartbeat init`)",
        "parts bucket": f"FAIL {bucket}: no such bucket (create it, or fix [cluster].bucket)",
    }


async def test_a_table_with_another_key_is_not_a_lease_table(clean_aws: Any) -> None:
    table, bucket = unique_names()
    config = cluster_config(clean_aws, table, bucket)
    make_bucket(clean_aws, config, bucket)
    dynamodb(clean_aws, config).create_table(
        TableName=table,
        KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}, {"AttributeName": "at", "KeyType": "RANGE"}],
        AttributeDefinitions=[
            {"AttributeName": "id", "AttributeType": "S"},
            {"AttributeName": "at", "AttributeType": "N"},
        ],
        BillingMode="PAY_PER_REQUEST",
    )
    found = await cluster_lines(config)
    assert found["lease table"] == (
        f"FAIL {table}: its key is id (HASH, S), at (RANGE, N), not lease_key (HASH, S) alone:"
        " not a HeartBeat lease table (set [cluster].lease_table to a new name and run `heartbeat init`)"
    )
    assert "lease table access" not in found
    assert found["parts bucket access"].startswith("OK")


async def test_a_table_that_is_not_active_fails(clean_aws: Any, ready: Config) -> None:
    clean_aws.add_fault("malformed", service="dynamodb", operation="DescribeTable", code="enum:TableStatus")
    found = await cluster_lines(ready)
    table = ready.file.cluster.lease_table
    assert found["lease table"] == (
        f"FAIL {table} is UNKNOWN_VALUE, not ACTIVE: replicas cannot use it (see the DynamoDB console)"
    )


@pytest.mark.parametrize("action", ["Scan", "PutItem", "UpdateItem"])
async def test_a_refused_lease_permission_names_the_action(clean_aws: Any, ready: Config, action: str) -> None:
    clean_aws.add_fault("error", account=HUB, service="dynamodb", operation=action, code="AccessDeniedException")
    found = await cluster_lines(ready)
    table = ready.file.cluster.lease_table
    assert found["lease table"].startswith("OK")
    line = found["lease table access"]
    assert line.startswith(f"FAIL {action}: access denied (AccessDeniedException: "), line
    assert line.endswith(f'(grant dynamodb:{action} on {table}: the policy in README "Several replicas")'), line


@pytest.mark.parametrize("action", ["PutObject", "GetObject"])
async def test_a_refused_object_permission_fails_and_names_the_action(
    clean_aws: Any, ready: Config, action: str
) -> None:
    clean_aws.add_fault("error", account=HUB, service="s3", operation=action, code="AccessDenied")
    line = (await cluster_lines(ready))["parts bucket access"]
    assert line.startswith(f"FAIL {action} teams/ops/v1/doctor/"), line
    assert f"access denied (AccessDenied: Injected AccessDenied (embedded AWS fault).) (grant s3:{action} on " in line
    assert objects(clean_aws, ready) == []  # a probe that was put is still deleted


async def test_a_refused_delete_warns_and_names_the_object_left(clean_aws: Any, ready: Config) -> None:
    clean_aws.add_fault("error", account=HUB, service="s3", operation="DeleteObject", code="AccessDenied")
    line = (await cluster_lines(ready))["parts bucket access"]
    (left,) = objects(clean_aws, ready)
    assert left.startswith("teams/ops/v1/doctor/") and left.endswith(".probe")
    assert line.startswith("WARN put and get work; DeleteObject ") and line.endswith(f"delete {left} by hand"), line
    assert "replicas never delete: only doctor's probe needs it" in line


async def test_a_bucket_that_refuses_listing_fails(clean_aws: Any, ready: Config) -> None:
    clean_aws.add_fault("error", account=HUB, service="s3", operation="HeadBucket", code="AccessDenied")
    found = await cluster_lines(ready)
    bucket = ready.file.cluster.bucket
    assert found["parts bucket"] == (
        f'FAIL {bucket}: access denied (grant s3:ListBucket on it: the policy in README "Several replicas")'
    )
    assert "parts bucket access" not in found


def test_the_cli_exit_code_follows_the_cluster_lines(
    clean_aws: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: Any
) -> None:
    cli: CliEnv = make_cli_env(clean_aws, tmp_path, monkeypatch, capsys)
    table, bucket = unique_names()
    data = clean_aws.config_dict()
    data["accounts"] = []
    data["cluster"] = {"lease_table": table, "bucket": bucket}
    cli.config_path.write_text(dump_toml(data))
    make_bucket(clean_aws, make_config(clean_aws), bucket)
    assert cli.run("init").code == EXIT_OK  # the lease table
    healthy = cli.run("doctor")
    assert healthy.code == EXIT_OK, healthy.out
    assert all(f"OK    {name}: " in healthy.out for name in NAMES), healthy.out
    clean_aws.add_fault("error", account=HUB, service="s3", operation="DeleteObject", code="AccessDenied")
    warned = cli.run("doctor")
    assert warned.code == EXIT_OK and "WARN  parts bucket access: " in warned.out, warned.out  # a WARN is no failure
    clean_aws.add_fault("error", account=HUB, service="dynamodb", operation="UpdateItem", code="AccessDeniedException")
    refused = cli.run("doctor")
    assert refused.code == EXIT_PARTIAL, refused.out
    assert "FAIL  lease table access: UpdateItem: access denied" in refused.out
