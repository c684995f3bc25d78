"""Replicas of `heartbeat serve` sharing the embedded AWS's fleet through a lease
table and a bucket of their own (real DynamoDB and S3 calls over HTTP).

Each replica is an in-process `ClusterSource` with its own collector and AWS
clients; one wall clock, stepped by hand, drives them all. Heartbeats are
called by the test where a running replica's background task would call them.
"""

from __future__ import annotations

import uuid
from collections import Counter
from collections.abc import AsyncIterator, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

import boto3
import pytest

from heartbeat_tui.cluster import ensure_cluster
from heartbeat_tui.cluster.leases import LeaseManager
from heartbeat_tui.cluster.source import ClusterSource
from heartbeat_tui.collector import Collector
from heartbeat_tui.config import AccountConfig, Config
from tests.support.configs import DENIED_ACCOUNT, make_config

INTERVAL = 30
T0 = 1_800_000_000.0


@dataclass
class Wall:
    """The replicas' shared wall clock (epoch seconds), set by the test."""

    now: float = T0

    def __call__(self) -> float:
        return self.now

    def utc(self) -> datetime:
        return datetime.fromtimestamp(self.now, timezone.utc)


@dataclass
class Replica:
    name: str
    config: Config
    source: ClusterSource
    fleet: list[AccountConfig] = field(
        default_factory=list
    )  # its accounts: the configured ones, unless a test changes them

    @property
    def leases(self) -> LeaseManager:
        assert self.source.leases is not None
        return self.source.leases

    @property
    def held(self) -> set[str]:
        return set(self.source.leases.held) if self.source.leases is not None else set()

    async def heartbeat(self) -> None:
        await self.leases.heartbeat([a.id for a in self.fleet])


@dataclass
class Cluster:
    aws: Any
    wall: Wall
    table: str
    bucket: str
    replicas: list[Replica] = field(default_factory=list)

    def config(self, replica_id: str) -> Config:
        cluster = {"lease_table": self.table, "bucket": self.bucket, "replica_id": replica_id}
        return make_config(self.aws, cluster=cluster, refresh={"interval_seconds": INTERVAL})

    def replica(self, name: str) -> Replica:
        config = self.config(name)
        fleet = list(config.accounts)

        async def accounts() -> tuple[AccountConfig, ...]:
            return tuple(fleet)

        collector = Collector(config, clock=self.wall.utc)
        source = ClusterSource(config, collector, accounts, name, clock=self.wall, heartbeats=False)
        replica = Replica(name, config, source, fleet)
        self.replicas.append(replica)
        return replica

    @property
    def account_ids(self) -> list[str]:
        return [a.id for a in self.config("probe").accounts]

    def regions(self, account_id: str) -> int:
        config = self.config("probe")
        return len(config.regions_for(next(a for a in config.accounts if a.id == account_id)))

    def polls(self) -> Counter[str]:
        """Polls per account since the last `reset`: each poll lists an account's
        clusters once per region (ListClusters), warm or cold; the account whose role
        is denied makes no ECS call and is left out."""

        calls: Counter[str] = Counter()
        for row in self.aws.stats():
            if row["service"] == "ecs" and row["operation"] == "ListClusters":
                calls[row["account"]] += row["count"]
        return Counter({a: calls[a] // self.regions(a) for a in self.account_ids if a != DENIED_ACCOUNT})

    def reset(self) -> None:
        self.aws.reset_stats()


def unique_names() -> tuple[str, str]:
    tag = uuid.uuid4().hex[:12]
    return f"heartbeat-leases-{tag}", f"heartbeat-parts-{tag}"


def s3_client(aws: Any, config: Config) -> Any:
    credentials = aws.credentials()
    return boto3.client(
        "s3",
        endpoint_url=aws.endpoint_url,
        region_name=config.region,
        aws_access_key_id=credentials["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=credentials["AWS_SECRET_ACCESS_KEY"],
    )


def make_bucket(aws: Any, config: Config, bucket: str) -> None:
    s3_client(aws, config).create_bucket(Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": config.region})


@pytest.fixture
async def cluster(clean_aws: Any) -> AsyncIterator[Cluster]:
    table, bucket = unique_names()
    made = Cluster(clean_aws, Wall(), table, bucket)
    config = made.config("setup")
    make_bucket(clean_aws, config, bucket)
    assert await ensure_cluster(config) == [f"created lease table {table}"]
    try:
        yield made
    finally:
        for replica in made.replicas:
            await replica.source.aclose()


def ids(accounts: Iterable[Any]) -> list[str]:
    return [a.id for a in accounts]


async def opened(cluster: Cluster, *names: str) -> list[Replica]:
    """Replicas with their clients made (no AWS call yet)."""

    replicas = [cluster.replica(name) for name in names]
    for replica in replicas:
        await replica.source.prepare()
    return replicas
