"""Matrix 4: assumed credentials expiring mid-session (revoked, a clock jump, a
laptop suspended past the expiry): recovered by assuming the role again, in the
same poll, with no lasting error."""

from __future__ import annotations

import asyncio
from typing import Any

from heartbeat_tui.collector import Collector
from tests.support.real_fleet import MEMBERS, PAYMENTS, assert_whole, dashboard, in_thread, make_config


def assume_role_calls(aws: Any) -> dict[str, int]:
    counts = dict.fromkeys(MEMBERS, 0)
    for row in aws.stats():
        if row["operation"] == "AssumeRole" and row["account"] in counts:
            counts[row["account"]] += row["count"]
    return counts


async def test_every_members_credentials_expire_between_polls(aws: Any) -> None:
    async with Collector(make_config(aws)) as collector:
        good = await collector.poll()
        aws.reset_stats()
        aws.add_fault("expire_credentials")  # every key issued so far, every account
        renewed = await collector.poll()
        assert assume_role_calls(aws) == dict.fromkeys(MEMBERS, 1)  # once per account, not per call
        later = [await collector.poll() for _ in range(2)]
        assert assume_role_calls(aws) == dict.fromkeys(MEMBERS, 1)  # and the new keys are kept
    for snapshot in (renewed, *later):
        assert_whole(snapshot, good)
        assert snapshot.stats.http_requests > 0


async def test_credentials_expire_in_the_middle_of_a_poll(aws: Any) -> None:
    async with Collector(make_config(aws)) as collector:
        good = await collector.poll()
        # Slow the poll down so that the keys expire while it runs (a warm poll
        # describes everything at once: three rounds of ECS calls, 3 s). The keys
        # expire during the first round: on a loaded machine, adding the fault
        # once took past the start of the last round of 0.5 s ones (no call left
        # to find the keys expired).
        aws.add_fault("latency", account=PAYMENTS, service="ecs", seconds=1.0)
        aws.reset_stats()
        poll = asyncio.ensure_future(collector.poll())
        await asyncio.sleep(0.5)
        assert not poll.done()
        await in_thread(aws.add_fault, "expire_credentials", account=PAYMENTS)
        during = await poll
        assert assume_role_calls(aws)[PAYMENTS] == 1  # assumed again, mid-poll
        after = await collector.poll()
    assert_whole(during, good)
    assert_whole(after, good)


async def test_dashboard_never_shows_an_error_for_renewed_credentials(aws: Any) -> None:
    async with dashboard(aws) as board:
        aws.add_fault("expire_credentials")
        for _ in range(2):
            await board.poll()
        view = board.app.view
        assert all(view.accounts[a].badge == "ok" for a in MEMBERS)
        assert not any("went to error" in m for m in board.messages())
        assert "1 in error" in board.text()  # legacy-billing alone, as always
