"""All cores: the accounts sharded across worker processes (`[collector].workers`).

`make_collector` is the one place a poller is built: the in-process `Collector`
for `workers = 1` (or a fleet of the base credentials' own account), else a
`ShardedCollector`. Both are a `FleetSource`, so the dashboard, `snapshot` and
`serve` do not ask which.

A `ShardedCollector` owns the discovery (one Organizations walk, not one per
worker), assigns each account to a worker (`sharding.assign`), sends each
worker its accounts' poll and merges the parts into one immutable
`FleetSnapshot`: the same contract, the same per-account isolation, the calls
summed, and the last snapshot's objects kept wherever nothing changed.

A worker that dies (killed, crashed) is replaced at once; its accounts show
their last data, stale, with "worker restarting", and come back at the next
poll from its new, cold worker. The event loop never blocks on a pipe: each
worker's replies are read by a daemon thread and handed to the loop.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import multiprocessing
import os
import threading
import time
from collections.abc import Callable, Collection
from datetime import datetime
from multiprocessing.process import BaseProcess
from typing import Any

from heartbeat_tui.aws.access import AwsAccess
from heartbeat_tui.aws.counting import CallCounter, counting, stop_counting
from heartbeat_tui.collector import worker_process
from heartbeat_tui.collector.collector import DISCOVERY_ROW, Collector
from heartbeat_tui.collector.discovery import Discovery
from heartbeat_tui.collector.sharding import assign, merge_account, restarting, worker_config
from heartbeat_tui.collector.wire import unpack
from heartbeat_tui.config import AccountConfig, Config
from heartbeat_tui.errors import HeartbeatError
from heartbeat_tui.models import (
    AccountSnapshot,
    AccountStatus,
    FleetSnapshot,
    LogBatch,
    LogQuery,
    PollStats,
    ServiceDetail,
    utcnow,
)

log = logging.getLogger(__name__)

#: Seconds a worker has to stop on `aclose` before it is killed.
STOP_SECONDS = 5.0
#: Seconds past the account deadline after which a worker that has not answered a poll is killed.
HANG_GRACE_SECONDS = 30.0
#: What an account says when its worker's answer could not be merged (a bug; the next poll resends).
UNREADABLE = "its worker's answer could not be read (the last good data is shown)"


class WorkerDied(HeartbeatError):
    """The worker process ended before it answered."""


def make_collector(config: Config, *, clock: Callable[[], datetime] = utcnow) -> Collector | ShardedCollector:
    """The poller `config` asks for: in-process with one worker, else sharded."""

    workers = config.file.collector.worker_count
    if workers == 1 or (not config.accounts and config.discovery is None):
        return Collector(config, clock=clock)  # today's path, exactly
    return ShardedCollector(config, workers, clock=clock)


class _Worker:
    """One worker process, its pipe and the requests waiting for its answers."""

    def __init__(self, index: int, config: Config, loop: asyncio.AbstractEventLoop) -> None:
        self.index = index
        self._loop = loop
        self._pending: dict[int, asyncio.Future[Any]] = {}
        self._ids = itertools.count()
        self.dead = False
        # The last poll whose answer the parent merged: the worker sends only what changed since.
        self.merged: int | None = None
        context = multiprocessing.get_context("spawn")
        self._conn, child = context.Pipe()
        self.process: BaseProcess = context.Process(
            target=worker_process.main,
            args=(child, config, os.getpid(), logging.getLogger().getEffectiveLevel()),
            name=f"heartbeat-worker-{index}",
            daemon=True,
        )
        self.process.start()
        child.close()  # the worker holds the only other end: its exit closes the pipe
        threading.Thread(target=self._read, daemon=True, name=f"heartbeat-worker-{index}-recv").start()

    @property
    def pid(self) -> int | None:
        return self.process.pid

    def alive(self) -> bool:
        return not self.dead and self.process.is_alive()

    def _read(self) -> None:
        while True:
            try:
                message = self._conn.recv()
            except (EOFError, OSError):
                break
            self._post(self._dispatch, message)
        self._post(self._died)

    def _post(self, callback: Callable[..., None], *args: Any) -> None:
        try:
            self._loop.call_soon_threadsafe(callback, *args)
        except RuntimeError:  # the loop is closed: nobody waits any more
            pass

    def _dispatch(self, message: tuple[Any, ...]) -> None:
        if message[0] == "log":
            _, level, name, text = message
            logging.getLogger(name).log(level, "%s", text)
            return
        outcome, request_id, result = message
        future = self._pending.pop(request_id, None)
        if future is None or future.done():
            return
        if outcome == "ok":
            future.set_result(result)
        else:
            future.set_exception(result)

    def _died(self) -> None:
        self.dead = True
        pending, self._pending = self._pending, {}
        for future in pending.values():
            if not future.done():
                future.set_exception(WorkerDied(f"worker {self.index} (pid {self.pid}) ended"))

    async def request(self, kind: str, payload: Any) -> Any:
        if not self.alive():
            raise WorkerDied(f"worker {self.index} (pid {self.pid}) is not running")
        request_id = next(self._ids)
        future: asyncio.Future[Any] = self._loop.create_future()
        self._pending[request_id] = future
        try:
            self._conn.send((request_id, kind, payload))
        except OSError as exc:  # a broken pipe: the reader thread will say so too, later
            self._pending.pop(request_id, None)
            self.dead = True
            raise WorkerDied(f"worker {self.index} (pid {self.pid}) ended") from exc
        return await future

    def kill(self) -> None:
        """End it now (it died, or hangs); it is restarted by whoever asks for it next."""

        self.dead = True
        if self.process.is_alive():
            self.process.kill()

    def stop(self, timeout: float) -> None:
        """Ask the worker to stop, then make sure it has (blocking: run it off the loop)."""

        if self.process.is_alive():
            try:
                self._conn.send((-1, "stop", None))
            except OSError:
                pass
            self.process.join(timeout)
        if self.process.is_alive():
            self.process.kill()
            self.process.join(timeout)
        self._conn.close()


class ShardedCollector:
    """A `FleetSource` that polls with `workers` processes, each over its shard of the accounts."""

    def __init__(self, config: Config, workers: int, *, clock: Callable[[], datetime] = utcnow) -> None:
        self._config = config
        self._size = workers
        self._clock = clock
        self._access = AwsAccess(config) if config.discovery is not None else None
        self.discovery = Discovery(config, self._access) if self._access is not None else None
        self._workers: dict[int, _Worker] = {}
        self._poll_lock = asyncio.Lock()
        self._poll_number = 0
        self._relists_asked = 0
        self._relists_seen = 0
        self._closed = False
        self._last: dict[str, AccountSnapshot] = {}
        self.last_snapshot: FleetSnapshot | None = None

    async def __aenter__(self) -> ShardedCollector:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    @property
    def workers(self) -> int:
        return self._size

    def worker_pids(self) -> dict[str, int]:
        """Account id -> the pid of the worker process that polls it (running ones only)."""

        shards = assign((a.id for a in self._accounts()), self._size)
        return {
            account_id: pid
            for account_id, index in shards.items()
            if (worker := self._workers.get(index)) is not None and (pid := worker.pid) is not None
        }

    def _accounts(self) -> tuple[AccountConfig, ...]:
        return self.discovery.accounts() if self.discovery is not None else self._config.accounts

    def _shards(self, accounts: tuple[AccountConfig, ...]) -> dict[int, tuple[AccountConfig, ...]]:
        shards = assign((a.id for a in accounts), self._size)
        out: dict[int, list[AccountConfig]] = {}
        for account in accounts:
            out.setdefault(shards[account.id], []).append(account)
        return {index: tuple(members) for index, members in out.items()}

    def _worker(self, index: int, accounts: tuple[AccountConfig, ...]) -> tuple[_Worker, bool]:
        """The running worker `index`, started (again) if it is not; and whether it was restarted."""

        worker = self._workers.get(index)
        if worker is not None and worker.alive():
            return worker, False
        if worker is not None:
            log.warning("worker %s (pid %s) ended; restarting it", index, worker.pid)
            worker.stop(0)
        config = worker_config(self._config, accounts)
        self._workers[index] = _Worker(index, config, asyncio.get_running_loop())
        return self._workers[index], worker is not None

    async def prepare(self) -> None:
        """Start the workers and have each create its clients (no AWS call)."""

        shards = self._shards(self._accounts())
        workers = [self._worker(index, accounts)[0] for index, accounts in shards.items()]
        results = await asyncio.gather(*(w.request("prepare", None) for w in workers), return_exceptions=True)
        for result in results:
            if isinstance(result, BaseException):  # the poll reports what is wrong, per account
                log.debug("preparing a worker failed; the poll will start it", exc_info=result)

    def relist_next_poll(self) -> None:
        """Every worker reads its service lists whole at the next poll. Safe from any thread."""

        self._relists_asked += 1

    async def poll(self, only: Collection[str] | None = None) -> FleetSnapshot:
        async with self._poll_lock:
            asked = self._relists_asked
            relist, self._relists_seen = asked != self._relists_seen, asked
            return await self._poll_locked(only, relist)

    async def _poll_locked(self, only: Collection[str] | None, relist: bool) -> FleetSnapshot:
        counter = CallCounter()
        started = time.perf_counter()
        now = self._clock()
        discovered: tuple[AccountSnapshot, ...] = ()
        token = counting(counter)
        try:
            if self.discovery is not None:
                await self.discovery.refresh_if_due(now)
                failure = self.discovery.report.failure()
                if failure is not None and only is None:
                    discovered = (AccountSnapshot(id=DISCOVERY_ROW, status=AccountStatus.ERROR, error=failure),)
        finally:
            stop_counting(token)
        accounts = self._accounts()
        selected = {a.id for a in accounts if only is None or a.id in only}
        shards = self._shards(accounts)
        number = self._poll_number + 1
        parts = await asyncio.gather(
            *(
                self._poll_shard(index, members, [a.id for a in members if a.id in selected], now, relist, number)
                for index, members in shards.items()
                if any(a.id in selected for a in members)
            )
        )
        # From here to the return nothing awaits: a cancelled poll merges nothing.
        polled: dict[str, AccountSnapshot] = {}
        calls: dict[str, int] = dict(counter.calls)
        http_requests = counter.http_requests
        for snapshots, stats, worker in parts:
            if worker is None:
                polled.update((a.id, a) for a in snapshots)
                continue
            try:
                polled.update((a.id, unpack(a, self._last.get(a.id))) for a in snapshots)
            except KeyError:  # a bug: never merge a guess; the worker sends everything next time
                log.exception("worker %s referred to data this process does not hold", worker.index)
                worker.merged = None
                polled.update((a.id, restarting(a, self._last.get(a.id), UNREADABLE)) for a in snapshots)
                continue
            worker.merged = number
            assert stats is not None
            for name, count in stats.calls:
                calls[name] = calls.get(name, 0) + count
            http_requests += stats.http_requests
        merged = []
        for account in accounts:
            if account.id in selected:
                snap = merge_account(polled[account.id], self._last.get(account.id))
                self._last[account.id] = snap
                merged.append(snap)
        self._poll_number = number
        snapshot = FleetSnapshot(
            generated_at=now,
            poll_number=self._poll_number,
            accounts=(*merged, *discovered),
            stats=PollStats(
                calls=tuple(sorted(calls.items())),
                http_requests=http_requests,
                duration_seconds=time.perf_counter() - started,
            ),
        )
        self.last_snapshot = snapshot
        return snapshot

    async def _poll_shard(
        self,
        index: int,
        members: tuple[AccountConfig, ...],
        only: list[str],
        now: datetime,
        relist: bool,
        number: int,
    ) -> tuple[tuple[AccountSnapshot, ...], PollStats | None, _Worker | None]:
        """One worker's accounts, and the worker (None: it is gone, and the accounts are their
        last data marked stale while it restarts)."""

        worker, restarted = self._worker(index, members)
        if not restarted:
            # Each account has its own deadline inside the worker: past it and a grace, the worker hangs.
            timeout = self._config.file.collector.account_deadline_seconds + HANG_GRACE_SECONDS
            try:
                request = (now, members, only, relist, number, worker.merged)
                accounts, stats = await asyncio.wait_for(worker.request("poll", request), timeout)
            except (WorkerDied, asyncio.TimeoutError) as exc:
                log.warning("worker %s: %s; its %d account(s) show their last data", index, exc or "hung", len(only))
                worker.kill()
                self._worker(index, members)  # it boots while its accounts wait for the next poll
            else:
                return accounts, stats, worker
        wanted = [a for a in members if a.id in only]
        return tuple(restarting(a, self._last.get(a.id)) for a in wanted), None, None

    async def forget(self, account_ids: Collection[str]) -> None:
        """Drop what this process and the accounts' workers keep for them (`Collector.forget`)."""

        gone = set(account_ids)
        for account_id in gone:
            self._last.pop(account_id, None)
        owners = assign((a.id for a in self._accounts()), self._size)
        by_worker: dict[int, list[str]] = {}
        for account_id in sorted(gone):
            # One no longer configured has no owner: every worker is asked.
            for index in [owners[account_id]] if account_id in owners else list(self._workers):
                by_worker.setdefault(index, []).append(account_id)
        for index, ids in by_worker.items():
            worker = self._workers.get(index)
            if worker is None or not worker.alive():
                continue  # a worker that starts again holds nothing
            try:
                await worker.request("forget", ids)
            except Exception as exc:  # it may still hold what the parent dropped: its next reply goes whole
                log.warning("worker %s did not forget %d account(s): %s", index, len(ids), exc)
                worker.merged = None

    async def fetch_service_detail(
        self, account_id: str, region: str, cluster_arn: str, service_name: str
    ) -> ServiceDetail:
        """Asked of the worker that polls the account (its clients and credentials are warm there)."""

        worker, members = self._owner(account_id)
        detail: ServiceDetail = await worker.request(
            "detail", (self._clock(), members, (account_id, region, cluster_arn, service_name))
        )
        return detail

    async def fetch_logs(self, query: LogQuery) -> LogBatch:
        """Asked of the worker that polls the account, as a service detail is."""

        worker, members = self._owner(query.account_id)
        batch: LogBatch = await worker.request("logs", (self._clock(), members, query))
        return batch

    def _owner(self, account_id: str) -> tuple[_Worker, tuple[AccountConfig, ...]]:
        """The worker that polls `account_id` (started if it is not running), and its accounts."""

        accounts = self._accounts()
        if account_id not in {a.id for a in accounts}:
            raise KeyError(f"account {account_id} is not configured")
        index = assign((a.id for a in accounts), self._size)[account_id]
        members = self._shards(accounts)[index]
        worker, _ = self._worker(index, members)
        return worker, members

    async def aclose(self) -> None:
        """Stop every worker (killed if it does not stop in time) and release the discovery's clients."""

        if self._closed:
            return
        self._closed = True
        workers, self._workers = list(self._workers.values()), {}
        loop = asyncio.get_running_loop()
        await asyncio.gather(*(loop.run_in_executor(None, w.stop, STOP_SECONDS) for w in workers))
        if self._access is not None:
            await self._access.close()
