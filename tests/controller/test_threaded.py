"""ThreadedSource: the collector's coroutines run on their own loop in a thread."""

from __future__ import annotations

import asyncio
import threading

import pytest

from heartbeat_tui.controller.threaded import ThreadedSource
from tests.support.factory import make_snapshot


class Recorder:
    def __init__(self) -> None:
        self.threads: list[str] = []
        self.loops: list[asyncio.AbstractEventLoop] = []
        self.closed_on: str | None = None
        self.snapshot = make_snapshot(accounts=1, clusters=1, services=1)

    async def poll(self, only=None):
        self.threads.append(threading.current_thread().name)
        self.loops.append(asyncio.get_running_loop())
        return self.snapshot

    async def fetch_service_detail(self, *args):
        raise RuntimeError("AccessDenied")

    async def fetch_logs(self, query):
        raise RuntimeError("AccessDenied")

    def relist_next_poll(self) -> None:
        self.threads.append("relist")

    async def prepare(self) -> None:
        return None

    async def aclose(self) -> None:
        self.closed_on = threading.current_thread().name


async def test_polls_run_on_one_private_loop_and_close_there() -> None:
    inner = Recorder()
    source = ThreadedSource(inner, name="collector-closed-here")
    assert await source.poll() is inner.snapshot
    assert await source.poll(only=["x"]) is inner.snapshot
    assert inner.threads == ["collector-closed-here", "collector-closed-here"]
    assert inner.loops[0] is inner.loops[1] is not asyncio.get_running_loop()
    with pytest.raises(RuntimeError, match="AccessDenied"):
        await source.fetch_service_detail("a", "r", "c", "s")
    await source.aclose()
    assert inner.closed_on == "collector-closed-here"
    assert "collector-closed-here" not in {thread.name for thread in threading.enumerate()}
    with pytest.raises(RuntimeError, match="closed"):
        await source.poll()


async def test_cancelling_the_caller_cancels_the_poll() -> None:
    started, cancelled = threading.Event(), threading.Event()

    class Slow(Recorder):
        async def poll(self, only=None):
            started.set()
            try:
                await asyncio.sleep(30)
            except asyncio.CancelledError:
                cancelled.set()
                raise

    source = ThreadedSource(Slow())
    task = asyncio.ensure_future(source.poll())
    await asyncio.to_thread(started.wait, 5)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert await asyncio.to_thread(cancelled.wait, 5)
    await source.aclose()


async def test_prepare_runs_on_the_private_loop_and_never_fails_the_app() -> None:
    class Preparing(Recorder):
        prepared_on: str | None = None

        async def prepare(self) -> None:
            self.prepared_on = threading.current_thread().name

    class Broken(Recorder):
        async def prepare(self) -> None:
            raise RuntimeError("no credentials")

    for inner in (Preparing(), Broken(), Recorder()):  # Recorder prepares nothing
        source = ThreadedSource(inner)
        await source.prepare()
        assert await source.poll() is inner.snapshot
        await source.aclose()
        if isinstance(inner, Preparing):
            assert inner.prepared_on == "heartbeat-collector"


async def test_a_source_that_does_not_close_in_time_is_left_with_a_warning(caplog: pytest.LogCaptureFixture) -> None:
    class Stuck(Recorder):
        async def aclose(self) -> None:
            await asyncio.Event().wait()  # a worker that will not stop

    source = ThreadedSource(Stuck(), name="collector-stuck", close_seconds=0.1)
    assert await source.poll() is not None
    await source.aclose()  # a shutdown goes on: no TimeoutError out of it
    assert "did not close within" in caplog.text
    assert "collector-stuck" not in {thread.name for thread in threading.enumerate()}
    with pytest.raises(RuntimeError, match="closed"):
        await source.poll()
