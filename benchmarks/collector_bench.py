"""Collector benchmark: calls, cold and warm poll time, CPU and memory.

Seeds a fleet (by default 3 accounts x 2 regions x 4 clusters x 100 services;
`--fleet AxRxCxS` for another size) on the embedded AWS, injects a fixed latency
per request, then measures in one run:

* API calls of a full poll against the analytic minimum for that fleet;
* wall time of a cold poll and of a warm (incremental) poll, against the
  critical-path bound (sequential round trips x latency);
* the collector's CPU seconds and its process's peak RSS;
* per service, to compare fleet sizes: `cpu_ms_per_service` (cold and warm:
  the collector's process CPU, worker processes included; the embedded AWS's
  apart in `server_cpu_ms_per_service`, it is not the collector's cost on real
  AWS) and `rss_kb_per_service` (RSS after the polls, the main process's and
  the workers', over the services; `rss_kb_per_service_net` first takes off
  the main process's RSS before the collector was built: imports). The
  ground truth (the fleet's shape, read with boto3) is read in a forked child.

Run:  .venv/bin/python benchmarks/collector_bench.py [--fleet 3x2x4x100] [--latency 0.05] [--prepare]
      [--warm-polls 5] [--workers N] [--json]

With --workers N > 1 the accounts are sharded across N worker processes
(`ShardedCollector`); CPU is then the parent's and the workers' apart and summed
("cpu_s" stays the main process's own).

With --prepare the collector's clients are created first (Collector.prepare(),
no AWS call; what the dashboard does while its login screen waits) and timed
apart; without it the cold poll creates them itself.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import multiprocessing
import os
import resource
import statistics
import sys
import time
from collections import Counter
from datetime import timedelta
from pathlib import Path
from typing import Any

from pydantic import SecretStr

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from heartbeat_tui import heap
from heartbeat_tui.collector import Collector
from heartbeat_tui.collector.cost import minimum_poll_calls
from heartbeat_tui.collector.workers import ShardedCollector
from heartbeat_tui.config import EnvSettings, config_from_dict
from heartbeat_tui.embedded import EmbeddedAWS
from heartbeat_tui.embedded.fleet import FleetSpec

FORK = multiprocessing.get_context("fork")


def rss_mb() -> float:
    # ru_maxrss is in KiB on Linux.
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def current_rss_mb() -> float:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 1024 / 1024


def child_cpu_seconds(pid: int | None) -> float:
    """CPU seconds (user + system) the embedded AWS's process has used so far."""

    if pid is None:
        return 0.0
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def workers_cpu_seconds(collector: Any) -> float:
    """CPU seconds the worker processes (none for the in-process collector) have used so far."""

    pids = set(collector.worker_pids().values()) if isinstance(collector, ShardedCollector) else set()
    return sum(child_cpu_seconds(pid) for pid in pids)


def workers_rss_mb(collector: Any) -> float:
    pids = set(collector.worker_pids().values()) if isinstance(collector, ShardedCollector) else set()
    total = 0.0
    for pid in pids:
        with open(f"/proc/{pid}/statm") as f:
            total += int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 1024 / 1024
    return total


def minimum_calls_apart(aws: EmbeddedAWS, fleet: FleetSpec, history: timedelta, aliases: frozenset[str]) -> Any:
    """The analytic minimum for the fleet, from its shape read back with boto3 in a
    forked child: those clients and the 40,000 services' answers are the bench's
    ground truth, not the collector's, and would otherwise stay in the RSS this
    process reports (12 MB before the polls at 39,803 services)."""

    receive, send = FORK.Pipe(duplex=False)
    child = FORK.Process(target=_send_minimum, args=(send, aws, fleet, history, aliases))
    child.start()  # forked: the target and its arguments are not pickled
    send.close()
    try:
        ok, value = receive.recv()
    except EOFError:  # it ended without sending
        ok, value = False, "the child died"
    child.join()
    if not ok:
        raise SystemExit(f"collector_bench: reading the fleet's shape: {value}")
    return value


def _send_minimum(send: Any, aws: EmbeddedAWS, fleet: FleetSpec, history: timedelta, aliases: frozenset[str]) -> None:
    from heartbeat_tui.embedded.shape import read_fleet_shape

    try:
        shape = read_fleet_shape(aws, fleet, history=history, configured_aliases=aliases)
        send.send((True, minimum_poll_calls(shape)))
    except Exception as exc:  # reported by the parent
        send.send((False, f"{type(exc).__name__}: {exc}"))


def critical_path(fleet: FleetSpec, cap: int, cold: bool) -> tuple[int, int]:
    """(sequential round trips with unlimited concurrency, with the per-account caps).

    Cold chain: AssumeRole -> ListClusters -> DescribeClusters -> ListServices
    pages -> DescribeServices and GetMetricData (parallel). Scaling calls run
    beside the chain and are shorter. Each account has a cap of `cap` calls in
    flight per AWS service: its DescribeServices batches need
    ceil(batches / cap) rounds on the ECS lane, its GetMetricData calls
    ceil(calls / cap) on CloudWatch's, side by side.

    A warm poll of an unchanged fleet makes no AssumeRole and no ListServices,
    and does not wait for its inventory: ListClusters, DescribeClusters (of the
    known clusters), DescribeServices and GetMetricData all start at once, so
    the ECS lane needs ceil(all its calls / cap) rounds.
    """

    worst_chain = worst_capped = 0
    for account in fleet.accounts:
        if account.deny_assume_role:
            continue
        pages = max(
            (max(1, math.ceil(len(c.services) / 100)) for r in account.regions for c in r.clusters),
            default=0,
        )
        describe = metrics = inventory = 0
        for region in account.regions:
            services = sum(len(c.services) for c in region.clusters)
            describe += sum(math.ceil(len(c.services) / 10) for c in region.clusters)
            metrics += math.ceil(4 * services / 500)
            inventory += 1 + math.ceil(len(region.clusters) / 100)  # ListClusters, DescribeClusters
        if cold:
            first = 1 if account.id != fleet.hub_account else 0
            chain = first + 1 + 1 + pages + 1
            capped = first + 1 + 1 + pages + max(math.ceil(describe / cap), math.ceil(metrics / cap))
        else:
            chain = 1
            capped = max(math.ceil((inventory + describe) / cap), math.ceil(metrics / cap))
        worst_chain = max(worst_chain, chain)
        worst_capped = max(worst_capped, capped)
    return worst_chain, worst_capped


def fleet_size(text: str) -> tuple[int, int, int, int]:
    """`ACCOUNTSxREGIONSxCLUSTERSxSERVICES` (services per cluster), e.g. `20x2x5x200`."""

    parts = text.lower().split("x")
    try:
        accounts, regions, clusters, services = (int(p) for p in parts)
    except ValueError:
        expected = "expected ACCOUNTSxREGIONSxCLUSTERSxSERVICES, e.g. 3x2x4x100"
        raise argparse.ArgumentTypeError(f"{text!r}: {expected}") from None
    if min(accounts, regions, clusters, services) < 1:
        raise argparse.ArgumentTypeError(f"{text!r}: every count must be at least 1")
    return accounts, regions, clusters, services


def per_service(value: float, services: int, scale: float, digits: int = 4) -> float | None:
    return round(value * scale / services, digits) if services else None


async def run(args: argparse.Namespace) -> dict[str, Any]:
    accounts, regions, clusters, services = args.fleet
    try:
        fleet = FleetSpec.benchmark(accounts=accounts, regions=regions, clusters=clusters, services=services)
    except ValueError as exc:
        raise SystemExit(f"collector_bench: --fleet: {exc}") from None
    # Seeding takes about a second per thousand services on a busy machine.
    start_timeout = 60 + accounts * regions * clusters * services / 100
    with EmbeddedAWS(fleet, paused=True).start(timeout=start_timeout) as aws:
        data = aws.config_dict()
        data.setdefault("collector", {})["max_in_flight_per_account"] = args.in_flight
        data["collector"]["account_deadline_seconds"] = args.deadline
        creds = aws.credentials()
        env = EnvSettings(
            _env_file=None,  # type: ignore[call-arg]
            aws_access_key_id=creds["AWS_ACCESS_KEY_ID"],
            aws_secret_access_key=SecretStr(creds["AWS_SECRET_ACCESS_KEY"]),
        )
        config = config_from_dict(data, env=env, source="benchmark")
        history = timedelta(minutes=config.file.collector.history_minutes)
        aliases = frozenset(a["id"] for a in data["accounts"] if a.get("alias"))
        minimum = minimum_calls_apart(aws, fleet, history, aliases)
        # Let the embedded AWS finish generating its metric history first, so the
        # cold poll measures the collector, not the simulator's start-up.
        while aws.health().get("history_pending", 0):
            time.sleep(0.1)
        aws.add_fault("latency", seconds=args.latency)
        rss_before = current_rss_mb()

        collector: Any = Collector(config) if args.workers == 1 else ShardedCollector(config, args.workers)
        async with collector:
            prepare_wall = prepare_cpu = None
            if args.prepare:
                # What the dashboard does while its login screen waits: create the
                # clients (no AWS call). Timed on its own, not part of the poll.
                cpu_p, t_p = time.process_time(), time.perf_counter()
                await collector.prepare()
                prepare_wall, prepare_cpu = time.perf_counter() - t_p, time.process_time() - cpu_p
            server0 = child_cpu_seconds(aws.pid)
            workers0 = workers_cpu_seconds(collector)  # after prepare(): a worker started by the poll counts in
            cpu0, t0 = time.process_time(), time.perf_counter()
            with heap.poll_window():  # what every caller of a poll does (heartbeat_tui.heap)
                cold = await collector.poll()
            cold_wall, cold_cpu = time.perf_counter() - t0, time.process_time() - cpu0
            cold_workers_cpu = workers_cpu_seconds(collector) - workers0
            server_after_cold = child_cpu_seconds(aws.pid)
            # Warm polls back to back: one alone is a noisy sample (a poll that
            # crosses a minute boundary merges a new point into every series).
            warm_walls, warm_cpus, warm_servers, warm_workers = [], [], [], []
            for _ in range(args.warm_polls):
                server1 = child_cpu_seconds(aws.pid)
                workers1 = workers_cpu_seconds(collector)
                cpu1, t1 = time.process_time(), time.perf_counter()
                with heap.poll_window():
                    warm = await collector.poll()
                warm_walls.append(time.perf_counter() - t1)
                warm_cpus.append(time.process_time() - cpu1)
                warm_servers.append(child_cpu_seconds(aws.pid) - server1)
                warm_workers.append(workers_cpu_seconds(collector) - workers1)
            rss_workers = workers_rss_mb(collector)
            rss_after = current_rss_mb()
        aws.clear_faults()

    calls = Counter(dict(cold.stats.calls))
    chain_cold, capped_cold = critical_path(fleet, args.in_flight, cold=True)
    chain_warm, capped_warm = critical_path(fleet, args.in_flight, cold=False)
    failed = [a.id for a in cold.accounts if a.status.value != "ok"]
    count = cold.service_count
    warm_total_cpu = statistics.median([c + w for c, w in zip(warm_cpus, warm_workers)])
    return {
        "fleet": {
            "spec": "x".join(str(n) for n in args.fleet),
            "accounts": len(fleet.accounts),
            "services": cold.service_count,
            "latency_ms": args.latency * 1000,
            "max_in_flight_per_account": args.in_flight,
            "workers": args.workers,
        },
        "prepared": bool(args.prepare),
        "prepare": None
        if prepare_wall is None
        else {"wall_s": round(prepare_wall, 3), "cpu_s": round(prepare_cpu or 0.0, 3)},
        "failed_accounts": failed,
        "calls": {
            "cold_total": sum(calls.values()),
            "minimum_total": sum(minimum.values()),
            "ratio": round(sum(calls.values()) / sum(minimum.values()), 3),
            "by_operation": {k: [calls.get(k, 0), minimum.get(k, 0)] for k in sorted(set(calls) | set(minimum))},
            "warm_total": warm.stats.total_calls,
            "warm_by_operation": dict(sorted(warm.stats.calls)),
            "http_requests_cold": cold.stats.http_requests,
        },
        "cold": {
            "wall_s": round(cold_wall, 3),
            "cpu_s": round(cold_cpu, 3),
            "workers_cpu_s": round(cold_workers_cpu, 3),
            "total_cpu_s": round(cold_cpu + cold_workers_cpu, 3),
            "server_cpu_s": round(server_after_cold - server0, 3),
            "bound_chain_s": round(chain_cold * args.latency, 3),
            "bound_capped_s": round(capped_cold * args.latency, 3),
            "ratio_to_capped_bound": round(cold_wall / (capped_cold * args.latency), 2),
        },
        "warm": {
            "polls": args.warm_polls,
            "wall_s": round(statistics.median(warm_walls), 3),  # the median warm poll
            "walls_s": [round(w, 3) for w in warm_walls],
            "cpu_s": round(statistics.median(warm_cpus), 3),
            "workers_cpu_s": round(statistics.median(warm_workers), 3),
            "total_cpu_s": round(statistics.median([c + w for c, w in zip(warm_cpus, warm_workers)]), 3),
            "server_cpu_s": round(statistics.median(warm_servers), 3),
            "bound_chain_s": round(chain_warm * args.latency, 3),
            "bound_capped_s": round(capped_warm * args.latency, 3),
            "ratio_to_cold": round(statistics.median(warm_walls) / cold_wall, 2),
        },
        "memory": {
            "rss_before_polls_mb": round(rss_before, 1),
            "rss_after_polls_mb": round(rss_after, 1),
            "peak_rss_mb": round(rss_mb(), 1),
            "workers_rss_after_polls_mb": round(rss_workers, 1),
        },
        # Per service: the collector's process CPU (workers included) ...
        "cpu_ms_per_service": {
            "cold": per_service(cold_cpu + cold_workers_cpu, count, 1000),
            "warm": per_service(warm_total_cpu, count, 1000),
        },
        # ... the embedded AWS's, apart (not the collector's cost on real AWS) ...
        "server_cpu_ms_per_service": {
            "cold": per_service(server_after_cold - server0, count, 1000),
            "warm": per_service(statistics.median(warm_servers), count, 1000),
        },
        # ... RSS after the polls (main process and workers) over the services, and
        # the same less the main process's RSS before the collector was built.
        "rss_kb_per_service": per_service(rss_after + rss_workers, count, 1024, 1),
        "rss_kb_per_service_net": per_service(rss_after + rss_workers - rss_before, count, 1024, 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument(
        "--fleet",
        type=fleet_size,
        default=(3, 2, 4, 100),
        metavar="AxRxCxS",
        help="accounts x regions x clusters x services per cluster (default 3x2x4x100: 2,400 services)",
    )
    parser.add_argument("--latency", type=float, default=0.05, help="seconds added to every request")
    parser.add_argument(
        "--deadline",
        type=float,
        default=900,
        help="[collector].account_deadline_seconds (default 900, the most allowed: a large fleet on a busy"
        " machine must not be cut, or its CPU is not the whole poll's; a cut account is listed as failed)",
    )
    parser.add_argument("--in-flight", type=int, default=10, help="max calls in flight per account")
    parser.add_argument(
        "--prepare",
        action="store_true",
        help="call Collector.prepare() before the cold poll (as the dashboard does behind its login screen)",
    )
    parser.add_argument("--warm-polls", type=int, default=5, help="warm polls after the cold one (median reported)")
    parser.add_argument("--workers", type=int, default=1, help="worker processes (1: the in-process collector)")
    parser.add_argument("--json", action="store_true", help="print JSON only")
    args = parser.parse_args()
    result = asyncio.run(run(args))
    if args.json:
        print(json.dumps(result, indent=2))
        return
    c, cold, warm, mem = result["calls"], result["cold"], result["warm"], result["memory"]
    print(f"fleet: {result['fleet']}")
    print(f"failed accounts: {result['failed_accounts'] or 'none'}")
    print(f"calls (cold poll): {c['cold_total']} vs minimum {c['minimum_total']} -> {c['ratio']}x (target <= 1.1x)")
    for op, (got, minimum) in c["by_operation"].items():
        print(f"  {op:<55} {got:>5} {minimum:>5}")
    print(f"calls (warm poll): {c['warm_total']}")
    for op, got in c["warm_by_operation"].items():
        print(f"  {op:<55} {got:>5}")
    if result["prepare"] is not None:
        p = result["prepare"]
        print(f"prepare() before the cold poll: {p['wall_s']} s wall, {p['cpu_s']} s CPU (not part of the poll)")
    print(
        f"cold poll: {cold['wall_s']} s wall, {cold['cpu_s']} s collector CPU (+ {cold['workers_cpu_s']} s in"
        f" workers = {cold['total_cpu_s']} s), {cold['server_cpu_s']} s embedded-AWS"
        " CPU; critical path "
        f"{cold['bound_chain_s']} s (unlimited concurrency), {cold['bound_capped_s']} s (with the per-account cap)"
        f" -> {cold['ratio_to_capped_bound']}x (target <= 3x)"
    )
    print(
        f"warm poll (median of {warm['polls']}: {', '.join(str(w) for w in warm['walls_s'])}): {warm['wall_s']} s wall,"
        f" {warm['cpu_s']} s collector CPU (+ {warm['workers_cpu_s']} s in workers = {warm['total_cpu_s']} s),"
        f" {warm['server_cpu_s']} s embedded-AWS CPU; critical path"
        f" {warm['bound_chain_s']} s (unlimited concurrency), {warm['bound_capped_s']} s (with the per-account cap)"
        f" -> {warm['ratio_to_cold']} of cold (target <= 0.5)"
    )
    print(
        f"memory: RSS {mem['rss_before_polls_mb']} MB before polls, {mem['rss_after_polls_mb']} MB after,"
        f" peak {mem['peak_rss_mb']} MB; workers {mem['workers_rss_after_polls_mb']} MB after"
    )
    cpu, server = result["cpu_ms_per_service"], result["server_cpu_ms_per_service"]
    print(
        f"per service ({result['fleet']['services']}): collector CPU {cpu['cold']} ms cold, {cpu['warm']} ms warm"
        f" (embedded AWS {server['cold']} / {server['warm']} ms); RSS after polls {result['rss_kb_per_service']} KB,"
        f" {result['rss_kb_per_service_net']} KB less the RSS before the collector was built"
    )


if __name__ == "__main__":
    main()
