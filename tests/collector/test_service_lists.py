"""Later polls list a cluster's services only when its counts cannot prove the
last poll's list complete; every change to the set of services is still seen
in the very next poll. Against a small embedded AWS of its own (these tests
create and delete services), over real HTTP."""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

import pytest

from heartbeat_tui.collector import Collector
from heartbeat_tui.collector.limits import SERVICES_RELIST_SECONDS
from heartbeat_tui.embedded import EmbeddedAWS
from heartbeat_tui.embedded.fleet import FleetSpec
from heartbeat_tui.embedded.shape import client_in
from heartbeat_tui.models import FleetSnapshot, utcnow
from tests.support.configs import make_config

FLEET = FleetSpec.benchmark(accounts=1, regions=1, clusters=3, services=12)
ACCOUNT = FLEET.accounts[0]
REGION = ACCOUNT.regions[0].region
CLUSTERS = [c.name for c in ACCOUNT.regions[0].clusters]
_names = itertools.count(1)


@pytest.fixture(scope="module")
def small_aws() -> Iterator[Any]:
    with EmbeddedAWS(FLEET, paused=True) as aws:
        ecs = client_in(aws, FLEET, "ecs", ACCOUNT.id, REGION)
        ecs.register_task_definition(
            family="probe", containerDefinitions=[{"name": "probe", "image": "busybox", "memory": 128}]
        )
        yield aws


@pytest.fixture
def ecs(small_aws: Any) -> Any:
    return client_in(small_aws, FLEET, "ecs", ACCOUNT.id, REGION)


def services(snapshot: FleetSnapshot, cluster: str, *, ok: bool = True) -> dict[str, str]:
    """name -> status of one cluster's services in a snapshot (`ok`: with no error)."""

    (account,) = snapshot.accounts
    assert account.error is None or not ok, account.error
    found = [c for r in account.regions for c in r.clusters if c.name == cluster]
    assert len(found) == 1
    return {s.name: s.status for s in found[0].services}


def listed(ecs: Any, cluster: str) -> set[str]:
    """What ListServices says now (the ACTIVE services), read with boto3."""

    arns = ecs.list_services(cluster=cluster, maxResults=100)["serviceArns"]
    return {arn.rsplit("/", 1)[-1] for arn in arns}


def create(ecs: Any, cluster: str) -> str:
    name = f"probe-{next(_names)}"
    ecs.create_service(cluster=cluster, serviceName=name, taskDefinition="probe", desiredCount=1)
    return name


def delete_one(ecs: Any, cluster: str, snapshot: FleetSnapshot) -> str:
    name = next(n for n, status in sorted(services(snapshot, cluster).items()) if status == "ACTIVE")
    ecs.delete_service(cluster=cluster, service=name, force=True)
    return name


async def test_a_warm_poll_describes_the_last_list_without_listing(small_aws: Any, ecs: Any) -> None:
    async with Collector(make_config(small_aws)) as collector:
        cold = await collector.poll()
        warm = await collector.poll()
    assert cold.stats.calls_of("ListServices") == len(CLUSTERS)
    assert warm.stats.calls_of("ListServices") == 0
    for cluster in CLUSTERS:
        assert set(services(warm, cluster)) == listed(ecs, cluster) == set(services(cold, cluster))
    # Every service is still described, every poll: only the listing is saved.
    assert warm.stats.calls_of("DescribeServices") == cold.stats.calls_of("DescribeServices")


async def test_a_created_service_is_there_the_next_poll(small_aws: Any, ecs: Any) -> None:
    cluster = CLUSTERS[0]
    async with Collector(make_config(small_aws)) as collector:
        await collector.poll()
        name = create(ecs, cluster)
        after = await collector.poll()
        steady = await collector.poll()
    assert services(after, cluster)[name] == "ACTIVE"
    assert set(services(after, cluster)) == listed(ecs, cluster)
    # The cluster's count went up: that cluster alone was listed.
    assert after.stats.calls_of("ListServices") == 1
    assert steady.stats.calls_of("ListServices") == 0
    assert services(steady, cluster) == services(after, cluster)


async def test_a_deleted_service_goes_without_listing(small_aws: Any, ecs: Any) -> None:
    cluster = CLUSTERS[1]
    async with Collector(make_config(small_aws)) as collector:
        before = await collector.poll()
        name = delete_one(ecs, cluster, before)
        after = await collector.poll()
    # Described as DRAINING, and dropped as ListServices drops it (as in ECS).
    assert ecs.describe_services(cluster=cluster, services=[name])["services"][0]["status"] == "DRAINING"
    assert name not in services(after, cluster)
    assert set(services(after, cluster)) == listed(ecs, cluster) == set(services(before, cluster)) - {name}
    assert after.stats.calls_of("ListServices") == 0


async def test_a_deletion_and_a_creation_together_are_caught_in_the_same_poll(small_aws: Any, ecs: Any) -> None:
    cluster = CLUSTERS[2]
    async with Collector(make_config(small_aws)) as collector:
        before = await collector.poll()
        gone = delete_one(ecs, cluster, before)
        new = create(ecs, cluster)
        after = await collector.poll()
    # The active count is what it was, but a known service is no longer active:
    # the cluster is listed again within the poll, and the newcomer described.
    got = services(after, cluster)
    assert gone not in got
    assert got[new] == "ACTIVE"
    assert set(got) == listed(ecs, cluster)
    assert after.stats.calls_of("ListServices") == 1


async def test_a_manual_refresh_and_time_list_everything_again(small_aws: Any) -> None:
    offset = [timedelta(0)]

    def clock() -> datetime:
        return utcnow() + offset[0]

    async with Collector(make_config(small_aws), clock=clock) as collector:
        await collector.poll()
        collector.relist_next_poll()
        refreshed = await collector.poll()
        warm = await collector.poll()
        offset[0] = timedelta(seconds=SERVICES_RELIST_SECONDS)
        later = await collector.poll()
    assert refreshed.stats.calls_of("ListServices") == len(CLUSTERS)
    assert warm.stats.calls_of("ListServices") == 0
    assert later.stats.calls_of("ListServices") == len(CLUSTERS)


def cluster_names(snapshot: FleetSnapshot) -> set[str]:
    (account,) = snapshot.accounts
    return {c.name for r in account.regions for c in r.clusters}


async def test_a_new_cluster_and_a_deleted_one_are_seen_the_next_poll(small_aws: Any, ecs: Any) -> None:
    name = f"made-{next(_names)}"
    async with Collector(make_config(small_aws)) as collector:
        before = await collector.poll()
        ecs.create_cluster(clusterName=name)
        service = create(ecs, name)
        created = await collector.poll()
        assert services(created, name) == {service: "ACTIVE"}
        assert cluster_names(created) == cluster_names(before) | {name}
        ecs.delete_service(cluster=name, service=service, force=True)
        ecs.delete_cluster(cluster=name)
        deleted = await collector.poll()
    (account,) = deleted.accounts
    assert account.error is None, account.error
    gone = [c for r in account.regions for c in r.clusters if c.name == name]
    # ECS keeps a deleted cluster a while as INACTIVE; either way it has no services now.
    assert all(c.status == "INACTIVE" and not c.services for c in gone), gone
    for cluster in CLUSTERS:
        assert set(services(deleted, cluster)) == listed(ecs, cluster)


async def test_a_failed_early_describe_is_done_again_from_the_inventory(small_aws: Any) -> None:
    async with Collector(make_config(small_aws)) as collector:
        before = await collector.poll()
        # A later poll describes the last poll's services before its inventory is
        # in; that describe fails once (as on a cluster deleted meanwhile) ...
        small_aws.add_fault(
            "error", service="ecs", operation="DescribeServices", code="ClusterNotFoundException", times=1
        )
        after = await collector.poll()
    # ... and is done again from what the inventory says, in the same poll.
    (account,) = after.accounts
    assert account.error is None and not any(r.stale for r in account.regions), account.error
    for cluster in CLUSTERS:
        assert services(after, cluster) == services(before, cluster)
    assert after.stats.calls_of("DescribeServices") > before.stats.calls_of("DescribeServices")


async def test_an_early_describe_failing_otherwise_is_reported_not_redone(small_aws: Any) -> None:
    async with Collector(make_config(small_aws, aws={"max_attempts": 1})) as collector:
        before = await collector.poll()
        small_aws.add_fault("error", service="ecs", operation="DescribeServices", code="AccessDeniedException", times=1)
        after = await collector.poll()
        again = await collector.poll()
    (account,) = after.accounts
    assert account.error is not None and "ECS DescribeServices: access denied" in account.error, account.error
    assert all("ecs" in r.stale for r in account.regions if r.errors)
    # Not described twice: the failure is reported, and the last good data kept.
    assert after.stats.calls_of("DescribeServices") <= before.stats.calls_of("DescribeServices")
    for cluster in CLUSTERS:
        assert services(after, cluster, ok=False) == services(before, cluster)
        assert services(again, cluster) == services(before, cluster)


async def test_a_relist_asked_from_another_thread_is_never_lost(small_aws: Any) -> None:
    async with Collector(make_config(small_aws)) as collector:
        await collector.poll()
        poll = asyncio.ensure_future(collector.poll())
        await asyncio.sleep(0)  # that poll has started, and read the requests
        await asyncio.to_thread(collector.relist_next_poll)  # as the UI thread does
        await poll
        listed_after = await collector.poll()
    assert listed_after.stats.calls_of("ListServices") == len(CLUSTERS)
