"""`heartbeat logs` is role-scoped like `heartbeat snapshot`: a `user` reads the
logs of its allowed accounts only, and asking for another one calls no AWS
API in it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.support.auth import PASSWORD
from tests.support.configs import PAYMENTS

from .cli_support import CliEnv, make_cli_env

STAGING = "345678901234"


@pytest.fixture
def cli(clean_aws: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: Any) -> CliEnv:
    return make_cli_env(clean_aws, tmp_path, monkeypatch, capsys)


def test_a_user_reads_only_the_logs_of_its_accounts(cli: CliEnv) -> None:
    cli.create("bob", "user", PASSWORD, STAGING)
    cli.login("bob", PASSWORD)
    cli.aws.reset_stats()
    for account in (PAYMENTS, "payments-prod"):
        result = cli.run("logs", "--account", account, "--cluster", "payments-core", "--service", "payments-api")
        assert result.code == 2, result.err
        assert result.err.strip() == f"heartbeat: no account matches --account '{account}'"
    touched = {row["account"] for row in cli.aws.stats() if row["service"] not in ("sts", "dynamodb")}
    assert PAYMENTS not in touched
    # Its own account is read (a service that does not exist there: exit 2, after looking).
    result = cli.run("logs", "--account", STAGING, "--cluster", "payments-core", "--service", "payments-api")
    assert result.code == 2 and "no service 'payments-api'" in result.err
    assert {row["account"] for row in cli.aws.stats() if row["service"] == "ecs"} == {STAGING}
