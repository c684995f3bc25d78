"""Matrix 3: latency spikes of 3 s and read timeouts on one account. The others
are unaffected and on time (the per-account deadline); the slow account keeps
its last good data, marked stale, with the reason.

Scaled down: a 5 s account deadline (the smallest allowed) against 3 s spikes
on every call; a 0.5 s read timeout against 1.5 s hangs.
"""

from __future__ import annotations

import re
import time
from typing import Any

from heartbeat_tui.collector import Collector
from heartbeat_tui.models import AccountStatus
from heartbeat_tui.tui.view import account_badge
from tests.support.real_fleet import DATA, PAYMENTS, account, assert_kept, assert_whole, dashboard, make_config

DEADLINE = 5


async def test_a_slow_account_is_cut_at_its_deadline_and_the_others_are_on_time(aws: Any) -> None:
    config = make_config(aws, collector={"account_deadline_seconds": DEADLINE})
    async with Collector(config) as collector:
        good = await collector.poll()
        aws.add_fault("latency", account=PAYMENTS, seconds=3.0)
        started = time.monotonic()
        slow = await collector.poll()
        took = time.monotonic() - started
        aws.clear_faults()
        back = await collector.poll()

    # The poll ended at the deadline, not when payments-prod would have finished
    # (at least 4 round trips of 3 s); loose bound: the machine is shared.
    assert DEADLINE <= took < DEADLINE + 10
    payments = account(slow, PAYMENTS)
    assert payments.status is AccountStatus.ERROR
    assert payments.error == f"not answered within {DEADLINE} s (the last good data is shown)"
    # Its last good data is kept. What this poll read within the deadline (its
    # metrics and scaling reads do not wait for the inventory: one 3 s round
    # trip each) is shown fresh, and only the rest is marked stale.
    assert_kept(good, slow, PAYMENTS, metrics=False)
    for region in payments.regions:
        assert region.fetched_at is not None and region.fetched_at < slow.generated_at  # ECS: the last good poll's
        fresh = {
            kind
            for kind, fetched_at in (("metrics", region.metrics_fetched_at), ("scaling", region.scaling_fetched_at))
            if fetched_at == slow.generated_at
        }
        assert set(region.stale) == {"ecs", "metrics", "scaling"} - fresh, region.stale
        assert "ecs" in region.stale
    assert payments.stale_seconds(slow.generated_at) == (slow.generated_at - good.generated_at).total_seconds()
    # Everyone else: complete, fresh, from this very poll.
    assert_whole(slow, good, skip=(PAYMENTS,))

    assert account(back, PAYMENTS).status is AccountStatus.OK
    assert_whole(back, good)


async def test_read_timeouts_mark_only_what_timed_out_as_stale(aws: Any) -> None:
    config = make_config(aws, aws={"read_timeout_seconds": 0.5, "max_attempts": 2})
    async with Collector(config) as collector:
        good = await collector.poll()
        aws.add_fault("timeout", account=DATA, service="cloudwatch", seconds=1.5)
        hung = await collector.poll()
        aws.clear_faults()
        back = await collector.poll()

    data = account(hung, DATA)
    assert data.status is AccountStatus.ERROR
    for region in data.regions:
        assert region.stale == ("metrics",)
        assert region.errors == (f"{region.region} CloudWatch GetMetricData: timed out waiting for a response",)
        assert region.fetched_at == hung.generated_at  # ECS is fresh ...
        assert region.metrics_fetched_at == good.generated_at  # ... the metrics are the last good ones
    assert account_badge(data) == "stale"
    assert_kept(good, hung, DATA)
    assert_whole(hung, good, skip=(DATA,))
    assert account(back, DATA).status is AccountStatus.OK


async def test_dashboard_marks_the_slow_account_and_nothing_else(aws: Any) -> None:
    async with dashboard(aws, collector={"account_deadline_seconds": DEADLINE}) as board:
        before = {k for k, r in board.app.view.services.items() if r.account_id == PAYMENTS}
        aws.add_fault("latency", account=PAYMENTS, seconds=3.0)
        board.advance(120)  # the last good data will be two minutes old
        await board.poll()
        assert any(
            m.startswith(f"payments-prod went to error: not answered within {DEADLINE} s") for m in board.messages()
        )
        view = board.app.view
        assert view.accounts[PAYMENTS].badge == "error"
        assert {k for k, r in view.services.items() if r.account_id == PAYMENTS} == before
        assert all(r.stale for r in view.services.values() if r.account_id == PAYMENTS)
        assert not any(r.stale for r in view.services.values() if r.account_id != PAYMENTS)
        await board.select_account(PAYMENTS)
        text = board.text()
        assert re.search(r"payments-prod\s+error 2m", text), text
        assert f"payments-prod: error, last good data 2m old: not answered within {DEADLINE} s" in text
        assert "2 in error: payments-prod, 567890123456" in text  # the other: legacy-billing, never reached
