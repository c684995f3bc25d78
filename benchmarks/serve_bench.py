"""`heartbeat serve` benchmark: many API clients, one poller.

Seeds a 2,400-service fleet (6 accounts x 2 regions x 4 clusters x 50 services)
on the embedded AWS (paused: every warm poll asks the same questions), starts
`heartbeat serve` as its own process, then:

1. one client long-polls `/api/v1/snapshot` for a few polls: AWS calls per poll;
2. 100 clients long-poll it (`If-None-Match` + `?wait=60`) for `--duration`
   seconds; besides its long-poll, each client asks once a second whether it
   is up to date (`If-None-Match`, no wait: a 304) and every 5 s for the whole
   snapshot (no ETag: a 200, gzip accepted, the body read to its end).

It prints p50/p99 latency of the 304s and of the full snapshots (the first
5 s left out: every client's first answer is a full one, all at once), the
same one request at a time before the load, a /metrics scrape (first of a
poll, then cached), how long after the first client the last one got each
new poll (the long-poll fan-out), the server process's CPU and RSS, this
process's CPU (the clients: a starved client would inflate the latencies), and
AWS calls per poll with 1 and with 100 clients (the embedded AWS's own count;
the users store's DynamoDB left out).
Half the clients use a `monitor` token (every account), half a `user` token
limited to two accounts: two scopes, each built once per poll.

Run:  .venv/bin/python benchmarks/serve_bench.py [--duration 60] [--clients 100] [--interval 10] [--json]
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import json
import os
import random
import subprocess
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
from pydantic import SecretStr

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from heartbeat_tui.auth.service import open_auth
from heartbeat_tui.config import EnvSettings, config_from_dict, dump_toml
from heartbeat_tui.embedded import EmbeddedAWS
from heartbeat_tui.embedded.fleet import FleetSpec

PASSWORD = "a long enough benchmark password"
WARMUP_SECONDS = 5.0  # the clients' first requests (all full answers at once) are not counted
SNAPSHOT = "/api/v1/snapshot"


def percentile(values: list[float], fraction: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def ms(value: float | None) -> float | None:
    return None if value is None else round(value * 1000, 2)


def process_cpu_seconds(pid: int) -> float:
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def process_memory_mb(pid: int) -> dict[str, float]:
    """VmRSS (now) and VmHWM (the peak) of a process, in MiB."""

    found = {}
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            name, _, value = line.partition(":")
            if name in ("VmRSS", "VmHWM"):
                found[name] = round(int(value.split()[0]) / 1024, 1)
    return found


def children(pid: int) -> list[int]:
    """The processes `pid` started, and theirs (the service's poll worker processes)."""

    parents: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as f:
                    ppid = int(f.read().rsplit(")", 1)[1].split()[1])
            except (OSError, ValueError, IndexError):
                continue
            parents.setdefault(ppid, []).append(int(entry))
    found, todo = [], [pid]
    while todo:
        for child in parents.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return sorted(found)


def aws_calls(aws: EmbeddedAWS) -> Counter[str]:
    """Calls the embedded AWS answered, by operation, the users store (DynamoDB) left out."""

    calls: Counter[str] = Counter()
    for row in aws.stats():
        if row["service"] != "dynamodb":
            calls[f"{row['service']}.{row['operation']}"] += row["count"]
    return calls


def generation_of(etag: str) -> int:
    return int(etag.strip('"').split("-")[0])


@dataclass
class Figures:
    not_modified: list[float] = field(default_factory=list)  # seconds, 304s
    full: list[float] = field(default_factory=list)  # seconds, 200s read to the end
    deliveries: dict[int, list[float]] = field(default_factory=dict)  # generation -> when each client got it
    errors: Counter[str] = field(default_factory=Counter)
    slow: list[float] = field(default_factory=list)  # when each answer over 100 ms was asked for (monotonic)


async def long_poll(http: aiohttp.ClientSession, url: str, token: str, stop: float, figures: Figures) -> None:
    """Follow the polls as a dashboard would: the ETag, and wait for the next one."""

    headers = {"Authorization": f"Bearer {token}", "Accept-Encoding": "gzip"}
    etag = ""
    while time.monotonic() < stop:
        wait = max(1, min(60, int(stop - time.monotonic())))
        async with http.get(
            url + SNAPSHOT, params={"wait": str(wait)}, headers={**headers, "If-None-Match": etag}
        ) as r:
            await r.read()
            if r.status == 200:
                etag = r.headers["ETag"]
                figures.deliveries.setdefault(generation_of(etag), []).append(time.monotonic())
            elif r.status != 304:
                figures.errors[f"long-poll {r.status}"] += 1
                await asyncio.sleep(1)


async def probe(
    http: aiohttp.ClientSession, url: str, token: str, stop: float, figures: Figures, counted_from: float = 0.0
) -> None:
    """Once a second "am I up to date?" (304); every fifth time, the whole snapshot."""

    headers = {"Authorization": f"Bearer {token}", "Accept-Encoding": "gzip"}
    etag = ""
    tick = 0
    await asyncio.sleep(random.random())  # spread the clients over the second
    while time.monotonic() < stop:
        full = not etag or tick % 5 == 0
        started = time.perf_counter()
        async with http.get(url + SNAPSHOT, headers=headers if full else {**headers, "If-None-Match": etag}) as r:
            await r.read()
            took = time.perf_counter() - started
        if time.monotonic() < counted_from:
            etag = r.headers.get("ETag", etag)
        elif r.status == 200:
            etag = r.headers["ETag"]
            if took > 0.1:
                figures.slow.append(time.monotonic() - took)
            if full:
                figures.full.append(took)
            else:  # a newer poll than our ETag: a full answer, counted as one
                figures.full.append(took)
        elif r.status == 304:
            figures.not_modified.append(took)
            if took > 0.1:
                figures.slow.append(time.monotonic() - took)
        else:
            figures.errors[f"probe {r.status}"] += 1
        tick += 1
        await asyncio.sleep(1.0)


async def wait_healthy(http: aiohttp.ClientSession, url: str) -> None:
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        try:
            async with http.get(url + "/health") as r:
                if r.status == 200:
                    return
        except aiohttp.ClientError:
            pass
        await asyncio.sleep(0.2)
    raise SystemExit("the service made no poll within 300 s")


async def login(http: aiohttp.ClientSession, url: str, username: str) -> str:
    async with http.post(url + "/api/v1/auth/login", json={"username": username, "password": PASSWORD}) as r:
        if r.status != 200:
            raise SystemExit(f"login of {username} failed: {r.status} {await r.text()}")
        token: str = (await r.json())["token"]
        return token


async def sequential(http: aiohttp.ClientSession, url: str, token: str, count: int) -> Figures:
    """`count` conditional requests (304s) and a tenth as many full ones, one at a time."""

    figures = Figures()
    headers = {"Authorization": f"Bearer {token}", "Accept-Encoding": "gzip"}
    etag = ""
    for i in range(count):
        full = i % 10 == 0
        started = time.perf_counter()
        async with http.get(url + SNAPSHOT, headers=headers if full else {**headers, "If-None-Match": etag}) as r:
            await r.read()
            took = time.perf_counter() - started
        if r.status == 200:
            etag = r.headers["ETag"]
        (figures.full if r.status == 200 else figures.not_modified).append(took)
    return figures


async def calls_per_poll(
    http: aiohttp.ClientSession, url: str, token: str, aws: EmbeddedAWS, polls: int
) -> tuple[list[int], Counter[str]]:
    """AWS calls of each of the next `polls` polls, seen by one long-polling client:
    between two deliveries, exactly one poll ran."""

    headers = {"Authorization": f"Bearer {token}"}
    async with http.get(url + SNAPSHOT, headers=headers) as r:
        await r.read()
        etag = r.headers["ETag"]
    async with http.get(url + SNAPSHOT, params={"wait": "60"}, headers={**headers, "If-None-Match": etag}) as r:
        await r.read()  # the start of a fresh poll interval
        etag = r.headers["ETag"]
    aws.reset_stats()
    per_poll, total = [], Counter[str]()
    for _ in range(polls):
        async with http.get(url + SNAPSHOT, params={"wait": "60"}, headers={**headers, "If-None-Match": etag}) as r:
            await r.read()
            if r.status != 200:
                raise SystemExit(f"no new poll within 60 s ({r.status})")
            etag = r.headers["ETag"]
        calls = aws_calls(aws)
        aws.reset_stats()
        per_poll.append(sum(calls.values()))
        total.update(calls)
    return per_poll, total


async def run(args: argparse.Namespace) -> dict[str, Any]:
    fleet = FleetSpec.benchmark(accounts=6, regions=2, clusters=4, services=args.services_per_cluster)
    with EmbeddedAWS(fleet, paused=True) as aws, tempfile.TemporaryDirectory() as folder:
        while aws.health().get("history_pending", 0):
            time.sleep(0.1)
        data = aws.config_dict()
        data.setdefault("refresh", {})["interval_seconds"] = args.interval
        creds = aws.credentials()
        secrets = {
            "JWT_SECRET": base64.urlsafe_b64encode(os.urandom(48)).decode(),
            "ENCRYPTION_KEY": base64.urlsafe_b64encode(os.urandom(32)).decode(),
            "DYNAMODB_USERS_TABLE": "hb-bench-users",
        }
        env = EnvSettings(
            _env_file=None,  # type: ignore[call-arg]
            aws_access_key_id=creds["AWS_ACCESS_KEY_ID"],
            aws_secret_access_key=SecretStr(creds["AWS_SECRET_ACCESS_KEY"]),
            dynamodb_users_table=secrets["DYNAMODB_USERS_TABLE"],
            jwt_secret=SecretStr(secrets["JWT_SECRET"]),
            encryption_key=SecretStr(secrets["ENCRYPTION_KEY"]),
        )
        config = config_from_dict(data, env=env, source="benchmark")
        accounts = [a.id for a in fleet.accounts]
        async with open_auth(config) as auth:
            await auth.store.ensure_tables()
            await auth.bootstrap_admin("bench-admin", PASSWORD)
            admin = await auth.login("bench-admin", PASSWORD)
            await auth.create_user(admin, username="bench-monitor", password=PASSWORD, role="monitor")
            await auth.create_user(admin, username="bench-user", password=PASSWORD, role="user", accounts=accounts[:2])

        path = Path(folder) / "config.toml"
        path.write_text(dump_toml(data))
        path.chmod(0o600)
        child_env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "HEARTBEAT_"))}
        child_env.update(creds, **secrets, HEARTBEAT_LOG_FILE=str(Path(folder) / "heartbeat.log"))
        server = subprocess.Popen(
            [sys.executable, "-m", "heartbeat_tui", "--config", str(path), "serve", "--listen", "127.0.0.1:0"],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=child_env,
            cwd=folder,
        )
        try:
            assert server.stdout is not None
            line = server.stdout.readline()
            if "listening on" not in line:
                raise SystemExit(f"serve did not start: {line!r} {server.stderr.read() if server.stderr else ''}")
            url = line.rsplit(" ", 1)[1].strip()
            return await measure(args, aws, server.pid, url)
        finally:
            server.terminate()
            server.wait(30)


async def measure(args: argparse.Namespace, aws: EmbeddedAWS, pid: int, url: str) -> dict[str, Any]:
    connector = aiohttp.TCPConnector(limit=0)
    timeout = aiohttp.ClientTimeout(total=90)
    async with aiohttp.ClientSession(connector=connector, timeout=timeout, auto_decompress=False) as http:
        await wait_healthy(http, url)
        tokens = [await login(http, url, "bench-monitor"), await login(http, url, "bench-user")]
        # Sizes of each scope's answer, plain and gzipped (aiohttp asks for gzip unless told not to).
        sizes = {}
        for scope, token in zip(("monitor", "user"), tokens):
            for encoding in ("identity", "gzip"):
                headers = {"Authorization": f"Bearer {token}", "Accept-Encoding": encoding}
                async with http.get(url + SNAPSHOT, headers=headers) as r:
                    sizes[f"{scope}_{'plain' if encoding == 'identity' else 'gzip'}"] = len(await r.read())

        # 0. one client, one request at a time: the floor under the figures with load.
        alone = await sequential(http, url, tokens[0], args.sequential)

        # /metrics (a loopback client, no token): the first scrape of a poll builds it, the next is cached.
        scrapes = []
        for _ in range(2):
            started = time.perf_counter()
            async with http.get(url + "/metrics") as r:
                exposition_bytes = len(await r.read())
            scrapes.append(time.perf_counter() - started)

        # 1. one client.
        one_per_poll, one_calls = await calls_per_poll(http, url, tokens[0], aws, args.baseline_polls)

        # 2. many clients, and beside them the same one-client count of calls per poll.
        figures = Figures()
        rss_before = process_memory_mb(pid)
        workers = children(pid)
        workers_cpu0 = {w: process_cpu_seconds(w) for w in workers}
        cpu0, wall0, own0 = process_cpu_seconds(pid), time.monotonic(), time.process_time()
        stop = time.monotonic() + args.duration
        tasks = []
        for i in range(args.clients):
            token = tokens[i % 2]
            tasks.append(asyncio.create_task(long_poll(http, url, token, stop, figures)))
            tasks.append(asyncio.create_task(probe(http, url, token, stop, figures, wall0 + WARMUP_SECONDS)))
        counted = max(1, int(args.duration / args.interval) - 2)
        loaded_per_poll, loaded_calls = await calls_per_poll(http, url, tokens[0], aws, counted)
        await asyncio.gather(*tasks)
        cpu, wall, own = process_cpu_seconds(pid) - cpu0, time.monotonic() - wall0, time.process_time() - own0
        workers_cpu = {w: process_cpu_seconds(w) - workers_cpu0[w] for w in workers if w in children(pid)}
        first = min(figures.deliveries, default=0)  # what every client got on connecting: no fan-out
        # Slow answers asked for while a poll ran (a poll ends when its first client gets it and
        # lasted about heartbeat_poll_duration_seconds, the last poll's from /metrics), or in the
        # second after it, while 100 long-polls get the new snapshot at once.
        async with http.get(url + "/metrics", headers={"Accept-Encoding": "identity"}) as r:
            text = (await r.read()).decode()
        poll_seconds = next(
            float(line.split()[-1]) for line in text.splitlines() if line.startswith("heartbeat_poll_duration_seconds ")
        )
        ends = [min(t) for g, t in figures.deliveries.items() if g != first]
        during = sum(1 for at in figures.slow if any(end - poll_seconds - 0.5 <= at <= end for end in ends))
        after = sum(1 for at in figures.slow if any(end < at <= end + 1.0 for end in ends))
        memory = process_memory_mb(pid)
        workers_memory = {w: process_memory_mb(w) for w in workers_cpu}
        spreads = [max(t) - min(t) for g, t in figures.deliveries.items() if g != first and len(t) == args.clients]

        # 3. the same client alone again: the calls per poll after the load.
        after_per_poll, _ = await calls_per_poll(http, url, tokens[0], aws, args.baseline_polls)

    return {
        "fleet": {"accounts": 6, "services": 6 * 2 * 4 * args.services_per_cluster, "interval_s": args.interval},
        "clients": args.clients,
        "duration_s": args.duration,
        "snapshot_bytes": sizes,
        "one_client_sequential": {
            "not_modified_p50_ms": ms(percentile(alone.not_modified, 0.5)),
            "not_modified_p99_ms": ms(percentile(alone.not_modified, 0.99)),
            "full_p50_ms": ms(percentile(alone.full, 0.5)),
            "full_p99_ms": ms(percentile(alone.full, 0.99)),
        },
        "metrics_scrape": {"first_ms": ms(scrapes[0]), "cached_ms": ms(scrapes[1]), "bytes": exposition_bytes},
        "not_modified": {
            "count": len(figures.not_modified),
            "p50_ms": ms(percentile(figures.not_modified, 0.5)),
            "p99_ms": ms(percentile(figures.not_modified, 0.99)),
        },
        "full": {
            "count": len(figures.full),
            "p50_ms": ms(percentile(figures.full, 0.5)),
            "p99_ms": ms(percentile(figures.full, 0.99)),
        },
        "long_poll_fanout": {
            "polls": len(spreads),
            "p50_ms": ms(percentile(spreads, 0.5)),
            "max_ms": ms(max(spreads) if spreads else None),
        },
        "server": {
            "cpu_s": round(cpu, 2),
            "cpu_share_of_one_core": round(cpu / wall, 3),
            "rss_mb_before": rss_before.get("VmRSS"),
            "rss_mb": memory.get("VmRSS"),
            "peak_rss_mb": memory.get("VmHWM"),
        },
        # The poll's worker processes (started by the service): their own CPU and memory,
        # not in "server"'s; the service's total is the sum.
        "poll_workers": [
            {
                "cpu_s": round(workers_cpu[w], 2),
                "rss_mb": workers_memory[w].get("VmRSS"),
                "peak_rss_mb": workers_memory[w].get("VmHWM"),
            }
            for w in workers_cpu
        ],
        "service_rss_mb_with_workers": round(
            (memory.get("VmRSS") or 0) + sum(m.get("VmRSS") or 0 for m in workers_memory.values()), 1
        ),
        "slow_answers": {
            "over_100_ms": len(figures.slow),
            "asked_during_a_poll": during,
            "asked_in_the_second_after_a_poll": after,
            "poll_seconds": round(poll_seconds, 2),
            "polls": len(ends),
        },
        "clients_cpu_share_of_one_core": round(own / wall, 3),  # this process: the 100 clients
        "machine_load_average": os.getloadavg()[0],
        "aws_calls_per_poll": {
            "one_client": one_per_poll,
            "many_clients": loaded_per_poll,
            "one_client_after": after_per_poll,
            "same_operations": one_calls.keys() == loaded_calls.keys(),
            "by_operation_one_client_per_poll": {k: v / len(one_per_poll) for k, v in sorted(one_calls.items())},
        },
        "errors": dict(figures.errors),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--duration", type=float, default=60.0, help="seconds of load (default 60)")
    parser.add_argument("--clients", type=int, default=100)
    parser.add_argument("--interval", type=int, default=10, help="[refresh].interval_seconds (default 10)")
    parser.add_argument("--baseline-polls", type=int, default=3, help="polls counted with one client")
    parser.add_argument("--services-per-cluster", type=int, default=50, help="48 clusters of these (default 50)")
    parser.add_argument("--sequential", type=int, default=200, help="one-at-a-time requests before the load")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    result = asyncio.run(run(args))
    if args.json:
        print(json.dumps(result, indent=2))
        return
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
