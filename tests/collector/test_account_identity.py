"""Accounts are who they say they are: an AssumeRole answered for another account
(or partition) than the configured one is an account error, and nothing is
read with its credentials (the embedded AWS's `wrong_account` fault rewrites
the answer's assumed-role ARN, over real HTTP)."""

from __future__ import annotations

from typing import Any

from heartbeat_tui.collector import Collector
from heartbeat_tui.doctor import run_doctor
from heartbeat_tui.models import AccountStatus
from tests.support.real_fleet import CHECKOUT, PAYMENTS, account, assert_kept, assert_whole, make_config

ROLE_ARN = "arn:aws:iam::{account}:role/HeartbeatReader"


def requests_in(aws: Any, account_id: str) -> dict[tuple[str, str], int]:
    """The requests the embedded AWS received acting in the account."""

    return {(r["service"], r["operation"]): r["count"] for r in aws.stats() if r["account"] == account_id}


async def test_a_role_answered_from_another_account_shows_nothing(aws: Any) -> None:
    aws.add_fault("wrong_account", account=CHECKOUT, code="999999999999")
    async with Collector(make_config(aws)) as collector:
        aws.reset_stats()
        wrong = await collector.poll()
        # One AssumeRole, as for any account: the check costs no call, and the
        # refused credentials made none.
        assert requests_in(aws, CHECKOUT) == {("sts", "AssumeRole"): 1}
        aws.clear_faults()
        right = await collector.poll()

    checkout = account(wrong, CHECKOUT)
    assert checkout.status is AccountStatus.ERROR
    assert checkout.error == (
        "STS AssumeRole: assumed role is in account 999999999999, not the configured 345678901234"
        f" (role {ROLE_ARN.format(account=CHECKOUT)})"
    )
    assert checkout.regions == () and checkout.last_success_at is None  # no data at all
    assert_whole(wrong, right, skip=(CHECKOUT,))  # every other account as usual

    recovered = account(right, CHECKOUT)
    assert recovered.status is AccountStatus.OK, recovered.error
    assert {c.name for r in recovered.regions for c in r.clusters} == {"checkout", "checkout-batch"}


async def test_another_partition_mid_session_keeps_only_the_right_accounts_data(aws: Any) -> None:
    """Renewed credentials for the same account id in another partition are
    refused as well; what was read before, from the right account, stays (stale)."""

    async with Collector(make_config(aws, aws={"max_attempts": 1})) as collector:
        good = await collector.poll()
        # The keys in hand stop working, and the role answers from aws-cn.
        aws.add_fault("expire_credentials", account=PAYMENTS)
        aws.add_fault("wrong_account", account=PAYMENTS, code=f"aws-cn:{PAYMENTS}")
        wrong = await collector.poll()
        aws.clear_faults()
        back = await collector.poll()

    payments = account(wrong, PAYMENTS)
    assert payments.status is AccountStatus.ERROR
    assert payments.error == (
        "STS AssumeRole: assumed role is in partition aws-cn, not aws (the configured role_arn's)"
        f" (role {ROLE_ARN.format(account=PAYMENTS)})"
    ), payments.error
    assert_kept(good, wrong, PAYMENTS)
    assert all(set(r.stale) == {"ecs", "metrics", "scaling"} for r in payments.regions)
    assert payments.last_success_at == account(good, PAYMENTS).last_success_at
    assert_whole(wrong, good, skip=(PAYMENTS,))
    assert account(back, PAYMENTS).status is AccountStatus.OK


async def test_doctor_fails_the_account(aws: Any) -> None:
    aws.add_fault("wrong_account", account=CHECKOUT)
    lines = [check.line() for check in await run_doctor(make_config(aws))]

    [failed] = [line for line in lines if line.startswith(f"FAIL  account {CHECKOUT} ")]
    assert failed == (
        f"FAIL  account {CHECKOUT} sts:AssumeRole: assumed role is in account 999999999999,"
        f" not the configured {CHECKOUT} (role {ROLE_ARN.format(account=CHECKOUT)})"
    )
    # Its region checks are not run with refused credentials; the other accounts pass.
    assert not [line for line in lines if line.startswith(f"OK    account {CHECKOUT} ")]
    assert f"OK    account {PAYMENTS} sts:AssumeRole: {ROLE_ARN.format(account=PAYMENTS)}" in lines
