"""When the app lets Python's full garbage collection run: never under the operator's keys.

A snapshot of thousands of services is hundreds of thousands of objects, and a
full collection walks them all. Its timing is a dashboard decision (after a
paint, when nobody types, not during a poll), so it lives with the app, apart
from the snapshot path that asks for it.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

from textual import events
from textual.screen import Screen
from textual.timer import Timer

from heartbeat_tui import heap
from heartbeat_tui.controller import DashboardController
from heartbeat_tui.tui.textual_private import CrashReportingApp


class CollectionPacing(CrashReportingApp):
    """The app's garbage-collection pacing (a base of `HeartbeatApp`)."""

    GC_FULL_EVERY = 20
    GC_FULL_SERVICES = 5000
    GC_QUIET_SECONDS = 5.0
    GC_AT_ONCE_SERVICES = 250  # below this a full collection is too cheap to wait for a quiet moment
    SCREEN_GC_DELAY_SECONDS = 0.5

    controller: DashboardController
    monotonic: Callable[[], float]  # the app's injectable clock

    def __init__(self) -> None:
        super().__init__()
        self._polls_since_full_gc = 0
        self._full_gc_due = False
        self._gc_timer: Timer | None = None
        self._last_input = -math.inf

    def _settle_garbage_collector(self, services: int) -> None:
        """Keep full garbage collections off the keypress path and out of a refresh.

        A snapshot of thousands of services is hundreds of thousands of
        objects; Python's full collections scan them all (0.3 s at 5,000
        services, 0.9 s of CPU at 40,000), at moments nobody chose. Snapshots
        and views are acyclic, so reference counting frees each one when the
        next replaces it: after each poll everything alive is frozen out of the
        collector's scans. One full collection (unfrozen first, so cyclic
        garbage is never kept for good) is due every `GC_FULL_EVERY` polls per
        `GC_FULL_SERVICES` services: its cost grows with the fleet, so it runs
        as much less often (every 10 minutes at 5,000 services, every 80 at
        40,000), the same time per poll. Below 250 services that is every
        poll: a closed screen (cyclic garbage the freeze would keep) is freed
        after the next poll, not 20 polls later. It holds the interpreter lock
        all through, whichever thread runs it, so it waits for a quiet moment
        (`_collect_when_quiet`) instead of running inside the refresh.
        """

        self._polls_since_full_gc += 1
        if self._polls_since_full_gc >= max(1, self.GC_FULL_EVERY * services // self.GC_FULL_SERVICES):
            self._polls_since_full_gc = 0
            self._full_gc_due = True
        if self._full_gc_due and services < self.GC_AT_ONCE_SERVICES:
            self._full_gc_due = False  # a few milliseconds: right away, as the poll is applied
            heap.hold(collect_first=True)
            return
        heap.hold()
        if self._full_gc_due:
            # After this refresh is painted, and only then if the operator is not typing.
            self.call_after_refresh(self._arm_full_collection)

    def _arm_full_collection(self) -> None:
        if self._gc_timer is None:
            self._gc_timer = self.set_timer(0.1, self._collect_when_quiet, name="full-gc")

    def _collect_when_quiet(self) -> None:
        """The due full collection, once nothing was typed for `GC_QUIET_SECONDS` and no
        poll is running (a poll applied meanwhile holds its freeze and asks again)."""

        self._gc_timer = None
        if not self._full_gc_due:
            return
        quiet = self.monotonic() - self._last_input
        if quiet < self.GC_QUIET_SECONDS or self.controller.status.polling:
            wait = max(0.1, self.GC_QUIET_SECONDS - quiet)
            self._gc_timer = self.set_timer(wait, self._collect_when_quiet, name="full-gc")
            return
        self._full_gc_due = False
        heap.hold(collect_first=True)

    async def on_event(self, event: events.Event) -> None:
        if isinstance(event, (events.Key, events.MouseDown, events.Paste)):
            self._last_input = self.monotonic()  # the operator is here: no full collection now
        await super().on_event(event)

    def _screen_changed(self, screen: Screen[Any]) -> None:
        # A closed screen is cycles the freeze would keep till the next full collection:
        # once its removal is done (it ends after the change is announced), collect them.
        self.set_timer(self.SCREEN_GC_DELAY_SECONDS, heap.collect_young)
