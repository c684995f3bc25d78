"""Several replicas benchmark: AWS calls per poll across replicas against one poller's.

Seeds a fleet (default 6 accounts x 2 regions x 4 clusters x 50 services, 2,400
services, paused: every warm poll asks the same questions) on the embedded AWS,
then on one wall clock stepped by hand (a heartbeat each quarter interval, a
poll by every replica at each interval's start):

* one poller (a plain `Collector`, no `[cluster]`): its cold poll and warm polls;
* N replicas (`ClusterSource`, in this process, each with its own collector and
  clients) sharing a fresh lease table and bucket, for each N in --replicas.

For each run the embedded AWS counts every call by service: the fleet's
(ECS, CloudWatch, Application Auto Scaling, STS, IAM) and the cluster's own
(DynamoDB, S3) apart, per interval; and how many times each account was polled
in the interval (ListClusters per region), whichever replica polled it.

Run:  .venv/bin/python benchmarks/replicas_bench.py [--fleet 6x2x4x50] [--replicas 2,3] [--intervals 8] [--json]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import time
import uuid
from collections import Counter
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import boto3
from pydantic import SecretStr

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from heartbeat_tui.cluster import ensure_cluster
from heartbeat_tui.cluster.source import ClusterSource
from heartbeat_tui.collector import Collector
from heartbeat_tui.config import AccountConfig, Config, EnvSettings, config_from_dict
from heartbeat_tui.embedded import EmbeddedAWS
from heartbeat_tui.embedded.fleet import FleetSpec

INTERVAL = 30
CLUSTER_SERVICES = {"dynamodb", "s3"}


class Wall:
    def __init__(self) -> None:
        self.now = 1_800_000_000.0

    def __call__(self) -> float:
        return self.now

    def utc(self) -> datetime:
        return datetime.fromtimestamp(self.now, timezone.utc)


def make_config(aws: EmbeddedAWS, cluster: dict[str, str] | None = None) -> Config:
    data = aws.config_dict()
    data.setdefault("refresh", {})["interval_seconds"] = INTERVAL
    data.setdefault("collector", {})["workers"] = 1
    if cluster:
        data["cluster"] = cluster
    creds = aws.credentials()
    env = EnvSettings(
        _env_file=None,  # type: ignore[call-arg]
        aws_access_key_id=creds["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=SecretStr(creds["AWS_SECRET_ACCESS_KEY"]),
    )
    return config_from_dict(data, env=env, source="benchmark")


def calls_by_service(aws: EmbeddedAWS) -> tuple[int, int, Counter[str]]:
    """(fleet calls, cluster calls, ListClusters by account) since the last reset."""

    fleet = cluster = 0
    listed: Counter[str] = Counter()
    for row in aws.stats():
        if row["service"] in CLUSTER_SERVICES:
            cluster += row["count"]
        else:
            fleet += row["count"]
        if row["service"] == "ecs" and row["operation"] == "ListClusters":
            listed[row["account"]] += row["count"]
    return fleet, cluster, listed


async def one_poller(aws: EmbeddedAWS, wall: Wall, polls: int) -> dict[str, Any]:
    config = make_config(aws)
    per_poll, cpu = [], []
    async with Collector(config, clock=wall.utc) as collector:
        for _ in range(polls):
            aws.reset_stats()
            started = time.process_time()
            await collector.poll()
            cpu.append(time.process_time() - started)
            per_poll.append(calls_by_service(aws)[0])
            wall.now += INTERVAL
    warm_cpu = round(statistics.median(cpu[1:]), 3)
    return {"cold": per_poll[0], "warm": statistics.median(per_poll[1:]), "warm_cpu_s": warm_cpu}


async def replicas_run(aws: EmbeddedAWS, wall: Wall, count: int, intervals: int) -> dict[str, Any]:
    tag = uuid.uuid4().hex[:10]
    cluster = {"lease_table": f"bench-leases-{tag}", "bucket": f"bench-parts-{tag}"}
    base = make_config(aws, cluster)
    creds = aws.credentials()
    s3 = boto3.client(
        "s3",
        endpoint_url=aws.endpoint_url,
        region_name=base.region,
        aws_access_key_id=creds["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=creds["AWS_SECRET_ACCESS_KEY"],
    )
    where = {} if base.region == "us-east-1" else {"CreateBucketConfiguration": {"LocationConstraint": base.region}}
    s3.create_bucket(Bucket=cluster["bucket"], **where)
    await ensure_cluster(base)
    regions = {a.id: len(base.regions_for(a)) for a in base.accounts}
    sources = []
    for i in range(count):
        config = make_config(aws, {**cluster, "replica_id": f"r{i}"})

        async def accounts(config: Config = config) -> tuple[AccountConfig, ...]:
            return config.accounts

        source = ClusterSource(
            config, Collector(config, clock=wall.utc), accounts, f"r{i}", clock=wall, heartbeats=False
        )
        await source.prepare()
        sources.append(source)
    rows = []
    cpu_started = time.process_time()
    try:
        for _ in range(intervals):
            aws.reset_stats()
            interval_started = time.process_time()
            for source in sources:
                await source.poll()
            for _ in range(3):
                wall.now += INTERVAL / 4
                for source in sources:
                    assert source.leases is not None
                    await source.leases.heartbeat(list(regions))
            wall.now += INTERVAL / 4
            interval_cpu = time.process_time() - interval_started
            fleet, overhead, listed = calls_by_service(aws)
            polls = {a: listed[a] // n for a, n in regions.items()}
            held = sorted(len(s.leases.held) for s in sources if s.leases is not None)
            rows.append(
                {
                    "fleet_calls": fleet,
                    "cluster_calls": overhead,
                    "max_polls_per_account": max(polls.values()),
                    "accounts_polled": sum(1 for v in polls.values() if v),
                    "leases": held,
                    "cpu_s": round(interval_cpu, 3),
                }
            )
    finally:
        cpu = time.process_time() - cpu_started
        for source in sources:
            await source.aclose()
    steady = rows[len(rows) // 2 :]
    return {
        "replicas": count,
        "first_interval": rows[0],
        "steady_fleet_calls": statistics.median(r["fleet_calls"] for r in steady),
        "steady_cluster_calls": statistics.median(r["cluster_calls"] for r in steady),
        "max_polls_per_account": max(r["max_polls_per_account"] for r in rows),
        "min_accounts_polled": min(r["accounts_polled"] for r in rows),
        "final_leases": rows[-1]["leases"],
        "cpu_s_per_interval": round(cpu / intervals, 3),
        # A replica's own share of a steady interval (its poll, its heartbeats, its read of every part).
        "steady_cpu_s_per_replica": round(statistics.median(r["cpu_s"] for r in steady) / count, 3),
        "intervals": rows,
    }


async def run(args: argparse.Namespace) -> dict[str, Any]:
    accounts, regions, clusters, services = (int(x) for x in args.fleet.split("x"))
    fleet = FleetSpec.benchmark(accounts=accounts, regions=regions, clusters=clusters, services=services)
    with EmbeddedAWS(fleet, paused=True) as aws:
        while aws.health().get("history_pending", 0):
            time.sleep(0.1)
        wall = Wall()
        single = await one_poller(aws, wall, polls=4)
        runs = [await replicas_run(aws, wall, int(n), args.intervals) for n in args.replicas.split(",")]
    return {"fleet": args.fleet, "accounts": accounts, "one_poller": single, "runs": runs}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--fleet", default="6x2x4x50", help="ACCOUNTSxREGIONSxCLUSTERSxSERVICES")
    parser.add_argument("--replicas", default="2,3", help="comma-separated replica counts")
    parser.add_argument("--intervals", type=int, default=8)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    result = asyncio.run(run(args))
    if args.json:
        print(json.dumps(result, indent=2))
        return
    single = result["one_poller"]
    print(
        f"fleet {result['fleet']}: one poller {single['cold']} calls cold, {single['warm']} warm"
        f" ({single['warm_cpu_s']} s CPU a warm poll)"
    )
    for r in result["runs"]:
        first = r["first_interval"]
        print(
            f"{r['replicas']} replicas: first interval {first['fleet_calls']} fleet + {first['cluster_calls']} cluster"
            f" calls; steady {r['steady_fleet_calls']} fleet + {r['steady_cluster_calls']} cluster calls an interval;"
            f" max polls of one account in an interval {r['max_polls_per_account']};"
            f" leases {r['final_leases']}; {r['cpu_s_per_interval']} s CPU an interval (all replicas),"
            f" {r['steady_cpu_s_per_replica']} s a replica in a steady interval"
        )


if __name__ == "__main__":
    main()
