"""A collector forgets accounts it no longer polls when asked (a `[cluster]` replica
whose leases moved): nothing of theirs stays alive, in process or in the sharded
workers' parent, and one polled again starts afresh. Against the embedded AWS over
real HTTP."""

from __future__ import annotations

import gc
import weakref
from datetime import datetime, timezone
from typing import Any

import pytest

from heartbeat_tui.aws.access import AwsAccess
from heartbeat_tui.collector import Collector
from heartbeat_tui.collector.workers import ShardedCollector
from heartbeat_tui.models import AccountStatus
from tests.support.configs import HUB, PAYMENTS, make_config

NOW = datetime(2026, 12, 3, 12, 0, tzinfo=timezone.utc)


def fixed_clock() -> datetime:
    return NOW


@pytest.mark.parametrize("workers", [1, 2])
async def test_a_forgotten_account_is_freed_and_polled_afresh(clean_aws: Any, workers: int) -> None:
    config = make_config(clean_aws)
    source = (
        Collector(config, clock=fixed_clock) if workers == 1 else ShardedCollector(config, workers, clock=fixed_clock)
    )
    async with source:
        first = await source.poll()
        leaving = first.account(PAYMENTS)
        assert leaving is not None and leaving.status is AccountStatus.OK
        services = sum(1 for _ in leaving.services())
        assert services > 0
        seen = [weakref.ref(leaving), *(weakref.ref(service) for _, _, service in leaving.services())]
        del first, leaving

        await source.forget([PAYMENTS])
        await source.poll([HUB])  # the replica polls what it still holds
        gc.collect()
        assert [ref() for ref in seen] == [None] * len(seen)

        again = (await source.poll([PAYMENTS])).account(PAYMENTS)
        # Whole and readable (a worker that still sent it as "unchanged" would make it unreadable).
        assert again is not None and again.status is AccountStatus.OK
        assert sum(1 for _ in again.services()) == services


async def test_forgetting_an_account_never_polled_changes_nothing(clean_aws: Any) -> None:
    async with Collector(make_config(clean_aws), clock=fixed_clock) as collector:
        first = await collector.poll([HUB])
        await collector.forget(["000000000000"])
        second = await collector.poll([HUB])
    assert second.accounts == first.accounts
    before = [service for _, _, service in first.accounts[0].services()]
    after = [service for _, _, service in second.accounts[0].services()]
    assert before and all(a is b for a, b in zip(after, before, strict=True))  # still warm: the same objects


def assume_role_calls(aws: Any, account: str) -> int:
    return sum(row["count"] for row in aws.stats() if row["operation"] == "AssumeRole" and row["account"] == account)


async def test_a_forgotten_account_lets_go_of_its_session(clean_aws: Any) -> None:
    """Its clients and assumed-role session go too: polled again, the account
    assumes its role afresh (kept, the old credentials would have served)."""

    async with Collector(make_config(clean_aws), clock=fixed_clock) as collector:
        await collector.poll()
        await collector.poll()
        assert assume_role_calls(clean_aws, PAYMENTS) == 1  # kept between polls
        await collector.forget([PAYMENTS])
        await collector.poll([HUB])
        assert assume_role_calls(clean_aws, PAYMENTS) == 1
        again = (await collector.poll()).account(PAYMENTS)
    assert again is not None and again.status is AccountStatus.OK, again.error
    assert assume_role_calls(clean_aws, PAYMENTS) == 2


async def test_forgotten_clients_are_closed_and_freed(clean_aws: Any) -> None:
    config = make_config(clean_aws)
    account = next(a for a in config.accounts if a.id == PAYMENTS)
    hub = next(a for a in config.accounts if a.id == HUB)
    async with AwsAccess(config) as access:
        client = await access.client(account, "ecs", config.region)
        kept = await access.client(hub, "ecs", config.region)
        assert "clusterArns" in await access.call(client.list_clusters)  # a real call, over HTTP
        gone = weakref.ref(client)
        del client
        await access.forget(PAYMENTS)
        gc.collect()
        assert gone() is None  # nothing holds it: not the client table, not an exit stack
        assert await access.client(hub, "ecs", config.region) is kept  # another account's stay
        fresh = await access.client(account, "ecs", config.region)
        assert "clusterArns" in await access.call(fresh.list_clusters)  # a new one, working
