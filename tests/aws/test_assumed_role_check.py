"""AssumeRole answers are checked against the configured account and partition
before their credentials are used (the shapes an endpoint could answer with;
the whole path over HTTP is in tests/collector/test_account_identity.py)."""

from __future__ import annotations

from typing import Any

import pytest

from heartbeat_tui.aws.errors import AssumeRoleFailed, BadResponse, WrongAccount, describe_error
from heartbeat_tui.aws.identity import check_assumed_role
from heartbeat_tui.config import AccountConfig

ROLE = "arn:aws-cn:iam::210987654321:role/HeartbeatReader"
ACCOUNT = AccountConfig(id="210987654321", role_arn=ROLE)


def answer(arn: Any) -> dict[str, Any]:
    return {"AssumedRoleUser": {"AssumedRoleId": "AROAEXAMPLE:heartbeat", "Arn": arn}}


def test_the_configured_account_and_partition_pass() -> None:
    check_assumed_role(ACCOUNT, answer("arn:aws-cn:sts::210987654321:assumed-role/HeartbeatReader/heartbeat"))


@pytest.mark.parametrize(
    ("arn", "reason"),
    [
        (
            "arn:aws-cn:sts::999999999999:assumed-role/HeartbeatReader/heartbeat",
            "assumed role is in account 999999999999, not the configured 210987654321",
        ),
        (
            "arn:aws:sts::210987654321:assumed-role/HeartbeatReader/heartbeat",
            "assumed role is in partition aws, not aws-cn (the configured role_arn's)",
        ),
    ],
)
def test_another_account_or_partition_is_refused(arn: str, reason: str) -> None:
    with pytest.raises(WrongAccount) as caught:
        check_assumed_role(ACCOUNT, answer(arn))
    assert str(caught.value) == reason
    # As the collector and doctor word it: the reason, then the role.
    assert describe_error(AssumeRoleFailed(ROLE, caught.value)) == f"{reason} (role {ROLE})"


@pytest.mark.parametrize(
    "response",
    [
        {},
        answer(None),
        answer("arn:aws-cn:iam::210987654321:role/HeartbeatReader"),  # a role, not an assumed role
        answer("arn:aws-cn:sts::210987654321\n[red]spoofed[/]:assumed-role/x/y"),
    ],
)
def test_an_answer_without_a_checkable_arn_is_refused_without_quoting_it(response: dict[str, Any]) -> None:
    with pytest.raises(BadResponse) as caught:
        check_assumed_role(ACCOUNT, response)
    assert str(caught.value) == "STS AssumeRole answered without an assumed-role ARN to check the account against"
