"""Running `SecureApp` in tests: auth on the embedded AWS, fleet data from a script."""

from __future__ import annotations

from collections.abc import Collection
from contextlib import AsyncExitStack
from typing import Any

from textual.widgets import Input

from heartbeat_tui.auth.service import AuthService, open_auth
from heartbeat_tui.config import Config
from heartbeat_tui.models import FleetSnapshot
from heartbeat_tui.tui.auth_gate import AuthGate
from heartbeat_tui.tui.screens.login import LoginScreen
from heartbeat_tui.tui.secure_app import SecureApp
from tests.support.auth import ADMIN, ADMIN_PASSWORD, FAST_ITERATIONS
from tests.support.factory import FIXED_NOW, make_snapshot
from tests.support.pilot import wait_until
from tests.support.screen_text import screen_text


class FilteringSource:
    """A fleet of three accounts that answers `poll(only)` as the collector does."""

    def __init__(self, snapshot: FleetSnapshot | None = None) -> None:
        self.snapshot = snapshot or make_snapshot(accounts=3, clusters=1, services=3)
        self.polls: list[tuple[str, ...] | None] = []
        self.details: list[str] = []

    async def poll(self, only: Collection[str] | None = None) -> FleetSnapshot:
        self.polls.append(None if only is None else tuple(only))
        accounts = tuple(a for a in self.snapshot.accounts if only is None or a.id in only)
        return self.snapshot.model_copy(update={"accounts": accounts})

    async def fetch_service_detail(self, account_id: str, *args: Any) -> Any:
        self.details.append(account_id)
        raise RuntimeError("no detail in these tests")

    async def fetch_logs(self, query: Any) -> Any:
        self.details.append(query.account_id)
        raise RuntimeError("no logs in these tests")

    def relist_next_poll(self) -> None:
        return None

    async def prepare(self) -> None:
        return None

    async def aclose(self) -> None:
        return None

    @property
    def account_ids(self) -> list[str]:
        return [a.id for a in self.snapshot.accounts]


def make_gate(config: Config, *, check_seconds: float = 3600.0, iterations: int = FAST_ITERATIONS) -> AuthGate:
    async def connect(stack: AsyncExitStack) -> AuthService:
        return await stack.enter_async_context(open_auth(config, iterations=iterations))

    return AuthGate(connect, check_seconds=check_seconds)


def make_secure_app(config: Config, source: FilteringSource | None = None, **kwargs: Any) -> SecureApp:
    kwargs.setdefault("clock", lambda: FIXED_NOW)
    kwargs.setdefault("monotonic", lambda: 0.0)
    kwargs.setdefault("interval_seconds", 3600.0)
    gate = kwargs.pop("gate", None) or make_gate(config)
    return SecureApp(source or FilteringSource(), gate=gate, **kwargs)


SIZE = (120, 40)


async def login(pilot: Any, app: SecureApp, username: str, password: str, *, typed: bool = False) -> None:
    await wait_until(pilot, lambda: isinstance(app.screen, LoginScreen) and not app.screen.busy_now)
    screen = app.screen
    if typed:  # key by key, as a person would (slower)
        screen.query_one("#username", Input).value = ""
        await pilot.click("#username")
        await pilot.press(*username, "enter", *password, "enter")
    else:
        screen.query_one("#username", Input).value = username
        screen.query_one("#password", Input).value = password
        screen.query_one("#password", Input).focus()
        await pilot.press("enter")
    await wait_until(pilot, lambda: app.session is not None or not screen.busy_now, timeout=10)


async def logged_in(pilot: Any, app: SecureApp, username: str = ADMIN, password: str = ADMIN_PASSWORD) -> None:
    await login(pilot, app, username, password)
    assert app.session is not None, screen_text(app)
    await wait_until(pilot, lambda: app.polls_applied >= 1)
