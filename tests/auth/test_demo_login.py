"""The demo's login (`SecureApp(prefetch=True)` behind a demo gate): the form is up
at once while the users store gets ready, and the fleet is polled behind the
form, shown only inside a session, cut to that session's accounts, and never
polled twice at the same time."""

from __future__ import annotations

import asyncio
from collections.abc import Collection
from contextlib import AsyncExitStack
from typing import Any

from textual.widgets import Input

from heartbeat_tui.auth.service import AuthService, Session, open_auth
from heartbeat_tui.config import Config
from heartbeat_tui.models import FleetSnapshot
from heartbeat_tui.tui.auth_gate import AuthGate
from heartbeat_tui.tui.screens.login import LoginScreen
from heartbeat_tui.tui.secure_app import SecureApp
from tests.support.auth import ADMIN, ADMIN_PASSWORD, FAST_ITERATIONS, PASSWORD
from tests.support.factory import account_id
from tests.support.pilot import wait_until
from tests.support.screen_text import screen_text

from .tui_support import SIZE, FilteringSource, login, make_secure_app

WARM = [account_id(0)]
ALIASES = ("shared-services", "payments-prod", "checkout-staging")


def demo_gate(config: Config, store_ready: asyncio.Event | None = None) -> AuthGate:
    async def connect(stack: AsyncExitStack) -> AuthService:
        if store_ready is not None:
            await store_ready.wait()
        return await stack.enter_async_context(open_auth(config, iterations=FAST_ITERATIONS))

    return AuthGate(connect, remember=False, demo=True, demo_password=ADMIN_PASSWORD)


def demo_app(config: Config, source: FilteringSource, **kwargs: Any) -> SecureApp:
    kwargs.setdefault("gate", demo_gate(config))
    return make_secure_app(config, source, prefetch=True, warm_start=WARM, **kwargs)


class HeldSource(FilteringSource):
    """Full polls wait for `release`; counts how many polls run at once."""

    def __init__(self) -> None:
        super().__init__()
        self.release = asyncio.Event()
        self.running = 0
        self.most_at_once = 0

    async def poll(self, only: Collection[str] | None = None) -> FleetSnapshot:
        self.running += 1
        self.most_at_once = max(self.most_at_once, self.running)
        try:
            snapshot = await super().poll(only)  # recorded at once
            if only is None:
                await self.release.wait()
            return snapshot
        finally:
            self.running -= 1


class FailingFirstSource(FilteringSource):
    def __init__(self, failures: int) -> None:
        super().__init__()
        self.failures = failures

    async def poll(self, only: Collection[str] | None = None) -> FleetSnapshot:
        if self.failures > 0:
            self.failures -= 1
            self.polls.append(None if only is None else tuple(only))
            raise RuntimeError("the embedded AWS is still starting")
        return await super().poll(only)


def shown_aliases(app: SecureApp) -> set[str]:
    text = screen_text(app)
    return {alias for alias in ALIASES if alias in text}


async def test_the_form_is_up_before_the_store_is_ready(config: Any, service: AuthService, admin: Session) -> None:
    store_ready = asyncio.Event()
    source = FilteringSource()
    app = demo_app(config, source, gate=demo_gate(config, store_ready))
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: isinstance(app.screen, LoginScreen) and not app.screen.busy_now)
        text = screen_text(app)
        assert "Checking" not in text
        assert "Demo username: admin" in text and f"Demo password: {ADMIN_PASSWORD}" in text
        screen = app.screen
        screen.query_one("#username", Input).value = ADMIN
        screen.query_one("#password", Input).value = ADMIN_PASSWORD
        screen.query_one("#password", Input).focus()
        await pilot.press("enter")
        await pilot.pause(0.2)
        assert app.session is None and screen.busy_now and screen.error_text == "Checking…"
        assert shown_aliases(app) == set()
        store_ready.set()  # the users store is ready: the login typed meanwhile goes through
        await wait_until(pilot, lambda: app.session is not None and app.polls_applied >= 1)
        assert shown_aliases(app) == set(ALIASES)


async def test_polled_behind_the_form_shown_only_after_login(config: Any, service: AuthService, admin: Session) -> None:
    source = FilteringSource()
    app = demo_app(config, source)
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: source.polls == [tuple(WARM), None])
        await pilot.pause(0.1)
        assert app.snapshot is None and app.view is None and app.polls_applied == 0
        assert isinstance(app.screen, LoginScreen) and shown_aliases(app) == set()
        await login(pilot, app, ADMIN, ADMIN_PASSWORD)
        await wait_until(pilot, lambda: app.polls_applied >= 1)
        # The first data is what was polled before the login: no poll of its own.
        assert source.polls == [tuple(WARM), None]
        assert shown_aliases(app) == set(ALIASES) and len(app.snapshot.accounts) == 3


async def test_prefetched_data_is_cut_to_the_session(config: Any, service: AuthService, admin: Session) -> None:
    await service.create_user(admin, username="bob", password=PASSWORD, role="user", accounts=[account_id(1)])
    source = FilteringSource()
    app = demo_app(config, source)
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: source.polls == [tuple(WARM), None])
        await login(pilot, app, "bob", PASSWORD)
        await wait_until(pilot, lambda: app.polls_applied >= 1)
        assert [a.id for a in app.snapshot.accounts] == [account_id(1)]
        assert shown_aliases(app) == {"payments-prod"}


async def test_a_login_during_the_prefetch_waits_for_it(config: Any, service: AuthService, admin: Session) -> None:
    source = HeldSource()
    app = demo_app(config, source)
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: source.polls == [tuple(WARM), None] and source.running == 1)
        await login(pilot, app, ADMIN, ADMIN_PASSWORD)
        # The warm snapshot (the first account) is shown while the full poll runs ...
        await wait_until(pilot, lambda: app.polls_applied == 1)
        assert [a.id for a in app.snapshot.accounts] == WARM
        await pilot.pause(0.2)
        # ... and the session does not poll beside it.
        assert source.polls == [tuple(WARM), None] and source.most_at_once == 1 and app.polling
        source.release.set()
        await wait_until(pilot, lambda: app.polls_applied == 2)
        assert len(app.snapshot.accounts) == 3 and source.polls == [tuple(WARM), None]
        assert source.most_at_once == 1


async def test_a_stale_prefetch_is_polled_again_at_once(config: Any, service: AuthService, admin: Session) -> None:
    now = [0.0]
    source = FilteringSource()
    app = demo_app(config, source, monotonic=lambda: now[0], interval_seconds=30.0)
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: source.polls == [tuple(WARM), None])
        now[0] = 600.0  # ten minutes on the login screen
        await login(pilot, app, ADMIN, ADMIN_PASSWORD)
        await wait_until(pilot, lambda: app.polls_applied >= 2)
        assert source.polls == [tuple(WARM), None, None]


async def test_a_failed_prefetch_leaves_the_first_poll_to_the_session(
    config: Any, service: AuthService, admin: Session
) -> None:
    source = FailingFirstSource(failures=1)
    app = demo_app(config, source)
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: app.controller.prefetch_finished)
        assert source.polls == [tuple(WARM)]
        await login(pilot, app, ADMIN, ADMIN_PASSWORD)
        await wait_until(pilot, lambda: app.polls_applied >= 2)
        assert source.polls == [tuple(WARM), tuple(WARM), None]
        assert shown_aliases(app) == set(ALIASES)


async def test_only_the_first_session_uses_the_prefetch(config: Any, service: AuthService, admin: Session) -> None:
    source = FilteringSource()
    app = demo_app(config, source)
    async with app.run_test(size=SIZE) as pilot:
        await login(pilot, app, ADMIN, ADMIN_PASSWORD)
        await wait_until(pilot, lambda: app.polls_applied >= 1)
        polled = len(source.polls)
        await app.run_action("logout")
        await pilot.press("y")  # log out asks first
        await wait_until(pilot, lambda: app.session is None and isinstance(app.screen, LoginScreen))
        assert app.snapshot is None and shown_aliases(app) == set()
        await login(pilot, app, ADMIN, ADMIN_PASSWORD)
        await wait_until(pilot, lambda: len(source.polls) > polled and app.snapshot is not None)
        assert shown_aliases(app) == set(ALIASES)
