"""TUI benchmark: the dashboard with 5,000 services, on the app's own clock.

    python benchmarks/tui_bench.py [--services 5000] [--polls 30] [--idle-seconds 10]

No AWS: a synthetic FleetSnapshot (tests/support/factory.py; 3 h of history per
series) is fed through the app's real poll path (worker -> view built in a
thread -> one SnapshotReady -> applied in batch_update). Measured:

* first paint of the fleet-wide view: from the poll returning its snapshot to
  the screen having been refreshed with it (call_after_refresh);
* one refresh tick, applied on the UI loop: a poll where a third of the
  services got a new minute of metrics (and so changed), and the worst case
  where every service changed;
* keypress-to-render latency during a poll: keys are created on another
  thread at a steady rate (like the terminal's input thread), stamped when
  created (Textual's own Message.time), and measured to the refresh after the
  app handled them, while a poll does CPU work on the loop in chunks (as the
  collector's parsing does between HTTP responses);
* RSS after `--polls` polls;
* CPU while idle between polls (the header still ticks once a second).

Targets: first paint <= 1 s, tick <= 50 ms, keypress <= 50 ms,
RSS <= 250 MB, idle CPU <= 2 % of one core.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import statistics
import sys
import threading
import time
from collections import deque
from pathlib import Path

import psutil

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from textual import events

from heartbeat_tui.controller.threaded import ThreadedSource
from heartbeat_tui.models import FleetSnapshot, MetricSeries
from heartbeat_tui.tui.app import HeartbeatApp
from heartbeat_tui.tui.screens.fleet import FleetServicesScreen
from heartbeat_tui.tui.widgets.service_table import ServiceTable
from tests.support.factory import FIXED_NOW, make_snapshot

HISTORY = 180 * 60


def advance(snapshot: FleetSnapshot, step: int, share: int = 3) -> FleetSnapshot:
    """The next poll: every `share`-th service (rotating) got a new minute of
    metrics; every 97th changed its desired count. Unchanged parts are shared,
    as the collector shares them."""

    new_time = snapshot.generated_at.timestamp() + 60
    oldest = int(new_time - HISTORY)
    accounts = []
    index = 0
    for account in snapshot.accounts:
        regions = []
        for region in account.regions:
            clusters = []
            for cluster in region.clusters:
                services = []
                for service in cluster.services:
                    if index % share == step % share:
                        m = service.metrics
                        value = (index * 7 + step * 13) % 100

                        def grow(series: MetricSeries, v: float) -> MetricSeries:
                            return series.merged([int(new_time)], [float(v)], oldest=oldest)

                        update: dict = {
                            "metrics": m.model_copy(
                                update={
                                    "cpu_average": grow(m.cpu_average, value),
                                    "cpu_maximum": grow(m.cpu_maximum, min(100, value + 5)),
                                    "memory_average": grow(m.memory_average, value / 2),
                                    "memory_maximum": grow(m.memory_maximum, value / 2 + 3),
                                }
                            )
                        }
                        if index % 97 == step % 97:
                            update["desired_count"] = service.desired_count + 1
                        service = service.model_copy(update=update)
                    services.append(service)
                    index += 1
                clusters.append(cluster.model_copy(update={"services": tuple(services)}))
            regions.append(region.model_copy(update={"clusters": tuple(clusters)}))
        accounts.append(account.model_copy(update={"regions": tuple(regions)}))
    return snapshot.model_copy(
        update={
            "accounts": tuple(accounts),
            "poll_number": snapshot.poll_number + 1,
            "generated_at": snapshot.generated_at.fromtimestamp(new_time, tz=snapshot.generated_at.tzinfo),
        }
    )


class BenchSource:
    """Returns prepared snapshots; `busy_poll` makes the next poll do CPU work
    on the loop in chunks (about `chunk_ms` each) for `busy_seconds`."""

    def __init__(self, first: FleetSnapshot) -> None:
        self.next_snapshot = first
        self.returned_at: float | None = None
        self.busy_seconds = 0.0
        self.chunk_ms = 5.0

    async def poll(self, only=None) -> FleetSnapshot:
        if self.busy_seconds:
            end = time.monotonic() + self.busy_seconds
            while time.monotonic() < end:
                chunk_end = time.monotonic() + self.chunk_ms / 1000
                while time.monotonic() < chunk_end:
                    sum(range(200))  # parsing-like CPU work
                await asyncio.sleep(0)
        self.returned_at = time.monotonic()
        return self.next_snapshot

    async def fetch_service_detail(self, *args):
        raise NotImplementedError

    async def fetch_logs(self, query):
        raise NotImplementedError

    def relist_next_poll(self) -> None:
        pass

    async def prepare(self) -> None:
        pass

    async def aclose(self) -> None:
        pass


class TimedServiceTable(ServiceTable):
    def action_cursor_down(self) -> None:
        super().action_cursor_down()
        self.app.key_handled()  # type: ignore[attr-defined]

    def action_cursor_up(self) -> None:
        super().action_cursor_up()
        self.app.key_handled()  # type: ignore[attr-defined]


class BenchFleetScreen(FleetServicesScreen):
    def compose(self):
        for widget in super().compose():
            if isinstance(widget, ServiceTable):
                widget = TimedServiceTable(
                    widget.all_columns, sort=("cpu", False), thresholds=widget.thresholds, id="fleet-services"
                )
            yield widget


class BenchApp(HeartbeatApp):
    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.key_latencies: list[float] = []
        self.key_log: list[tuple[float, str]] = []
        self.pending_keys: deque[float] = deque()
        self._seen: set[int] = set()
        self.apply_seconds: list[float] = []
        self.painted_after_poll: list[float] = []

    async def on_event(self, event: events.Event) -> None:
        # A key reaches the app first (then the focused table, and bubbles back):
        # stamp it on its first arrival; the table's action completes the measure.
        if isinstance(event, events.Key) and event.key in ("j", "k") and id(event) not in self._seen:
            self._seen.add(id(event))
            self.pending_keys.append(event.time)
            self.key_log.append((event.time, event.key))
        await super().on_event(event)

    def key_handled(self) -> None:
        """Called by the table's cursor actions: latency = key created -> screen refreshed."""
        if self.pending_keys:
            stamped = self.pending_keys.popleft()
            self.call_after_refresh(lambda: self.key_latencies.append(time.monotonic() - stamped))

    def apply_snapshot(self, message) -> None:
        began = time.monotonic()
        super().apply_snapshot(message)
        self.apply_seconds.append(time.monotonic() - began)
        source: BenchSource = getattr(self.source, "source", self.source)
        returned = source.returned_at or began
        self.call_after_refresh(lambda: self.painted_after_poll.append(time.monotonic() - returned))


async def wait_for(condition, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError
        await asyncio.sleep(0.01)


async def poll_once(app: BenchApp, snapshot: FleetSnapshot) -> None:
    count = len(app.painted_after_poll)
    getattr(app.source, "source", app.source).next_snapshot = snapshot
    assert app.start_poll()
    await wait_for(lambda: len(app.painted_after_poll) > count and not app.polling)


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.1f} ms"


async def run(args: argparse.Namespace) -> dict[str, float]:
    process = psutil.Process()
    per_cluster = 100
    clusters = 5
    accounts = max(1, args.services // (per_cluster * clusters))
    began = time.monotonic()
    snapshot = make_snapshot(accounts=accounts, clusters=clusters, services=per_cluster, now=FIXED_NOW)
    print(
        f"synthetic fleet: {snapshot.service_count} services, {accounts} accounts, "
        f"180 min of history (built in {time.monotonic() - began:.1f} s)"
    )
    results: dict[str, float] = {}
    source = BenchSource(snapshot)
    app_source = ThreadedSource(source) if args.collector == "thread" else source
    print(f"collector runs {'in its own thread (the default)' if args.collector == 'thread' else 'on the UI loop'}")
    app = BenchApp(app_source, autopoll=False, interval_seconds=30.0)
    async with app.run_test(size=(200, 60)) as pilot:
        await app.push_screen(BenchFleetScreen())
        await pilot.pause()
        # 1. First paint of the fleet-wide view.
        await poll_once(app, snapshot)
        table = app.screen.query_one(ServiceTable)
        assert len(table.order) == snapshot.service_count, len(table.order)
        results["first_paint"] = app.painted_after_poll[-1]
        print(f"first paint of the fleet-wide view ({len(table.order)} rows): {ms(results['first_paint'])}")

        # 2. Refresh ticks: a third changed (typical), then everything changed.
        ticks, paints = [], []
        for step in range(1, 6):
            snapshot = advance(snapshot, step)
            await poll_once(app, snapshot)
            ticks.append(app.apply_seconds[-1])
            paints.append(app.painted_after_poll[-1])
        results["tick"] = statistics.median(ticks)
        print(
            f"refresh tick, 1/3 of services changed: apply {ms(results['tick'])} median "
            f"(max {ms(max(ticks))}); poll returned -> painted {ms(statistics.median(paints))} "
            f"(includes building the view in a thread)"
        )
        snapshot = advance(snapshot, 6, share=1)
        await poll_once(app, snapshot)
        results["tick_all"] = app.apply_seconds[-1]
        print(
            f"refresh tick, all {snapshot.service_count} changed: apply {ms(results['tick_all'])}; "
            f"painted {ms(app.painted_after_poll[-1])} after the poll returned"
        )

        # 3. Keypresses during a poll, from another thread (like the terminal's input thread).
        loop = asyncio.get_running_loop()
        app.key_latencies.clear()
        source.busy_seconds = 3.0
        stop = threading.Event()

        def typist() -> None:
            keys = "jjjjjkkkkk"
            i = 0
            while not stop.is_set():
                key = events.Key(keys[i % len(keys)], keys[i % len(keys)])
                loop.call_soon_threadsafe(app.post_message, key)
                i += 1
                time.sleep(0.1)

        snapshot = advance(snapshot, 7)
        source.next_snapshot = snapshot
        app.start_poll()
        thread = threading.Thread(target=typist, daemon=True)
        thread.start()
        await wait_for(lambda: not app.polling, timeout=30)
        await asyncio.sleep(0.3)
        stop.set()
        thread.join()
        source.busy_seconds = 0.0
        latencies = sorted(app.key_latencies)
        results["key_p50"] = statistics.median(latencies)
        results["key_p95"] = latencies[int(len(latencies) * 0.95) - 1]
        results["key_max"] = latencies[-1]
        print(
            f"keypress -> rendered during a poll ({len(latencies)} keys): median {ms(results['key_p50'])}, "
            f"p95 {ms(results['key_p95'])}, max {ms(results['key_max'])}"
        )

        # 4. RSS after N polls.
        for step in range(8, 8 + args.polls - 8):
            snapshot = advance(snapshot, step)
            await poll_once(app, snapshot)
        gc.collect()
        results["rss_mb"] = process.memory_info().rss / 1e6
        print(f"RSS after {app.polls_applied} polls: {results['rss_mb']:.0f} MB")

        # 5. Idle CPU between polls (header ticking once a second).
        await asyncio.sleep(1.0)
        cpu_before = process.cpu_times()
        wall_before = time.monotonic()
        await asyncio.sleep(args.idle_seconds)
        cpu_after = process.cpu_times()
        used = (cpu_after.user - cpu_before.user) + (cpu_after.system - cpu_before.system)
        results["idle_cpu_percent"] = 100 * used / (time.monotonic() - wall_before)
        print(f"CPU while idle between polls: {results['idle_cpu_percent']:.2f} % of one core")
    if isinstance(app_source, ThreadedSource):
        await app_source.aclose()
    return results


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--services", type=int, default=5000)
    parser.add_argument("--polls", type=int, default=30)
    parser.add_argument("--idle-seconds", type=float, default=10.0)
    parser.add_argument(
        "--collector",
        choices=["thread", "loop"],
        default="thread",
        help="where the (simulated) collector's CPU work runs: its own thread (as `heartbeat` runs it) or the UI loop",
    )
    args = parser.parse_args()
    results = asyncio.run(run(args))
    targets = {
        "first_paint": 1.0,
        "tick": 0.05,
        "key_p95": 0.05,
        "rss_mb": 250,
        "idle_cpu_percent": 2.0,
    }
    print()
    for key, target in targets.items():
        ok = results[key] <= target
        print(f"{'ok  ' if ok else 'MISS'} {key:<18} {results[key]:.3f} (target <= {target})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
