"""Running `SecureApp` in tests: auth on the embedded AWS, fleet data from a script."""

from __future__ import annotations

from collections.abc import Collection
from contextlib import AsyncExitStack
from typing import Any

from heartbeat_tui.auth.service import AuthService, open_auth
from heartbeat_tui.config import Config
from heartbeat_tui.models import FleetSnapshot
from heartbeat_tui.tui.auth_gate import AuthGate
from heartbeat_tui.tui.secure_app import SecureApp
from tests.tui.factory import FIXED_NOW, make_snapshot

from .helpers import FAST_ITERATIONS


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

    def relist_next_poll(self) -> None:
        return None

    async def prepare(self) -> None:
        return None

    async def aclose(self) -> None:
        return None

    @property
    def account_ids(self) -> list[str]:
        return [a.id for a in self.snapshot.accounts]


def make_gate(config: Config, *, check_seconds: float = 3600.0) -> AuthGate:
    async def connect(stack: AsyncExitStack) -> AuthService:
        return await stack.enter_async_context(open_auth(config, iterations=FAST_ITERATIONS))

    return AuthGate(connect, check_seconds=check_seconds)


def make_secure_app(config: Config, source: FilteringSource | None = None, **kwargs: Any) -> SecureApp:
    kwargs.setdefault("clock", lambda: FIXED_NOW)
    kwargs.setdefault("monotonic", lambda: 0.0)
    kwargs.setdefault("interval_seconds", 3600.0)
    gate = kwargs.pop("gate", None) or make_gate(config)
    return SecureApp(source or FilteringSource(), gate=gate, **kwargs)
