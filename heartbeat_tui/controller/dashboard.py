"""`DashboardController`: one owner for polling, pause, prefetch and access.

Polls never overlap: one runs at a time, and the next is armed (a one-shot
timer) when it ends, whether it succeeded, failed or was cancelled. A pause
stops the timer (a manual refresh still polls once); resuming polls at once,
the data being as old as the pause. Every change of `status` and every
snapshot goes to the observer; the controller never renders anything.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Collection
from dataclasses import dataclass, replace
from typing import Protocol

from heartbeat_tui.config import DEFAULT_INTERVAL_SECONDS
from heartbeat_tui.controller.access import OPEN, AccessPolicy
from heartbeat_tui.controller.scheduler import Cancellable, Scheduler
from heartbeat_tui.controller.source import FleetSource, ScopedSource, scoped
from heartbeat_tui.models import FleetSnapshot, LogBatch, LogQuery, ServiceDetail

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class PollStatus:
    """What the header says about polling."""

    polling: bool = False
    paused: bool = False
    next_poll_at: float | None = None  # on the controller's monotonic clock
    poll_started_at: float | None = None  # the same clock: the header says how long a poll has run
    last_error: str | None = None


class Observer(Protocol):
    """The controller's one listener (the app)."""

    def status_changed(self, status: PollStatus) -> None: ...

    def poll_failed(self, error: BaseException, text: str) -> None: ...

    async def snapshot_polled(self, snapshot: FleetSnapshot, previous: FleetSnapshot | None) -> None:
        """A new snapshot (within the policy's scope) and the one before it; returns once handed on."""


class _Prefetch:
    """The polls made before a session starts: the warm-start snapshot, then the full one."""

    def __init__(self) -> None:
        self.warm: FleetSnapshot | None = None
        self.full: FleetSnapshot | None = None
        self.finished_at: float | None = None
        self.progress = asyncio.Event()  # set by each snapshot, and at the end
        self.done = asyncio.Event()
        self.task: Cancellable | None = None


class DashboardController:
    """Drives a `FleetSource` for one dashboard, under an `AccessPolicy`."""

    def __init__(
        self,
        source: FleetSource,
        observer: Observer,
        scheduler: Scheduler,
        *,
        interval_seconds: float = DEFAULT_INTERVAL_SECONDS,
        monotonic: Callable[[], float] = time.monotonic,
        policy: AccessPolicy = OPEN,
        autopoll: bool = True,
        warm_start: Collection[str] | None = None,
    ) -> None:
        self.unscoped_source = source
        self.observer = observer
        self.scheduler = scheduler
        self.interval_seconds = interval_seconds
        self.monotonic = monotonic
        self.policy = policy
        self.autopoll = autopoll and policy.active
        self._autopoll_wanted = autopoll
        # Accounts polled alone first, so something is on screen while the
        # (slower) first full poll loads every account's metric history.
        self.warm_start = list(warm_start) if warm_start else None
        self.source: FleetSource = self._narrowed()
        self.status = PollStatus()
        self.closed = False
        self._timer: Cancellable | None = None
        self._poll: Cancellable | None = None
        self._generation = 0
        self._last: FleetSnapshot | None = None
        self._prefetch: _Prefetch | None = None

    def _narrowed(self) -> FleetSource:
        if not self.policy.active:
            return ScopedSource(self.unscoped_source, frozenset())
        scope = self.policy.scope
        return self.unscoped_source if scope is None else ScopedSource(self.unscoped_source, scope)

    def _set(self, **changes: object) -> None:
        status = replace(self.status, **changes)  # type: ignore[arg-type]
        if status != self.status:
            self.status = status
            self.observer.status_changed(status)

    # -- polling ---------------------------------------------------------------------

    def start(self) -> None:
        """The dashboard is up: poll now if polling is on."""

        if self.autopoll:
            self.poll_now()

    def poll_now(self) -> bool:
        """Poll now unless a poll is running; False when one already is."""

        if self.status.polling or self.closed:
            return False
        self._stop_timer()
        self._generation += 1
        self._set(polling=True, next_poll_at=None, poll_started_at=self.monotonic())
        self._poll = self.scheduler.spawn(self._run_poll(self._generation), group="poll")
        return True

    async def _run_poll(self, generation: int) -> None:
        error: BaseException | None = None
        try:
            await self._poll_once(generation)
        except asyncio.CancelledError:
            self._poll_ended(generation, None)
            raise
        except Exception as exc:  # shown in the header and as a notification
            error = exc
        self._poll_ended(generation, error)

    async def _poll_once(self, generation: int) -> None:
        """One poll: what was prefetched before the session, or the warm start then a full poll."""

        prefetch, self._prefetch = self._prefetch, None
        if prefetch is not None and await self._deliver_prefetched(prefetch, generation):
            return
        if self.warm_start and self._last is None:
            only, self.warm_start = self.warm_start, None
            await self._deliver(await self.source.poll(only), generation)
        await self._deliver(await self.source.poll(), generation)

    async def _deliver_prefetched(self, prefetch: _Prefetch, generation: int) -> bool:
        """Hand on what was polled before the session (waiting for it, never polling
        beside it); False when it has nothing to give. A full snapshot older than one
        refresh interval is shown and then polled again at once."""

        scope = self.policy.scope
        await prefetch.progress.wait()
        if prefetch.full is None and prefetch.warm is not None:
            await self._deliver(scoped(prefetch.warm, scope), generation)
            await prefetch.done.wait()
        if prefetch.full is None:
            return False
        await self._deliver(scoped(prefetch.full, scope), generation)
        if self.monotonic() - (prefetch.finished_at or 0.0) > self.interval_seconds:
            await self._deliver(await self.source.poll(), generation)
        return True

    async def _deliver(self, snapshot: FleetSnapshot, generation: int) -> None:
        if generation != self._generation or not self.admits(snapshot):
            log.warning("dropped a snapshot with accounts outside the session's scope (an older poll)")
            return
        previous, self._last = self._last, snapshot
        await self.observer.snapshot_polled(snapshot, previous)
        self._set(last_error=None)

    def _poll_ended(self, generation: int, error: BaseException | None) -> None:
        if generation != self._generation:
            return
        self._poll = None
        if error is not None:
            text = f"{type(error).__name__}: {error}"
            log.error("poll failed", exc_info=error)
            self._set(polling=False, last_error=text)
            self.observer.poll_failed(error, text)
        else:
            self._set(polling=False)
        self._arm_next_poll()

    def _arm_next_poll(self) -> None:
        if self.autopoll and not self.status.paused and not self.closed and not self.status.polling:
            self._timer = self.scheduler.call_later(self.interval_seconds, self._timer_fired)
            self._set(next_poll_at=self.monotonic() + self.interval_seconds)

    def _timer_fired(self) -> None:
        self._timer = None
        self.poll_now()

    def _stop_timer(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

    def admits(self, snapshot: FleetSnapshot) -> bool:
        """May `snapshot` be shown under the current policy? (A poll of an older scope may not.)"""

        if not self.policy.active:
            return False
        scope = self.policy.scope
        return scope is None or all(a.id in scope for a in snapshot.accounts)

    # -- the operator's intents ---------------------------------------------------------

    def toggle_pause(self) -> bool:
        """Stop polling on the timer, or start again with a poll now; True when now paused."""

        paused = not self.status.paused
        self._set(paused=paused)
        if paused:
            self._stop_timer()
            self._set(next_poll_at=None)
        elif self.autopoll:
            self.poll_now()  # if one (r) is running, the next is armed when it ends
        return paused

    async def refresh(self) -> bool:
        """A forced refresh, if the policy allows it (`Refused` otherwise): every service
        list re-read whole, polled now; False when a poll is already running."""

        await self.policy.authorize("refresh")
        self.source.relist_next_poll()
        return self.poll_now()

    async def fetch_service_detail(
        self, account_id: str, region: str, cluster_arn: str, service_name: str
    ) -> ServiceDetail:
        """One service's tasks and policies, through the policy's scope."""

        return await self.source.fetch_service_detail(account_id, region, cluster_arn, service_name)

    async def fetch_logs(self, query: LogQuery) -> LogBatch:
        """CloudWatch Logs lines of one service or task, through the policy's scope."""

        return await self.source.fetch_logs(query)

    # -- sessions -------------------------------------------------------------------------

    def prefetch(self) -> None:
        """Poll the whole fleet before any session (the demo only), for the first session to show at once."""

        prefetch = self._prefetch = _Prefetch()
        prefetch.task = self.scheduler.spawn(self._run_prefetch(prefetch), group="prefetch")

    @property
    def prefetch_finished(self) -> bool:
        """Has the poll before the session ended (successfully or not), and is it still waiting to be shown?"""

        return self._prefetch is not None and self._prefetch.done.is_set()

    async def _run_prefetch(self, prefetch: _Prefetch) -> None:
        try:
            if self.warm_start:
                prefetch.warm = await self.unscoped_source.poll(self.warm_start)
                prefetch.progress.set()
            prefetch.full = await self.unscoped_source.poll()
            prefetch.finished_at = self.monotonic()
        except Exception:  # the session's own first poll tries again
            log.warning("the poll before the login failed", exc_info=True)
        finally:
            prefetch.done.set()
            prefetch.progress.set()

    def begin(self) -> None:
        """A session started under the (updated) policy: its scope, unpaused, polling if wanted."""

        self.source = self._narrowed()
        self.autopoll = self._autopoll_wanted and self.policy.active
        self._set(paused=False)  # a pause belongs to the session that made it
        if self.autopoll:
            self.poll_now()

    def forget(self) -> None:
        """The session ended: no poll, no timer, nothing prefetched; the source sees no account."""

        self.autopoll = False
        self._stop_timer()
        self._generation += 1
        if self._poll is not None:
            self._poll.cancel()
            self._poll = None
        self._last = None
        self.source = ScopedSource(self.unscoped_source, frozenset())
        if self._prefetch is not None:  # only the first session uses what was polled before it
            if self._prefetch.task is not None:
                self._prefetch.task.cancel()
            self._prefetch = None
        self._set(polling=False, next_poll_at=None, poll_started_at=None)

    def close(self) -> None:
        """The dashboard is going: nothing more is armed."""

        self.closed = True
        self._stop_timer()
