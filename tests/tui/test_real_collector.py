"""The dashboard on the real collector against the embedded AWS (session fixture, simulator paused)."""

from __future__ import annotations

from heartbeat_tui.collector import Collector
from heartbeat_tui.controller.threaded import ThreadedSource
from heartbeat_tui.tui.screens.detail import ServiceDetailScreen
from heartbeat_tui.tui.widgets.service_table import ServiceTable
from tests.support.configs import DENIED_ACCOUNT, PAYMENTS, make_config
from tests.support.pilot import Notes, make_app, wait_until
from tests.support.screen_text import screen_text


async def test_dashboard_on_the_embedded_aws(clean_aws) -> None:
    source = ThreadedSource(Collector(make_config(clean_aws)))
    app = make_app(source, warm_start=[make_config(clean_aws).accounts[0].id])
    try:
        notes = Notes()
        async with app.run_test(size=(120, 40), message_hook=notes) as pilot:
            await wait_until(pilot, lambda: app.polls_applied == 2, timeout=60)
            view = app.view
            assert len(view.accounts) == 5
            denied = view.accounts[DENIED_ACCOUNT]
            assert denied.badge == "error" and "AssumeRole" in (denied.reason or "")
            assert view.accounts[PAYMENTS].services >= 130
            assert "1 in error" in screen_text(app)

            # The fleet-wide view, hottest first, then a service's detail with real tasks.
            await pilot.press("f")
            await pilot.pause()
            table = app.screen.query_one(ServiceTable)
            assert len(table.order) == len(view.services)
            await pilot.press("slash", *"account:payments-prod", "enter", "enter")
            await wait_until(pilot, lambda: isinstance(app.screen, ServiceDetailScreen))
            screen = app.screen
            await wait_until(pilot, lambda: screen.detail is not None or screen.detail_error is not None, timeout=30)
            assert screen.detail_error is None and screen.detail is not None
            assert screen.detail.tasks, "the embedded AWS runs tasks for every service"

            # An account that goes to error keeps its last good data, marked stale.
            clean_aws.add_fault("expire_credentials", account=PAYMENTS)
            clean_aws.add_fault("deny_assume_role", account=PAYMENTS)
            await pilot.press("escape", "escape", "escape")
            await pilot.press("r")
            await wait_until(pilot, lambda: app.polls_applied == 3, timeout=60)
            payments = app.view.accounts[PAYMENTS]
            assert payments.badge == "error" and payments.stale_seconds is not None
            rows = [r for r in app.view.services.values() if r.account_id == PAYMENTS]
            assert rows and all(r.stale for r in rows)
            assert notes.said("payments-prod went to error")
    finally:
        await source.aclose()
