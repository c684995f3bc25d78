"""Matrix 1: AssumeRole denied for one account, at start and mid-session."""

from __future__ import annotations

import re
from typing import Any

from heartbeat_tui.collector import Collector
from heartbeat_tui.models import AccountStatus

from .conftest import CHECKOUT, PAYMENTS, account, assert_kept, assert_whole, dashboard, make_config


async def test_denied_at_start_then_granted(aws: Any) -> None:
    aws.add_fault("deny_assume_role", account=CHECKOUT)
    async with Collector(make_config(aws)) as collector:
        denied = await collector.poll()
        aws.clear_faults()
        granted = await collector.poll()

    checkout = account(denied, CHECKOUT)
    assert checkout.status is AccountStatus.ERROR
    # Where, what and which role: the operator can act on it.
    assert checkout.error is not None and checkout.error.startswith("STS AssumeRole: access denied (AccessDenied")
    assert "sts:AssumeRole on resource: arn:aws:iam::345678901234:role/" in checkout.error
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
        assert "AssumeRole" in (payments.error or "") and "access denied" in (payments.error or "")
        assert "unexpected" not in (payments.error or "")
        assert_kept(good, snapshot, PAYMENTS)
        assert all(set(r.stale) == {"ecs", "metrics", "scaling"} for r in payments.regions)
        assert payments.last_success_at == account(good, PAYMENTS).last_success_at
        age = payments.stale_seconds(snapshot.generated_at)
        assert age is not None and age == (snapshot.generated_at - good.generated_at).total_seconds()
        assert_whole(snapshot, good, skip=(PAYMENTS,))
    # From the second poll on, the reason is the AssumeRole itself.
    assert (account(second, PAYMENTS).error or "").startswith("STS AssumeRole: access denied")

    payments = account(back, PAYMENTS)
    assert payments.status is AccountStatus.OK, payments.error
    assert payments.last_success_at == back.generated_at
    assert_whole(back, good)


async def test_dashboard_shows_denied_accounts_and_their_recovery(aws: Any) -> None:
    aws.add_fault("deny_assume_role", account=CHECKOUT)
    async with dashboard(aws, aws={"max_attempts": 1}) as board:
        view = board.app.view
        assert view.accounts[CHECKOUT].badge == "error"
        assert view.accounts[PAYMENTS].badge == "ok"
        await board.select_account(CHECKOUT)
        text = board.text()
        # Never reached, so no alias yet: it goes by its id.
        assert f"{CHECKOUT}: error, never fetched: STS AssumeRole: access denied" in text
        assert f"2 in error: {CHECKOUT}, 567890123456" in text

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
        assert re.search(r"payments-prod: error, last good data 5m old: STS AssumeRole: access denied", text), text
        assert re.search(r"payments-prod\s+error 5m\s+148", text), text  # the accounts pane: badge, age, services
        assert "payments-core" in text  # its clusters are still there

        aws.clear_faults()
        await board.poll()
        # checkout-staging was never reached before: now it is, with its alias.
        assert "recovered: payments-prod, checkout-staging" in board.messages()
        view = board.app.view
        assert view.accounts[PAYMENTS].badge == "ok" and view.accounts[CHECKOUT].badge == "ok"
        assert "1 in error: 567890123456" in board.text()
