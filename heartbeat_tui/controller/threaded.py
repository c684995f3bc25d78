"""Running the data source off the UI's event loop.

Used by the dashboard and by `heartbeat serve` (whose request handlers must not
wait behind a poll either). The collector is async, and its awaits are HTTP
calls; but between them it parses responses (JSON, thousands of metric points), which is CPU work. On
the UI's loop every step of a keypress (driver -> app -> screen -> widget ->
refresh) waits behind whichever parsing chunk is running, and a key takes
several such steps. `ThreadedSource` runs the collector on its own event loop
in a thread instead: the app's poll worker still awaits it (one worker,
exclusive, never overlapping), but the UI loop stays free. A short GIL switch
interval keeps the two threads taking turns quickly.

Each poll runs inside `heap.poll_window()`; with `batch_young=False` (a source
that polls in other processes, as `heartbeat serve`'s does) it keeps the young
collections small: this process merely unpickles the parts, and a 50,000-object
collection was a pause (0.1 s) that its requests waited through.

Pure asyncio and threading: no Textual here.
"""

from __future__ import annotations

import asyncio
import logging
import sys
import threading
from collections.abc import Collection, Coroutine
from typing import Any, TypeVar

from heartbeat_tui import heap
from heartbeat_tui.controller.source import FleetSource
from heartbeat_tui.models import FleetSnapshot, LogBatch, LogQuery, ServiceDetail

T = TypeVar("T")
SWITCH_INTERVAL = 0.001
log = logging.getLogger(__name__)


class ThreadedSource:
    """A FleetSource whose coroutines run on a private loop in a daemon thread."""

    def __init__(
        self,
        source: FleetSource,
        *,
        name: str = "heartbeat-collector",
        batch_young: bool = True,
        close_seconds: float = 5.0,
    ) -> None:
        self.source = source
        self.batch_young = batch_young
        self.close_seconds = close_seconds
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)
        self._closed = False
        if sys.getswitchinterval() > SWITCH_INTERVAL:
            sys.setswitchinterval(SWITCH_INTERVAL)
        self._thread.start()

    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)
        self._loop.run_forever()

    async def _call(self, coroutine: Coroutine[Any, Any, T]) -> T:
        if self._closed:
            coroutine.close()
            raise RuntimeError("the data source is closed")
        future = asyncio.run_coroutine_threadsafe(coroutine, self._loop)
        try:
            return await asyncio.wrap_future(future)
        except asyncio.CancelledError:
            future.cancel()
            raise

    async def prepare(self) -> None:
        """Let the source get ready for its first poll (Collector.prepare); a
        failure here is the first poll's to report."""

        try:
            await self._call(self.source.prepare())
        except asyncio.CancelledError:
            raise
        except Exception:
            log.debug("preparing the data source failed", exc_info=True)

    async def poll(self, only: Collection[str] | None = None) -> FleetSnapshot:
        with heap.poll_window(batch_young=self.batch_young):
            return await self._call(self.source.poll(only))

    def relist_next_poll(self) -> None:
        """Ask the source to re-read everything whole on its next poll (thread-safe: Collector says so)."""

        self.source.relist_next_poll()

    async def fetch_service_detail(
        self, account_id: str, region: str, cluster_arn: str, service_name: str
    ) -> ServiceDetail:
        return await self._call(self.source.fetch_service_detail(account_id, region, cluster_arn, service_name))

    async def fetch_logs(self, query: LogQuery) -> LogBatch:
        return await self._call(self.source.fetch_logs(query))

    async def aclose(self) -> None:
        """Close the wrapped source on its own loop (given `close_seconds`; past them it is
        left, with a warning: a shutdown still ends), then stop the thread."""

        if self._closed:
            return
        try:
            await asyncio.wait_for(self._call(self.source.aclose()), timeout=self.close_seconds)
        except TimeoutError:
            log.warning("the data source did not close within %.0f s; it ends with the process", self.close_seconds)
        finally:
            self._closed = True
            self._loop.call_soon_threadsafe(self._loop.stop)
            await asyncio.to_thread(self._thread.join, 5.0)
            if not self._thread.is_alive():
                self._loop.close()
