"""The simulator: a thread in the child that keeps the fleet alive.

Each step (every ``step_seconds``, or on demand through the control API) is a
pure function of the seed, the step number and the current state, so a paused
simulator ticked N times always ends in the same place:

* pending tasks start; services converge their running count to desired;
* deployments progress (new tasks start, old ones stop, the old deployment is
  drained, "deployment completed", "steady state");
* failing services keep failing (a task starts and dies every step);
* one or two services with a scalable target scale out or in, within their
  min/max, with the matching scaling activity and service events;
* now and then a steady service starts a new deployment.

Metrics are not steps: they advance with wall-clock minutes (MetricStore.advance).
"""

from __future__ import annotations

import math
import random
import sys
import threading
import time
import traceback
from typing import Any

from heartbeat_tui.embedded.lifecycle import fail_task, make_activity, new_task
from heartbeat_tui.embedded.planning import rng_for
from heartbeat_tui.embedded.state import (
    Deployment,
    ServiceKind,
    SimService,
    SimTask,
    deployment_id,
    msg_deployment_completed,
    msg_draining,
    msg_started,
    msg_steady,
    msg_stopped,
    msg_unable_to_place,
    msg_unable_to_start,
)
from heartbeat_tui.embedded.task_definitions import register_task_definition
from heartbeat_tui.embedded.world import World

METRICS_REFRESH_SECONDS = 15.0


class Simulator:
    def __init__(self, world: World, step_seconds: float = 60.0, paused: bool = False) -> None:
        self.world = world
        self.step_seconds = max(0.05, float(step_seconds))
        self._paused = paused
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None
        self._ecs: Any = None

    # -- control -------------------------------------------------------------

    @property
    def paused(self) -> bool:
        return self._paused

    def pause(self) -> None:
        self._paused = True

    def resume(self) -> None:
        self._paused = False
        self._wake.set()

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="heartbeat-simulator", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()

    def tick(self, steps: int = 1) -> int:
        """Advance ``steps`` steps synchronously; returns the new step number."""
        for _ in range(max(0, steps)):
            self.step()
        return self.world.step

    def _run(self) -> None:
        next_step = time.monotonic() + self.step_seconds
        while not self._stop.is_set():
            timeout = min(METRICS_REFRESH_SECONDS, max(0.0, next_step - time.monotonic()))
            self._wake.wait(timeout)
            self._wake.clear()
            if self._stop.is_set():
                return
            self.world.metrics.advance(time.time())  # the store's own lock, not the world's
            if self._paused:
                next_step = time.monotonic() + self.step_seconds
                continue
            if time.monotonic() >= next_step:
                try:
                    self.step()
                except Exception:  # a bug must not freeze the fleet silently
                    traceback.print_exc(file=sys.stderr)
                next_step = time.monotonic() + self.step_seconds

    # -- one step ----------------------------------------------------------------

    def step(self) -> None:
        world = self.world
        # Minutes completed so far get the counts from before this step (published
        # by the previous one). Outside the world lock: the store has its own.
        world.metrics.advance(time.time())
        with world.lock:
            world.step += 1
            rng = rng_for(world.spec, "step", world.step)
            now = time.time()
            for service in world.ordered_services():
                self._progress(service, rng, now)
            self._scale(rng, now)
            self._maybe_deploy(rng, now)
            if world.applogs is not None:  # its own random stream: the fleet's stays as it was
                world.applogs.step(world.ordered_services(), rng_for(world.spec, "logs", world.step), now)
            for service in world.services.values():
                world.sync_moto(service)
            for cluster in world.clusters.values():
                world.sync_cluster(cluster)

    # -- task helpers ----------------------------------------------------------------

    def _start_tasks(
        self, service: SimService, deployment: Deployment, count: int, rng: random.Random, now: float
    ) -> list[str]:
        ids = []
        for _ in range(count):
            task = new_task(service, deployment, rng, now)
            self.world.register_task(service, task)
            ids.append(task.id)
        if ids:
            service.add_event(rng, now, msg_started(service.name, ids))
        return ids

    def _stop_tasks(
        self, service: SimService, tasks: list[SimTask], reason: str, rng: random.Random, now: float
    ) -> None:
        if not tasks:
            return
        for task in tasks:
            task.stop(now, stop_code="ServiceSchedulerInitiated", reason=reason, exit_code=0)
            self.world.retire_task(service, task)
        service.add_event(rng, now, msg_stopped(service.name, [t.id for t in tasks]))

    @staticmethod
    def _promote_pending(service: SimService, now: float) -> None:
        for task in service.tasks.values():
            if task.last_status == "PENDING":
                task.start(now)

    # -- per-service progress ----------------------------------------------------------

    def _progress(self, service: SimService, rng: random.Random, now: float) -> None:
        kind = service.kind
        if kind is ServiceKind.SCALED_TO_ZERO and not service.tasks and not service.needs_steady_event:
            return
        self._promote_pending(service, now)
        if kind is ServiceKind.DEPLOYING:
            self._progress_deployment(service, rng, now)
        elif kind is ServiceKind.FAILING:
            self._progress_failing(service, rng, now)
        elif kind is ServiceKind.UNDER_RUNNING:
            if (self.world.step + len(service.name)) % 3 == 0:
                instance = f"{rng.getrandbits(128):032x}"
                service.add_event(rng, now, msg_unable_to_place(service.name, service.launch_type, instance))
        elif kind is ServiceKind.DRAINING:
            running = [t for t in service.tasks.values() if t.last_status == "RUNNING"]
            if running:
                service.add_event(rng, now - 1.0, msg_draining(service.name, 1))
                self._stop_tasks(service, running[:1], "Service is being drained", rng, now)
        else:
            self._converge(service, rng, now)
        service.recount()
        if (
            service.needs_steady_event
            and len(service.deployments) == 1
            and service.pending_count == 0
            and service.running_count == service.desired_count
        ):
            service.add_event(rng, now, msg_steady(service.name))
            service.needs_steady_event = False

    def _converge(self, service: SimService, rng: random.Random, now: float) -> None:
        primary = service.primary
        if primary is None:
            return
        active = len(service.tasks)
        if active < service.desired_count:
            self._start_tasks(service, primary, service.desired_count - active, rng, now)
            service.needs_steady_event = True
        running = [t for t in service.tasks.values() if t.last_status == "RUNNING"]
        if len(running) > service.desired_count:
            excess = sorted(running, key=lambda t: t.started_at or 0.0)[: len(running) - service.desired_count]
            self._stop_tasks(service, excess, f"Scaling activity initiated by (deployment {primary.id})", rng, now)
            service.needs_steady_event = True

    def _progress_deployment(self, service: SimService, rng: random.Random, now: float) -> None:
        new = service.deployments[0]
        desired = service.desired_count
        new_tasks = [t for t in service.tasks.values() if t.deployment == new.id]
        batch = max(1, math.ceil(desired / 2))
        if len(new_tasks) < desired:
            self._start_tasks(service, new, min(batch, desired - len(new_tasks)), rng, now)
        new_running = sum(1 for t in service.tasks.values() if t.deployment == new.id and t.last_status == "RUNNING")
        old_tasks = sorted(
            (t for t in service.tasks.values() if t.deployment != new.id), key=lambda t: t.started_at or 0.0
        )
        excess = new_running + len(old_tasks) - desired
        if excess > 0 and old_tasks:
            self._stop_tasks(
                service, old_tasks[:excess], f"Scaling activity initiated by (deployment {new.id})", rng, now
            )
        new.updated_at = now
        remaining_old = any(t.deployment != new.id for t in service.tasks.values())
        new_pending = any(t.deployment == new.id and t.last_status == "PENDING" for t in service.tasks.values())
        if not remaining_old and not new_pending and new_running >= desired:
            new.rollout_state = "COMPLETED"
            new.rollout_state_reason = f"ECS deployment {new.id} completed."
            service.deployments = [new]
            service.kind = ServiceKind.STEADY
            service.add_event(rng, now, msg_deployment_completed(service.name, new.id))
            service.needs_steady_event = True

    def _progress_failing(self, service: SimService, rng: random.Random, now: float) -> None:
        new = service.deployments[0]
        task = new_task(service, new, rng, now - 20.0)
        self.world.register_task(service, task)
        service.add_event(rng, now - 20.0, msg_started(service.name, [task.id]))
        fail_task(service, task, now)
        self.world.retire_task(service, task)
        new.failed_tasks += 1
        new.updated_at = now
        if new.failed_tasks % 5 == 0:
            service.add_event(rng, now, msg_unable_to_start(service.name))
        # The previous deployment keeps serving: keep it at the desired count.
        old = service.deployments[1] if len(service.deployments) > 1 else None
        if old is not None:
            old_tasks = [t for t in service.tasks.values() if t.deployment == old.id]
            if len(old_tasks) < service.desired_count:
                self._start_tasks(service, old, service.desired_count - len(old_tasks), rng, now)

    # -- fleet-wide events -------------------------------------------------------------

    def _scale(self, rng: random.Random, now: float) -> None:
        candidates = [
            s
            for s in self.world.ordered_services()
            if s.kind is ServiceKind.STEADY
            and s.scaling is not None
            and not s.metrics.hot
            and not s.needs_steady_event
            and s.scaling.max_capacity > s.scaling.min_capacity
        ]
        if not candidates:
            return
        count = 1 if rng.random() < 0.7 else 2
        for service in rng.sample(candidates, min(count, len(candidates))):
            scaling = service.scaling
            assert scaling is not None
            desired = service.desired_count
            if desired >= scaling.max_capacity:
                scale_out = False
            elif desired <= scaling.min_capacity:
                scale_out = True
            else:
                scale_out = rng.random() < 0.5
            delta = rng.choice((1, 1, 2))
            if scale_out:
                target = min(scaling.max_capacity, desired + delta)
            else:
                target = max(scaling.min_capacity, desired - delta)
            if target == desired:
                continue
            activity = make_activity(service, rng, now - rng.uniform(20.0, 45.0), target, scale_out)
            activity.end_time = min(activity.end_time, now)
            self.world.add_activity(activity)
            service.desired_count = target
            if service.primary is not None:
                service.primary.desired_count = target
                service.primary.updated_at = now
            self._converge(service, rng, now)
            service.needs_steady_event = True
            service.recount()

    def _maybe_deploy(self, rng: random.Random, now: float) -> None:
        if rng.random() >= 0.5:  # about two deployments in flight at any time
            return
        candidates = [
            s
            for s in self.world.ordered_services()
            if s.kind is ServiceKind.STEADY
            and s.desired_count > 0
            and not s.needs_steady_event
            and s.running_count == s.desired_count
            and s.pending_count == 0
        ]
        if not candidates:
            return
        service = rng.choice(candidates)
        if self._ecs is None:
            from moto.backends import get_backend

            self._ecs = get_backend("ecs")
        sha = f"{rng.getrandbits(28):07x}"
        service.image = service.image.rsplit(":", 1)[0] + ":" + sha
        ecs = self._ecs[service.account][service.region]
        definition = register_task_definition(
            ecs,
            service.family,
            service.image,
            service.launch_type,
            service.cpu,
            service.memory,
            region=service.region,
            sidecar=service.sidecar,
            log_driver=service.log_driver,
        )
        self._start_deployment(service, definition, rng, now)

    def _start_deployment(self, service: SimService, definition: str, rng: random.Random, now: float) -> None:
        """A new PRIMARY deployment; every older one becomes ACTIVE and is drained."""
        new = Deployment(
            id=deployment_id(rng),
            status="PRIMARY",
            task_definition=definition,
            desired_count=service.desired_count,
            launch_type=service.launch_type,
            created_at=now,
            updated_at=now,
            rollout_state="IN_PROGRESS",
            rollout_state_reason="",
        )
        new.rollout_state_reason = f"ECS deployment {new.id} in progress."
        for old in service.deployments:
            old.status = "ACTIVE"
        service.deployments = [new, *service.deployments[:1]]
        # Tasks of deployments older than the previous one are replaced too.
        keep = {d.id for d in service.deployments}
        for task in [t for t in service.tasks.values() if t.deployment not in keep]:
            task.deployment = service.deployments[-1].id
        service.task_definition = definition
        service.kind = ServiceKind.DEPLOYING
        self._progress_deployment(service, rng, now)
        service.recount()

    # -- writes made through the API (UpdateService, DeleteService) -------------------

    def update_service(
        self, service: SimService, desired: int | None, task_definition: str | None, force: bool
    ) -> None:
        """Apply an UpdateService that moto accepted to the simulator's model."""
        with self.world.lock:
            now = time.time()
            rng = rng_for(self.world.spec, "update", service.arn, self.world.step, len(service.events))
            if desired is not None and desired != service.desired_count:
                service.desired_count = desired
                for deployment in service.deployments[:1]:
                    deployment.desired_count = desired
                    deployment.updated_at = now
                service.needs_steady_event = True
                if service.kind in (ServiceKind.SCALED_TO_ZERO, ServiceKind.STEADY):
                    service.kind = ServiceKind.STEADY if desired > 0 else ServiceKind.SCALED_TO_ZERO
                    self._converge(service, rng, now)
            changed = (task_definition and task_definition != service.task_definition) or force
            if changed and service.desired_count > 0 and service.kind is not ServiceKind.DRAINING:
                self._start_deployment(service, task_definition or service.task_definition, rng, now)
            self.world.sync_moto(service)

    def delete_service(self, service: SimService) -> None:
        """DeleteService: the service drains (DRAINING, desired 0) as in ECS."""
        with self.world.lock:
            service.status = "DRAINING"
            service.kind = ServiceKind.DRAINING
            service.desired_count = 0
            for deployment in service.deployments[:1]:
                deployment.desired_count = 0
            self.world.sync_moto(service)
