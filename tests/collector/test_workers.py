"""All cores (issue 14, part 2): the accounts sharded across worker processes,
against the embedded AWS over real HTTP.

Both pollers are given one clock, so a sharded snapshot and an in-process one
of the same fleet are compared whole; the one field defined to differ is
`stats.duration_seconds` (each poller's own wall time).
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from datetime import datetime, timezone
from typing import Any

import psutil
import pytest

from heartbeat_tui.collector import Collector
from heartbeat_tui.collector.sharding import WORKER_RESTARTING, assign
from heartbeat_tui.collector.workers import ShardedCollector, make_collector
from heartbeat_tui.config import config_from_dict
from heartbeat_tui.controller.source import FleetSource
from heartbeat_tui.embedded.fleet import FleetSpec
from heartbeat_tui.embedded.shape import client_in
from heartbeat_tui.errors import ConfigError
from heartbeat_tui.models import AccountStatus, FleetSnapshot
from tests.support.configs import HUB, PAYMENTS, make_config

FLEET = FleetSpec.demo()
NOW = datetime(2026, 12, 3, 12, 0, tzinfo=timezone.utc)


def fixed_clock() -> datetime:
    return NOW


def without_duration(snapshot: FleetSnapshot) -> FleetSnapshot:
    return snapshot.model_copy(update={"stats": snapshot.stats.model_copy(update={"duration_seconds": 0.0})})


def gone(pid: int) -> bool:
    try:
        return psutil.Process(pid).status() == psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return True


def wait_gone(pids: Any, timeout: float = 15.0) -> bool:
    procs = []
    for pid in pids:
        try:
            procs.append(psutil.Process(pid))
        except psutil.NoSuchProcess:
            pass
    _, alive = psutil.wait_procs(procs, timeout=timeout)
    return all(gone(p.pid) for p in alive)


@pytest.mark.parametrize("workers", [2, 3])
async def test_sharded_snapshot_equals_the_in_process_one(clean_aws: Any, workers: int) -> None:
    config = make_config(clean_aws)
    async with Collector(config, clock=fixed_clock) as one:
        expected = await one.poll()
    async with ShardedCollector(config, workers, clock=fixed_clock) as sharded:
        got = await sharded.poll()
        pids = set(sharded.worker_pids().values())
    assert len(pids) == workers  # the demo fleet has an account for each
    assert [a.id for a in got.accounts] == [a.id for a in expected.accounts]
    for mine, theirs in zip(got.accounts, expected.accounts):
        assert mine == theirs, mine.id
    assert got.stats.calls == expected.stats.calls  # the same API calls, summed over the workers
    assert got.stats.http_requests == expected.stats.http_requests
    assert without_duration(got) == without_duration(expected)


async def test_unchanged_objects_are_the_last_polls_objects(clean_aws: Any) -> None:
    async with ShardedCollector(make_config(clean_aws), 2, clock=fixed_clock) as sharded:
        first = await sharded.poll()
        second = await sharded.poll()
    assert second.poll_number == first.poll_number + 1
    checked = 0
    for before, after in zip(first.accounts, second.accounts):
        assert after == before
        assert after is before  # a whole unchanged account is the same object
        for region_before, region_after in zip(before.regions, after.regions):
            for cluster_before, cluster_after in zip(region_before.clusters, region_after.clusters):
                assert cluster_after is cluster_before
                checked += sum(1 for a, b in zip(cluster_before.services, cluster_after.services) if a is b)
    assert checked == first.service_count


async def test_a_changed_service_is_new_and_its_neighbours_are_kept(clean_aws: Any) -> None:
    config = make_config(clean_aws)
    async with ShardedCollector(config, 2, clock=fixed_clock) as sharded:
        first = await sharded.poll()
        payments = first.account(PAYMENTS)
        assert payments is not None
        region, cluster, service = next(iter(payments.services()))
        ecs = client_in(clean_aws, FLEET, "ecs", PAYMENTS, region.region)
        ecs.update_service(cluster=cluster.arn, service=service.name, desiredCount=service.desired_count + 1)
        try:
            second = await sharded.poll()
        finally:  # the fleet is shared by the suite
            ecs.update_service(cluster=cluster.arn, service=service.name, desiredCount=service.desired_count)
    after = second.account(PAYMENTS)
    assert after is not None and after is not payments
    changed = {s.arn: s for _, _, s in after.services()}
    assert changed[service.arn].desired_count == service.desired_count + 1
    kept = [s for _, _, s in payments.services() if s.arn != service.arn]
    assert all(changed[s.arn] is s for s in kept)
    others = [a for a in first.accounts if a.id != PAYMENTS]
    assert all(second.account(a.id) is a for a in others)


async def test_a_cancelled_poll_does_not_leave_the_parent_with_old_objects(clean_aws: Any) -> None:
    # A worker sends only what changed since the answer the parent merged: an
    # answer dropped by a cancelled poll must not make the next one skip a change.
    async with ShardedCollector(make_config(clean_aws), 2, clock=fixed_clock) as sharded:
        first = await sharded.poll()
        payments = first.account(PAYMENTS)
        assert payments is not None
        region, cluster, service = next(iter(payments.services()))
        ecs = client_in(clean_aws, FLEET, "ecs", PAYMENTS, region.region)
        ecs.update_service(cluster=cluster.arn, service=service.name, desiredCount=service.desired_count + 1)
        try:
            cancelled = asyncio.ensure_future(sharded.poll())
            for _ in range(5):  # let the poll's tasks run until its requests are on their way
                await asyncio.sleep(0)
            cancelled.cancel()
            with pytest.raises(asyncio.CancelledError):
                await cancelled
            third = await sharded.poll()
        finally:  # the fleet is shared by the suite
            ecs.update_service(cluster=cluster.arn, service=service.name, desiredCount=service.desired_count)
    after = third.account(PAYMENTS)
    assert after is not None
    assert {s.arn: s for _, _, s in after.services()}[service.arn].desired_count == service.desired_count + 1
    assert third.poll_number == first.poll_number + 1


async def test_a_killed_worker_leaves_its_accounts_stale_then_they_come_back(clean_aws: Any) -> None:
    async with ShardedCollector(make_config(clean_aws), 2, clock=fixed_clock) as sharded:
        first = await sharded.poll()
        owners = sharded.worker_pids()
        victim = owners[PAYMENTS]
        lost = {account_id for account_id, pid in owners.items() if pid == victim}
        os.kill(victim, signal.SIGKILL)
        assert wait_gone([victim])

        stale = await sharded.poll()
        assert [a.id for a in stale.accounts] == [a.id for a in first.accounts]  # never missing
        for account in stale.accounts:
            before = first.account(account.id)
            assert before is not None
            if account.id not in lost:
                assert account is before  # the other worker's accounts are untouched
                continue
            assert account.status is AccountStatus.ERROR
            assert account.error == WORKER_RESTARTING
            assert account.last_success_at == before.last_success_at
            for region_before, region in zip(before.regions, account.regions):
                assert region.clusters == region_before.clusters  # the last data, kept
                assert region.stale == ("ecs", "metrics", "scaling")
                assert region.fetched_at == region_before.fetched_at
        assert stale.account(PAYMENTS) is not None and stale.account(PAYMENTS).stale_seconds(NOW) is not None

        back = await sharded.poll()
        restarted = sharded.worker_pids()[PAYMENTS]
        assert restarted != victim and not gone(restarted)
        payments = back.account(PAYMENTS)
        assert payments is not None and payments.status is AccountStatus.OK
        assert payments == first.account(PAYMENTS)  # cold again, the same data


async def test_workers_are_gone_after_aclose(clean_aws: Any) -> None:
    sharded = ShardedCollector(make_config(clean_aws), 2, clock=fixed_clock)
    await sharded.prepare()  # starts them, no AWS call
    assert clean_aws.stats() == []
    pids = set(sharded.worker_pids().values())
    assert len(pids) == 2 and not any(gone(pid) for pid in pids)
    assert {p.pid for p in psutil.Process().children()} >= pids
    await sharded.aclose()
    assert all(gone(pid) for pid in pids)


PARENT = textwrap.dedent(
    """
    import asyncio, json, sys
    from heartbeat_tui.collector.workers import ShardedCollector
    from heartbeat_tui.config import EnvSettings, config_from_dict

    async def main():
        config = config_from_dict(json.loads(sys.stdin.readline()), env=EnvSettings(), source="test")
        sharded = ShardedCollector(config, 2)
        await sharded.poll()
        print(json.dumps(sorted(set(sharded.worker_pids().values()))), flush=True)
        await asyncio.sleep(600)

    asyncio.run(main())
    """
)


@pytest.fixture
def parent_process(clean_aws: Any) -> Iterator[subprocess.Popen[str]]:
    env = {**os.environ, **clean_aws.credentials()}  # credentials in the environment, never argv
    process = subprocess.Popen(
        [sys.executable, "-c", PARENT],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        env=env,
        cwd=os.path.dirname(os.path.dirname(os.path.dirname(__file__))),
    )
    try:
        yield process
    finally:
        process.kill()
        process.wait()


def test_workers_exit_when_their_parent_dies(clean_aws: Any, parent_process: subprocess.Popen[str]) -> None:
    assert parent_process.stdin is not None and parent_process.stdout is not None
    parent_process.stdin.write(json.dumps(clean_aws.config_dict()) + "\n")
    parent_process.stdin.flush()
    pids = json.loads(parent_process.stdout.readline())
    assert len(pids) == 2 and not any(gone(pid) for pid in pids)
    parent_process.send_signal(signal.SIGKILL)
    parent_process.wait()
    assert wait_gone(pids)


async def test_a_detail_is_read_by_the_worker_of_its_account(clean_aws: Any) -> None:
    config = make_config(clean_aws)
    async with Collector(config, clock=fixed_clock) as one:
        snapshot = await one.poll()
        payments = snapshot.account(PAYMENTS)
        assert payments is not None
        region, cluster, service = next(iter(payments.services()))
        expected = await one.fetch_service_detail(PAYMENTS, region.region, cluster.arn, service.name)
    async with ShardedCollector(config, 2, clock=fixed_clock) as sharded:
        assert isinstance(sharded, FleetSource)
        await sharded.poll()
        clean_aws.reset_stats()
        got = await sharded.fetch_service_detail(PAYMENTS, region.region, cluster.arn, service.name)
        with pytest.raises(KeyError):
            await sharded.fetch_service_detail("999999999999", region.region, cluster.arn, service.name)
    # The same detail, read with the same calls (how long it took is the one difference).
    assert got.model_dump(exclude={"stats"}) == expected.model_dump(exclude={"stats"})
    assert got.stats.calls == expected.stats.calls
    assert got.tasks


async def test_logs_are_read_by_the_worker_of_its_account(clean_aws: Any) -> None:
    from datetime import timedelta

    from heartbeat_tui.models import LogQuery

    config = make_config(clean_aws)
    async with Collector(config, clock=fixed_clock) as one:
        payments = (await one.poll()).account(PAYMENTS)
        assert payments is not None
        region, cluster, service = next(
            (r, c, s) for r, c, s in payments.services() if s.running_count > 0 and s.rollout_state != "FAILED"
        )
        query = LogQuery(
            account_id=PAYMENTS,
            region=region.region,
            cluster_arn=cluster.arn,
            service_name=service.name,
            start=fixed_clock() - timedelta(minutes=30),
        )
        expected = await one.fetch_logs(query)
    async with ShardedCollector(config, 2, clock=fixed_clock) as sharded:
        await sharded.poll()
        got = await sharded.fetch_logs(query)
        with pytest.raises(KeyError):
            await sharded.fetch_logs(query.model_copy(update={"account_id": "999999999999"}))
    assert got.lines and [line.event_id for line in got.lines] == [line.event_id for line in expected.lines]
    assert got.containers == expected.containers and got.task_definition == expected.task_definition


def test_sharding_is_balanced_and_stable() -> None:
    ids = [f"{n:012d}" for n in range(10)]
    shards = assign(ids, 3)
    assert sorted(shards.values()).count(0) == 4 and set(shards.values()) == {0, 1, 2}
    assert assign(reversed(ids), 3) == shards  # the order accounts are listed in does not matter


def test_workers_setting() -> None:
    assert config_from_dict({}).file.collector.worker_count == max(1, (os.cpu_count() or 1) - 1)
    assert config_from_dict({"collector": {"workers": 3}}).file.collector.worker_count == 3
    assert config_from_dict({"collector": {"workers": 1}}).file.collector.worker_count == 1
    for bad in (0, 65, "many", 2.5, True, "AUTO"):
        with pytest.raises(ConfigError) as caught:
            config_from_dict({"collector": {"workers": bad}})
        message = str(caught.value)
        assert "\n" not in message
        assert message.startswith('<dict>: collector.workers: must be "auto" or a number of processes from 1 to 64')


def test_one_worker_is_todays_in_process_collector(clean_aws: Any) -> None:
    assert type(make_collector(make_config(clean_aws, collector={"workers": 1}))) is Collector
    assert isinstance(make_collector(make_config(clean_aws, collector={"workers": 2})), ShardedCollector)
    # The base credentials' own account alone: nothing to shard.
    assert type(make_collector(config_from_dict({"collector": {"workers": 2}}))) is Collector


def test_no_secret_reaches_a_worker(clean_aws: Any) -> None:
    from pydantic import SecretStr

    from heartbeat_tui.collector.sharding import worker_config

    config = make_config(clean_aws)
    config = config.model_copy(
        update={
            "env": config.env.model_copy(
                update={"jwt_secret": SecretStr("j" * 40), "encryption_key": SecretStr("k" * 40)}
            )
        }
    )
    given = worker_config(config, config.accounts[:1])
    assert given.env.jwt_secret is None and given.env.encryption_key is None
    assert given.accounts == config.accounts[:1] and given.discovery is None
    assert given.env.aws_access_key_id == config.env.aws_access_key_id  # AWS credentials as the parent's


async def test_discovered_accounts_are_sharded_too(clean_aws: Any) -> None:
    # The hub from the file, the rest from Organizations: discovered once, in the parent.
    hub = next(a for a in clean_aws.config_dict()["accounts"] if a["id"] == HUB)
    section = {"organizations": True, "role_name": "HeartbeatReader", "regions": ["us-east-1"]}
    config = make_config(clean_aws, accounts=[hub], discovery=section)
    async with Collector(config, clock=fixed_clock) as one:
        expected = await one.poll()
    async with ShardedCollector(config, 2, clock=fixed_clock) as sharded:
        got = await sharded.poll()
        owners = sharded.worker_pids()
    assert len(expected.accounts) > 2
    assert set(owners) == {a.id for a in expected.accounts} and len(set(owners.values())) == 2
    assert any(name.startswith("organizations.") for name, _ in got.stats.calls)
    assert without_duration(got) == without_duration(expected)


async def test_a_relist_reaches_every_worker(clean_aws: Any) -> None:
    def list_services(snapshot: FleetSnapshot) -> int:
        return dict(snapshot.stats.calls).get("ecs.ListServices", 0)

    async with ShardedCollector(make_config(clean_aws), 2, clock=fixed_clock) as sharded:
        cold = await sharded.poll()
        warm = await sharded.poll()
        sharded.relist_next_poll()
        relisted = await sharded.poll()
        after = await sharded.poll()
    assert list_services(cold) > 0
    assert list_services(warm) == 0 == list_services(after)  # the clusters' counts prove the lists complete
    assert list_services(relisted) == list_services(cold)  # every cluster listed whole, in both workers
