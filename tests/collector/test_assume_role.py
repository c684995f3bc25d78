"""Matrix 1: AssumeRole denied for one account, at start and mid-session."""

from __future__ import annotations

import asyncio
import re
from datetime import timedelta
from typing import Any

from heartbeat_tui.aws.access import AwsAccess
from heartbeat_tui.collector import Collector
from heartbeat_tui.models import AccountStatus, utcnow
from heartbeat_tui.tui.screens.account_error import AccountErrorScreen
from tests.support.real_fleet import (
    CHECKOUT,
    PAYMENTS,
    account,
    assert_kept,
    assert_whole,
    dashboard,
    in_thread,
    make_config,
)

ROLE_ARN = "arn:aws:iam::{account}:role/HeartbeatReader"
DENIED_REASON = (
    "STS AssumeRole: access denied (AccessDenied: User: arn:aws:sts::123456789012:assumed-role/HeartbeatHub/"
    "heartbeat is not authorized to perform: sts:AssumeRole on resource: " + ROLE_ARN + ")"
)


async def test_denied_at_start_then_granted(aws: Any) -> None:
    aws.add_fault("deny_assume_role", account=CHECKOUT)
    async with Collector(make_config(aws)) as collector:
        denied = await collector.poll()
        aws.clear_faults()
        granted = await collector.poll()

    checkout = account(denied, CHECKOUT)
    assert checkout.status is AccountStatus.ERROR
    # Where, what and which role: the operator can act on it.
    # The whole reason: AWS's message to its last character, the role ARN.
    assert checkout.error == DENIED_REASON.format(account=CHECKOUT)
    # Nothing to show yet, and it says so: never fetched, not "0 s old".
    assert checkout.regions == () and checkout.last_success_at is None
    assert checkout.stale_seconds(denied.generated_at) is None
    assert_whole(denied, granted, skip=(CHECKOUT,))

    # The next poll assumes the role again by itself.
    recovered = account(granted, CHECKOUT)
    assert recovered.status is AccountStatus.OK, recovered.error
    assert {c.name for r in recovered.regions for c in r.clusters} == {"checkout", "checkout-batch"}
    assert_whole(granted, granted)


async def test_denied_mid_session_keeps_the_last_good_data(aws: Any) -> None:
    async with Collector(make_config(aws, aws={"max_attempts": 1})) as collector:
        good = await collector.poll()
        # The role's trust is withdrawn and the keys in hand stop working.
        aws.add_fault("expire_credentials", account=PAYMENTS)
        aws.add_fault("deny_assume_role", account=PAYMENTS)
        first = await collector.poll()
        second = await collector.poll()
        aws.clear_faults()
        back = await collector.poll()

    for snapshot in (first, second):
        payments = account(snapshot, PAYMENTS)
        assert payments.status is AccountStatus.ERROR
        # The step that failed, once, with the role ARN whole, from the very first
        # poll: not the ECS call whose rejected keys made the role be assumed again.
        assert payments.error == DENIED_REASON.format(account=PAYMENTS), payments.error
        assert_kept(good, snapshot, PAYMENTS)
        assert all(set(r.stale) == {"ecs", "metrics", "scaling"} for r in payments.regions)
        assert payments.last_success_at == account(good, PAYMENTS).last_success_at
        age = payments.stale_seconds(snapshot.generated_at)
        assert age is not None and age == (snapshot.generated_at - good.generated_at).total_seconds()
        assert_whole(snapshot, good, skip=(PAYMENTS,))

    # Each region says what it could not fetch, and why.
    for region in account(first, PAYMENTS).regions:
        assert region.errors, region
        assert all(e.startswith(f"{region.region} STS AssumeRole: access denied") for e in region.errors)

    payments = account(back, PAYMENTS)
    assert payments.status is AccountStatus.OK, payments.error
    assert payments.last_success_at == back.generated_at
    assert_whole(back, good)


async def test_keys_due_in_the_middle_of_a_poll_blame_assume_role(aws: Any) -> None:
    """The assumed-role keys come due after the poll's own AssumeRole check, so
    botocore renews them lazily inside whichever call signs next; that renewal
    is refused. The account's reason is still the AssumeRole, role named."""

    offset = [timedelta(0)]
    config = make_config(aws, aws={"max_attempts": 1})
    access = AwsAccess(config, clock=lambda: utcnow() + offset[0])
    async with access, Collector(config, access=access) as collector:
        good = await collector.poll()
        aws.add_fault("deny_assume_role", account=PAYMENTS)
        # ListClusters of payments-prod is slow this time: while it is in flight,
        # 55 minutes pass for the credentials (their hour ends in 5: renewal due).
        slow = aws.add_fault("latency", account=PAYMENTS, operation="ListClusters", seconds=1.5)
        # A full listing, as on `r`: every later ECS call waits for ListClusters
        # (otherwise a later poll describes what it knows at once, beside it).
        collector.relist_next_poll()
        poll = asyncio.ensure_future(collector.poll())
        while not any(f["id"] == slow["id"] and f["fired"] for f in await in_thread(aws.faults)):
            await asyncio.sleep(0.05)
        offset[0] = timedelta(minutes=55)
        mid = await poll

    payments = account(mid, PAYMENTS)
    assert payments.status is AccountStatus.ERROR
    assert payments.error == DENIED_REASON.format(account=PAYMENTS), payments.error
    # The poll's own AssumeRole check passed: the failure came from inside a later call.
    failed = [e for r in payments.regions for e in r.errors]
    assert failed and all(" STS AssumeRole: access denied" in e for e in failed), failed
    assert all("ecs" in r.stale for r in payments.regions)
    assert_kept(good, mid, PAYMENTS, metrics=False)
    assert_whole(mid, good, skip=(PAYMENTS,))


async def test_dashboard_shows_denied_accounts_and_their_recovery(aws: Any) -> None:
    aws.add_fault("deny_assume_role", account=CHECKOUT)
    async with dashboard(aws, aws={"max_attempts": 1}) as board:
        view = board.app.view
        assert view.accounts[CHECKOUT].badge == "error"
        assert view.accounts[PAYMENTS].badge == "ok"
        await board.select_account(CHECKOUT)
        text = board.text()
        # Never reached, so no alias yet: it goes by its id.
        # The banner cuts the reason to its width but keeps its start and the role ARN whole.
        banner = next(line for line in text.splitlines() if f" {CHECKOUT}: error, never fetched: " in line)
        assert f"{CHECKOUT}: error, never fetched: STS AssumeRole: access" in banner, banner
        assert banner.rstrip().endswith(f"{ROLE_ARN.format(account=CHECKOUT)})"), banner
        assert f"2 in error: {CHECKOUT}, 567890123456" in text
        # `e`: the whole reason, every word of it, wrapped in its own view.
        await board.pilot.press("e")
        await board.pilot.pause()
        assert isinstance(board.app.screen, AccountErrorScreen)
        shown = " ".join(board.text().replace("│", " ").split())
        assert DENIED_REASON.format(account=CHECKOUT) in shown, shown
        await board.pilot.press("escape")
        await board.pilot.pause()
        assert not isinstance(board.app.screen, AccountErrorScreen)

        # Mid-session: payments-prod loses its role too.
        aws.add_fault("expire_credentials", account=PAYMENTS)
        aws.add_fault("deny_assume_role", account=PAYMENTS)
        before = {k: r.service for k, r in board.app.view.services.items() if r.account_id == PAYMENTS}
        await board.poll()
        assert any(m.startswith("payments-prod went to error:") and "AssumeRole" in m for m in board.messages())
        board.advance(5 * 60)  # five minutes later, still denied
        await board.poll()
        view = board.app.view
        payments = view.accounts[PAYMENTS]
        assert payments.badge == "error" and payments.stale_seconds is not None and payments.stale_seconds >= 300
        rows = {k: r for k, r in view.services.items() if r.account_id == PAYMENTS}
        # Every service is still listed, with its last good data, dimmed as stale.
        assert rows.keys() == before.keys() and all(r.stale for r in rows.values())
        assert all(rows[k].service.metrics == before[k].metrics for k in rows)
        await board.select_account(PAYMENTS)
        text = board.text()
        arn = re.escape(ROLE_ARN.format(account=PAYMENTS))
        assert re.search(rf"payments-prod: error, last good data 5m old: STS AssumeRole: access.*{arn}\)", text), text
        assert re.search(r"payments-prod\s+error 5m\s+147", text), (
            text
        )  # the accounts pane: badge, age, services (148 seeded, one being deleted)
        assert "payments-core" in text  # its clusters are still there

        aws.clear_faults()
        await board.poll()
        # checkout-staging was never reached before: now it is, with its alias.
        assert "recovered: payments-prod, checkout-staging" in board.messages()
        view = board.app.view
        assert view.accounts[PAYMENTS].badge == "ok" and view.accounts[CHECKOUT].badge == "ok"
        assert "1 in error: 567890123456" in board.text()
