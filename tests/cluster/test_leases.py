"""The lease table (issue 14, part 3): taking, renewing, expiring, stealing and
racing for leases, against the embedded AWS's DynamoDB over real HTTP, on a wall
clock the test steps (a quarter interval is one heartbeat)."""

from __future__ import annotations

import asyncio
import math
from dataclasses import replace

from heartbeat_tui.cluster.leases import LEASE_FRACTION

from .conftest import INTERVAL, Cluster, Replica, opened

QUARTER = INTERVAL / 4


async def owners(cluster: Cluster, replica: Replica) -> dict[str, set[str]]:
    """The table's truth (a replica learns of a stolen lease only at its next write): owner -> accounts."""

    leases, _ = await replica.leases.table.scan()
    found: dict[str, set[str]] = {}
    for lease in leases.values():
        found.setdefault(lease.owner, set()).add(lease.account_id)
    return found


async def test_a_lone_replica_takes_every_lease_and_keeps_it_by_renewing(cluster: Cluster) -> None:
    (a,) = await opened(cluster, "a")
    await a.heartbeat()
    assert a.held == set(cluster.account_ids)
    first = dict(a.leases.held)
    for _ in range(8):  # two intervals of heartbeats: still held, a newer counter each time
        cluster.wall.now += QUARTER
        await a.heartbeat()
    assert a.held == set(cluster.account_ids)
    assert all(a.leases.held[k].counter == first[k].counter + 8 for k in first)
    assert all(lease.expires_at == cluster.wall.now + LEASE_FRACTION * INTERVAL for lease in a.leases.held.values())


async def test_expired_leases_are_taken_and_the_old_holder_drops_them(cluster: Cluster) -> None:
    a, b = await opened(cluster, "a", "b")
    await a.heartbeat()
    cluster.wall.now += LEASE_FRACTION * INTERVAL - 1  # not expired yet: b may only steal, one
    await b.heartbeat()
    assert len(b.held) == 1
    cluster.wall.now += 2  # a stopped heartbeating: every lease of it has expired
    await b.heartbeat()
    assert b.held == set(cluster.account_ids)
    await a.heartbeat()  # a comes back: its renewals are refused, it holds nothing, then steals one
    (stolen,) = a.held
    await b.heartbeat()  # b finds out at its next write, and drops it
    assert b.held == set(cluster.account_ids) - {stolen}


async def test_two_replicas_even_out_one_stolen_lease_a_round(cluster: Cluster) -> None:
    a, b = await opened(cluster, "a", "b")
    await a.heartbeat()
    assert len(a.held) == 5
    sizes = []
    for _ in range(4):
        cluster.wall.now += QUARTER
        await a.heartbeat()
        await b.heartbeat()
        table = await owners(cluster, a)
        sizes.append((len(table["a"]), len(table["b"])))
        assert b.held == table["b"] and a.held >= table["a"]  # a hears of the steal at its next renewal
    # One steal a round until b has its share (ceil(5/2) = 3 is a's, b stops at 2: a is not above target).
    assert sizes == [(4, 1), (3, 2), (3, 2), (3, 2)]
    await a.heartbeat()
    assert a.held | b.held == set(cluster.account_ids) and not a.held & b.held
    assert a.leases.target == b.leases.target == 3 and a.leases.replicas == b.leases.replicas == 2


async def test_three_replicas_share_fairly_and_no_lease_is_held_twice(cluster: Cluster) -> None:
    replicas = await opened(cluster, "a", "b", "c")
    for _ in range(8):
        before = await owners(cluster, replicas[0])
        for replica in replicas:
            await replica.heartbeat()
        after = await owners(cluster, replicas[0])
        for replica in replicas:  # at most one steal a round: expired leases aside, at most one more each
            gained = after.get(replica.name, set()) - before.get(replica.name, set())
            free = before.get("", set()) | (set(cluster.account_ids) - set().union(*before.values()))
            assert len(gained - free) <= 1
        cluster.wall.now += QUARTER
    table = await owners(cluster, replicas[0])
    assert sorted(len(table[replica.name]) for replica in replicas) == [1, 2, 2]
    assert all(replica.leases.target == math.ceil(5 / 3) for replica in replicas)
    for replica in replicas:  # one more round: everyone has heard, and memory agrees with the table
        await replica.heartbeat()
    assert [replica.held for replica in replicas] == [table[replica.name] for replica in replicas]


async def test_racing_writes_to_one_lease_have_exactly_one_winner(cluster: Cluster) -> None:
    a, b = await opened(cluster, "a", "b")
    await a.heartbeat()
    account = sorted(a.held)[0]
    seen = a.leases.held[account]
    for _ in range(3):
        mine = replace(seen, owner="a", counter=seen.counter + 1)
        theirs = replace(seen, owner="b", counter=seen.counter + 1)
        results = await asyncio.gather(a.leases.table.write(seen, mine), b.leases.table.write(seen, theirs))
        assert sorted(results) == [False, True]
        leases, _ = await a.leases.table.scan()
        seen = leases[account]
        assert seen.owner == ("a" if results[0] else "b") and seen.counter == mine.counter


async def test_replicas_starting_together_never_hold_one_lease_twice(cluster: Cluster) -> None:
    replicas = await opened(cluster, "a", "b", "c")
    for _ in range(6):
        await asyncio.gather(*(replica.heartbeat() for replica in replicas))
        table = await owners(cluster, replicas[0])
        # Each lease has one owner in the table, and no replica thinks it holds one the table gives another
        # replica at a newer counter than it wrote (it would be refused at its next write).
        assert sum(len(v) for v in table.values()) == 5
        cluster.wall.now += QUARTER
    await asyncio.gather(*(replica.heartbeat() for replica in replicas))
    held = [replica.held for replica in replicas]
    assert set().union(*held) == set(cluster.account_ids) and sum(len(h) for h in held) == 5


async def test_a_lost_lease_is_neither_polled_nor_published(cluster: Cluster) -> None:
    a, b = await opened(cluster, "a", "b")
    await a.heartbeat()
    assert await a.leases.claim() == sorted(cluster.account_ids)
    cluster.wall.now += QUARTER
    await b.heartbeat()
    (stolen,) = b.held
    # a has not heard yet: the fence at publish time checks the table, not a's memory.
    assert await a.leases.fence([stolen], "2027-01-15T08:00:00+00:00") == []
    assert stolen not in a.held
    cluster.wall.now += INTERVAL
    assert stolen not in await a.leases.claim()


async def test_a_taken_lease_is_polled_one_interval_after_the_last_poll_began(cluster: Cluster) -> None:
    a, b = await opened(cluster, "a", "b")
    await a.heartbeat()
    await a.leases.claim()  # a's poll begins at T0
    cluster.wall.now += QUARTER
    await b.heartbeat()
    (stolen,) = b.held
    assert await b.leases.claim() == []  # a polled it a quarter interval ago
    cluster.wall.now += INTERVAL / 2
    assert await b.leases.claim() == []
    cluster.wall.now += QUARTER  # T0 + one interval
    assert await b.leases.claim() == [stolen]


async def test_released_leases_are_taken_at_the_next_heartbeat(cluster: Cluster) -> None:
    a, b = await opened(cluster, "a", "b")
    await a.heartbeat()
    await a.leases.claim()
    await a.leases.release()
    assert a.held == set()
    cluster.wall.now += 1
    await b.heartbeat()  # no wait for expiry: a gave them up (and is no longer counted)
    assert b.held == set(cluster.account_ids) and b.leases.replicas == 1
    assert await b.leases.claim() == []  # but a's poll began a second ago
    cluster.wall.now += INTERVAL
    assert await b.leases.claim() == sorted(cluster.account_ids)


async def test_a_restarted_replica_takes_back_its_leases_but_waits_out_the_last_poll(cluster: Cluster) -> None:
    (before,) = await opened(cluster, "a")
    await before.heartbeat()
    assert await before.leases.claim() == sorted(cluster.account_ids)  # its poll begins, then it dies
    (after,) = await opened(cluster, "a")  # the same replica_id, a new process: nothing in memory
    cluster.wall.now += 1
    await after.heartbeat()
    assert after.held == set(cluster.account_ids)  # no wait for expiry: they are its own
    assert await after.leases.claim() == []  # but the process before it polled them a second ago
    cluster.wall.now += INTERVAL
    assert await after.leases.claim() == sorted(cluster.account_ids)
