"""`heartbeat snapshot` and `heartbeat doctor` as scripts run them: a real
process, a config file, the embedded AWS over HTTP."""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from heartbeat_tui.config import dump_toml
from heartbeat_tui.embedded.fleet import FleetSpec
from tests.auth.fixtures import cli_session  # noqa: F401 - a fixture: snapshot needs a session
from tests.support.configs import DENIED_ACCOUNT, PAYMENTS, deleted_services

FLEET = FleetSpec.demo()


def run(aws: Any, config: Path, *args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "HEARTBEAT_"))}
    env.update(aws.credentials())
    env["HEARTBEAT_LOG_FILE"] = str(config.parent / "heartbeat.log")
    return subprocess.run(
        [sys.executable, "-m", "heartbeat_tui", "--config", str(config), *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env=env,
        stdin=subprocess.DEVNULL,
    )


# Every key the README's "JSON export contract" documents: scripts rely on them.
TOP_KEYS = {"schema_version", "generated_at", "poll", "accounts"}
POLL_KEYS = {"number", "duration_seconds", "api_calls", "http_requests"}
ACCOUNT_KEYS = {"id", "alias", "status", "error", "warnings", "stale_seconds", "last_success_at", "regions"}
REGION_KEYS = {"region", "status", "errors", "stale", "fetched_at", "clusters"}
CLUSTER_KEYS = {
    "name",
    "arn",
    "console_url",
    "status",
    "active_services_count",
    "running_tasks_count",
    "pending_tasks_count",
    "services",
}
SERVICE_KEYS = {
    "name",
    "arn",
    "console_url",
    "status",
    "desired_count",
    "running_count",
    "pending_count",
    "rollout_state",
    "launch_type",
    "task_definition",
    "cpu",
    "memory",
    "scaling",
    "deployments",
    "events",
}
METRIC_KEYS = {"latest", "latest_at", "max_1h"}
SCALING_KEYS = {"min_capacity", "max_capacity", "activities"}
ACTIVITY_KEYS = {"activity_id", "description", "cause", "status_code", "status_message", "start_time", "end_time"}
DEPLOYMENT_KEYS = {
    "id",
    "status",
    "rollout_state",
    "rollout_state_reason",
    "task_definition",
    "desired_count",
    "running_count",
    "pending_count",
    "failed_tasks",
    "created_at",
    "updated_at",
}
EVENT_KEYS = {"id", "created_at", "message"}


def assert_documented_keys(data: dict[str, Any]) -> None:
    assert set(data) >= TOP_KEYS and data["schema_version"] == 1
    assert set(data["poll"]) >= POLL_KEYS
    seen = {"activity": False, "deployment": False, "event": False}
    for account in data["accounts"]:
        assert set(account) >= ACCOUNT_KEYS, ACCOUNT_KEYS - set(account)
        for region in account["regions"]:
            assert set(region) >= REGION_KEYS
            for cluster in region["clusters"]:
                assert set(cluster) >= CLUSTER_KEYS
                for service in cluster["services"]:
                    assert set(service) >= SERVICE_KEYS, SERVICE_KEYS - set(service)
                    assert set(service["cpu"]) >= METRIC_KEYS and set(service["memory"]) >= METRIC_KEYS
                    assert set(service["scaling"]) >= SCALING_KEYS
                    for activity in service["scaling"]["activities"]:
                        assert set(activity) >= ACTIVITY_KEYS
                        seen["activity"] = True
                    for deployment in service["deployments"]:
                        assert set(deployment) >= DEPLOYMENT_KEYS
                        seen["deployment"] = True
                    for event in service["events"]:
                        assert set(event) >= EVENT_KEYS
                        seen["event"] = True
    assert all(seen.values()), seen  # every nested shape was actually checked


@pytest.fixture
def config_file(clean_aws: Any, tmp_path: Path) -> Path:
    data = clean_aws.config_dict()
    data["aws"]["max_attempts"] = 2
    path = tmp_path / "config.toml"
    path.write_text(dump_toml(data))
    return path


@pytest.mark.usefixtures("cli_session")
def test_json_contract(clean_aws: Any, config_file: Path) -> None:
    result = run(clean_aws, config_file, "snapshot", "--format", "json")
    # The denied account failed: exit 1, the others are still printed.
    assert result.returncode == 1, result.stderr
    assert "Traceback" not in result.stderr
    assert result.stderr.strip().splitlines() == [
        f"heartbeat: account {DENIED_ACCOUNT}: " + next(line.split(": ", 2)[2] for line in result.stderr.splitlines())
    ]
    data = json.loads(result.stdout)
    assert_documented_keys(data)
    assert data["generated_at"].endswith("Z")
    accounts = {a["id"]: a for a in data["accounts"]}
    assert set(accounts) == {a.id for a in FLEET.accounts}
    for account in data["accounts"]:
        assert {"id", "alias", "status", "error", "stale_seconds", "regions"} <= set(account)
        assert account["status"] in ("ok", "error")
    denied = accounts[DENIED_ACCOUNT]
    assert denied["status"] == "error" and "AssumeRole" in denied["error"]
    assert denied["stale_seconds"] is None and denied["regions"] == []

    payments = accounts[PAYMENTS]
    assert payments["status"] == "ok" and payments["error"] is None and payments["stale_seconds"] == 0
    assert payments["alias"] == "payments-prod"
    services = []
    for region in payments["regions"]:
        assert {"region", "clusters"} <= set(region)
        for cluster in region["clusters"]:
            assert {"name", "arn", "status", "services"} <= set(cluster)
            assert cluster["console_url"] == (
                f"https://{region['region']}.console.aws.amazon.com/ecs/v2/clusters/{cluster['name']}/services"
                f"?region={region['region']}"
            )
            for service in cluster["services"]:
                assert service["console_url"] == (
                    f"https://{region['region']}.console.aws.amazon.com/ecs/v2/clusters/{cluster['name']}"
                    f"/services/{service['name']}/health?region={region['region']}"
                )
            services += cluster["services"]
    # Every seeded service but those being deleted (ECS no longer lists them).
    deleted = sum(1 for account, *_ in deleted_services(clean_aws) if account == PAYMENTS)
    assert len(services) == sum(len(c.services) for r in FLEET.accounts[1].regions for c in r.clusters) - deleted
    keys = {
        "name",
        "arn",
        "status",
        "desired_count",
        "running_count",
        "pending_count",
        "rollout_state",
        "cpu",
        "memory",
        "scaling",
        "events",
    }
    for service in services:
        assert keys <= set(service)
        for metric in ("cpu", "memory"):
            assert {"latest", "max_1h"} <= set(service[metric])
            latest, peak = service[metric]["latest"], service[metric]["max_1h"]
            assert latest is None or 0 <= latest <= 100
            assert peak is None or latest is None or peak >= latest
        assert {"min_capacity", "max_capacity", "activities"} <= set(service["scaling"])
        for event in service["events"]:
            assert {"id", "created_at", "message"} <= set(event)
    # Scaled to zero: no current datapoint, so latest is null, not 0 and not a stale value.
    zero = [s for s in services if s["desired_count"] == 0 and s["running_count"] == 0]
    assert zero, "the demo fleet has services scaled to zero"
    assert all(s["cpu"]["latest"] is None for s in zero)
    # Newest first, as documented.
    for service in services:
        stamps = [e["created_at"] for e in service["events"]]
        assert stamps == sorted(stamps, reverse=True)
        starts = [a["start_time"] for a in service["scaling"]["activities"]]
        assert starts == sorted(starts, reverse=True)
    assert any(s["scaling"]["activities"] for s in services)
    assert any(s["rollout_state"] == "FAILED" for s in services)


@pytest.mark.usefixtures("cli_session")
def test_filters_and_exit_0(clean_aws: Any, config_file: Path) -> None:
    result = run(
        clean_aws,
        config_file,
        "snapshot",
        "--account",
        "payments-prod",
        "--cluster",
        "payments-core",
        "--service",
        "risk-*",
    )
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert [a["id"] for a in data["accounts"]] == [PAYMENTS]
    clusters = [c for r in data["accounts"][0]["regions"] for c in r["clusters"]]
    assert [c["name"] for c in clusters] == ["payments-core"]
    names = [s["name"] for s in clusters[0]["services"]]
    assert names and all(n.startswith("risk-") for n in names)


@pytest.mark.usefixtures("cli_session")
def test_account_filter_by_id_polls_only_that_account(clean_aws: Any, config_file: Path) -> None:
    clean_aws.reset_stats()
    result = run(clean_aws, config_file, "snapshot", "--account", PAYMENTS)
    assert result.returncode == 0, result.stderr
    accounts_called = {row["account"] for row in clean_aws.stats() if row["service"] not in ("sts", "dynamodb")}
    assert accounts_called == {PAYMENTS}


@pytest.mark.usefixtures("cli_session")
def test_csv(clean_aws: Any, config_file: Path) -> None:
    result = run(clean_aws, config_file, "snapshot", "--format", "csv")
    assert result.returncode == 1
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    assert rows[0].keys() >= {"account_id", "service", "cpu_latest", "cpu_max_1h", "rollout_state"}
    denied = [r for r in rows if r["account_id"] == DENIED_ACCOUNT]
    assert len(denied) == 1 and denied[0]["account_status"] == "error" and denied[0]["service"] == ""
    services = [r for r in rows if r["service"]]
    seeded = sum(
        len(c.services) for a in FLEET.accounts if not a.deny_assume_role for r in a.regions for c in r.clusters
    )
    assert len(services) == seeded - len(deleted_services(clean_aws))  # those being deleted are not listed


@pytest.mark.usefixtures("cli_session")
def test_a_denied_role_is_reported_whole(clean_aws: Any, tmp_path: Path) -> None:
    """AssumeRole refused (the embedded AWS's fault): the reason names the role
    ARN to its last character, in the JSON, the CSV and the one line on stderr;
    it was once cut at 160 characters, mid-ARN."""

    checkout = "345678901234"
    role = f"arn:aws:iam::{checkout}:role/platform/observability/HeartbeatReadOnlyCrossAccountAccessForEcs"
    data = clean_aws.config_dict()
    data["aws"]["max_attempts"] = 1
    data["accounts"] = [{**a, "role_arn": role} for a in data["accounts"] if a["id"] == checkout]
    config = tmp_path / "config.toml"
    config.write_text(dump_toml(data))
    clean_aws.add_fault("deny_assume_role", account=checkout)

    result = run(clean_aws, config, "snapshot", "--format", "json")
    assert result.returncode == 1, result.stderr
    [account] = json.loads(result.stdout)["accounts"]
    error = account["error"]
    assert error.startswith("STS AssumeRole: access denied (AccessDenied: User: arn:aws:sts::")
    assert error.endswith(f"is not authorized to perform: sts:AssumeRole on resource: {role})"), error
    assert len(error) > 200
    assert result.stderr.strip().splitlines() == [f"heartbeat: account {checkout}: {error}"]

    result = run(clean_aws, config, "snapshot", "--format", "csv")
    [row] = list(csv.DictReader(io.StringIO(result.stdout)))
    assert row["account_error"] == error


@pytest.mark.usefixtures("cli_session")
def test_table_format_is_readable(clean_aws: Any, config_file: Path) -> None:
    result = run(clean_aws, config_file, "snapshot", "--format", "table", "--account", "checkout-staging")
    assert result.returncode == 0, result.stderr
    assert "checkout-staging (345678901234)  [OK]" in result.stdout


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("snapshot", "--account", "no-such-account"), "no account matches"),
        (("snapshot", "--format", "xml"), "invalid choice"),
        (("snapshot", "--bogus"), "unrecognized arguments"),
        (("frobnicate",), "invalid choice"),
    ],
)
@pytest.mark.usefixtures("cli_session")
def test_usage_errors_exit_2_with_one_line(
    clean_aws: Any, config_file: Path, args: tuple[str, ...], message: str
) -> None:
    result = run(clean_aws, config_file, *args)
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and message in lines[0] and lines[0].startswith("heartbeat: ")


def test_doctor(clean_aws: Any, config_file: Path) -> None:
    result = run(clean_aws, config_file, "doctor")
    lines = result.stdout.strip().splitlines()
    assert result.returncode == 1  # the denied account, the missing users table and secrets
    assert all(line.split()[0] in ("OK", "WARN", "FAIL") for line in lines)
    by_name = {line[6:].split(": ", 1)[0]: line for line in lines}
    assert by_name["configuration"].startswith("OK")
    assert by_name["base credentials"].startswith("OK")
    assert by_name[f"account {DENIED_ACCOUNT} sts:AssumeRole"].startswith("FAIL")
    assert "access denied" in by_name[f"account {DENIED_ACCOUNT} sts:AssumeRole"]
    assert by_name[f"account {PAYMENTS} sts:AssumeRole"].startswith("OK")
    for region in ("us-east-1", "eu-west-1"):
        for check in (
            "ecs:ListClusters",
            "cloudwatch:GetMetricData",
            "application-autoscaling:DescribeScalableTargets",
        ):
            assert by_name[f"account {PAYMENTS} {region} {check}"].startswith("OK")
    assert by_name["users table"].startswith("FAIL") and "heartbeat init" in by_name["users table"]
    assert by_name["JWT_SECRET"].startswith("FAIL")


def test_doctor_names_a_failing_region_call(clean_aws: Any, config_file: Path) -> None:
    clean_aws.add_fault("error", account=PAYMENTS, service="monitoring", code="AccessDeniedException")
    result = run(clean_aws, config_file, "doctor")
    failing = [line for line in result.stdout.splitlines() if line.startswith("FAIL") and PAYMENTS in line]
    assert failing and all("cloudwatch:GetMetricData" in line for line in failing)
    assert all("access denied" in line for line in failing)


def test_doctor_gives_up_on_a_call_that_never_answers(clean_aws: Any, tmp_path: Path) -> None:
    """A region whose endpoint hangs is a FAIL line within the account deadline,
    not a wait through every attempt's read timeout (5 attempts x 15 s here)."""

    data = clean_aws.config_dict()
    data["collector"] = {"account_deadline_seconds": 5}
    config = tmp_path / "config.toml"
    config.write_text(dump_toml(data))
    clean_aws.add_fault("timeout", account=PAYMENTS, service="ecs", operation="ListClusters", seconds=60)
    started = time.monotonic()
    result = run(clean_aws, config, "doctor")
    elapsed = time.monotonic() - started

    assert elapsed < 30, elapsed
    by_name = {line[6:].split(": ", 1)[0]: line for line in result.stdout.strip().splitlines()}
    for region in ("us-east-1", "eu-west-1"):
        hung = by_name[f"account {PAYMENTS} {region} ecs:ListClusters"]
        assert hung == (
            f"FAIL  account {PAYMENTS} {region} ecs:ListClusters: "
            "no answer within 5 s ([collector].account_deadline_seconds)"
        )
        # The account's other calls, and the other accounts, answered in time.
        assert by_name[f"account {PAYMENTS} {region} cloudwatch:GetMetricData"].startswith("OK")
    assert by_name["base credentials"].startswith("OK")
    assert result.returncode == 1


@pytest.mark.usefixtures("cli_session")
def test_no_aws_credentials_is_one_line(tmp_path: Path) -> None:
    config = tmp_path / "config.toml"
    config.write_text('[aws]\nregion = "us-east-1"\nendpoint_url = "http://127.0.0.1:9"\nmax_attempts = 1\n')
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env["AWS_CONFIG_FILE"] = env["AWS_SHARED_CREDENTIALS_FILE"] = str(tmp_path / "none")
    env["AWS_EC2_METADATA_DISABLED"] = "true"
    result = subprocess.run(
        [sys.executable, "-m", "heartbeat_tui", "--config", str(config), "snapshot"],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
        stdin=subprocess.DEVNULL,
    )
    # The session is checked (in DynamoDB) before any poll: no credentials, no valid session.
    assert result.returncode == 3
    assert "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert "no usable AWS credentials" in result.stderr and result.stdout == ""
