"""Who HeartBeat is to STS, and who STS says an assumed role is."""

from __future__ import annotations

import getpass
import re
import socket
from typing import Any

from heartbeat_tui.aws.errors import BadResponse, WrongAccount
from heartbeat_tui.config import AccountConfig
from heartbeat_tui.partitions import partition_of_arn


def role_session_name() -> str:
    """`heartbeat-<user>@<host>`: recognisable in CloudTrail, within STS's rules."""

    try:
        user = getpass.getuser()
    except Exception:  # no passwd entry in some containers
        user = "unknown"
    host = socket.gethostname().split(".")[0]
    # STS allows [\w+=,.@-] in the ASCII sense only: "jürgen" would fail every AssumeRole.
    name = re.sub(r"[^\w+=,.@-]", "-", f"heartbeat-{user}@{host}", flags=re.ASCII)
    return name[:64]


_ASSUMED_ROLE_ARN = re.compile(r"^arn:([a-z][a-z0-9-]{0,62}):sts::(\d{12}):assumed-role/")


def check_assumed_role(account: AccountConfig, response: dict[str, Any]) -> None:
    """The role AssumeRole answered for is in the configured account and partition.

    The assumed role's ARN (`AssumedRoleUser.Arn`, part of every AssumeRole
    answer: no call is added) says where the credentials act. Credentials that
    act in another account (an endpoint answering for another one) would show
    that account's data under the configured, allow-listed id, so they are
    refused before any call uses them: the account is in error instead.
    """

    assert account.role_arn is not None
    arn = str((response.get("AssumedRoleUser") or {}).get("Arn") or "")
    match = _ASSUMED_ROLE_ARN.match(arn)
    if match is None:
        raise BadResponse("STS AssumeRole answered without an assumed-role ARN to check the account against")
    partition, account_id = match.groups()
    if account_id != account.id:
        raise WrongAccount(f"assumed role is in account {account_id}, not the configured {account.id}")
    expected = partition_of_arn(account.role_arn)
    if partition != expected:
        raise WrongAccount(f"assumed role is in partition {partition}, not {expected} (the configured role_arn's)")


def check_caller_identity(account: AccountConfig, response: dict[str, Any]) -> None:
    """The credentials of an account's profile act in the configured account
    (STS GetCallerIdentity's `Account`): a profile that leads elsewhere would
    show another account's data under this id, so the account is in error."""

    found = str(response.get("Account") or "")
    if not found:
        raise BadResponse("STS GetCallerIdentity answered without an Account to check")
    if found != account.id:
        raise WrongAccount(
            f"profile {account.profile}'s credentials are in account {found}, not the configured {account.id}"
        )


__all__ = ["check_assumed_role", "check_caller_identity", "role_session_name"]
