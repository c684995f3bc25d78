"""Application log lines for the demo fleet, written into moto's CloudWatch Logs.

Each seeded service whose task definition says `awslogs` gets its group
(`/ecs/<family>`) and one stream per task and container
(`ecs/<container>/<task-id>`), exactly where ECS's awslogs driver puts them,
so HeartBeat's log reader runs the code path it runs against real AWS
(FilterLogEvents over real HTTP).

Off the start-up path: moto loads the Logs service model when its first logs
backend is made (0.6 s of CPU), so the child reports ready first and seeds
the logs on a thread of its own; a CloudWatch Logs request waits for that
(`ready`), never sees a half-seeded fleet.

Cheap on purpose: the seed writes a short history (the last 10 minutes, a
line every one to two and a half minutes per task) and each simulator step a line for about
half the services; a stream keeps its newest `KEEP_PER_STREAM` lines. Tasks
of a failing deployment end with an error burst (a stack trace and the exit),
the way a crash-looping container's log does.
"""

from __future__ import annotations

import random
import threading
from typing import Any

from heartbeat_tui.embedded.state import ServiceKind, SimService, SimTask

STREAM_PREFIX = "ecs"
KEEP_PER_STREAM = 300
SEED_MINUTES = 10

_PATHS = ("/health", "/v1/items", "/v1/orders", "/v1/accounts/me", "/v1/search", "/metrics")
_WORK = ("processed batch", "committed offset", "flushed cache", "refreshed token", "synced partition")


def _app_line(service: SimService, rng: random.Random) -> str:
    roll = rng.random()
    if "worker" in service.name or "consumer" in service.name or roll < 0.2:
        return f"INFO  {rng.choice(_WORK)} id={rng.getrandbits(32):08x} in {rng.randint(3, 900)}ms"
    if roll < 0.93:
        status = 200 if rng.random() < 0.97 else 404
        return f"INFO  {rng.choice(('GET', 'GET', 'POST'))} {rng.choice(_PATHS)} {status} {rng.randint(2, 180)}ms"
    return f"WARN  slow upstream call to {service.name.split('-')[0]}-db: {rng.randint(900, 4000)}ms"


def _sidecar_line(sidecar: str, rng: random.Random) -> str:
    if sidecar == "envoy":
        return f"[info][upstream] cds: add {rng.randint(2, 9)} cluster(s), remove 0 cluster(s)"
    if sidecar == "datadog-agent":
        return f"INFO | (pkg/forwarder) Successfully posted payload ({rng.randint(2, 90)} kB)"
    return f"[info] flushed {rng.randint(10, 400)} records to the output"


def _crash_lines(service: SimService, task: SimTask) -> list[str]:
    """What a crashing container prints before it exits (an error burst)."""

    db = f"{service.name.split('-')[0]}-db.internal:5432"
    return [
        "INFO  starting application (profile=production)",
        f"INFO  connecting to database {db}",
        f"ERROR connection to {db} refused: ECONNREFUSED",
        "ERROR Unhandled exception in main loop",
        "Traceback (most recent call last):",
        '  File "/app/main.py", line 42, in <module>',
        "    pool = connect(settings.DATABASE_URL)",
        "ConnectionRefusedError: [Errno 111] Connection refused",
        f"FATAL task {task.id[:8]} exiting with code 1",
    ]


class AppLogWriter:
    """Writes log lines for the world's services into moto's logs backends (in the child)."""

    def __init__(self) -> None:
        from moto.backends import get_backend

        self._backends: Any = get_backend("logs")
        self._streams: set[tuple[str, str, str, str]] = set()
        self._crashed: set[str] = set()
        self.ready = threading.Event()  # set once seeded (or once seeding failed: nothing to wait for)

    def _put(self, service: SimService, stream: str, events: list[tuple[float, str]]) -> None:
        if not events:
            return
        backend = self._backends[service.account][service.region]
        group = f"/ecs/{service.family}"
        key = (service.account, service.region, group, stream)
        if key not in self._streams:
            if group not in backend.groups:
                backend.create_log_group(group, {})
            if stream not in backend.groups[group].streams:
                backend.create_log_stream(group, stream)
            self._streams.add(key)
        backend.put_log_events(group, stream, [{"timestamp": int(t * 1000), "message": m} for t, m in events])
        kept = backend.groups[group].streams[stream].events
        if len(kept) > KEEP_PER_STREAM:
            del kept[: len(kept) - KEEP_PER_STREAM]

    @staticmethod
    def _stream(container: str, task: SimTask) -> str:
        return f"{STREAM_PREFIX}/{container}/{task.id}"

    def _crash(self, service: SimService, task: SimTask) -> None:
        """A failed task's error burst, once (tasks that never started have no log)."""

        if task.id in self._crashed or task.started_at is None or task.stopped_at is None:
            return
        self._crashed.add(task.id)
        lines = _crash_lines(service, task)
        start = max(task.started_at, task.stopped_at - len(lines) * 0.5)
        self._put(service, self._stream(service.family, task), [(start + i * 0.4, m) for i, m in enumerate(lines)])

    def seed(self, services: list[tuple[SimService, list[SimTask], list[SimTask]]], now: float, seed: int) -> None:
        """Seed from (service, its tasks, its stopped tasks), copied under the world's
        lock by the caller: the writing (and moto's model load) runs without it."""

        try:
            self._seed(services, now, seed)
        finally:
            self.ready.set()

    def _seed(self, services: list[tuple[SimService, list[SimTask], list[SimTask]]], now: float, seed: int) -> None:
        for service, tasks, stopped in services:
            if service.log_driver != "awslogs":
                continue
            rng = random.Random(f"{seed}/logs/{service.account}/{service.region}/{service.name}")
            for task in tasks:
                if task.started_at is None:
                    continue
                t = max(task.started_at, now - SEED_MINUTES * 60.0)
                app: list[tuple[float, str]] = []
                side: list[tuple[float, str]] = []
                while t < now:
                    app.append((t, _app_line(service, rng)))
                    if service.sidecar and rng.random() < 0.25:
                        side.append((t + 0.3, _sidecar_line(service.sidecar, rng)))
                    t += rng.uniform(60.0, 150.0)
                self._put(service, self._stream(service.family, task), app)
                if service.sidecar:
                    self._put(service, self._stream(service.sidecar, task), side)
            for task in reversed(stopped):
                if service.kind is ServiceKind.FAILING:
                    self._crash(service, task)

    def step(self, services: list[SimService], rng: random.Random, now: float) -> None:
        """A line for about half the services; a burst for each newly crashed task."""

        if not self.ready.is_set():
            return  # still seeding
        for service in services:
            if service.log_driver != "awslogs":
                continue
            for task in service.stopped:
                if task.stop_code == "EssentialContainerExited" and task.id not in self._crashed:
                    self._crash(service, task)
            if not service.tasks or rng.random() < 0.5:
                continue
            task = rng.choice(list(service.tasks.values()))
            if task.started_at is None:
                continue
            self._put(service, self._stream(service.family, task), [(now, _app_line(service, rng))])
            if service.sidecar and rng.random() < 0.1:
                self._put(service, self._stream(service.sidecar, task), [(now, _sidecar_line(service.sidecar, rng))])


__all__ = ["STREAM_PREFIX", "AppLogWriter"]
