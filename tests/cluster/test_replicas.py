"""Several replicas polling one fleet (issue 14, part 3), against the embedded
AWS (ECS, CloudWatch, DynamoDB, S3) over real HTTP, on one hand-stepped clock.

The embedded AWS counts each account's calls: a poll lists an account's
clusters once per region, so ListClusters says how often each account was
polled in an interval, whichever replica polled it.
"""

from __future__ import annotations

import asyncio
import gc
import json
import re
import weakref
from collections import Counter
from collections.abc import Collection
from pathlib import Path
from typing import Any

import pytest

from heartbeat_tui.cluster import make_source
from heartbeat_tui.cluster.leases import ClusterError
from heartbeat_tui.cluster.source import WAITING, ClusterSource
from heartbeat_tui.collector import Collector
from heartbeat_tui.collector.workers import make_collector
from heartbeat_tui.models import AccountStatus, FleetSnapshot
from tests.support.configs import DENIED_ACCOUNT, make_config

from .conftest import INTERVAL, Cluster, Replica, ids, opened, s3_client

QUARTER = INTERVAL / 4
ROOT = Path(__file__).resolve().parents[2]


def readme_policies() -> list[dict[str, Any]]:
    blocks = re.findall(r"```json\n(.*?)```", (ROOT / "README.md").read_text(), flags=re.DOTALL)
    return [json.loads(block) for block in blocks if '"Statement"' in block]


async def single_poller(cluster: Cluster) -> FleetSnapshot:
    """What one poller (no [cluster]) sees of the fleet at the wall clock's time."""

    async with Collector(cluster.config("single"), clock=cluster.wall.utc) as collector:
        return await collector.poll()


async def interval(
    cluster: Cluster, replicas: list[Replica], *, skip: Collection[str] = ()
) -> dict[str, FleetSnapshot]:
    """One interval: every replica polls at its start (its first heartbeat), then heartbeats each quarter."""

    answers = {}
    for replica in replicas:
        if replica.name not in skip:
            answers[replica.name] = await replica.source.poll()
    for _ in range(3):
        cluster.wall.now += QUARTER
        for replica in replicas:
            if replica.name not in skip:
                await replica.heartbeat()
    cluster.wall.now += QUARTER
    return answers


async def test_two_replicas_poll_each_account_once_an_interval_and_answer_as_one_poller(cluster: Cluster) -> None:
    replicas = await opened(cluster, "a", "b")
    everyone = {a: 1 for a in cluster.account_ids if a != DENIED_ACCOUNT}
    for _ in range(4):
        cluster.reset()
        answers = await interval(cluster, replicas)
        assert cluster.polls() == everyone  # none twice, none lost, while the leases move
    held = [replica.held for replica in replicas]
    assert sorted(len(h) for h in held) == [2, 3] and not held[0] & held[1]
    single = await single_poller(cluster)
    for replica in replicas:
        await replica.source.poll()
    # Each answers from the parts it read: a's read came before b published, so a asks again.
    answers = [await replica.source.poll() for replica in reversed(replicas)]
    for answer in answers:
        assert answer.accounts == single.accounts  # every field, every account, whoever polled it
        assert answer.generated_at == single.generated_at


async def test_three_replicas_share_the_polls(cluster: Cluster) -> None:
    replicas = await opened(cluster, "a", "b", "c")
    everyone = {a: 1 for a in cluster.account_ids if a != DENIED_ACCOUNT}
    for _ in range(5):
        cluster.reset()
        await interval(cluster, replicas)
        assert cluster.polls() == everyone
    assert sorted(len(replica.held) for replica in replicas) == [1, 2, 2]
    assert all(replica.source.polled for replica in replicas)  # each polled its share at its last poll
    polled = [set(replica.source.polled) for replica in replicas]
    assert sum(len(p) for p in polled) == len(set().union(*polled)) == 5


class Signalling:
    """A collector that says when its poll has begun (so a test can kill the replica mid-poll)."""

    def __init__(self, source: Any) -> None:
        self.source = source
        self.began = asyncio.Event()

    def __getattr__(self, name: str) -> Any:
        return getattr(self.source, name)

    async def poll(self, only: Collection[str] | None = None) -> FleetSnapshot:
        self.began.set()
        return await self.source.poll(only)  # type: ignore[no-any-return]


async def test_a_replica_killed_mid_poll_is_covered_within_two_intervals(cluster: Cluster) -> None:
    a, b = await opened(cluster, "a", "b")
    for _ in range(3):
        await interval(cluster, [a, b])
    orphaned = a.held
    assert len(orphaned) == 3
    signal = Signalling(a.source.source)
    a.source.source = signal
    killed_at = cluster.wall.now
    cluster.reset()
    poll = asyncio.get_running_loop().create_task(a.source.poll())
    await signal.began.wait()
    for _ in range(5):  # the HTTP calls are under way
        await asyncio.sleep(0)
    poll.cancel()  # a dies: no heartbeat, no publish from now on
    answers = await interval(cluster, [a, b], skip={"a"})
    polls = cluster.polls()
    assert all(polls[account] <= 1 for account in cluster.account_ids)  # b waited for a's poll's interval
    assert not orphaned & set(b.source.polled)
    assert answers["b"].account(sorted(orphaned)[0]) is not None  # shown, from a's last part
    cluster.reset()
    answers = await interval(cluster, [a, b], skip={"a"})
    assert cluster.wall.now - killed_at == 2 * INTERVAL
    assert b.held == set(cluster.account_ids) and set(b.source.polled) == set(cluster.account_ids)
    assert cluster.polls() == {a: 1 for a in cluster.account_ids if a != DENIED_ACCOUNT}
    fresh = {a.id: a for a in answers["b"].accounts}
    assert set(fresh) == set(cluster.account_ids)
    assert all(fresh[a].status is AccountStatus.OK for a in cluster.account_ids if a != DENIED_ACCOUNT)


async def test_accounts_of_a_hung_replica_show_stale_never_missing(cluster: Cluster) -> None:
    a, b = await opened(cluster, "a", "b")
    await interval(cluster, [a, b])
    await interval(cluster, [a, b])
    hung = a.held
    assert len(hung) == 3
    # a keeps its leases (its heartbeats run) but its polls never finish: no new part.
    for _ in range(3):
        await b.source.poll()
        for _ in range(4):
            await a.heartbeat()
            await b.heartbeat()
            cluster.wall.now += QUARTER
    answer = await b.source.poll()
    assert {x.id for x in answer.accounts} == set(cluster.account_ids)
    for account in answer.accounts:
        if account.id in hung:
            assert account.status is AccountStatus.ERROR
            assert account.error is not None and "no replica has polled it for" in account.error
            if account.id != DENIED_ACCOUNT:  # its last data, marked stale (the denied account never had any)
                assert account.regions and all(r.stale for r in account.regions)
        elif account.id != DENIED_ACCOUNT:
            assert account.status is AccountStatus.OK


async def test_an_unreadable_part_is_one_accounts_error(cluster: Cluster) -> None:
    (a,) = await opened(cluster, "a")
    await interval(cluster, [a])
    victim = sorted(cluster.account_ids)[1]
    # The documented layout: <prefix>/v1/parts/<account id>.json.gz
    key = f"heartbeat/v1/parts/{victim}.json.gz"
    s3_client(cluster.aws, a.config).put_object(Bucket=cluster.bucket, Key=key, Body=b"not gzip")
    reader = cluster.replica("reader")
    await reader.source.prepare()
    answer = await reader.source.poll()
    shown = answer.account(victim)
    assert shown is not None and shown.status is AccountStatus.ERROR
    assert shown.error == "its part cannot be read: not a gzipped part"
    assert all(x.status is AccountStatus.OK for x in answer.accounts if x.id not in (victim, DENIED_ACCOUNT))


async def test_an_account_nobody_polled_yet_shows_as_waiting(cluster: Cluster) -> None:
    a, b = await opened(cluster, "a", "b")
    await a.heartbeat()  # a holds everything but has not polled
    answer = await b.source.poll()
    assert [x.id for x in answer.accounts] == cluster.account_ids
    assert {x.error for x in answer.accounts if x.id not in b.source.polled} == {WAITING}


async def test_an_account_that_leaves_the_fleet_is_forgotten(cluster: Cluster) -> None:
    """A long-running replica keeps nothing of an account no longer configured: not
    its part, its last decode, nor the last data shown (its part stays in the bucket)."""

    a, b = await opened(cluster, "a", "b")
    for _ in range(2):
        await interval(cluster, [a, b])
    answers = await interval(cluster, [a, b])
    # An account b reads from a's part, decoded by b (an account b polls is also its collector's).
    leaving = next(x for x in sorted(a.held) if x != DENIED_ACCOUNT)
    shown = answers["b"].account(leaving)
    assert shown is not None and shown.status is AccountStatus.OK and any(True for _ in shown.services())
    seen = [weakref.ref(shown), *(weakref.ref(service) for _, _, service in shown.services())]
    del shown, answers

    b.fleet[:] = [x for x in b.fleet if x.id != leaving]
    answers = await interval(cluster, [a, b])
    assert leaving not in ids(answers["b"].accounts)
    assert leaving in ids(answers["a"].accounts)  # a still has it: its part is still published
    gc.collect()
    assert [ref() for ref in seen] == [None] * len(seen)

    b.fleet[:] = list(b.config.accounts)  # back again: read from its part anew
    answers = await interval(cluster, [a, b])
    back = answers["b"].account(leaving)
    assert back is not None and back.status is AccountStatus.OK


class Forgetting:
    """A replica's collector that notes the accounts it is asked to forget (and forgets them)."""

    def __init__(self, source: Any) -> None:
        self.source = source
        self.forgotten: set[str] = set()

    def __getattr__(self, name: str) -> Any:
        return getattr(self.source, name)

    async def forget(self, account_ids: Collection[str]) -> None:
        self.forgotten.update(account_ids)
        await self.source.forget(account_ids)


async def test_a_replica_forgets_the_accounts_whose_leases_it_lost(cluster: Cluster) -> None:
    """What a replica's collector keeps between polls of an account (its services,
    metric history, inventory) goes once another replica took the lease: otherwise a
    long-running replica keeps every account it ever polled (tests/collector/test_forget.py
    shows what forgetting frees). Taken back, an account is polled afresh."""

    (a,) = await opened(cluster, "a")
    collector = Forgetting(a.source.source)
    a.source.source = collector
    for _ in range(2):
        await interval(cluster, [a])
    assert a.held == set(cluster.account_ids) and not collector.forgotten

    (b,) = await opened(cluster, "b")
    for _ in range(3):
        await interval(cluster, [a, b])
    await a.source.poll()  # its leases as of now, and what it lost by then forgotten
    lost = set(cluster.account_ids) - a.held
    assert lost and a.held and lost <= b.held
    assert collector.forgotten == lost  # each lost account, and none it still polls

    await b.source.aclose()  # b stops and hands its leases back
    for _ in range(2):
        answers = await interval(cluster, [a])
    assert lost - {DENIED_ACCOUNT} <= set(a.source.polled)
    shown = [answers["a"].account(x) for x in lost - {DENIED_ACCOUNT}]
    assert all(x is not None and x.status is AccountStatus.OK for x in shown)


def test_without_cluster_the_poller_is_todays(clean_aws: Any) -> None:
    config = make_config(clean_aws)
    source = make_source(config)
    assert not isinstance(source, ClusterSource)
    assert type(source) is type(make_collector(config))


async def test_the_replicas_own_calls_are_counted(cluster: Cluster) -> None:
    (a,) = await opened(cluster, "a")
    answer = (await interval(cluster, [a]))["a"]
    calls = Counter(dict(answer.stats.calls))
    assert calls["dynamodb.Scan"] == 1 and calls["s3.ListObjectsV2"] == 1
    assert calls["s3.PutObject"] == 5 and calls["ecs.ListClusters"] > 0


async def test_the_readmes_policy_is_exactly_what_the_replicas_call(cluster: Cluster) -> None:
    a, b = await opened(cluster, "a", "b")
    calls: Counter[str] = Counter()
    for _ in range(2):
        for answer in (await interval(cluster, [a, b])).values():
            calls.update(dict(answer.stats.calls))
    # IAM's names: ListObjectsV2 (and HeadBucket, init's check) are allowed by s3:ListBucket.
    iam = {"s3.ListObjectsV2": "s3:ListBucket"}
    used = {iam.get(name, name.replace(".", ":")) for name in calls if name.startswith(("s3.", "dynamodb."))}
    policies = [p for p in readme_policies() if any(a.startswith("s3:") for s in p["Statement"] for a in s["Action"])]
    assert len(policies) == 1
    documented = {action for statement in policies[0]["Statement"] for action in statement["Action"]}
    assert used == documented


async def test_without_the_lease_table_nothing_is_polled_and_the_poll_says_why(cluster: Cluster) -> None:
    a, b = await opened(cluster, "a", "b")
    await interval(cluster, [a, b])
    cluster.aws.add_fault("error", service="dynamodb", code="InternalServerError")
    cluster.reset()
    with pytest.raises(ClusterError) as failed:
        await a.source.poll()
    assert failed.value.exit_code == 75 and "\n" not in str(failed.value)
    assert str(failed.value).startswith(f"lease table {cluster.table}: ")
    assert sum(cluster.polls().values()) == 0  # no lease proven: no account polled
    cluster.aws.clear_faults()
    answers = await interval(cluster, [a, b])  # back: leases renewed (or retaken), every account shown
    assert {x.id for x in answers["b"].accounts} == set(cluster.account_ids)
    assert cluster.polls() == {x: 1 for x in cluster.account_ids if x != DENIED_ACCOUNT}


async def test_a_replica_that_stops_cleanly_hands_its_leases_over_at_once(cluster: Cluster) -> None:
    a, b = await opened(cluster, "a", "b")
    for _ in range(2):
        await interval(cluster, [a, b])
    given = a.held
    assert given
    await a.source.aclose()  # what SIGTERM does (serve's exit stack closes the source)
    cluster.wall.now += 1  # far inside a's lease time
    await b.heartbeat()
    assert b.held == set(cluster.account_ids)


async def test_a_missing_table_or_bucket_is_one_line_that_says_what_to_do(cluster: Cluster) -> None:
    table = cluster.table
    cluster.table = "heartbeat-no-such-table"
    (no_table,) = await opened(cluster, "no-table")
    with pytest.raises(ClusterError) as failed:
        await no_table.source.poll()
    assert str(failed.value) == "[cluster] lease table heartbeat-no-such-table does not exist: run `heartbeat init`"
    assert failed.value.exit_code == 2
    cluster.table, cluster.bucket = table, "heartbeat-no-such-bucket"
    (no_bucket,) = await opened(cluster, "no-bucket")
    with pytest.raises(ClusterError) as failed:
        await no_bucket.source.poll()
    assert str(failed.value) == "[cluster] bucket heartbeat-no-such-bucket: no such bucket (create it)"
    assert sum(cluster.polls().values()) == 5 - 1  # it polled its leases, but published nothing
