"""Which service of a seeded fleet does what: steady, deploying, failing, hot, warm.

Decided for the whole fleet before any resource is made, so minimums hold
across it (at least two failing services among reachable accounts, and so on)
whatever its size, and the same spec always gives the same plan.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from heartbeat_tui.embedded.fleet import FleetSpec
from heartbeat_tui.embedded.state import ServiceKind


@dataclass
class ServicePlan:
    kind: ServiceKind
    hot: bool = False
    warm: bool = False
    failure_mode: str = "exit"


def rng_for(spec: FleetSpec, *parts: object) -> random.Random:
    """A Random seeded by the fleet seed and a resource path (order-independent)."""
    return random.Random(":".join(["heartbeat", str(spec.seed), *map(str, parts)]))


_KIND_WEIGHTS = (
    (ServiceKind.STEADY, 0.81),
    (ServiceKind.DEPLOYING, 0.08),
    (ServiceKind.FAILING, 0.01),
    (ServiceKind.SCALED_TO_ZERO, 0.05),
    (ServiceKind.UNDER_RUNNING, 0.045),
    (ServiceKind.DRAINING, 0.005),  # rare, as in life: a service being deleted
)

#: At least this many of each, among accounts the dashboard can reach.
_MINIMUMS = {
    ServiceKind.DEPLOYING: 3,
    ServiceKind.FAILING: 2,
    ServiceKind.SCALED_TO_ZERO: 2,
    ServiceKind.UNDER_RUNNING: 2,
    ServiceKind.DRAINING: 1,
}
_MIN_HOT, _MIN_WARM = 2, 3


def plan_fleet(spec: FleetSpec) -> dict[tuple[str, str, str, str], ServicePlan]:
    rng = rng_for(spec, "plan")
    plans: dict[tuple[str, str, str, str], ServicePlan] = {}
    reachable: list[tuple[str, str, str, str]] = []
    kinds = [k for k, _ in _KIND_WEIGHTS]
    weights = [w for _, w in _KIND_WEIGHTS]
    for account in spec.accounts:
        for region in account.regions:
            for cluster in region.clusters:
                for name in cluster.services:
                    key = (account.id, region.region, cluster.name, name)
                    kind = rng.choices(kinds, weights)[0]
                    plan = ServicePlan(kind=kind)
                    if kind in (ServiceKind.STEADY, ServiceKind.DEPLOYING):
                        roll = rng.random()
                        plan.hot = roll < 0.03
                        plan.warm = 0.03 <= roll < 0.09
                    plans[key] = plan
                    if not account.deny_assume_role:
                        reachable.append(key)

    def steady_pool() -> list[tuple[str, str, str, str]]:
        return [k for k in reachable if plans[k].kind is ServiceKind.STEADY and not plans[k].hot and not plans[k].warm]

    for kind, minimum in _MINIMUMS.items():
        missing = minimum - sum(1 for k in reachable if plans[k].kind is kind)
        pool = steady_pool()
        for key in rng.sample(pool, min(max(0, missing), len(pool))):
            plans[key].kind = kind
    for attr, minimum in (("hot", _MIN_HOT), ("warm", _MIN_WARM)):
        missing = minimum - sum(1 for k in reachable if getattr(plans[k], attr))
        pool = steady_pool()
        for key in rng.sample(pool, min(max(0, missing), len(pool))):
            setattr(plans[key], attr, True)
    failing = [k for k in plans if plans[k].kind is ServiceKind.FAILING]
    for index, key in enumerate(failing):
        plans[key].failure_mode = "exit" if index % 2 == 0 else "pull"
    return plans
