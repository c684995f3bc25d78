"""The child's whole state: the simulator's fleet model, metric store, activity
log, faults and stats.

One ``threading.RLock`` (``World.lock``) guards the fleet model the simulator
mutates; the ECS and autoscaling handlers take it while they read.  The metric
store has a lock of its own (``MetricStore.lock``): a GetMetricData of a few
hundred queries would otherwise hold up every ECS call.  Nothing holds both
(so neither waits on the other).
"""

from __future__ import annotations

import threading
import time
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from heartbeat_tui.embedded.fleet import FleetSpec
from heartbeat_tui.embedded.metrics import MetricStore
from heartbeat_tui.embedded.state import (
    ScalingActivity,
    ServiceKind,
    SimCluster,
    SimService,
    SimTask,
)

MAX_ACTIVITIES_PER_REGION = 5000


@dataclass
class World:
    spec: FleetSpec
    started_at: float
    lock: threading.RLock = field(default_factory=threading.RLock)
    clusters: dict[tuple[str, str, str], SimCluster] = field(default_factory=dict)
    services: dict[tuple[str, str, str, str], SimService] = field(default_factory=dict)
    tasks: dict[tuple[str, str, str], SimTask] = field(default_factory=dict)  # account, region, task id
    activities: dict[tuple[str, str], list[ScalingActivity]] = field(
        default_factory=lambda: defaultdict(list)
    )  # chronological
    metrics: MetricStore = field(default_factory=MetricStore)
    step: int = 0
    hub_access_key: str = "testing"
    hub_secret_key: str = "testing"
    # Writes the services' application logs into moto's CloudWatch Logs (embedded/applogs.py).
    applogs: Any = None

    # -- lookups -------------------------------------------------------------

    def cluster(self, account: str, region: str, name_or_arn: str) -> SimCluster | None:
        return self.clusters.get((account, region, name_or_arn.rsplit("/", 1)[-1]))

    def ordered_services(self) -> list[SimService]:
        """Services in a stable order (seeding order): the simulator's iteration order."""
        return list(self.services.values())

    # -- mutation helpers used by seeding and the simulator --------------------

    def register_task(self, service: SimService, task: SimTask) -> None:
        service.tasks[task.id] = task
        self.tasks[(service.account, service.region, task.id)] = task

    def retire_task(self, service: SimService, task: SimTask) -> None:
        """Move a stopped task to the service's (bounded) stopped list."""
        service.tasks.pop(task.id, None)
        if len(service.stopped) == service.stopped.maxlen:
            oldest = service.stopped[-1]
            self.tasks.pop((service.account, service.region, oldest.id), None)
        service.stopped.appendleft(task)
        self.tasks[(service.account, service.region, task.id)] = task

    def add_activity(self, activity: ScalingActivity) -> None:
        log = self.activities[(activity.account, activity.region)]
        log.append(activity)
        if len(log) > MAX_ACTIVITIES_PER_REGION + 500:
            del log[: len(log) - MAX_ACTIVITIES_PER_REGION]

    def sync_moto(self, service: SimService) -> None:
        """Mirror counts and status into moto's Service so moto's own calls agree,
        and publish the running count to the metric store.

        Every change to a service's tasks ends with this call before the world
        lock is released, so the published count is the live one whenever the
        lock is free.
        """
        service.recount()
        running, pending = service.counts()
        service.metrics_running = running
        moto_service = service.moto_service
        if moto_service is None:
            return
        moto_service.desired_count = service.desired_count
        moto_service.running_count = running
        moto_service.pending_count = pending
        moto_service.status = service.status
        moto_service.task_definition = service.task_definition

    def sync_cluster(self, cluster: SimCluster) -> None:
        """Mirror the cluster's task and service counts into moto's Cluster."""
        moto_cluster = cluster.moto_cluster
        if moto_cluster is None:
            return
        services = cluster.services.values()
        counts = [s.counts() for s in services]
        moto_cluster.active_services_count = sum(1 for s in services if s.status == "ACTIVE")
        moto_cluster.running_tasks_count = sum(running for running, _ in counts)
        moto_cluster.pending_tasks_count = sum(pending for _, pending in counts)
        moto_cluster.registered_container_instances_count = cluster.container_instances

    # -- summaries for the control API -----------------------------------------

    def fleet_summary(self) -> dict[str, Any]:
        accounts: dict[str, dict[str, Any]] = {}
        for account in self.spec.accounts:
            accounts[account.id] = {
                "id": account.id,
                "alias": account.alias,
                "role_arn": None if account.id == self.spec.hub_account else account.role_arn,
                "deny_assume_role": account.deny_assume_role,
                "regions": {},
            }
        for cluster in self.clusters.values():
            regions = accounts[cluster.account]["regions"]
            clusters = regions.setdefault(cluster.region, {})
            clusters[cluster.name] = {
                "arn": cluster.arn,
                "launch_type": cluster.default_launch_type,
                "services": {
                    s.name: {
                        "arn": s.arn,
                        "kind": s.kind.value,
                        "status": s.status,
                        "launch_type": s.launch_type,
                        "desired": s.desired_count,
                        "running": s.running_count,
                        "pending": s.pending_count,
                        "rollout_state": s.primary.rollout_state if s.primary else None,
                        "deployments": len(s.deployments),
                        "scalable": s.scaling is not None,
                        "hot": s.metrics.hot,
                        "cpu_base": s.metrics.cpu_base,
                    }
                    for s in cluster.services.values()
                },
            }
        kinds: dict[str, int] = defaultdict(int)
        for service in self.services.values():
            kinds[service.kind.value] += 1
        return {
            "hub_account": self.spec.hub_account,
            "seed": self.spec.seed,
            "step": self.step,
            "clusters": len(self.clusters),
            "services": len(self.services),
            "kinds": dict(kinds),
            "accounts": list(accounts.values()),
        }


def now() -> float:
    return time.time()


__all__ = ["ServiceKind", "World", "now"]
