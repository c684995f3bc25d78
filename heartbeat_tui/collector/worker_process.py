"""One worker process: a `Collector` over its shard of the accounts.

Started with the "spawn" method by `workers.py` (never a fork of a process with
threads and an event loop). It has its own event loop and aiobotocore clients,
answers the parent's requests over one pipe, concurrently (a service detail
is not held back by a poll), and forwards its log records to the parent. It
exits on a "stop", when the pipe closes, or when the parent process is gone.

Messages, parent -> worker: (request id, kind, payload); worker -> parent:
("ok" | "err", request id, result or exception) and ("log", level, name, text).
"""

from __future__ import annotations

import asyncio
import logging
import os
import pickle
import signal
import sys
import threading
import time
from collections.abc import Collection
from datetime import datetime
from multiprocessing.connection import Connection
from typing import Any

from heartbeat_tui.collector.collector import Collector
from heartbeat_tui.collector.wire import Sender, dumps
from heartbeat_tui.config import AccountConfig, Config

#: How often a worker checks that its parent still runs.
PARENT_CHECK_SECONDS = 1.0


class ShardCollector(Collector):
    """A Collector of the accounts its parent assigns (discovered ones included),
    at the time its parent says: both sides of a poll see one `now`."""

    def __init__(self, config: Config) -> None:
        self.now: datetime | None = None
        super().__init__(config, clock=self._now)
        self.assigned: tuple[AccountConfig, ...] = config.accounts

    def _now(self) -> datetime:
        assert self.now is not None, "a request sets the time first"
        return self.now

    async def accounts(self) -> tuple[AccountConfig, ...]:
        return self.assigned


class _PipeLogHandler(logging.Handler):
    """Log records go to the parent, which logs them where it logs its own."""

    def __init__(self, send: Any) -> None:
        super().__init__()
        self._send = send

    def emit(self, record: logging.LogRecord) -> None:
        try:
            text = record.getMessage()
            if record.exc_info:
                text += "\n" + logging.Formatter().formatException(record.exc_info)
            self._send(("log", record.levelno, record.name, text))
        except Exception:  # the pipe is gone: the parent is too
            pass


def main(conn: Connection, config: Config, parent_pid: int, log_level: int) -> None:
    """The worker's entry point (a spawned process's target)."""

    # Ctrl-C reaches the whole process group; the parent decides when workers stop.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    threading.Thread(target=_watch_parent, args=(parent_pid,), daemon=True, name="parent-watch").start()
    send_lock = threading.Lock()

    def send(message: Any) -> None:
        data = dumps(message)
        with send_lock:
            conn.send_bytes(data)

    root = logging.getLogger()
    root.handlers[:] = [_PipeLogHandler(send)]
    root.setLevel(log_level)
    logging.captureWarnings(True)
    # The terminal is the dashboard's: nothing of a worker's is printed on it.
    sys.stdout = sys.stderr = open(os.devnull, "w")  # noqa: SIM115 - for the process's life
    try:
        asyncio.run(_serve(conn, config, send))
    finally:
        conn.close()


def _watch_parent(parent_pid: int) -> None:
    while True:
        time.sleep(PARENT_CHECK_SECONDS)
        if os.getppid() != parent_pid:
            os._exit(0)  # orphaned: nobody reads what this worker would poll


async def _serve(conn: Connection, config: Config, send: Any) -> None:
    loop = asyncio.get_running_loop()
    inbox: asyncio.Queue[Any] = asyncio.Queue()

    def read() -> None:
        while True:
            try:
                message = conn.recv()
            except (EOFError, OSError):
                message = None
            loop.call_soon_threadsafe(inbox.put_nowait, message)
            if message is None or message[1] == "stop":
                return

    # A daemon thread, not the default executor: it may block in recv at exit.
    threading.Thread(target=read, daemon=True, name="worker-recv").start()
    collector = ShardCollector(config)
    sender = Sender()
    tasks: set[asyncio.Task[None]] = set()
    try:
        while True:
            message = await inbox.get()
            if message is None or message[1] == "stop":
                break
            task = asyncio.create_task(_handle(collector, sender, message, send))
            tasks.add(task)
            task.add_done_callback(tasks.discard)
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        await collector.aclose()


async def _handle(collector: ShardCollector, sender: Sender, message: tuple[int, str, Any], send: Any) -> None:
    request_id, kind, payload = message
    try:
        result = await _answer(collector, sender, kind, payload)
        reply: tuple[str, int, Any] = ("ok", request_id, result)
    except Exception as exc:
        reply = ("err", request_id, _portable(exc))
    await asyncio.get_running_loop().run_in_executor(None, send, reply)


async def _answer(collector: ShardCollector, sender: Sender, kind: str, payload: Any) -> Any:
    if kind == "poll":
        now, accounts, only, relist, poll, acked = payload
        only_ids: Collection[str] = only
        collector.assigned = accounts
        if relist:
            collector.relist_next_poll()
        collector.now = now
        snapshot = await collector.poll(only_ids)
        sender.start(poll, acked)
        return tuple(sender.pack(account) for account in snapshot.accounts), snapshot.stats
    if kind == "detail":
        now, accounts, args = payload
        collector.assigned = accounts
        collector.now = now
        return await collector.fetch_service_detail(*args)
    if kind == "logs":
        now, accounts, query = payload
        collector.assigned = accounts
        collector.now = now
        return await collector.fetch_logs(query)
    if kind == "forget":
        await collector.forget(payload)
        sender.forget(payload)
        return None
    if kind == "prepare":
        await collector.prepare()
        return None
    raise ValueError(f"unknown request {kind!r}")


def _portable(exc: Exception) -> Exception:
    """`exc` if it survives the pipe, else a RuntimeError that says what it was."""

    try:
        pickle.loads(pickle.dumps(exc))
    except Exception:
        return RuntimeError(f"{type(exc).__name__}: {exc}")
    return exc
