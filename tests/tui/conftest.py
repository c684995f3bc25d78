"""Fixtures for the TUI tests: apps fed with deterministic snapshots."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import pytest

from heartbeat_tui.tui.app import HeartbeatApp
from tests.tui.factory import FIXED_NOW, ScriptedSource


def make_app(source: ScriptedSource, **kwargs) -> HeartbeatApp:  # noqa: ANN003
    kwargs.setdefault("clock", lambda: FIXED_NOW)
    kwargs.setdefault("monotonic", lambda: 0.0)
    kwargs.setdefault("interval_seconds", 3600.0)
    return HeartbeatApp(source, **kwargs)


async def wait_until(pilot, condition: Callable[[], bool], timeout: float = 5.0) -> None:  # noqa: ANN001
    """Pump the app until `condition()` holds (each step lets messages run)."""

    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not condition():
        if loop.time() > deadline:
            raise AssertionError("condition not met in time")
        await pilot.pause(0.02)
    await pilot.pause()


@pytest.fixture
def app_factory():  # noqa: ANN201
    return make_app
