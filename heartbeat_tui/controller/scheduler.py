"""When the controller's work runs: timers and background tasks, behind one small protocol.

The app gives a Textual-backed scheduler (timers and workers), plain asyncio
code gives `AsyncioScheduler`, and tests drive `ManualScheduler` by hand so no
test waits on the wall clock.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine
from typing import Any, Protocol


class Cancellable(Protocol):
    def cancel(self) -> Any: ...


class Scheduler(Protocol):
    def call_later(self, delay: float, callback: Callable[[], None]) -> Cancellable:
        """Run `callback` once, `delay` seconds from now, unless cancelled."""

    def spawn(self, work: Coroutine[Any, Any, None], *, group: str) -> Cancellable:
        """Run `work` in the background; a new one in `group` may replace the old."""


class AsyncioScheduler:
    """Timers on the running loop; tasks kept referenced until they end (never collected mid-flight)."""

    def __init__(self) -> None:
        self._tasks: set[asyncio.Task[None]] = set()

    def call_later(self, delay: float, callback: Callable[[], None]) -> Cancellable:
        return asyncio.get_running_loop().call_later(delay, callback)

    def spawn(self, work: Coroutine[Any, Any, None], *, group: str) -> Cancellable:
        task = asyncio.get_running_loop().create_task(work, name=group)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    async def drain(self) -> None:
        """Wait for every spawned task (tests; shutdown)."""

        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)


class _Timer:
    def __init__(self, due: float, callback: Callable[[], None]) -> None:
        self.due = due
        self.callback = callback
        self.cancelled = False

    def cancel(self) -> None:
        self.cancelled = True


class ManualScheduler(AsyncioScheduler):
    """Timers that fire only when `advance` moves this scheduler's clock past them.

    `now` doubles as the controller's monotonic clock, so "next poll in N s" and
    the timers agree. Tasks still run on the loop (they are the code under test).
    """

    def __init__(self, start: float = 0.0) -> None:
        super().__init__()
        self.now = start
        self._timers: list[_Timer] = []

    def monotonic(self) -> float:
        return self.now

    def call_later(self, delay: float, callback: Callable[[], None]) -> Cancellable:
        timer = _Timer(self.now + delay, callback)
        self._timers.append(timer)
        return timer

    @property
    def pending(self) -> list[float]:
        """When each armed timer is due."""

        return sorted(t.due for t in self._timers if not t.cancelled)

    def advance(self, seconds: float) -> int:
        """Move the clock on and fire what fell due, in order; how many fired."""

        self.now += seconds
        fired = 0
        while True:
            due = [t for t in self._timers if not t.cancelled and t.due <= self.now]
            if not due:
                break
            timer = min(due, key=lambda t: t.due)
            self._timers.remove(timer)
            timer.callback()
            fired += 1
        self._timers = [t for t in self._timers if not t.cancelled]
        return fired
