"""Matrix 7 (the Pilot half): the terminal resized rapidly, while polls run and
accounts fail. The real terminal (SIGWINCH storms, the SSH session dropping)
is driven in tests/tui/test_demo_pty.py."""

from __future__ import annotations

import random
from typing import Any

from heartbeat_tui.tui.widgets.service_table import ServiceTable
from tests.support.real_fleet import PAYMENTS, dashboard

SIZES = [(80, 24), (200, 60), (40, 12), (120, 40), (81, 25), (20, 5), (160, 50), (100, 30)]


async def test_rapid_resizes_while_polling_and_failing(aws: Any) -> None:
    rng = random.Random(5)
    async with dashboard(aws, size=(120, 40), aws={"max_attempts": 1}) as board:
        app, pilot = board.app, board.pilot
        await board.select_account(PAYMENTS)
        await pilot.press("enter")  # into the clusters pane
        # A poll that takes a while, and an account that fails in it.
        aws.add_fault("latency", account=PAYMENTS, service="ecs", seconds=0.05)
        aws.add_fault("error", account=PAYMENTS, service="cloudwatch", code="InternalFailure")
        applied = app.polls_applied
        app.start_poll()
        for n in range(20):
            await pilot.resize_terminal(*rng.choice(SIZES))
            if n == 10:
                await pilot.press("f")  # the fleet-wide table, mid-storm
        assert app.is_running and app.crash_reason is None
        # The storm did not stop the poll, and the poll did not stop the storm.
        from tests.support.pilot import wait_until

        await wait_until(pilot, lambda: app.polls_applied > applied and not app.polling, timeout=60)
        assert app.view.accounts[PAYMENTS].badge == "stale"
        await pilot.resize_terminal(80, 24)
        await pilot.pause()
        table = app.screen.query_one(ServiceTable)
        assert len(table.order) == len(app.view.services)
        lines = board.text().splitlines()
        assert len(lines) == 24 and all(len(line) <= 80 for line in lines)
        assert "All services" in board.text()

        await pilot.press("escape")  # back to the dashboard: where the operator left it
        await pilot.pause()
        assert app.screen.selected_account == PAYMENTS
        for size in SIZES:
            await pilot.resize_terminal(*size)
        await pilot.resize_terminal(100, 30)
        await pilot.pause()
        text = board.text()
        assert len(text.splitlines()) == 30
        assert "Accounts" in text and "payments-prod" in text and "payments-core" in text
        assert app.crash_reason is None
