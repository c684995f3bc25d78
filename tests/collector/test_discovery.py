"""Organizations discovery (`[discovery]`) against the embedded AWS over HTTP:
the demo fleet's organization (the hub manages it: OUs, tags), the filters, the
fewest calls, accounts that join, leave or are suspended (changed through
Organizations' own API), and a failing discovery (fault injection)."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from typing import Any

import boto3
import pytest

from heartbeat_tui.collector import Collector
from heartbeat_tui.collector.collector import DISCOVERY_ROW
from heartbeat_tui.collector.cost import DiscoveryShape, minimum_poll_calls
from heartbeat_tui.doctor import run_doctor
from heartbeat_tui.embedded import EmbeddedAWS
from heartbeat_tui.embedded.fleet import AccountSpec, ClusterSpec, FleetSpec, RegionSpec
from heartbeat_tui.embedded.shape import read_fleet_shape
from heartbeat_tui.models import AccountStatus, FleetSnapshot
from tests.support.real_fleet import CHECKOUT, DATA, DENIED_ACCOUNT, HUB, PAYMENTS, account, make_config

FLEET = FleetSpec.demo()
ROLE = "HeartbeatReader"


class Clock:
    """The collector's clock, moved by the test (AWS keeps the wall clock)."""

    def __init__(self) -> None:
        self.now = datetime.now(timezone.utc)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, minutes: float) -> None:
        self.now += timedelta(minutes=minutes)


def discovery_config(aws: Any, *, accounts: list[dict[str, Any]] | None = None, **discovery: Any) -> Any:
    """The hub from the file (base credentials), the rest discovered in us-east-1."""

    hub = next(a for a in aws.config_dict()["accounts"] if a["id"] == HUB)
    section = {"organizations": True, "role_name": ROLE, "regions": ["us-east-1"], **discovery}
    return make_config(aws, accounts=[hub] if accounts is None else accounts, discovery=section)


def ids(snapshot: FleetSnapshot) -> set[str]:
    return {a.id for a in snapshot.accounts}


def organizations(aws: Any) -> Any:
    """Organizations as the management account (the hub) sees it, with boto3."""

    creds = aws.credentials()
    return boto3.client(
        "organizations",
        region_name="us-east-1",
        endpoint_url=aws.endpoint_url,
        aws_access_key_id=creds["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=creds["AWS_SECRET_ACCESS_KEY"],
    )


async def test_the_demo_fleet_is_discovered_with_names_as_aliases(aws: Any) -> None:
    async with Collector(discovery_config(aws)) as collector:
        snapshot = await collector.poll()

    assert ids(snapshot) == {a.id for a in FLEET.accounts}
    for spec in FLEET.members:
        found = account(snapshot, spec.id)
        assert found.alias == spec.alias  # the account's name in the organization
        assert [r.region for r in found.regions] == ([] if spec.deny_assume_role else ["us-east-1"])
    payments = account(snapshot, PAYMENTS)
    assert payments.status is AccountStatus.OK
    assert {c.name for r in payments.regions for c in r.clusters} == {"payments-core", "payments-edge"}
    # The denied account is found, and in error like any account whose role is refused.
    assert "AssumeRole" in (account(snapshot, DENIED_ACCOUNT).error or "")
    assert DISCOVERY_ROW not in ids(snapshot)


async def test_an_entry_of_the_file_wins_over_the_discovered_one(aws: Any) -> None:
    hub, *_ = aws.config_dict()["accounts"]
    explicit = {
        "id": PAYMENTS,
        "role_arn": f"arn:aws:iam::{PAYMENTS}:role/{ROLE}",
        "alias": "pay",
        "regions": ["eu-west-1"],
    }
    async with Collector(discovery_config(aws, accounts=[hub, explicit])) as collector:
        snapshot = await collector.poll()

    [payments] = [a for a in snapshot.accounts if a.id == PAYMENTS]  # once, not twice
    assert payments.alias == "pay"
    assert [r.region for r in payments.regions] == ["eu-west-1"]
    assert {c.name for r in payments.regions for c in r.clusters} == {"payments-eu"}


async def test_filters_by_name_ou_and_tag_with_the_fewest_calls(aws: Any) -> None:
    config = discovery_config(
        aws, exclude_ous=["Legacy"], include_tags={"env": "prod"}, exclude_names=["data-*"], include_names=["*"]
    )
    shapes = dict(
        zip(
            [a.id for a in FLEET.accounts],
            read_fleet_shape(
                aws,
                FLEET,
                history=timedelta(minutes=config.file.collector.history_minutes),
                configured_aliases=frozenset({HUB}),
                discovered_regions=("us-east-1",),
            ),
        )
    )
    # The OU tree: the root holds the hub and two OUs; Workloads holds two OUs;
    # Production two accounts, Staging and Legacy one each. Tags are read for
    # the accounts the names and OUs keep (the file's hub needs none): checkout.
    organization = DiscoveryShape(accounts=5, parents=((2, 1), (2, 0), (0, 1), (0, 2), (0, 1)), tagged=2)
    expected = minimum_poll_calls([shapes[HUB], shapes[PAYMENTS]], discovery=organization)
    aws.reset_stats()
    async with Collector(config) as collector:
        snapshot = await collector.poll()
        report = collector.discovery.report if collector.discovery else None

    assert ids(snapshot) == {HUB, PAYMENTS}
    assert Counter(dict(snapshot.stats.calls)) == expected
    served = Counter({row["operation"]: row["count"] for row in aws.stats() if row["service"] == "organizations"})
    assert served == Counter({k.split(".")[1]: v for k, v in expected.items() if k.startswith("organizations.")})
    assert report is not None
    assert {a.id: a.skipped for a in report.found} == {
        HUB: None,  # the file's entry: its tags are not read
        PAYMENTS: None,
        CHECKOUT: "not in include_tags",
        DATA: "exclude_names 'data-*'",
        DENIED_ACCOUNT: "exclude_ous 'Legacy'",
    }
    assert {a.id: a.ou_path for a in report.found}[PAYMENTS] == "Workloads/Production"


async def test_a_failed_discovery_keeps_the_last_list_and_says_so(aws: Any) -> None:
    clock = Clock()
    async with Collector(discovery_config(aws, refresh_minutes=60), clock=clock) as collector:
        before = await collector.poll()
        aws.add_fault("error", service="organizations", code="AccessDeniedException")
        clock.advance(61)
        failed = await collector.poll()
        listed_at = f"{before.generated_at:%Y-%m-%d %H:%M}"
        aws.clear_faults()
        clock.advance(4)  # a failed refresh is tried again within five minutes, not at once
        waiting = await collector.poll()
        clock.advance(2)
        after = await collector.poll()

    row = account(failed, DISCOVERY_ROW)
    assert row.status is AccountStatus.ERROR
    assert row.error == (
        "Organizations ListAccounts: access denied (AccessDeniedException: Injected AccessDeniedException"
        f" (embedded AWS fault).) (keeping the 5 account(s) listed at {listed_at} UTC)"
    )
    # Every account of the last list is still polled, as before.
    assert ids(failed) - {DISCOVERY_ROW} == ids(before)
    assert all(account(failed, a).status is account(before, a).status for a in ids(before))
    assert DISCOVERY_ROW in ids(waiting)
    assert ids(after) == ids(before)


async def test_a_discovery_that_never_worked_polls_the_file_s_accounts(aws: Any) -> None:
    aws.add_fault("error", service="organizations", code="AccessDeniedException")
    async with Collector(discovery_config(aws)) as collector:
        snapshot = await collector.poll()

    assert ids(snapshot) == {HUB, DISCOVERY_ROW}
    assert (account(snapshot, DISCOVERY_ROW).error or "").endswith(
        "(no list yet: only the [[accounts]] of the file are polled)"
    )
    assert account(snapshot, HUB).status is AccountStatus.OK


async def test_doctor_shows_what_discovery_found(aws: Any) -> None:
    lines = [check.line() for check in await run_doctor(discovery_config(aws, exclude_ous=["Legacy"]))]

    [summary] = [line for line in lines if line.startswith(("OK    discovery:", "FAIL  discovery:"))]
    assert re.fullmatch(
        r"OK    discovery: 5 account\(s\) listed at \d{4}-\d\d-\d\d \d\d:\d\d UTC, 4 kept"
        r" \(3 added to the \[\[accounts\]\] of the file\)",
        summary,
    ), summary
    assert f"OK    discovered {PAYMENTS} (payments-prod): ACTIVE, OU Workloads/Production: polled" in lines
    assert (
        f"OK    discovered {DENIED_ACCOUNT} (legacy-billing): ACTIVE, OU Legacy: skipped (exclude_ous 'Legacy')"
        in lines
    )
    assert (
        f"OK    discovered {HUB} (shared-services): ACTIVE, OU (root): in [[accounts]] (the file's entry wins)" in lines
    )
    # The discovered accounts are checked like the file's.
    assert f"OK    account {CHECKOUT} (checkout-staging) sts:AssumeRole: arn:aws:iam::{CHECKOUT}:role/{ROLE}" in lines
    assert not [line for line in lines if line.startswith(f"OK    account {DENIED_ACCOUNT}")]


async def test_doctor_says_when_discovery_fails(aws: Any) -> None:
    aws.add_fault("error", service="organizations", code="AccessDeniedException")
    lines = [check.line() for check in await run_doctor(discovery_config(aws))]

    assert (
        "FAIL  discovery: Organizations ListAccounts: access denied (AccessDeniedException: Injected"
        " AccessDeniedException (embedded AWS fault).) (no list yet: only the [[accounts]] of the file are polled)"
    ) in lines
    assert not [line for line in lines if line.startswith("OK    discovered ")]
    assert f"OK    account {HUB} (shared-services) us-west-2 ecs:ListClusters: readable" in lines


# -- accounts that join, leave, or are suspended: an organization of its own ----------------------

ALPHA, BETA = "111111111111", "222222222222"


def _one_service(account_id: str, alias: str, ou: str) -> AccountSpec:
    region = RegionSpec(region="us-east-1", clusters=(ClusterSpec(name=alias, services=(f"{alias}-api",)),))
    return AccountSpec(id=account_id, alias=alias, regions=(region,), ou=ou)


@pytest.fixture(scope="module")
def org_aws() -> Iterator[EmbeddedAWS]:
    """A small fleet whose organization the tests change (the shared one stays as seeded)."""

    spec = FleetSpec(
        accounts=(
            _one_service(HUB, "hub", ""),
            _one_service(ALPHA, "alpha", "Apps"),
            _one_service(BETA, "beta", "Apps"),
        ),
        history_minutes=20,
    )
    aws = EmbeddedAWS(spec, paused=True)
    aws.start()
    try:
        yield aws
    finally:
        aws.stop()


async def test_joined_left_and_suspended_accounts_change_at_the_next_refresh(org_aws: EmbeddedAWS) -> None:
    clock = Clock()
    org = organizations(org_aws)
    async with Collector(discovery_config(org_aws, refresh_minutes=60), clock=clock) as collector:
        first = await collector.poll()
        joined = org.create_account(AccountName="gamma", Email="gamma@example.com")["CreateAccountStatus"]["AccountId"]
        org.remove_account_from_organization(AccountId=BETA)
        org.close_account(AccountId=ALPHA)
        clock.advance(59)
        unchanged = await collector.poll()
        clock.advance(2)
        refreshed = await collector.poll()
        report = collector.discovery.report if collector.discovery else None

    assert ids(first) == {HUB, ALPHA, BETA}
    assert account(first, ALPHA).alias == "alpha"
    assert ids(unchanged) == {HUB, ALPHA, BETA}  # not due yet: the list of the first poll
    assert ids(refreshed) == {HUB, joined}
    gamma = account(refreshed, joined)
    assert gamma.alias == "gamma" and gamma.status is AccountStatus.OK, gamma.error
    assert report is not None
    assert {a.id: (a.status, a.skipped) for a in report.found}[ALPHA] == ("SUSPENDED", "SUSPENDED")
    assert BETA not in {a.id for a in report.found}


async def test_the_organization_is_read_through_the_management_role(aws: Any) -> None:
    management = f"arn:aws:iam::{HUB}:role/OrganizationReader"
    config = discovery_config(aws, role_arn=management)
    aws.reset_stats()
    async with Collector(config) as collector:
        snapshot = await collector.poll()
    aws.add_fault("deny_assume_role", account=HUB)
    async with Collector(config) as collector:
        denied = await collector.poll()

    calls = dict(snapshot.stats.calls)
    assert calls["organizations.ListAccounts"] == 1
    # One AssumeRole for the management role, one per discovered account.
    assert calls["sts.AssumeRole"] == 1 + len(FLEET.members)
    assert ids(snapshot) == {a.id for a in FLEET.accounts}
    assert ids(denied) == {HUB, DISCOVERY_ROW}
    assert account(denied, DISCOVERY_ROW).error == (
        "Organizations discovery: access denied (AccessDenied: User: arn:aws:sts::123456789012:assumed-role/"
        f"HeartbeatHub/heartbeat is not authorized to perform: sts:AssumeRole on resource: {management})"
        " (no list yet: only the [[accounts]] of the file are polled)"
    )
