"""What the collector's memory is, per service, and what holds it.

Polls a `FleetSpec.benchmark` fleet on the embedded AWS (paused: the warm polls
re-read the same minutes), once cold and `--warm` times warm, then prints the
process's RSS after the polls over the services: whole, and less the RSS
before the collector was built. `collector_bench.py` gives the same figure
with the calls and timings; this one answers "what holds it":

* `--trace N`: tracemalloc, tracebacks N frames deep, the live memory after the
  polls grouped by where it was allocated (slow: accounts get 900 s);
* `--mallocstats`: CPython's allocator statistics after the polls, in full
  (the output's `pymalloc` gives its arenas, live and free bytes before the
  collector, after the cold poll and after the polls);
* `--breakdown`: after the polls (and after the RSS is read), the live bytes
  a service by type in the snapshot (`sys.getsizeof`, each object once),
  by model field for its strings and datetimes, and in what the collector
  holds besides the snapshot, by owner (AWS clients, per-region state); and
  the C heap (glibc's `mallinfo2`: in use and free, every malloc arena) and
  the RSS by mapping (`/proc/self/smaps`: pymalloc's arenas are anonymous).

Run:  .venv/bin/python benchmarks/memory_bench.py --fleet 10x2x5x100 [--warm 2] [--trace 8 --top 25] [--breakdown]
"""

from __future__ import annotations

import argparse
import asyncio
import ctypes
import gc
import json
import os
import re
import sys
import tempfile
import time
import tracemalloc
from collections import Counter, deque
from collections.abc import Iterable
from datetime import datetime
from pathlib import Path
from types import FunctionType, ModuleType
from typing import Any

from pydantic import BaseModel, SecretStr

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from heartbeat_tui import heap
from heartbeat_tui.collector import Collector
from heartbeat_tui.config import EnvSettings, config_from_dict
from heartbeat_tui.embedded import EmbeddedAWS
from heartbeat_tui.embedded.fleet import FleetSpec


def pymalloc_mb() -> dict[str, float]:
    """CPython's small-object allocator now (sys._debugmallocstats, read back from
    stderr): its arenas, the bytes in live blocks, and what its arenas hold free
    (free blocks in pools in use, and empty pools: fragmentation)."""

    with tempfile.TemporaryFile() as out:
        sys.stderr.flush()
        saved = os.dup(2)
        try:
            os.dup2(out.fileno(), 2)
            sys._debugmallocstats()
        finally:
            os.dup2(saved, 2)
            os.close(saved)
        out.seek(0)
        text = out.read().decode()
    numbers = {
        "arenas": r"# arenas allocated current\s*=\s*([\d,]+)",
        "live_blocks": r"# bytes in allocated blocks\s*=\s*([\d,]+)",
        "free_blocks": r"# bytes in available blocks\s*=\s*([\d,]+)",
        "empty_pools": r"unused pools \* \d+ bytes\s*=\s*([\d,]+)",
    }
    found = {
        name: int(m.group(1).replace(",", "")) if (m := re.search(rx, text)) else 0 for name, rx in numbers.items()
    }
    found["arenas"] *= 1 << 20  # 1 MiB each (3.10+)
    return {f"{name}_mb": round(value / 1024 / 1024, 1) for name, value in found.items()}


_SKIPPED = (type, ModuleType, FunctionType)  # shared by the whole process, not what a fleet costs


def _reachable(roots: Iterable[Any], seen: set[int]) -> Iterable[tuple[Any, tuple[str, ...]]]:
    """Every object reachable from `roots` not in `seen` (which it fills), once,
    breadth first, with the types on its way from a root (up to 5)."""

    queue: deque[tuple[Any, tuple[str, ...]]] = deque((root, ()) for root in roots)
    while queue:
        obj, path = queue.popleft()
        if id(obj) in seen or isinstance(obj, _SKIPPED):
            continue
        seen.add(id(obj))
        yield obj, path
        below = (*path, type(obj).__name__) if len(path) < 5 else path
        queue.extend((ref, below) for ref in gc.get_referents(obj))


def _top(sizes: Counter[str], counts: Counter[str], services: int, top: int) -> dict[str, str]:
    return {
        name: f"{size / 1024 / services:.3f} KB, {counts[name] / services:.2f} objects"
        for name, size in sizes.most_common(top)
    }


def breakdown(snapshot: Any, collector: Any, services: int, top: int) -> dict[str, Any]:
    """What holds the memory, a service (see the module's docstring)."""

    seen: set[int] = set()
    sizes: Counter[str] = Counter()
    counts: Counter[str] = Counter()
    for obj, _ in _reachable([snapshot], seen):
        sizes[type(obj).__name__] += sys.getsizeof(obj)
        counts[type(obj).__name__] += 1
    out: dict[str, Any] = {
        "snapshot_kb": round(sum(sizes.values()) / 1024 / services, 3),
        "snapshot_by_type": _top(sizes, counts, services, top),
    }
    field_sizes: Counter[str] = Counter()
    field_counts: Counter[str] = Counter()
    models: list[Any] = [snapshot]
    done: set[int] = set()
    while models:
        item = models.pop()
        if isinstance(item, tuple):
            models.extend(item)
        elif isinstance(item, BaseModel) and id(item) not in done:
            done.add(id(item))
            for name, value in item.__dict__.items():
                if isinstance(value, str | datetime):
                    if id(value) not in done:
                        done.add(id(value))
                        field_sizes[f"{type(item).__name__}.{name}"] += sys.getsizeof(value)
                        field_counts[f"{type(item).__name__}.{name}"] += 1
                else:
                    models.append(value)
    out["strings_and_datetimes_by_field"] = _top(field_sizes, field_counts, services, top)
    owners: Counter[str] = Counter()
    owner_counts: Counter[str] = Counter()
    for obj, path in _reachable([collector], seen):  # what the snapshot holds is seen already
        owner = ">".join(path[:5])
        owners[owner] += sys.getsizeof(obj)
        owner_counts[owner] += 1
    out["collector_besides_snapshot_kb"] = round(sum(owners.values()) / 1024 / services, 3)
    out["collector_besides_snapshot_by_owner"] = _top(owners, owner_counts, services, top)
    return out


class _MallInfo2(ctypes.Structure):
    _fields_ = [
        ("arena", ctypes.c_size_t),
        ("ordblks", ctypes.c_size_t),
        ("smblks", ctypes.c_size_t),
        ("hblks", ctypes.c_size_t),
        ("hblkhd", ctypes.c_size_t),
        ("usmblks", ctypes.c_size_t),
        ("fsmblks", ctypes.c_size_t),
        ("uordblks", ctypes.c_size_t),
        ("fordblks", ctypes.c_size_t),
        ("keepcost", ctypes.c_size_t),
    ]


def c_heap_mb() -> dict[str, float]:
    """glibc's malloc over all its arenas: the heap it holds, the bytes in use and free
    (free pages are given back by `heap.give_back`, so not all of it is RSS)."""

    try:
        call = ctypes.CDLL("libc.so.6").mallinfo2
    except (OSError, AttributeError):  # not glibc 2.33+
        return {}
    call.restype = _MallInfo2
    info = call()
    held = {"held_mb": info.arena + info.hblkhd, "in_use_mb": info.uordblks + info.hblkhd, "free_mb": info.fordblks}
    return {name: round(value / 1024 / 1024, 1) for name, value in held.items()}


def rss_by_mapping_mb() -> dict[str, float]:
    """The RSS by mapping: `[anon]` (pymalloc's arenas, threads' stacks and malloc
    arenas), `[heap]` (glibc's main arena), and the largest files."""

    rss: Counter[str] = Counter()
    mapping = "[anon]"
    with open("/proc/self/smaps") as smaps:
        for line in smaps:
            fields = line.split()
            if fields[0] == "Rss:":
                rss[mapping] += int(fields[1])
            elif "-" in fields[0] and not fields[0].endswith(":"):
                mapping = os.path.basename(fields[5]) if len(fields) > 5 else "[anon]"
    return {name: round(kb / 1024, 1) for name, kb in rss.most_common(6)}


def rss_mb() -> float:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 1024 / 1024


async def run(args: argparse.Namespace) -> dict[str, Any]:
    accounts, regions, clusters, services = (int(x) for x in args.fleet.split("x"))
    fleet = FleetSpec.benchmark(accounts=accounts, regions=regions, clusters=clusters, services=services)
    with EmbeddedAWS(fleet, paused=True).start(timeout=60 + accounts * regions * clusters * services / 100) as aws:
        data = aws.config_dict()
        data.setdefault("collector", {})["account_deadline_seconds"] = 900  # a loaded machine, tracemalloc
        creds = aws.credentials()
        env = EnvSettings(
            _env_file=None,  # type: ignore[call-arg]
            aws_access_key_id=creds["AWS_ACCESS_KEY_ID"],
            aws_secret_access_key=SecretStr(creds["AWS_SECRET_ACCESS_KEY"]),
        )
        config = config_from_dict(data, env=env, source="benchmark")
        while aws.health().get("history_pending", 0):
            time.sleep(0.2)
        gc.collect()
        before = rss_mb()
        pymalloc = {"before_collector": pymalloc_mb()}
        if args.trace:
            tracemalloc.start(args.trace)
        async with Collector(config) as collector:
            await collector.prepare()
            traced_before = tracemalloc.take_snapshot() if args.trace else None
            cpu = time.process_time()
            with heap.poll_window():
                snapshot = await collector.poll()
            cold_cpu = time.process_time() - cpu
            after_cold = rss_mb()
            pymalloc["after_cold"] = pymalloc_mb()
            warm_cpu = []
            after_warm = []
            cyclic = [gc.collect()]
            for _ in range(args.warm):
                cpu = time.process_time()
                with heap.poll_window():
                    snapshot = await collector.poll()
                warm_cpu.append(time.process_time() - cpu)
                after_warm.append(round(rss_mb(), 1))
                cyclic.append(gc.collect())
            gc.collect()
            after = rss_mb()
            pymalloc["after_polls"] = pymalloc_mb()
            count = snapshot.service_count
            c_heap, mappings = c_heap_mb(), rss_by_mapping_mb()  # before the breakdown allocates
            result = {
                "services": count,
                "rss_before_collector_mb": round(before, 1),
                "rss_after_cold_mb": round(after_cold, 1),
                "rss_after_each_warm_mb": after_warm,
                "cyclic_garbage_after_each_poll": cyclic,
                "rss_after_polls_mb": round(after, 1),
                "rss_kb_per_service": round(after * 1024 / count, 2),
                "rss_kb_per_service_net": round((after - before) * 1024 / count, 2),
                "pymalloc": pymalloc,
                "cpu_ms_per_service": {
                    "cold": round(cold_cpu * 1000 / count, 3),
                    "warm": [round(c * 1000 / count, 3) for c in warm_cpu],
                },
            }
            if args.breakdown:
                result["c_heap"] = c_heap
                result["rss_by_mapping_mb"] = mappings
                result["breakdown_per_service"] = breakdown(snapshot, collector, count, args.top)
            if args.mallocstats:
                sys._debugmallocstats()  # to stderr
            if traced_before is not None:
                stats = tracemalloc.take_snapshot().compare_to(traced_before, "traceback")
                result["traced_kb_per_service"] = round(sum(s.size_diff for s in stats) / 1024 / count, 2)
                for stat in stats[: args.top]:
                    print(f"--- {stat.size_diff / 1024 / count:.3f} KB/service, {stat.count_diff} blocks")
                    for line in stat.traceback.format():
                        print("   ", line)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--fleet", default="3x2x4x100", help="ACCOUNTSxREGIONSxCLUSTERSxSERVICES")
    parser.add_argument("--warm", type=int, default=2, help="warm polls after the cold one")
    parser.add_argument("--trace", type=int, default=0, help="tracemalloc frames (0: off)")
    parser.add_argument("--top", type=int, default=25, help="allocation sites (--trace) and rows (--breakdown) shown")
    parser.add_argument("--breakdown", action="store_true", help="what holds the memory, a service (slow)")
    parser.add_argument("--mallocstats", action="store_true", help="CPython's allocator statistics after the polls")
    args = parser.parse_args()
    print(json.dumps(asyncio.run(run(args)), indent=2))


if __name__ == "__main__":
    main()
