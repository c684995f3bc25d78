"""An account whose every region fails with a very long AWS message: each region
keeps its reasons whole, and the account's one-line error stays bounded."""

from __future__ import annotations

from typing import Any

from heartbeat_tui.collector import Collector
from heartbeat_tui.models import AccountStatus
from heartbeat_tui.reasons import MAX_JOINED_REASON, MAX_REASON
from tests.support.real_fleet import PAYMENTS, account, assert_whole, make_config

# AWS answers with the code (and the message repeats it): about 3,000 characters each.
LONG_CODE = "AccessDeniedException" + "X" * 3000


async def test_the_joined_account_error_is_bounded_and_the_regions_keep_theirs(aws: Any) -> None:
    async with Collector(make_config(aws, aws={"max_attempts": 1})) as collector:
        good = await collector.poll()
        for service in ("ecs", "monitoring", "application-autoscaling"):
            aws.add_fault("error", account=PAYMENTS, service=service, code=LONG_CODE)
        bad = await collector.poll()
        aws.clear_faults()

    payments = account(bad, PAYMENTS)
    assert payments.status is AccountStatus.ERROR
    region_errors = [e for r in payments.regions for e in r.errors]
    assert len(payments.regions) == 2 and len(region_errors) >= 4, region_errors
    # Each region's reasons whole (up to the per-reason bound), the code to its end.
    assert all(LONG_CODE in e and len(e) <= MAX_REASON + 100 for e in region_errors), [len(e) for e in region_errors]
    # Joined they would be far longer; the account's error is bounded, says what was
    # cut, and keeps the start of every region's reason.
    assert sum(len(e) for e in region_errors) > MAX_JOINED_REASON
    error = payments.error or ""
    assert len(error) <= MAX_JOINED_REASON and "\n" not in error
    assert error.endswith(f" of {len(region_errors)} reasons]"), error[-120:]
    for reason in region_errors:
        assert reason[:60] in error
    assert_whole(bad, good, skip=(PAYMENTS,))
