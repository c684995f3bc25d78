"""The controller's `Scheduler` on Textual: its timers and background work as the app's.

The controller (heartbeat_tui/controller) never imports Textual; this adapter is
the one place its one-shot timers and exclusive workers become Textual's.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any

from textual.app import App
from textual.timer import Timer

from heartbeat_tui.controller import Cancellable


class _TimerHandle:
    def __init__(self, timer: Timer) -> None:
        self._timer = timer

    def cancel(self) -> None:
        self._timer.stop()


class TextualScheduler:
    """The controller's timers and background work, as Textual timers and workers of `app`."""

    def __init__(self, app: App[Any]) -> None:
        self._app = app

    def call_later(self, delay: float, callback: Callable[[], None]) -> Cancellable:
        return _TimerHandle(self._app.set_timer(delay, callback, name="next-poll"))

    def spawn(self, work: Coroutine[Any, Any, None], *, group: str) -> Cancellable:
        return self._app.run_worker(work, group=group, name=group, exclusive=True, exit_on_error=False)
