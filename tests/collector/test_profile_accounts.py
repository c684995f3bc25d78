"""Accounts reached through an AWS profile (`profile = "NAME"` instead of
`role_arn`), against the embedded AWS over HTTP: botocore's own credential
chain reads a temporary AWS config file (static keys, a role chain with
source_profile, an SSO profile whose cached token has expired), and STS
GetCallerIdentity proves each profile's account."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from heartbeat_tui.aws.access import AwsAccess
from heartbeat_tui.collector import Collector
from heartbeat_tui.doctor import run_doctor
from heartbeat_tui.errors import ConfigError
from heartbeat_tui.models import AccountStatus
from tests.support.aws_profiles import SSO_START_URL, assumed_keys, role_arn, write_aws_files, write_sso_token
from tests.support.real_fleet import CHECKOUT, DATA, HUB, PAYMENTS, account, make_config


def requests_in(aws: Any, account_id: str) -> dict[tuple[str, str], int]:
    return {(r["service"], r["operation"]): r["count"] for r in aws.stats() if r["account"] == account_id}


@pytest.fixture
def profiles(aws: Any, isolated_environment: Path, monkeypatch: pytest.MonkeyPatch) -> Any:
    """payments-keys: static keys acting in PAYMENTS; checkout-chain: a role chain
    into CHECKOUT from the hub's keys; data-sso: an SSO profile whose token has expired."""

    monkeypatch.setenv("HOME", str(isolated_environment))  # where botocore looks for the SSO cache
    hub = aws.credentials()
    write_aws_files(
        {
            "payments-keys": {"region": "us-east-1"},
            "hub-keys": {"region": "us-east-1", "endpoint_url": aws.endpoint_url},
            "checkout-chain": {
                "role_arn": role_arn(CHECKOUT),
                "source_profile": "hub-keys",
                "region": "us-east-1",
                # The STS client of botocore's role chain is botocore's own: it reads the endpoint here.
                "endpoint_url": aws.endpoint_url,
            },
            # Credentials that live 15 minutes: inside botocore's early-refresh window
            # from the start, so botocore renews them at every use.
            "checkout-short": {
                "role_arn": role_arn(CHECKOUT),
                "source_profile": "hub-keys",
                "duration_seconds": "900",
                "region": "us-east-1",
                "endpoint_url": aws.endpoint_url,
            },
            "data-sso": {
                "sso_start_url": SSO_START_URL,
                "sso_region": "us-east-1",
                "sso_account_id": DATA,
                "sso_role_name": "HeartbeatReader",
                "region": "us-east-1",
            },
        },
        {
            "payments-keys": assumed_keys(aws, PAYMENTS),
            "hub-keys": {
                "aws_access_key_id": hub["AWS_ACCESS_KEY_ID"],
                "aws_secret_access_key": hub["AWS_SECRET_ACCESS_KEY"],
            },
        },
    )
    write_sso_token(isolated_environment, expires_at="2020-01-01T00:00:00Z")
    return aws


def profile_config(aws: Any, *entries: dict[str, Any]) -> Any:
    """The hub (base credentials) and the given profile accounts."""

    hub = next(a for a in aws.config_dict()["accounts"] if a["id"] == HUB)
    return make_config(aws, accounts=[hub, *entries])


PAYMENTS_BY_KEYS = {"id": PAYMENTS, "profile": "payments-keys", "regions": ["us-east-1", "eu-west-1"]}
CHECKOUT_BY_CHAIN = {"id": CHECKOUT, "profile": "checkout-chain", "regions": ["us-east-1"]}


async def test_profile_accounts_read_as_role_accounts_do(profiles: Any) -> None:
    async with Collector(make_config(profiles)) as collector:
        by_role = await collector.poll()
    config = profile_config(profiles, PAYMENTS_BY_KEYS, CHECKOUT_BY_CHAIN)
    async with Collector(config) as collector:
        profiles.reset_stats()
        first = await collector.poll()
        proven = {a: requests_in(profiles, a).get(("sts", "GetCallerIdentity"), 0) for a in (PAYMENTS, CHECKOUT)}
        profiles.reset_stats()
        second = await collector.poll()
        again = {a: requests_in(profiles, a).get(("sts", "GetCallerIdentity"), 0) for a in (PAYMENTS, CHECKOUT)}

    for account_id in (PAYMENTS, CHECKOUT):
        got, want = account(first, account_id), account(by_role, account_id)
        assert got.status is AccountStatus.OK, got.error
        assert got.alias == want.alias  # read with the profile's credentials (ListAccountAliases)
        assert [s.arn for _, _, s in got.services()] == [s.arn for _, _, s in want.services()]
        assert account(second, account_id).status is AccountStatus.OK
    # Each profile proved its account once; the same credentials are not proved again.
    assert proven == {PAYMENTS: 1, CHECKOUT: 1}
    assert again == {PAYMENTS: 0, CHECKOUT: 0}
    assert dict(first.stats.calls)["sts.GetCallerIdentity"] == 3  # the hub's base credentials, and one per profile
    assert "sts.GetCallerIdentity" not in dict(second.stats.calls)


async def test_renewed_credentials_are_proved_again(profiles: Any) -> None:
    config = profile_config(profiles, {"id": CHECKOUT, "profile": "checkout-short", "regions": ["us-east-1"]})
    seen = []
    async with Collector(config) as collector:
        for _ in range(2):
            profiles.reset_stats()
            snapshot = await collector.poll()
            assert account(snapshot, CHECKOUT).status is AccountStatus.OK
            seen.append(requests_in(profiles, CHECKOUT))

    # botocore assumed the role again (new keys) and each new set was proved once.
    for requests in seen:
        assert requests[("sts", "GetCallerIdentity")] == 1
        assert requests[("sts", "AssumeRole")] >= 1


async def test_a_profile_of_another_account_shows_nothing(profiles: Any) -> None:
    config = profile_config(profiles, {"id": CHECKOUT, "profile": "payments-keys", "regions": ["us-east-1"]})
    async with Collector(config) as collector:
        profiles.reset_stats()
        snapshot = await collector.poll()

    wrong = account(snapshot, CHECKOUT)
    assert wrong.status is AccountStatus.ERROR
    assert wrong.error == (
        f"STS GetCallerIdentity: profile payments-keys's credentials are in account {PAYMENTS},"
        f" not the configured {CHECKOUT}"
    )
    assert wrong.regions == () and wrong.last_success_at is None
    # Nothing was read with those credentials but the check itself.
    assert requests_in(profiles, PAYMENTS) == {("sts", "GetCallerIdentity"): 1}
    assert account(snapshot, HUB).status is AccountStatus.OK


async def test_an_expired_sso_token_says_to_log_in_and_the_others_carry_on(profiles: Any) -> None:
    config = profile_config(
        profiles, PAYMENTS_BY_KEYS, {"id": DATA, "profile": "data-sso", "regions": ["us-east-1", "us-west-2"]}
    )
    async with Collector(config) as collector:
        profiles.reset_stats()
        snapshot = await collector.poll()

    sso = account(snapshot, DATA)
    assert sso.status is AccountStatus.ERROR
    assert sso.error == "profile data-sso: SSO session expired or not logged in: run `aws sso login --profile data-sso`"
    assert sso.regions == ()
    assert requests_in(profiles, DATA) == {}  # botocore stopped before any call
    assert account(snapshot, PAYMENTS).status is AccountStatus.OK
    assert account(snapshot, HUB).status is AccountStatus.OK


async def test_doctor_proves_each_profile(profiles: Any) -> None:
    config = profile_config(
        profiles,
        PAYMENTS_BY_KEYS,
        {"id": CHECKOUT, "profile": "payments-keys", "regions": ["us-east-1"]},
        {"id": DATA, "profile": "data-sso", "regions": ["us-east-1"]},
    )
    lines = [check.line() for check in await run_doctor(config)]

    assert f"OK    account {PAYMENTS} sts:GetCallerIdentity: profile payments-keys, account {PAYMENTS}" in lines
    assert (
        f"FAIL  account {CHECKOUT} sts:GetCallerIdentity: profile payments-keys's credentials are in account"
        f" {PAYMENTS}, not the configured {CHECKOUT}"
    ) in lines
    assert (
        f"FAIL  account {DATA} sts:GetCallerIdentity: SSO session expired or not logged in:"
        " run `aws sso login --profile data-sso`"
    ) in lines
    # No region is checked with credentials that failed their proof.
    assert not [line for line in lines if line.startswith((f"OK    account {CHECKOUT} ", f"OK    account {DATA} "))]
    assert f"OK    account {PAYMENTS} us-east-1 ecs:ListClusters: readable" in lines


def test_an_unknown_profile_is_a_configuration_error(profiles: Any) -> None:
    config = profile_config(profiles, {"id": PAYMENTS, "profile": "payments-typo"})
    with pytest.raises(ConfigError) as raised:
        AwsAccess(config)
    assert str(raised.value) == (
        "test: accounts[1].profile: no AWS profile named 'payments-typo' in the AWS config files"
    )
    assert raised.value.exit_code == 2
