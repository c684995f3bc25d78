"""Checks and a dashboard for the fault matrix: the real collector, headless and
under Pilot, against the embedded AWS (see tests/collector/conftest.py)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from heartbeat_tui.collector import Collector
from heartbeat_tui.models import AccountSnapshot, AccountStatus, FleetSnapshot, utcnow
from tests.support.configs import DENIED_ACCOUNT, HUB, PAYMENTS, make_config

CHECKOUT = "345678901234"
DATA = "456789012345"
MEMBERS = (PAYMENTS, CHECKOUT, DATA)
# legacy-billing's trust policy refuses the hub: it is in error in every poll, by design.
HEALTHY = (HUB, *MEMBERS)

__all__ = [
    "CHECKOUT",
    "DATA",
    "DENIED_ACCOUNT",
    "HEALTHY",
    "HUB",
    "MEMBERS",
    "PAYMENTS",
    "Dashboard",
    "account",
    "assert_kept",
    "assert_whole",
    "dashboard",
    "in_thread",
    "make_config",
    "service_arns",
]


def account(snapshot: FleetSnapshot, account_id: str) -> AccountSnapshot:
    found = snapshot.account(account_id)
    assert found is not None, f"account {account_id} missing from the snapshot"
    return found


def service_arns(snapshot: FleetSnapshot, account_id: str) -> list[str]:
    return [s.arn for _, _, s in account(snapshot, account_id).services()]


def assert_kept(before: FleetSnapshot, after: FleetSnapshot, account_id: str, *, metrics: bool = True) -> None:
    """The account's last good data is all still there: clusters, services and
    every metric series, unchanged (`metrics`) or at least not blanked (fresh
    metrics follow the wall clock: a minute may have turned between polls)."""

    old, new = account(before, account_id), account(after, account_id)
    assert old.services(), "the reference poll had data"
    assert [(r.region, [c.name for c in r.clusters]) for r in new.regions] == [
        (r.region, [c.name for c in r.clusters]) for r in old.regions
    ]
    assert service_arns(after, account_id) == service_arns(before, account_id)
    if metrics:
        assert [s.metrics for _, _, s in new.services()] == [s.metrics for _, _, s in old.services()]
    else:
        for (_, _, was), (_, _, now) in zip(old.services(), new.services()):
            assert len(now.metrics.cpu_average) >= len(was.metrics.cpu_average) - 2, now.name


def assert_whole(snapshot: FleetSnapshot, reference: FleetSnapshot, *, skip: tuple[str, ...] = ()) -> None:
    """Every healthy account not in `skip` is OK, fresh and complete."""

    for account_id in HEALTHY:
        if account_id in skip:
            continue
        got = account(snapshot, account_id)
        assert got.status is AccountStatus.OK, f"{account_id}: {got.error}"
        assert got.last_success_at == snapshot.generated_at  # polled in this very poll
        assert all(r.fetched_at == snapshot.generated_at and not r.stale for r in got.regions)
        assert service_arns(snapshot, account_id) == service_arns(reference, account_id)


# -- the dashboard on the real collector ------------------------------------------------------


@dataclass
class Dashboard:
    """A running HeartbeatApp (Pilot) on the real collector, and a clock to move."""

    app: Any
    pilot: Any
    offset: list[timedelta]
    notes: Any  # tests.support.pilot.Notes: every toast the app raised

    async def poll(self, timeout: float = 60.0) -> None:
        """Press `r` (as an operator would) and wait until that poll is applied."""

        from tests.support.pilot import wait_until

        await wait_until(self.pilot, lambda: not self.app.polling, timeout=timeout)
        applied = self.app.polls_applied
        await self.pilot.press("r")
        await wait_until(self.pilot, lambda: self.app.polls_applied > applied and not self.app.polling, timeout)

    def advance(self, seconds: float) -> None:
        """Let time pass for the screen (ages), not for AWS."""

        self.offset[0] += timedelta(seconds=seconds)

    def text(self) -> str:
        from tests.support.screen_text import screen_text

        return screen_text(self.app)

    def messages(self) -> list[str]:
        """Every toast raised so far (seen through `message_hook`, not the app's internals)."""
        return list(self.notes.messages)

    async def select_account(self, account_id: str) -> None:
        """Move the accounts cursor to the account, key by key (`j`)."""

        from heartbeat_tui.tui.widgets.pane_table import PaneTable

        table = self.app.screen.query_one("#accounts", PaneTable)
        table.focus()
        await self.pilot.press("g")
        keys = list(self.app.view.accounts)
        for _ in range(keys.index(account_id)):
            await self.pilot.press("j")
        await self.pilot.pause()
        assert self.app.screen.selected_account == account_id


@asynccontextmanager
async def dashboard(embedded: Any, size: tuple[int, int] = (120, 40), **overrides: Any) -> AsyncIterator[Dashboard]:
    """The dashboard on a real Collector (in its own thread, as in production),
    after its first poll. Its clock is the wall clock plus an offset."""

    from heartbeat_tui.controller.threaded import ThreadedSource
    from tests.support.pilot import Notes, make_app, wait_until

    offset = [timedelta(0)]

    def clock() -> datetime:
        return utcnow() + offset[0]

    source = ThreadedSource(Collector(make_config(embedded, **overrides)))
    app = make_app(source, clock=clock, monotonic=time.monotonic)
    notes = Notes()
    try:
        async with app.run_test(size=size, message_hook=notes) as pilot:
            await wait_until(pilot, lambda: app.polls_applied >= 1 and not app.polling, timeout=60)
            yield Dashboard(app, pilot, offset, notes)
    finally:
        await source.aclose()


async def in_thread(call: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    """A blocking control-API call from inside a running poll's event loop."""

    return await asyncio.to_thread(call, *args, **kwargs)
