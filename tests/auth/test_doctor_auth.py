"""`heartbeat doctor` on the auth side: both tables, JWT_SECRET's length for the
configured algorithm (RFC 7518: at least the hash output), ENCRYPTION_KEY's
format; one line each, never the secret itself."""

from __future__ import annotations

import base64
import os
import time
from pathlib import Path
from typing import Any

import pytest
from pydantic import SecretStr

from heartbeat_tui.auth.service import open_auth
from heartbeat_tui.auth.store import RetryPlan, auth_table_name
from heartbeat_tui.config import AwsSection, Config, dump_toml
from heartbeat_tui.doctor import _secret_checks, run_doctor
from heartbeat_tui.errors import EXIT_OK, EXIT_PARTIAL
from tests.support.auth import FAST_ITERATIONS, auth_config, dynamodb, new_fernet_key
from tests.support.configs import HUB

from .cli_support import CliEnv, make_cli_env


def with_env(config: Config, **values: Any) -> Config:
    update = {
        k: SecretStr(v) if k in ("jwt_secret", "encryption_key") and v is not None else v for k, v in values.items()
    }
    return config.model_copy(update={"env": config.env.model_copy(update=update)})


def lines(checks: list[Any]) -> dict[str, str]:
    return {c.name: f"{c.status} {c.detail}" for c in checks}


@pytest.mark.parametrize(
    ("algorithm", "size", "expected"),
    [
        ("HS256", 31, "FAIL too short: 31 bytes, at least 32 needed for HS256"),
        ("HS256", 32, "OK set (32 bytes, enough for HS256)"),
        ("HS384", 47, "FAIL too short: 47 bytes, at least 48 needed for HS384"),
        ("hs384", 48, "OK set (48 bytes, enough for HS384)"),
        ("HS512", 48, "FAIL too short: 48 bytes, at least 64 needed for HS512"),
        ("HS512", 64, "OK set (64 bytes, enough for HS512)"),
    ],
)
def test_jwt_secret_length_follows_the_algorithm(fleet_aws: Any, algorithm: str, size: int, expected: str) -> None:
    secret = "s" * size
    config = with_env(auth_config(fleet_aws), jwt_secret=secret, jwt_algorithm=algorithm)
    found = lines(_secret_checks(config))
    assert found["JWT_SECRET"] == expected
    assert found["JWT_ALGORITHM"] == f"OK {algorithm.upper()}"
    assert secret not in repr(found)


def test_jwt_algorithm_must_be_known(fleet_aws: Any) -> None:
    found = lines(_secret_checks(with_env(auth_config(fleet_aws), jwt_algorithm="none")))
    assert found["JWT_ALGORITHM"] == "FAIL must be one of HS256, HS384, HS512 (got 'NONE')"


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("short", "FAIL the key is too short: 5 bytes, at least 32 needed"),
        ("{a},{a}", "FAIL lists the same key twice"),
        ("{a},tiny", "FAIL key 2 of 2 is too short: 4 bytes, at least 32 needed"),
        ("{a}", "OK 1 key"),
        ("{a}, {b}", "OK 2 keys (the first encrypts; finish `heartbeat keys rotate`, then drop the others)"),
        ("{p}", "OK 1 key"),  # a long passphrase: derived with HKDF
        (" , ", "FAIL is empty"),
    ],
)
def test_encryption_key_format(fleet_aws: Any, value: str, expected: str) -> None:
    key_a, key_b = new_fernet_key(), base64.b64encode(os.urandom(32)).decode()
    setting = value.format(a=key_a, b=key_b, p="a passphrase of forty random-ish characters")
    found = lines(_secret_checks(with_env(auth_config(fleet_aws), encryption_key=setting)))
    assert found["ENCRYPTION_KEY"] == expected
    assert key_a not in repr(found) and key_b not in repr(found)


async def test_both_tables_are_checked(clean_aws: Any) -> None:
    config = auth_config(clean_aws)
    config = config.model_copy(update={"file": config.file.model_copy(update={"accounts": ()})})
    found = lines(await run_doctor(config))
    assert found["users table"] == f"FAIL {config.users_table} does not exist (run `heartbeat init`)"
    assert found["auth table"] == f"FAIL {auth_table_name(config.users_table)} does not exist (run `heartbeat init`)"
    async with open_auth(config, iterations=FAST_ITERATIONS) as auth:
        await auth.store.ensure_tables()
        dynamodb(clean_aws, config).delete_table(TableName=auth.store.auth_table)
    found = lines(await run_doctor(config))
    assert found["users table"] == f"OK {config.users_table} is ACTIVE (users)"
    assert found["auth table"].startswith("FAIL") and "run `heartbeat init`" in found["auth table"]
    async with open_auth(config, iterations=FAST_ITERATIONS) as auth:
        await auth.store.ensure_tables()
    found = lines(await run_doctor(config))
    assert found["auth table"] == f"OK {auth_table_name(config.users_table)} is ACTIVE (revoked sessions, audit)"
    assert all(not line.startswith("FAIL") for line in found.values()), found


# -- the tables, when DynamoDB is down or never answers ------------------------------------------

STORE_SECONDS = 2.0  # [auth].store_timeout_seconds in these tests
STORE_DOWN = {"kind": "error", "code": "ServiceUnavailable"}
STORE_HANGS = {"kind": "timeout", "seconds": STORE_SECONDS + 1.5}  # answers, but after the deadline


@pytest.fixture
def doctor_cli(clean_aws: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: Any) -> CliEnv:
    """Both tables and the secrets in place, only the base credentials' account, the
    default retries ([aws].max_attempts = 5) and a 2 s store deadline: a healthy
    doctor exits 0, so an exit code 1 is the tables' doing."""

    cli = make_cli_env(clean_aws, tmp_path, monkeypatch, capsys)
    data = clean_aws.config_dict()
    data["accounts"] = []
    data["auth"] = {"store_timeout_seconds": STORE_SECONDS}
    cli.config_path.write_text(dump_toml(data))
    return cli


def doctor_lines(out: str) -> dict[str, str]:
    lines = out.strip().splitlines()
    assert all(line.split()[0] in ("OK", "WARN", "FAIL") for line in lines), out
    return {line[6:].split(": ", 1)[0]: line for line in lines}


@pytest.mark.parametrize("fault", [STORE_DOWN, STORE_HANGS], ids=["503", "no-answer"])
def test_a_dead_store_fails_the_tables_within_the_store_deadline(
    clean_aws: Any, doctor_cli: CliEnv, fault: dict[str, Any]
) -> None:
    healthy = doctor_cli.run("doctor")
    assert healthy.code == EXIT_OK, healthy.out
    users, auth = doctor_cli.config.users_table, auth_table_name(doctor_cli.config.users_table)

    clean_aws.add_fault(account=HUB, service="dynamodb", **fault)
    started = time.monotonic()
    result = doctor_cli.run("doctor")
    elapsed = time.monotonic() - started

    # Within the store's deadline (both tables are read at once), not the fleet's five
    # adaptive attempts with 15 s reads; the rest of the doctor is quick on the embedded AWS.
    assert elapsed < STORE_SECONDS * 3, elapsed
    assert result.code == EXIT_PARTIAL, result.out
    assert result.err == ""
    found = doctor_lines(result.out)
    assert found["base credentials"].startswith("OK")
    for name, table in (("users table", users), ("auth table", auth)):
        line = found[name]
        prefix = f"FAIL  {name}: user store unreachable (DynamoDB {table}: DescribeTable: "
        assert line.startswith(prefix) and line.endswith("; try again when it is back"), line
        reason = line[len(prefix) :]
        if fault is STORE_DOWN:
            # Every attempt the store's plan allows was made, and no more.
            plan = RetryPlan.within(
                STORE_SECONDS,
                max_attempts=AwsSection().max_attempts,
                connect_timeout=AwsSection().connect_timeout_seconds,
                read_timeout=AwsSection().read_timeout_seconds,
            )
            assert 1 < plan.attempts < AwsSection().max_attempts
            assert reason.startswith(f"HTTP 503 ServiceUnavailable after {plan.attempts} attempts"), line
        else:
            assert reason.startswith(("timed out", f"no answer within {STORE_SECONDS:g} s")), line


def test_a_store_that_fails_once_is_retried(clean_aws: Any, doctor_cli: CliEnv) -> None:
    """The bounded client still retries: a 503 costs an attempt, not a FAIL."""

    clean_aws.add_fault(account=HUB, service="dynamodb", times=1, **STORE_DOWN)
    result = doctor_cli.run("doctor")
    assert result.code == EXIT_OK, result.out
    found = doctor_lines(result.out)
    assert found["users table"] == f"OK    users table: {doctor_cli.config.users_table} is ACTIVE (users)"
    assert found["auth table"].startswith("OK")
    assert [f["fired"] for f in clean_aws.faults()] == [1]
