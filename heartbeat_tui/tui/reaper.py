"""Replaced fleet data is freed on a thread of its own, in pieces, never on the UI's loop.

A poll that crosses a minute replaces every service of the fleet: the snapshot,
view and table rows it replaces are a million objects at 40,000 services, and
whichever thread drops the last reference to them frees them all at once. That
was the UI's event loop (the old state, the applied message, the table's old
rows): 40-120 ms of its CPU every poll, more than the rest of a refresh tick.

`Reaper.retire` takes what was replaced. Its thread waits until it holds the
only reference to each (the UI lets go of an old state, message or view a
little later, in its own time: a reference count is exact, a delay is not),
takes it apart into its services or rows, and frees those a few hundred at a
time: each piece is a short hold of the interpreter lock, so keys on the UI
thread are answered between pieces (`ThreadedSource` sets a 1 ms switch
interval).

Pure threading: no Textual here.
"""

from __future__ import annotations

import logging
import queue
import sys
import threading
import time
from collections.abc import Mapping

from heartbeat_tui import heap
from heartbeat_tui.models import FleetSnapshot
from heartbeat_tui.tui.view import FleetView

log = logging.getLogger(__name__)

#: Services or rows freed per hold of the interpreter lock (about 2-4 ms at 40,000 services).
PIECE = 500
#: Seconds the reaper rests between pieces, the interpreter lock left to the others.
PAUSE = 0.002
#: How often the reaper looks again at what someone else still holds (seconds, doubling up to the last).
PATIENCE = (0.05, 0.1, 0.2, 0.5, 1.0, 2.0)
#: `sys.getrefcount` of an object only the reaper's list holds: the list's and the call's own.
_ALONE = 2


def pieces(item: object) -> list[object]:
    """What `item` is made of, as far as freeing it costs: a snapshot's services, a
    view's rows, a mapping's values, a sequence's items; nothing for anything else."""

    if isinstance(item, FleetSnapshot):
        return [
            service
            for account in item.accounts
            for region in account.regions
            for cluster in region.clusters
            for service in cluster.services
        ]
    if isinstance(item, FleetView):
        return list(item.services.values())
    if isinstance(item, Mapping):
        return list(item.values())
    if isinstance(item, (list, tuple)):
        return list(item)
    return []


class Reaper:
    """Frees what the UI replaced, off its loop (see the module docstring)."""

    def __init__(self, *, name: str = "heartbeat-reaper", piece: int = PIECE) -> None:
        self.piece = piece
        self._queue: queue.SimpleQueue[list[object] | None] = queue.SimpleQueue()
        self._done = threading.Condition()
        self._retired = 0
        self._freed = 0
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)
        self._thread.start()

    def retire(self, *items: object) -> None:
        """Free `items` once nobody else refers to them (None items are skipped)."""

        batch = [item for item in items if item is not None]
        if batch:
            with self._done:
                self._retired += len(batch)
            self._queue.put(batch)

    @property
    def freed(self) -> int:
        """Items freed so far (each only once the reaper alone held it)."""

        with self._done:
            return self._freed

    def wait_freed(self, timeout: float | None = None) -> bool:
        """Block until everything retired so far is freed (tests); False on the timeout."""

        with self._done:
            return self._done.wait_for(lambda: self._freed == self._retired, timeout)

    def close(self) -> None:
        """Stop the thread; what it still holds is dropped with it."""

        self._queue.put(None)

    def _run(self) -> None:
        held: list[object] = []
        wait = 0
        while True:
            try:
                batch = self._queue.get(timeout=PATIENCE[min(wait, len(PATIENCE) - 1)] if held else None)
            except queue.Empty:
                wait += 1
            else:
                if batch is None:
                    return
                for item in batch:
                    if any(item is other for other in held):
                        self._count_freed()  # retired twice (a view by the app and by its screen): once is enough
                    else:
                        held.append(item)
                del batch, item
                wait = 0
            index = 0
            freed = False
            while index < len(held):
                if sys.getrefcount(held[index]) > _ALONE:
                    index += 1  # still shown, or in a message not yet freed: later
                    continue
                self._free(held.pop(index))
                freed = True
                wait = 0
            if freed:
                heap.give_back()  # the poll's own window closed before this was freed

    def _free(self, item: object) -> None:
        try:
            parts = pieces(item)
        except Exception:  # pragma: no cover - freed whole rather than not at all
            log.exception("could not take apart %s", type(item).__name__)
            parts = []
        del item  # its shell (tuples, dicts, the models around the services) goes now
        while parts:
            del parts[-self.piece :]
            # Between pieces the lock is the UI's (and the collector's): freeing is never urgent.
            time.sleep(PAUSE)
        self._count_freed()

    def _count_freed(self) -> None:
        with self._done:
            self._freed += 1
            self._done.notify_all()


__all__ = ["PATIENCE", "PAUSE", "PIECE", "Reaper", "pieces"]
