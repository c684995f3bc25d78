"""Per-call CPU of the collector's hot reads against the embedded AWS.

Makes `--calls` DescribeServices calls (10 services) and as many GetMetricData
calls (10 queries) as the collector makes them (`AwsAccess.call`: direct lean
calls), `--rounds` times, and prints the process CPU
(user + system) a call, in microseconds: the median round and the lowest.
The embedded AWS runs in its own process; its CPU is not counted.

`--stub` calls the client methods instead and answers every call in a first
`before-call` handler (botocore's documented way, its stubber's), so nothing is
sent: what is left is botocore's own per-call work (parameters, endpoint,
request, events), which direct calls skip.

Run:  .venv/bin/python benchmarks/call_bench.py [--calls 1000] [--rounds 5] [--stub] [--json]

Compare two commits by running it with the Python of a checkout of each,
alternating, with the load average (`uptime`) beside each figure: the machine
is shared. A checkout without `AwsAccess.call` is measured on its client methods.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import time
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta, timezone
from typing import Any

from pydantic import SecretStr

from heartbeat_tui.aws.access import AwsAccess
from heartbeat_tui.aws.services import CLOUDWATCH, ECS
from heartbeat_tui.collector.parse import name_from_arn
from heartbeat_tui.config import EnvSettings, config_from_dict
from heartbeat_tui.embedded import EmbeddedAWS
from heartbeat_tui.embedded.fleet import FleetSpec


def _metric_stat(cluster: str, service: str, metric: str, stat: str) -> dict[str, Any]:
    dimensions = [{"Name": "ClusterName", "Value": cluster}, {"Name": "ServiceName", "Value": service}]
    return {
        "Metric": {"Namespace": "AWS/ECS", "MetricName": metric, "Dimensions": dimensions},
        "Period": 60,
        "Stat": stat,
    }


class _Answered:
    status_code = 200


async def _measure(aws: EmbeddedAWS, calls: int, rounds: int, stub: bool) -> dict[str, Any]:
    creds = aws.credentials()
    env = EnvSettings(
        _env_file=None,
        aws_access_key_id=creds["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=SecretStr(creds["AWS_SECRET_ACCESS_KEY"]),
    )
    config = config_from_dict(aws.config_dict(), env=env, source="call_bench")
    async with AwsAccess(config) as access:
        account = config.accounts[0]
        region = config.regions_for(account)[0]
        ecs = await access.client(account, ECS, region)
        cw = await access.client(account, CLOUDWATCH, region)
        cluster = (await ecs.list_clusters())["clusterArns"][0]
        arns = (await ecs.list_services(cluster=cluster, maxResults=10))["serviceArns"][:10]
        end = datetime.now(timezone.utc).replace(second=0, microsecond=0)
        specs = [("CPUUtilization", "Average"), ("MemoryUtilization", "Maximum")] * 5
        names = [name_from_arn(arn) for arn in arns]
        queries = [
            {"Id": f"q{i}", "MetricStat": _metric_stat(name_from_arn(cluster), names[i % len(names)], m, s)}
            for i, (m, s) in enumerate(specs)
        ]
        metric_params = {
            "MetricDataQueries": queries,
            "StartTime": end - timedelta(minutes=30),
            "EndTime": end,
            "ScanBy": "TimestampAscending",
        }

        # The collector's entry (direct lean calls); a checkout without it calls the methods.
        direct = None if stub else getattr(access, "call", None)

        def describe() -> Awaitable[Any]:
            if direct is None:
                return ecs.describe_services(cluster=cluster, services=arns)  # type: ignore[no-any-return]
            return direct(ecs.describe_services, cluster=cluster, services=arns)  # type: ignore[no-any-return]

        def metrics() -> Awaitable[Any]:
            if direct is None:
                return cw.get_metric_data(**metric_params)  # type: ignore[no-any-return]
            return direct(cw.get_metric_data, **metric_params)  # type: ignore[no-any-return]

        kinds: dict[str, Callable[[], Awaitable[Any]]] = {"DescribeServices": describe, "GetMetricData": metrics}
        if stub:
            for client, kind in ((ecs, describe), (cw, metrics)):
                answer = await kind()
                client.meta.events.register_first("before-call", lambda _a=answer, **_: (_Answered(), dict(_a)))
        for kind in kinds.values():  # connections, kept endpoints, first requests
            for _ in range(20):
                await kind()
        per_call: dict[str, list[float]] = {name: [] for name in kinds}
        for _ in range(rounds):
            for name, kind in kinds.items():
                start = time.process_time()
                for _ in range(calls):
                    await kind()
                per_call[name].append((time.process_time() - start) / calls * 1e6)
    return {
        name: {"median_us": round(statistics.median(values), 1), "min_us": round(min(values), 1)}
        for name, values in per_call.items()
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--calls", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--stub", action="store_true", help="answer in before-call: botocore's own cost")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    aws = EmbeddedAWS(FleetSpec.demo(), paused=True)
    aws.start()
    try:
        result = asyncio.run(_measure(aws, args.calls, args.rounds, args.stub))
    finally:
        aws.stop()
    load = [round(x, 2) for x in os.getloadavg()]
    if args.json:
        print(json.dumps({"stub": args.stub, "load": load, "cpu_per_call": result}))
        return
    for name, figures in result.items():
        print(f"{name}: {figures['median_us']} us of CPU a call (lowest round {figures['min_us']}), load {load}")


if __name__ == "__main__":
    main()
