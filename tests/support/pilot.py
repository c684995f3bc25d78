"""Apps under Pilot for tests: built on deterministic sources and clocks,
pumped until a condition holds, their toasts recorded via `message_hook`."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from textual.message import Message
from textual.notifications import Notify

from heartbeat_tui.tui.app import HeartbeatApp
from tests.support.factory import FIXED_NOW, ScriptedSource


def make_app(source: ScriptedSource, **kwargs) -> HeartbeatApp:
    kwargs.setdefault("clock", lambda: FIXED_NOW)
    kwargs.setdefault("monotonic", lambda: 0.0)
    kwargs.setdefault("interval_seconds", 3600.0)
    return HeartbeatApp(source, **kwargs)


async def wait_until(pilot, condition: Callable[[], bool], timeout: float = 5.0) -> None:
    """Pump the app until `condition()` holds (each step lets messages run)."""

    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not condition():
        if loop.time() > deadline:
            raise AssertionError("condition not met in time")
        await pilot.pause(0.02)
    await pilot.pause()


class Notes:
    """The notifications an app raised, in order: pass as `run_test(message_hook=...)`
    (they are `Notify` messages, so no private state is read)."""

    def __init__(self) -> None:
        self.messages: list[str] = []

    def __call__(self, message: Message) -> None:
        if isinstance(message, Notify):
            self.messages.append(message.notification.message)

    def said(self, text: str) -> bool:
        return any(text in message for message in self.messages)
