"""TUI benchmark: the dashboard with 5,000 or 40,000 services, on the app's own clock.

    python benchmarks/tui_bench.py [--services 5000] [--polls 30] [--idle-seconds 10] [--json]

No AWS: a synthetic FleetSnapshot (tests/support/factory.py; 3 h of history per
series) is fed through the app's real poll path (collector thread -> view built
in a thread -> one SnapshotReady -> applied in batch_update). Each poll changes
the fleet as a real one does every 30 s: the collector's thread makes the next
snapshot (inside `heap.poll_window`, as the collector polls) from the last,
sharing what did not change; on a poll that crosses a minute every series of
every service gets its new point (so every service changes), on the other polls
a third of the services (rotating) see their newest minute revised; a service in
97 changes its desired count. Measured:

* first paint of the fleet-wide view: from the poll returning its snapshot to
  the screen having been refreshed with it (call_after_refresh);
* each refresh tick after it: the UI thread's CPU time (the event loop's work:
  applying the view, rendering) from the poll returning to the paint, and the
  wall time of the apply alone; by kind (a third changed, every service changed);
* keypress-to-render latency during polls: keys are created on another thread
  at a steady rate (like the terminal's input thread), stamped when created
  (Textual's own Message.time), and measured to the refresh after the app
  handled them, while polls run (the collector's thread making the snapshot and
  then doing `--busy-seconds` more CPU work in chunks, the view built, applied);
* RSS after `--polls` polls (and before the fleet was built);
* CPU while idle between polls (the header still ticks once a second);
* full garbage collections during the run, and the longest (wall: it holds the
  interpreter lock, so every thread waits through it).

The UI thread's CPU includes turning each update into the escape sequences a
terminal is sent (headless, Textual composes updates but skips that step; the
bench does it as a real terminal's driver has the UI thread do it), and none
of the bench's own waiting (it waits on events, not in a polling loop).

Targets: first paint <= 1 s, tick <= 50 ms of loop time, keypress p99 <= 50 ms,
RSS <= 250 MB at 5,000 services (600 MB at 40,000), idle CPU <= 2 % of one core.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import statistics
import sys
import threading
import time
from array import array
from collections import deque
from collections.abc import Callable
from pathlib import Path

import psutil

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from textual import events
from textual._compositor import CompositorUpdate  # the bench only: what a real terminal is sent

from heartbeat_tui.controller.threaded import ThreadedSource
from heartbeat_tui.models import FleetSnapshot, MetricSeries, Service
from heartbeat_tui.series import Plans, timeline
from heartbeat_tui.tui.app import HeartbeatApp
from heartbeat_tui.tui.screens.fleet import FleetServicesScreen
from heartbeat_tui.tui.widgets.service_table import ServiceTable
from tests.support.factory import FIXED_NOW, make_snapshot

HISTORY = 180 * 60
INTERVAL = 30


def advance(snapshot: FleetSnapshot, step: int) -> FleetSnapshot:
    """The next poll, `INTERVAL` seconds on. Crossing a minute, every series gets
    its new point (the oldest drops out); otherwise every third service (rotating)
    has its newest minute revised (a partial minute read again). A service in 97
    (rotating) changes its desired count. Unchanged parts are shared, as the
    collector shares them."""

    old_time = int(snapshot.generated_at.timestamp())
    new_time = old_time + INTERVAL
    minute = new_time // 60 != old_time // 60
    oldest = new_time - HISTORY
    stamp = new_time // 60 * 60

    # As the collector merges a poll's answers: one interned timeline per answer's
    # minutes, one `plans` dict for the whole merge (heartbeat_tui/series.py), so
    # series with the same minutes share one plan, one new timeline and their head.
    plans: Plans = {}
    answers: dict[int, array[int]] = {}

    def answer(at: int) -> array[int]:
        stamps = answers.get(at)
        if stamps is None:
            stamps = answers[at] = timeline([at])
        return stamps

    def grow(series: MetricSeries, value: float) -> MetricSeries:
        return series.merged(answer(stamp), [value], oldest=oldest, ordered=True, plans=plans)

    def revise(series: MetricSeries, value: float) -> MetricSeries:
        last = series.latest_timestamp
        if last is None:
            return series
        return series.merged(answer(last), [value], oldest=oldest, ordered=True, plans=plans)

    def changed(service: Service, index: int) -> Service:
        update: dict = {}
        if minute or index % 3 == step % 3:
            change = grow if minute else revise
            m = service.metrics
            value = float((index * 7 + step * 13) % 100)
            update["metrics"] = m.model_copy(
                update={
                    "cpu_average": change(m.cpu_average, value),
                    "cpu_maximum": change(m.cpu_maximum, min(100.0, value + 5)),
                    "memory_average": change(m.memory_average, value / 2),
                    "memory_maximum": change(m.memory_maximum, value / 2 + 3),
                }
            )
        if index % 97 == step % 97:
            update["desired_count"] = service.desired_count + 1
        return service.model_copy(update=update) if update else service

    accounts = []
    index = 0
    for account in snapshot.accounts:
        regions = []
        for region in account.regions:
            clusters = []
            for cluster in region.clusters:
                services = []
                for service in cluster.services:
                    services.append(changed(service, index))
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
    """The collector's stand-in: its first poll returns the prepared fleet, each
    later one the next with `advance` (made on the collector's thread, as the
    collector makes its snapshot), then does `busy_seconds` more CPU work in
    chunks of about `chunk_ms` (the collector parsing between HTTP answers)."""

    def __init__(self, first: FleetSnapshot) -> None:
        self.current = first
        self.step = 0
        self.returned_at: float | None = None
        self.busy_seconds = 0.0
        self.chunk_ms = 5.0

    async def poll(self, only=None) -> FleetSnapshot:
        if self.step:
            self.current = advance(self.current, self.step)
        self.step += 1
        if self.busy_seconds:
            end = time.monotonic() + self.busy_seconds
            while time.monotonic() < end:
                chunk_end = time.monotonic() + self.chunk_ms / 1000
                while time.monotonic() < chunk_end:
                    sum(range(200))  # parsing-like CPU work
                await asyncio.sleep(0)
        self.returned_at = time.monotonic()
        return self.current

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
        self.pending_keys: deque[float] = deque()
        self._seen: set[int] = set()
        self.apply_seconds: list[float] = []
        # Per applied poll: wall seconds from the poll returning to the paint, and
        # the UI thread's CPU seconds over the same span (the event loop's work).
        self.painted_after_poll: list[float] = []
        self.loop_cpu: list[float] = []
        self.bench_source: BenchSource | None = None
        self._poll_returned: tuple[float, float] | None = None
        # Set on every paint after a poll and every poll status change: the bench waits
        # on it (a polling wait would add its own wake-ups to the UI thread's CPU).
        self.progress = asyncio.Event()
        self.terminal_bytes = 0

    def _display(self, screen, renderable) -> None:
        # Headless, Textual composes each update but never turns it into the escape
        # sequences a terminal is sent; a real terminal's driver has the UI thread
        # do that (App._display): done here too, so its CPU is in the tick.
        super()._display(screen, renderable)
        if isinstance(renderable, CompositorUpdate) and not self._batch_count:
            self.terminal_bytes += len(renderable.render_segments(self.console))

    def status_changed(self, status) -> None:
        super().status_changed(status)
        self.progress.set()

    async def on_event(self, event: events.Event) -> None:
        # A key reaches the app first (then the focused table, and bubbles back):
        # stamp it on its first arrival; the table's action completes the measure.
        if isinstance(event, events.Key) and event.key in ("j", "k") and id(event) not in self._seen:
            self._seen.add(id(event))
            self.pending_keys.append(event.time)
        await super().on_event(event)

    def key_handled(self) -> None:
        """Called by the table's cursor actions: latency = key created -> screen refreshed."""
        if self.pending_keys:
            stamped = self.pending_keys.popleft()
            self.call_after_refresh(lambda: self.key_latencies.append(time.monotonic() - stamped))

    async def snapshot_polled(self, snapshot: FleetSnapshot, previous: FleetSnapshot | None) -> None:
        # Back on the UI loop: the poll has returned. Start the UI thread's CPU clock here.
        self._poll_returned = (time.thread_time(), self.bench_source.returned_at if self.bench_source else 0.0)
        await super().snapshot_polled(snapshot, previous)

    def apply_snapshot(self, message) -> None:
        began = time.monotonic()
        super().apply_snapshot(message)
        self.apply_seconds.append(time.monotonic() - began)
        cpu_began, returned = self._poll_returned or (time.thread_time(), began)

        def painted() -> None:
            self.painted_after_poll.append(time.monotonic() - returned)
            self.loop_cpu.append(time.thread_time() - cpu_began)
            self.progress.set()

        self.call_after_refresh(painted)


async def wait_for(app: BenchApp, condition: Callable[[], bool], timeout: float = 120.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        app.progress.clear()
        if condition():
            return
        await asyncio.wait_for(app.progress.wait(), max(0.001, deadline - time.monotonic()))


async def poll_once(app: BenchApp) -> None:
    count = len(app.painted_after_poll)
    assert app.start_poll()
    await wait_for(app, lambda: len(app.painted_after_poll) > count and not app.polling)


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.1f} ms"


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(share * len(ordered)) - 1))]


class FullCollections:
    """Full (generation 2) garbage collections, by `gc.callbacks`: how many, and the longest (wall)."""

    def __init__(self) -> None:
        self.durations: list[float] = []
        self.counting = True  # off around the bench's own collection
        self._began = 0.0

    def __call__(self, phase: str, info: dict) -> None:
        if info.get("generation") != 2 or not self.counting:
            return
        if phase == "start":
            self._began = time.perf_counter()
        else:
            self.durations.append(time.perf_counter() - self._began)


_REPORT = sys.stdout  # where the readable report goes (stderr with --json)


def say(*parts: object) -> None:
    """A line of the readable report. Not through `sys.stdout` at the time: the app
    replaces it while it runs."""

    print(*parts, file=_REPORT, flush=True)


async def run(args: argparse.Namespace) -> dict[str, float]:
    process = psutil.Process()
    results: dict[str, float] = {"services": 0, "rss_before_fleet_mb": process.memory_info().rss / 1e6}
    per_cluster = 100
    clusters = 5
    accounts = max(1, args.services // (per_cluster * clusters))
    began = time.monotonic()
    gc.disable()  # the factory's millions of objects, without full collections on the way
    snapshot = make_snapshot(accounts=accounts, clusters=clusters, services=per_cluster, now=FIXED_NOW)
    gc.enable()
    results["services"] = snapshot.service_count
    say(
        f"synthetic fleet: {snapshot.service_count} services, {accounts} accounts, "
        f"180 min of history (built in {time.monotonic() - began:.1f} s)"
    )
    source = BenchSource(snapshot)
    del snapshot
    app_source = ThreadedSource(source) if args.collector == "thread" else source
    say(f"collector runs {'in its own thread (the default)' if args.collector == 'thread' else 'on the UI loop'}")
    app = BenchApp(app_source, autopoll=False, interval_seconds=30.0)
    app.bench_source = source
    full_collections = FullCollections()
    gc.callbacks.append(full_collections)
    async with app.run_test(size=(200, 60)) as pilot:
        await app.push_screen(BenchFleetScreen())
        await pilot.pause()
        # 1. First paint of the fleet-wide view.
        await poll_once(app)
        table = app.screen.query_one(ServiceTable)
        assert len(table.order) == results["services"], len(table.order)
        results["first_paint"] = app.painted_after_poll[-1]
        results["first_paint_loop_cpu"] = app.loop_cpu[-1]
        say(
            f"first paint of the fleet-wide view ({len(table.order)} rows): {ms(results['first_paint'])} "
            f"(UI thread CPU {ms(results['first_paint_loop_cpu'])})"
        )

        # 2. Refresh ticks: polls alternate between a third changed and all changed (a new minute).
        ticks: dict[str, list[tuple[float, float, float]]] = {"third": [], "all": []}

        async def tick() -> None:
            minute = (int(source.current.generated_at.timestamp()) + INTERVAL) // 60 != int(
                source.current.generated_at.timestamp()
            ) // 60
            await poll_once(app)
            kind = "all" if minute else "third"
            ticks[kind].append((app.loop_cpu[-1], app.apply_seconds[-1], app.painted_after_poll[-1]))

        for _ in range(6):
            await tick()

        # 3. Keypresses during polls, from another thread (like the terminal's input thread).
        loop = asyncio.get_running_loop()
        app.key_latencies.clear()
        source.busy_seconds = args.busy_seconds
        stop = threading.Event()

        def typist() -> None:
            keys = "jjjjjkkkkk"
            i = 0
            while not stop.is_set():
                key = events.Key(keys[i % len(keys)], keys[i % len(keys)])
                loop.call_soon_threadsafe(app.post_message, key)
                i += 1
                time.sleep(1 / args.key_rate)

        thread = threading.Thread(target=typist, daemon=True)
        thread.start()
        for _ in range(args.key_polls):
            await poll_once(app)
        await asyncio.sleep(0.3)
        stop.set()
        thread.join()
        source.busy_seconds = 0.0
        latencies = app.key_latencies
        results["keys"] = len(latencies)
        results["key_p50"] = statistics.median(latencies)
        results["key_p95"] = percentile(latencies, 0.95)
        results["key_p99"] = percentile(latencies, 0.99)
        results["key_max"] = max(latencies)
        say(
            f"keypress -> rendered during {args.key_polls} polls ({len(latencies)} keys): "
            f"median {ms(results['key_p50'])}, p95 {ms(results['key_p95'])}, p99 {ms(results['key_p99'])}, "
            f"max {ms(results['key_max'])}"
        )

        # 4. More polls (ticks measured too), then RSS.
        while app.polls_applied < args.polls:
            await tick()
        for kind, label in (("third", "a third changed"), ("all", "all changed (a new minute)")):
            if not ticks[kind]:
                continue
            cpu = [t[0] for t in ticks[kind]]
            apply = [t[1] for t in ticks[kind]]
            results[f"tick_{kind}_loop_cpu_median"] = statistics.median(cpu)
            results[f"tick_{kind}_loop_cpu_max"] = max(cpu)
            results[f"tick_{kind}_apply_median"] = statistics.median(apply)
            results[f"tick_{kind}_apply_max"] = max(apply)
            say(
                f"refresh tick, {label} ({len(cpu)} polls): UI thread CPU median {ms(statistics.median(cpu))}, "
                f"max {ms(max(cpu))}; apply (wall) median {ms(statistics.median(apply))}, max {ms(max(apply))}; "
                f"poll returned -> painted median {ms(statistics.median(t[2] for t in ticks[kind]))} "
                f"(includes building the view in a thread)"
            )
        results["tick"] = max(results.get("tick_third_loop_cpu_max", 0), results.get("tick_all_loop_cpu_max", 0))
        results["terminal_kb_per_poll"] = app.terminal_bytes / 1000 / max(1, app.polls_applied)
        say(f"sent to the terminal: {results['terminal_kb_per_poll']:.0f} KB a poll (keys included)")
        full_collections.counting = False
        gc.collect()
        full_collections.counting = True
        results["rss_mb"] = process.memory_info().rss / 1e6
        say(
            f"RSS after {app.polls_applied} polls: {results['rss_mb']:.0f} MB "
            f"({results['rss_before_fleet_mb']:.0f} MB before the fleet was built)"
        )

        # 5. Idle CPU between polls (header ticking once a second).
        # Settle first: a full collection due after the polls runs once nothing was
        # typed for GC_QUIET_SECONDS and no poll runs (between real 30 s polls, not here).
        await asyncio.sleep(app.GC_QUIET_SECONDS + 1.0)
        cpu_before = process.cpu_times()
        wall_before = time.monotonic()
        await asyncio.sleep(args.idle_seconds)
        cpu_after = process.cpu_times()
        used = (cpu_after.user - cpu_before.user) + (cpu_after.system - cpu_before.system)
        results["idle_cpu_percent"] = 100 * used / (time.monotonic() - wall_before)
        say(f"CPU while idle between polls: {results['idle_cpu_percent']:.2f} % of one core")
        # A due full collection waits for a moment without keys or a poll: here polls
        # run back to back, so it comes once they stop.
        gc.callbacks.remove(full_collections)
        results["full_gcs"] = len(full_collections.durations)
        results["full_gc_max"] = max(full_collections.durations, default=0.0)
        say(f"the app's full garbage collections: {results['full_gcs']:.0f}, longest {ms(results['full_gc_max'])}")
    if isinstance(app_source, ThreadedSource):
        await app_source.aclose()
    return results


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--services", type=int, default=5000, help="fleet size (accounts of 5 clusters x 100)")
    parser.add_argument("--polls", type=int, default=30)
    parser.add_argument("--idle-seconds", type=float, default=10.0)
    parser.add_argument("--key-polls", type=int, default=2, help="polls the keys are typed during")
    parser.add_argument("--key-rate", type=float, default=20.0, help="keys a second")
    parser.add_argument("--busy-seconds", type=float, default=3.0, help="collector CPU per poll while typing")
    parser.add_argument(
        "--json", action="store_true", help="print the results as one JSON object on stdout (the report on stderr)"
    )
    parser.add_argument(
        "--collector",
        choices=["thread", "loop"],
        default="thread",
        help="where the (simulated) collector's CPU work runs: its own thread (as `heartbeat` runs it) or the UI loop",
    )
    args = parser.parse_args()
    # With --json, stdout is the JSON object alone (as collector_bench's), for scripts.
    global _REPORT
    _REPORT = sys.stderr if args.json else sys.stdout
    results = asyncio.run(run(args))
    report(results)
    if args.json:
        print(json.dumps({**results, "load_average": psutil.getloadavg()[0]}))
    return 0


def report(results: dict[str, float]) -> None:
    targets = {
        "first_paint": 1.0,
        "tick": 0.05,
        "key_p99": 0.05,
        "rss_mb": 250 if results["services"] <= 5000 else 600,
        "idle_cpu_percent": 2.0,
    }
    say()
    for key, target in targets.items():
        ok = results[key] <= target
        say(f"{'ok  ' if ok else 'MISS'} {key:<18} {results[key]:.3f} (target <= {target})")


if __name__ == "__main__":
    raise SystemExit(main())
