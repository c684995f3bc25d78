"""`heartbeat logs` as scripts run it: a real process, a config file, a session,
the embedded AWS over HTTP."""

from __future__ import annotations

import asyncio
import os
import re
import signal
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

import boto3
import pytest

from heartbeat_tui.auth.session_file import token_path
from heartbeat_tui.collector import Collector
from heartbeat_tui.config import dump_toml
from heartbeat_tui.models import LogQuery, utcnow
from tests.auth.fixtures import cli_session  # noqa: F401 - a fixture: logs needs a session
from tests.support.configs import PAYMENTS, make_config

LINE = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z [^/ ]+/[0-9a-f]{32} .*$")


def command(aws: Any, config: Path, *args: str) -> tuple[list[str], dict[str, str]]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "HEARTBEAT_"))}
    env.update(aws.credentials())
    env["HEARTBEAT_LOG_FILE"] = str(config.parent / "heartbeat.log")
    return [sys.executable, "-m", "heartbeat_tui", "--config", str(config), *args], env


def run(aws: Any, config: Path, *args: str) -> subprocess.CompletedProcess[str]:
    argv, env = command(aws, config, *args)
    return subprocess.run(argv, capture_output=True, text=True, timeout=120, env=env, stdin=subprocess.DEVNULL)


@pytest.fixture
def config_file(clean_aws: Any, tmp_path: Path) -> Path:
    data = clean_aws.config_dict()
    data["aws"]["max_attempts"] = 2
    path = tmp_path / "config.toml"
    path.write_text(dump_toml(data))
    return path


def find(aws: Any, *, with_lines: bool) -> tuple[str, str, str, str, list[str]]:
    """(region, cluster, service, its log group, its stream names) of a payments-prod service
    whose log driver is awslogs (`with_lines`) or not."""

    async def look() -> tuple[str, str, str, str, list[str]]:
        async with Collector(make_config(aws)) as collector:
            snapshot = await collector.poll([PAYMENTS])
            account = snapshot.account(PAYMENTS)
            assert account is not None
            for region, cluster, service in account.services():
                if service.running_count == 0 or not service.task_definition:
                    continue
                query = LogQuery(
                    account_id=PAYMENTS,
                    region=region.region,
                    cluster_arn=cluster.arn,
                    service_name=service.name,
                    start=utcnow() - timedelta(minutes=15),
                )
                batch = await collector.fetch_logs(query)
                if bool(batch.lines) == with_lines and (with_lines or batch.notes):
                    group = next((s.group for s in batch.sources if s.group), "")
                    streams = sorted({f"ecs/{line.container}/{line.task_id}" for line in batch.lines})
                    return region.region, cluster.name, service.name, group, streams
        raise AssertionError("no such service in payments-prod")

    return asyncio.run(look())


@pytest.mark.usefixtures("cli_session")
def test_lines_oldest_first_and_untrusted_text_escaped(clean_aws: Any, config_file: Path) -> None:
    region, cluster, service, group, streams = find(clean_aws, with_lines=True)
    # Someone able to write to the log group writes escape sequences.
    creds = clean_aws.credentials()
    sts = boto3.client(
        "sts",
        region_name="us-east-1",
        endpoint_url=clean_aws.endpoint_url,
        aws_access_key_id=creds["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=creds["AWS_SECRET_ACCESS_KEY"],
    )
    role = sts.assume_role(RoleArn=f"arn:aws:iam::{PAYMENTS}:role/HeartbeatReader", RoleSessionName="tests")
    keys = role["Credentials"]
    logs = boto3.client(
        "logs",
        region_name=region,
        endpoint_url=clean_aws.endpoint_url,
        aws_access_key_id=keys["AccessKeyId"],
        aws_secret_access_key=keys["SecretAccessKey"],
        aws_session_token=keys["SessionToken"],
    )
    hostile = "ERROR pwned \x1b]0;owned\x07\x1b]52;c;SGVhcnRCZWF0\x07\u202eevil\x1b[2J"
    logs.put_log_events(
        logGroupName=group,
        logStreamName=streams[0],
        logEvents=[{"timestamp": int(time.time() * 1000), "message": hostile}],
    )
    result = run(
        clean_aws, config_file, "logs", "--account", "payments-prod", "--cluster", cluster, "--service", service
    )
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines and all(LINE.match(line) for line in lines), lines[:3]
    stamps = [line.split(" ", 1)[0] for line in lines]
    assert stamps == sorted(stamps)  # oldest first: newest at the bottom
    assert lines[-1].endswith("ERROR pwned \\x1b]0;owned\\x07\\x1b]52;c;SGVhcnRCZWF0\\x07\\u202eevil\\x1b[2J")
    assert "\x1b" not in result.stdout and "\u202e" not in result.stdout
    # --since narrows, --container picks.
    recent = run(
        clean_aws, config_file, "logs", "--account", PAYMENTS, "--cluster", cluster, "--service", service,
        "--since", "90s", "--container", service,
    )  # fmt: skip
    assert recent.returncode == 0, recent.stderr
    assert recent.stdout.splitlines()[-1] == lines[-1] and len(recent.stdout.splitlines()) < len(lines)


@pytest.mark.usefixtures("cli_session")
def test_a_driver_that_is_not_awslogs_is_named_on_stderr(clean_aws: Any, config_file: Path) -> None:
    _, cluster, service, _, _ = find(clean_aws, with_lines=False)
    result = run(clean_aws, config_file, "logs", "--account", PAYMENTS, "--cluster", cluster, "--service", service)
    assert result.returncode == 0 and result.stdout == ""
    assert result.stderr.startswith(f"heartbeat: {service}: log driver fluentd: its lines go to fluentd")


@pytest.mark.usefixtures("cli_session")
def test_usage_errors_are_one_line_and_exit_2(clean_aws: Any, config_file: Path) -> None:
    base = ("logs", "--account", PAYMENTS, "--cluster", "payments-core")
    for args, expected in (
        ((*base, "--service", "no-such-service"), "no service 'no-such-service' in a cluster 'payments-core'"),
        ((*base, "--service", "x", "--since", "soon"), "--since 'soon': give a duration such as 90s"),
        (("logs", "--account", "nobody", "--cluster", "c", "--service", "s"), "no account matches --account 'nobody'"),
        (("logs", "--account", PAYMENTS, "--cluster", "c"), "the following arguments are required: --service"),
    ):
        result = run(clean_aws, config_file, *args)
        assert result.returncode == 2, (args, result.stderr)
        assert result.stderr.count("\n") == 1 and expected in result.stderr, result.stderr
        assert "Traceback" not in result.stderr


@pytest.mark.usefixtures("cli_session")
def test_no_session_is_exit_3(clean_aws: Any, config_file: Path) -> None:
    token_path().unlink()  # logged out
    result = run(clean_aws, config_file, "logs", "--account", PAYMENTS, "--cluster", "c", "--service", "s")
    assert result.returncode == 3 and result.stderr.count("\n") == 1


@pytest.mark.usefixtures("cli_session")
def test_follow_prints_then_ctrl_c_ends_it_with_130(clean_aws: Any, config_file: Path) -> None:
    _, cluster, service, _, _ = find(clean_aws, with_lines=True)
    argv, env = command(
        clean_aws, config_file, "logs", "--account", PAYMENTS, "--cluster", cluster, "--service", service, "--follow"
    )
    child = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    try:
        assert child.stdout is not None
        first = child.stdout.readline()  # the first read's lines come at once
        assert LINE.match(first.rstrip("\n")), first
        child.send_signal(signal.SIGINT)
        _, err = child.communicate(timeout=30)
    finally:
        if child.poll() is None:
            child.kill()
    assert child.returncode == 130 and err.strip() == "heartbeat: interrupted"
