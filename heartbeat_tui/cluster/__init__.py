"""Several `heartbeat serve` replicas sharing the accounts (`[cluster]`).

Leases on accounts in a DynamoDB table (leases.py), each account's part in an
S3 bucket (parts.py), and the FleetSource a replica's hub polls (source.py).
Engine side: no Textual, no Rich. Without `[cluster]`, `make_source` is
`make_collector`: one process polls every account, as before.
"""

from __future__ import annotations

import os
import re
import socket
import time
from collections.abc import Callable
from datetime import datetime, timezone

from heartbeat_tui.config import AccountConfig, Config
from heartbeat_tui.controller.source import FleetSource
from heartbeat_tui.errors import UsageError


def default_replica_id() -> str:
    """`<host name>-<process id>`: unique while the process lives, readable in the lease table."""

    host = re.sub(r"[^A-Za-z0-9_.:-]", "-", socket.gethostname()) or "host"
    return f"{host[:100]}-{os.getpid()}"


def make_source(config: Config, *, clock: Callable[[], float] = time.time) -> FleetSource:
    """The poller `heartbeat serve` runs: the collector (`make_collector`), or with
    `[cluster]` the collector of this replica's leased accounts behind a `ClusterSource`."""

    from heartbeat_tui.collector.workers import make_collector

    cluster = config.file.cluster
    if not cluster.enabled:
        return make_collector(config)
    if not config.accounts and config.discovery is None:
        raise UsageError("[cluster] shares accounts between replicas: list them ([[accounts]] or [discovery])")
    from heartbeat_tui.cluster.source import ClusterSource

    collector = make_collector(config, clock=lambda: datetime.fromtimestamp(clock(), timezone.utc))
    discovery = collector.discovery

    async def accounts() -> tuple[AccountConfig, ...]:
        if discovery is None:
            return config.accounts
        await discovery.refresh_if_due(datetime.fromtimestamp(clock(), timezone.utc))
        return discovery.accounts()

    return ClusterSource(config, collector, accounts, cluster.replica_id or default_replica_id(), clock=clock)


async def ensure_cluster(config: Config) -> list[str]:
    """`heartbeat init`: create the lease table if missing, and check the bucket is there and usable."""

    from heartbeat_tui.aws.access import AwsAccess
    from heartbeat_tui.cluster.leases import LeaseTable
    from heartbeat_tui.cluster.parts import PartStore

    cluster = config.file.cluster
    if cluster.lease_table is None or cluster.bucket is None:
        return []
    done = []
    async with AwsAccess(config) as access:
        table = LeaseTable(await access.base_client("dynamodb"), cluster.lease_table)
        if await table.ensure():
            done.append(f"created lease table {cluster.lease_table}")
        await PartStore(await access.base_client("s3"), cluster.bucket, cluster.prefix).check()
    return done
