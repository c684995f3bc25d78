"""The ECS steps of a poll: clusters, service lists, service descriptions.

The first poll of an account-region reads its inventory in order:
ListClusters -> DescribeClusters -> ListServices -> DescribeServices (with
CloudWatch's GetMetricData beside the last, for the same services).

Later polls do not wait for the inventory. They start describing the last
poll's services, and reading their metrics, at once, beside ListClusters and
DescribeClusters (of the last poll's clusters, also at once); ListServices is
made only for a cluster whose counts cannot prove the last poll's list
complete (see `Inventory`). What the inventory then says is reconciled with
what was already described: a new cluster or service is described (its
metrics follow the next poll: it has barely any yet), what is gone is dropped.
A cluster's list is read whole at least every `SERVICES_RELIST_SECONDS`, and
on every cluster when an operator asks (`relist_next_poll`).

In the usual poll, with nothing created or deleted, that is the same calls
as before minus every ListServices, and no round trip before the first
DescribeServices.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from heartbeat_tui.aws.errors import BadResponse
from heartbeat_tui.aws.lean import BODY_DIGEST, UNCHANGED
from heartbeat_tui.aws.services import ECS
from heartbeat_tui.collector.context import PollContext
from heartbeat_tui.collector.limits import (
    DESCRIBE_CLUSTERS_BATCH,
    DESCRIBE_SERVICES_BATCH,
    LIST_PAGE_SIZE,
    SERVICES_RELIST_SECONDS,
)
from heartbeat_tui.collector.metrics import MetricReader
from heartbeat_tui.collector.parse import fingerprint, parse_cluster, parse_service
from heartbeat_tui.collector.state import AccountState, Inventory, RegionState
from heartbeat_tui.collector.steps import (
    PRIORITY_FAN_OUT,
    Lane,
    Step,
    StepFailed,
    chunks,
    gather_all,
    gather_both,
    guard,
    raise_failures,
    raise_unanswered,
    settle,
)
from heartbeat_tui.models import Cluster, Service, StaleKind

log = logging.getLogger("heartbeat_tui.collector.collector")


@dataclass(frozen=True)
class Plan:
    """What a later poll describes before its inventory is in: the last poll's
    clusters and, per cluster, its services (none INACTIVE)."""

    clusters: list[str]
    services: dict[str, list[str]]


LIST_CLUSTERS = Step(Lane.ECS, "ListClusters")
DESCRIBE_CLUSTERS = Step(Lane.ECS, "DescribeClusters")
LIST_SERVICES = Step(Lane.ECS, "ListServices")
DESCRIBE_SERVICES = Step(Lane.ECS, "DescribeServices")


class EcsReader:
    """The ECS part of a poll; it has CloudWatch read the same services beside it."""

    __slots__ = ("_ctx", "_metrics")

    def __init__(self, ctx: PollContext, metrics: MetricReader) -> None:
        self._ctx = ctx
        self._metrics = metrics

    async def poll(
        self, state: AccountState, rstate: RegionState, region: str, now: datetime
    ) -> list[tuple[StaleKind, StepFailed]]:
        """ECS, and CloudWatch for the same services, in one account-region. Commits
        what succeeded to `rstate`; returns what failed: (kind of data, failure)."""

        failures: list[tuple[StaleKind, StepFailed]] = []
        plan = self._plan(rstate, now)
        ahead: list[asyncio.Future[Any]] = []
        if plan is not None:
            ahead = [
                asyncio.ensure_future(guard(Lane.ECS, self._describe_batches(state, rstate, region, plan.services))),
                asyncio.ensure_future(
                    guard(Lane.CLOUDWATCH, self._metrics.fetch(state, rstate, region, plan.services, now))
                ),
            ]
        try:
            try:
                inventory = await guard(Lane.ECS, self._fetch_inventory(state, rstate, region, now, plan))
            except StepFailed as failure:
                failures.append(("ecs", failure))
                if ahead:  # the last poll's services' metrics are read all the same
                    await settle(ahead[0])
                    try:
                        await ahead[1]
                    except StepFailed as metrics_failure:
                        failures.append(("metrics", metrics_failure))
                else:
                    failures.append(("metrics", failure))
                return failures

            if ahead:
                described, metrics = await asyncio.gather(*ahead, return_exceptions=True)
                if isinstance(described, StepFailed) and plan is not None and _cluster_gone(described, plan, inventory):
                    # A cluster deleted since the last poll: describe what the
                    # inventory says, as a first poll would. (Any other failure,
                    # throttling after its retries say, is reported, not doubled.)
                    log.info("%s %s; describing the services the inventory lists", region, described)
                    described = await asyncio.gather(
                        guard(Lane.ECS, self._describe_batches(state, rstate, region, inventory.services)),
                        return_exceptions=True,
                    )
                    described = described[0]
            else:
                described, metrics = await asyncio.gather(
                    guard(Lane.ECS, self._describe_batches(state, rstate, region, inventory.services)),
                    guard(Lane.CLOUDWATCH, self._metrics.fetch(state, rstate, region, inventory.services, now)),
                    return_exceptions=True,
                )
            if not isinstance(described, BaseException):
                described = await asyncio.gather(
                    guard(Lane.ECS, self._reconcile(state, rstate, region, inventory, described, now)),
                    return_exceptions=True,
                )
                described = described[0]
            outcomes: tuple[tuple[object, StaleKind], ...] = ((described, "ecs"), (metrics, "metrics"))
            for outcome, kind in outcomes:
                if isinstance(outcome, StepFailed):
                    failures.append((kind, outcome))
                elif isinstance(outcome, BaseException):
                    raise outcome
            if not isinstance(described, BaseException):
                rstate.clusters = described
                rstate.services_listed_at = inventory.listed_at
                rstate.ecs_fetched_at = now
                current = {service.arn for cluster in described for service in cluster.services}
                rstate.parsed = {arn: v for arn, v in rstate.parsed.items() if arn in current}
        finally:
            # Only this poll's answers are known next poll: an older one may name
            # services parsed since from another answer (the inventory changed).
            rstate.answers, rstate.answers_next = rstate.answers_next, {}
            for task in ahead:
                await settle(task)
        return failures

    def _plan(self, rstate: RegionState, now: datetime) -> Plan | None:
        """The last poll's clusters and ACTIVE services, to describe before the
        inventory is in; None on a first poll and when an operator asked for
        every list to be read whole (then the poll waits for the inventory)."""

        if self._ctx.relisting or not rstate.clusters:
            return None
        services: dict[str, list[str]] = {}
        for cluster in rstate.clusters:
            active = [s.arn for s in cluster.services if s.status == "ACTIVE"]
            if active:
                services[cluster.arn] = active
        return Plan(clusters=[c.arn for c in rstate.clusters], services=services)

    async def _fetch_inventory(
        self, state: AccountState, rstate: RegionState, region: str, now: datetime, plan: Plan | None
    ) -> Inventory:
        """Clusters (described) and the service ARNs of each cluster with services."""

        ecs = await self._ctx.access.client(state.config, ECS, region)

        async def list_clusters() -> list[str]:
            arns: list[str] = []
            async for page in self._ctx.pages(state, LIST_CLUSTERS, ecs.list_clusters, maxResults=LIST_PAGE_SIZE):
                arns += page.get("clusterArns") or []
            return arns

        async def describe(batch: list[str]) -> list[Cluster]:
            response = await self._ctx.read(state, DESCRIBE_CLUSTERS, ecs.describe_clusters, clusters=batch)
            raise_failures(DESCRIBE_CLUSTERS, response)
            items = response.get("clusters") or []
            clusters = [parse_cluster(item) for item in items]
            raise_unanswered(DESCRIBE_CLUSTERS, "clusters", batch, items, "clusterArn", response)
            return clusters

        async def describe_all(arns: list[str]) -> list[Cluster]:
            batches = await gather_all(*(describe(b) for b in chunks(arns, DESCRIBE_CLUSTERS_BATCH)))
            return [cluster for batch in batches for cluster in batch]

        if plan is not None and plan.clusters:
            # The last poll's clusters are described beside the listing, which
            # then only adds the new ones and drops those that are gone.
            arns, known = await gather_both(list_clusters(), describe_all(plan.clusters))
            listed = set(arns)
            found = [c for c in known if c.arn in listed]
            described = {c.arn for c in found}
            found += await describe_all([arn for arn in arns if arn not in described])
        else:
            found = await describe_all(await list_clusters())
        clusters = sorted(found, key=lambda c: c.name)

        inventory = Inventory(clusters=clusters, services={}, listed_at={})
        # An unknown status (newer than this code) is not a reason to hide services.
        with_services = [c for c in clusters if c.status != "INACTIVE" and c.active_services_count > 0]
        previous = {c.arn: c for c in rstate.clusters}
        to_list = []
        for cluster in with_services:
            known_arns = self._known_services(rstate, cluster, previous.get(cluster.arn), now)
            if known_arns is None:
                to_list.append(cluster)
            else:
                inventory.services[cluster.arn] = known_arns
                inventory.listed_at[cluster.arn] = rstate.services_listed_at[cluster.arn]
                inventory.reused.add(cluster.arn)
        for cluster, service_arns in zip(
            to_list, await gather_all(*(self._list_services(state, ecs, c) for c in to_list))
        ):
            inventory.services[cluster.arn] = service_arns
            inventory.listed_at[cluster.arn] = now
        return inventory

    def _known_services(
        self, rstate: RegionState, cluster: Cluster, before: Cluster | None, now: datetime
    ) -> list[str] | None:
        """The last poll's ACTIVE services of a cluster, when they may still be all
        of them (see `Inventory`); None: list the cluster's services again."""

        listed_at = rstate.services_listed_at.get(cluster.arn)
        if self._ctx.relisting or listed_at is None or before is None:
            return None
        if not 0 <= (now - listed_at).total_seconds() < SERVICES_RELIST_SECONDS:
            return None  # due (or the clock went back: do not trust the age)
        active = [s.arn for s in before.services if s.status == "ACTIVE"]
        if cluster.active_services_count > len(active):
            return None  # a service was created: only a listing names it
        return active

    async def _list_services(self, state: AccountState, ecs: Any, cluster: Cluster) -> list[str]:
        arns: list[str] = []
        async for page in self._ctx.pages(
            state, LIST_SERVICES, ecs.list_services, cluster=cluster.arn, maxResults=LIST_PAGE_SIZE
        ):
            arns += page.get("serviceArns") or []
        arns = list(dict.fromkeys(arns))  # a page repeated by a broken endpoint
        if len(arns) < cluster.active_services_count:
            # ListServices gives the ACTIVE services (a deleted one, DRAINING,
            # is no longer listed): never fewer than the cluster counts, unless
            # pages went missing.
            listed = f"listed {len(arns)} of the {cluster.active_services_count} active services"
            raise StepFailed(LIST_SERVICES, BadResponse(f"{cluster.name}: {listed}"))
        return arns

    async def _describe_batches(
        self, state: AccountState, rstate: RegionState, region: str, refs: dict[str, list[str]]
    ) -> dict[str, list[Service]]:
        """DescribeServices for every service in `refs`, 10 per call, concurrently;
        the services by the cluster they were asked for."""

        ecs = await self._ctx.access.client(state.config, ECS, region)
        max_events = self._ctx.config.file.collector.events_per_service

        parsed = rstate.parsed

        async def describe(cluster_arn: str, batch: list[str]) -> tuple[str, list[Service]]:
            # The same question as last poll, answered with the same bytes, gives
            # the same services: recognised by the body's digest, not decoded.
            key = (cluster_arn, *batch)
            last = rstate.answers.get(key)
            if last is not None and not all(arn in parsed for arn in last[1]):
                last = None  # a service since forgotten: read the answer anew
            response = await self._ctx.read(
                state,
                DESCRIBE_SERVICES,
                ecs.describe_services,
                PRIORITY_FAN_OUT,
                answer_digest=True,
                answer_known=None if last is None else last[0],
                cluster=cluster_arn,
                services=batch,
            )
            if last is not None and response.get(UNCHANGED):
                rstate.answers_next[key] = last
                return cluster_arn, [parsed[arn][1] for arn in last[1]]
            raise_failures(DESCRIBE_SERVICES, response)
            items = response.get("services") or []
            services = [_parse_service_cached(rstate, item, cluster_arn, max_events) for item in items]
            raise_unanswered(DESCRIBE_SERVICES, "services", batch, items, "serviceArn", response)
            digest = response.get(BODY_DIGEST)
            if isinstance(digest, int):
                rstate.answers_next[key] = (digest, tuple(service.arn for service in services))
            return cluster_arn, services

        jobs = [
            describe(cluster_arn, batch)
            for cluster_arn, arns in refs.items()
            for batch in chunks(arns, DESCRIBE_SERVICES_BATCH)
        ]
        by_cluster: dict[str, list[Service]] = {}
        for cluster_arn, batch in await gather_all(*jobs):
            by_cluster.setdefault(cluster_arn, []).extend(batch)
        return by_cluster

    async def _reconcile(
        self,
        state: AccountState,
        rstate: RegionState,
        region: str,
        inventory: Inventory,
        described: dict[str, list[Service]],
        now: datetime,
    ) -> tuple[Cluster, ...]:
        """The clusters with their services, from what was described and what the
        inventory says: a reused list whose ACTIVE services fall short of the
        cluster's count is read again; services not yet described are."""

        by_cluster = {arn: described.get(arn, []) for arn in inventory.services}
        counts = {cluster.arn: cluster for cluster in inventory.clusters}
        short = [
            counts[arn]
            for arn in sorted(inventory.reused)
            if sum(1 for s in by_cluster[arn] if s.status == "ACTIVE") < counts[arn].active_services_count
        ]
        if short:
            # A service was deleted and another created since the last poll.
            ecs = await self._ctx.access.client(state.config, ECS, region)
            for cluster, arns in zip(short, await gather_all(*(self._list_services(state, ecs, c) for c in short))):
                inventory.services[cluster.arn] = arns
                inventory.listed_at[cluster.arn] = now
                inventory.reused.discard(cluster.arn)
        newcomers: dict[str, list[str]] = {}
        for arn, arns in inventory.services.items():
            if arn in inventory.reused:
                # What a listing would give: a deleted service is no longer listed.
                by_cluster[arn] = [s for s in by_cluster[arn] if s.status == "ACTIVE"]
                continue
            listed = set(arns)
            have = {s.arn for s in by_cluster[arn]}
            by_cluster[arn] = [s for s in by_cluster[arn] if s.arn in listed]
            missing = [a for a in arns if a not in have]
            if missing:
                newcomers[arn] = missing
        if newcomers:
            for arn, services in (await self._describe_batches(state, rstate, region, newcomers)).items():
                by_cluster[arn].extend(services)
        return tuple(
            cluster.model_copy(
                update={"services": tuple(sorted(by_cluster.get(cluster.arn, ()), key=lambda s: s.name))}
            )
            for cluster in inventory.clusters
        )


def _cluster_gone(failure: StepFailed, plan: Plan, inventory: Inventory) -> bool:
    """Whether an early describe failed because a cluster of the plan is gone."""

    if any(arn not in inventory.services for arn in plan.services):
        return True
    response = getattr(failure.cause, "response", None)
    code = response.get("Error", {}).get("Code") if isinstance(response, dict) else None
    return code == "ClusterNotFoundException"


def _parse_service_cached(rstate: RegionState, item: dict[str, Any], cluster_arn: str, max_events: int) -> Service:
    """Parse a DescribeServices item, reusing the previous result when the item
    is what it was (most services, most polls: `parse.fingerprint`)."""

    digest = fingerprint(item)
    arn = str(item.get("serviceArn"))
    cached = rstate.parsed.get(arn)
    if cached is not None and cached[0] == digest:
        return cached[1]
    service = parse_service(item, cluster_arn=cluster_arn, max_events=max_events)
    rstate.parsed[service.arn] = (digest, service)
    return service


__all__ = ["EcsReader", "Plan"]
