"""Matrix 2: ThrottlingException on half of the ECS and CloudWatch calls of every
account, for a sustained stretch.

Scaled down in time: two polls of throttling instead of minutes, 3 attempts per
call instead of 5 (botocore's backoff, up to 1 s then 2 s, is not configurable)
and a 5 s account deadline, which cuts some polls in the middle of their
retries. That cut is what used to break an account for good: with botocore's
"adaptive" retry mode, a request cancelled while waiting in the client-side
token bucket deadlocked it, and the account missed its deadline in every poll
after the throttling had stopped. Hence the checks that every account is whole
again right after, and that no task outlives its poll.
"""

from __future__ import annotations

import asyncio
import re
from typing import Any

from heartbeat_tui.models import AccountStatus, FleetSnapshot
from tests.support.real_fleet import HEALTHY, account, assert_kept, assert_whole, dashboard, make_config

STRETCH = 2  # polls under throttling
ATTEMPTS = 3  # [aws].max_attempts
DEADLINE = 5  # [collector].account_deadline_seconds
SETTINGS = {"aws": {"max_attempts": ATTEMPTS}, "collector": {"account_deadline_seconds": DEADLINE}}


def throttle_half(aws: Any) -> None:
    aws.add_fault("throttle", service="ecs", rate=0.5)
    aws.add_fault("throttle", service="cloudwatch", rate=0.5)


def faulted(aws: Any) -> int:
    return sum(row["faulted"] for row in aws.stats() if row["service"] in ("ecs", "monitoring"))


def check_throttled_poll(snapshot: FleetSnapshot, good: FleetSnapshot) -> None:
    """Data for every account; retries bounded; an account is in error only when
    a call ran out of attempts, and then it says so and keeps its data."""

    calls = snapshot.stats.total_calls
    # At most ATTEMPTS requests per call. (A call can make none: the adaptive
    # rate limiter held it back until its account's deadline cancelled it.)
    assert 0 < snapshot.stats.http_requests <= calls * ATTEMPTS
    for account_id in HEALTHY:
        got = account(snapshot, account_id)
        if got.status is AccountStatus.OK:
            assert got.last_success_at == snapshot.generated_at
        else:
            assert got.error is not None
            # Out of attempts (ThrottlingException from ECS, Throttling from CloudWatch's
            # query-compatible code), or cut at the deadline while retrying. A lean call's
            # refused attempt (aws/lean.py) can come before botocore's ATTEMPTS, and counts.
            assert (
                re.search(
                    rf"(ECS|CloudWatch) \w+: throttled by AWS after [1-{ATTEMPTS + 1}] attempts \(Throttling",
                    got.error,
                )
                or got.error == f"not answered within {DEADLINE} s (the last good data is shown)"
            ), got.error
        # Fresh or kept, every service is there.
        assert_kept(good, snapshot, account_id, metrics=False)


async def test_half_the_calls_throttled_for_a_stretch(aws: Any) -> None:
    from heartbeat_tui.collector import Collector

    async with Collector(make_config(aws, **SETTINGS)) as collector:
        good = await collector.poll()
        aws.reset_stats()
        throttle_half(aws)
        stretch = [await collector.poll() for _ in range(STRETCH)]
        thrown = faulted(aws)
        aws.clear_faults()
        after = await collector.poll()
        assert asyncio.all_tasks() == {asyncio.current_task()}, "a task outlived its poll"
        again = await collector.poll()
        third = await collector.poll()

    assert thrown > 0, "the fault fired"
    retried = 0
    for snapshot in stretch:
        check_throttled_poll(snapshot, good)
        retried += snapshot.stats.http_requests - snapshot.stats.total_calls
    # Throttled requests were retried, not given up at once. (Not all of them: a
    # call's last attempt is not, nor are the calls cancelled when their account
    # passed its deadline while the adaptive rate limiter held them back, which
    # depends on the machine's load.)
    assert retried > 0
    # The next poll keeps every account's data; an account whose calls the
    # adaptive rate limiter still holds back (it recovers its rate gradually,
    # not within this test's 5 s deadline) may take one more poll to be whole.
    for account_id in HEALTHY:
        assert_kept(good, after, account_id, metrics=False)
    assert_whole(again, good)
    assert_whole(third, good)
    assert third.stats.duration_seconds < DEADLINE


async def test_dashboard_under_throttling(aws: Any) -> None:
    async with dashboard(aws, **SETTINGS) as board:
        good = board.app.snapshot
        throttle_half(aws)
        for _ in range(1):
            await board.poll()
            check_throttled_poll(board.app.snapshot, good)
            view = board.app.view
            # Never a failed poll, never a blank: every account keeps its rows.
            assert board.app.last_poll_error is None
            assert "Poll failed" not in board.text()
            for account_id in HEALTHY:
                row = view.accounts[account_id]
                assert row.services == sum(1 for _ in account(good, account_id).services())
                if row.badge != "ok":
                    assert "throttled by AWS" in (row.reason or "") or "not answered within" in (row.reason or "")
        aws.clear_faults()
        await board.poll()
        assert all(board.app.view.accounts[a].badge == "ok" for a in HEALTHY)
        assert "1 in error" in board.text()  # only legacy-billing, whose trust policy refuses the hub
