"""Soak: many headless polls with random faults from the fault matrix switched on and off.

Seeds a small fleet on the embedded AWS (simulator running, so the fleet keeps
changing), then alternates, with a seeded RNG:

* an episode: one or two accounts get faults from the matrix (AssumeRole
  denied, half the ECS and CloudWatch calls throttled, latency spikes, read
  timeouts, credentials expired, malformed or partial answers, server errors)
  for 1 to 4 polls; every other account must stay OK throughout;
* a quiet stretch of 2 to 4 polls with every fault cleared: every account must
  be back to OK within two polls, and stay OK.

Checked at the end: no crash (every poll returned a whole snapshot), no
unhandled exception or ERROR record in the log file, RSS growth under 10 %
after warm-up, recovery and isolation as above. Prints a verdict and exits 1
on failure.

Run:  .venv/bin/python benchmarks/soak_bench.py [--polls 500] [--seed 1] [--json]
"""

from __future__ import annotations

import argparse
import asyncio
import io
import json
import logging
import os
import random
import re
import statistics
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import SecretStr

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from heartbeat_tui.collector import Collector
from heartbeat_tui.config import Config, EnvSettings, config_from_dict
from heartbeat_tui.embedded import EmbeddedAWS
from heartbeat_tui.embedded.fleet import FleetSpec
from heartbeat_tui.models import AccountStatus, FleetSnapshot

RECOVERY_POLLS = 2
# A poll is bounded by the account deadline (5 s here) and the slowest retries:
# one that runs this long is hung.
HANG_SECONDS = 60.0
RSS_GROWTH_LIMIT = 0.10

# Scaled-down time: the faults below are sized against these settings.
SOAK_SETTINGS: dict[str, dict[str, Any]] = {
    "aws": {"max_attempts": 3, "read_timeout_seconds": 1.0, "connect_timeout_seconds": 1.0},
    "collector": {"account_deadline_seconds": 5, "history_minutes": 30},
}

MALFORMED = [
    ("ecs", "DescribeClusters", "drop:activeServicesCount"),
    ("ecs", "DescribeServices", "drop:serviceArn"),
    ("ecs", "DescribeServices", "enum:status"),
    ("ecs", "DescribeServices", "partial"),
    ("ecs", "ListServices", "empty_page"),
    ("ecs", "ListServices", "endless_pages"),
    ("ecs", "ListClusters", "endless_pages"),
    ("cloudwatch", "GetMetricData", "drop:Timestamps"),
    ("cloudwatch", "GetMetricData", "empty_page"),
    ("cloudwatch", "GetMetricData", "enum:StatusCode"),
    ("application-autoscaling", "DescribeScalingActivities", "drop:ActivityId"),
    ("application-autoscaling", "DescribeScalableTargets", "endless_pages"),
    ("ecs", "DescribeServices", None),  # the body cut in half
]


def _deny(aws: EmbeddedAWS, account: str, rng: random.Random) -> str:
    aws.add_fault("expire_credentials", account=account)
    aws.add_fault("deny_assume_role", account=account)
    return "deny_assume_role"


def _throttle(aws: EmbeddedAWS, account: str, rng: random.Random) -> str:
    aws.add_fault("throttle", account=account, service="ecs", rate=0.5)
    aws.add_fault("throttle", account=account, service="cloudwatch", rate=0.5)
    return "throttle"


def _latency(aws: EmbeddedAWS, account: str, rng: random.Random) -> str:
    aws.add_fault("latency", account=account, rate=0.3, seconds=3.0)
    return "latency"


def _timeout(aws: EmbeddedAWS, account: str, rng: random.Random) -> str:
    service = rng.choice(["ecs", "cloudwatch", "application-autoscaling"])
    aws.add_fault("timeout", account=account, service=service, rate=0.5, seconds=2.0)
    return f"timeout:{service}"


def _expire(aws: EmbeddedAWS, account: str, rng: random.Random) -> str:
    aws.add_fault("expire_credentials", account=account)
    return "expire_credentials"


def _malformed(aws: EmbeddedAWS, account: str, rng: random.Random) -> str:
    service, operation, code = rng.choice(MALFORMED)
    aws.add_fault("malformed", account=account, service=service, operation=operation, code=code)
    return f"malformed:{operation}:{code or 'truncated'}"


def _error(aws: EmbeddedAWS, account: str, rng: random.Random) -> str:
    service = rng.choice(["ecs", "cloudwatch", "application-autoscaling"])
    code = rng.choice(["InternalFailure", "ServiceUnavailableException", "AccessDeniedException"])
    aws.add_fault("error", account=account, service=service, rate=rng.choice([0.3, 1.0]), code=code)
    return f"error:{service}:{code}"


FAULTS: list[Callable[[EmbeddedAWS, str, random.Random], str]] = [
    _deny,
    _throttle,
    _latency,
    _timeout,
    _expire,
    _malformed,
    _error,
]


def current_rss_mb() -> float:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 1024 / 1024


def soak_config(aws: EmbeddedAWS) -> Config:
    data = aws.config_dict()
    for section, values in SOAK_SETTINGS.items():
        data.setdefault(section, {}).update(values)
    creds = aws.credentials()
    env = EnvSettings(
        _env_file=None,  # type: ignore[call-arg]
        aws_access_key_id=creds["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=SecretStr(creds["AWS_SECRET_ACCESS_KEY"]),
    )
    return config_from_dict(data, env=env, source="soak")


@dataclass
class SoakResult:
    polls: int = 0
    seconds: float = 0.0
    episodes: Counter[str] = field(default_factory=Counter)
    problems: list[str] = field(default_factory=list)
    rss_mb: list[float] = field(default_factory=list)
    durations: list[float] = field(default_factory=list)
    error_polls: int = 0  # account-polls in error (all during episodes, if all is well)
    log_errors: list[str] = field(default_factory=list)
    unhandled: list[str] = field(default_factory=list)
    warmup: int = 0
    hang_stacks: str = ""

    @property
    def rss_growth(self) -> float | None:
        """Growth from the end of warm-up to the end (medians of 10 polls each)."""

        if len(self.rss_mb) < self.warmup + 20:
            return None
        base = statistics.median(self.rss_mb[self.warmup - 10 : self.warmup])
        end = statistics.median(self.rss_mb[-10:])
        return (end - base) / base

    def checks(self, *, judge_rss: bool = True) -> dict[str, bool]:
        growth = self.rss_growth
        return {
            "no crash": not any(p.startswith("crash") for p in self.problems),
            "no unhandled exception in the log": not self.log_errors and not self.unhandled,
            "healthy accounts stay ok during episodes": not any(p.startswith("isolation") for p in self.problems),
            f"back to ok within {RECOVERY_POLLS} polls": not any(p.startswith("recovery") for p in self.problems),
            "rss growth < 10 % after warm-up": (not judge_rss) or (growth is not None and growth < RSS_GROWTH_LIMIT),
        }

    def to_json(self, *, judge_rss: bool = True) -> dict[str, Any]:
        checks = self.checks(judge_rss=judge_rss)
        durations = sorted(self.durations)
        return {
            "verdict": "pass" if all(checks.values()) else "fail",
            "checks": checks,
            "polls": self.polls,
            "wall_seconds": round(self.seconds, 1),
            "poll_seconds": {
                "median": round(statistics.median(durations), 3) if durations else None,
                "p95": round(durations[int(len(durations) * 0.95) - 1], 3) if durations else None,
                "max": round(durations[-1], 3) if durations else None,
            },
            "episodes": dict(sorted(self.episodes.items())),
            "account_polls_in_error": self.error_polls,
            "rss_mb": {
                "after_warmup": round(statistics.median(self.rss_mb[self.warmup - 10 : self.warmup]), 1)
                if len(self.rss_mb) >= self.warmup and self.warmup >= 10
                else None,
                "end": round(statistics.median(self.rss_mb[-10:]), 1) if self.rss_mb else None,
                "max": round(max(self.rss_mb), 1) if self.rss_mb else None,
                "growth_percent": round(self.rss_growth * 100, 2) if self.rss_growth is not None else None,
                "warmup_polls": self.warmup,
            },
            "problems": self.problems[:50],
            "log_errors": self.log_errors[:20],
            "unhandled": self.unhandled[:20],
        }


async def soak(
    aws: EmbeddedAWS,
    polls: int,
    seed: int,
    *,
    interval: float = 0.0,
    log_file: Path | None = None,
    progress: Callable[[str], None] | None = None,
) -> SoakResult:
    """Run the soak against a started embedded AWS (no fault active)."""

    rng = random.Random(f"heartbeat-soak:{seed}")
    config = soak_config(aws)
    accounts = [a.id for a in config.accounts]
    result = SoakResult(warmup=max(10, polls // 10))
    loop = asyncio.get_running_loop()
    loop.set_exception_handler(lambda _, context: result.unhandled.append(str(context.get("message"))))
    began = time.monotonic()
    # Polls until each account must be OK again (None: no fault pending), and
    # the accounts under a fault in the current episode.
    recover_by: dict[str, int] = {}
    faulted: set[str] = set()
    episode_left = 0
    quiet_left = rng.randint(RECOVERY_POLLS, 4)

    async with Collector(config) as collector:
        for n in range(1, polls + 1):
            # Switch faults on and off between polls.
            if quiet_left == 0 and episode_left == 0:
                faulted = set(rng.sample(accounts, rng.choice([1, 1, 2])))
                for account in sorted(faulted):
                    kind = rng.choice(FAULTS)(aws, account, rng)
                    result.episodes[kind] += 1
                episode_left = rng.randint(1, 4)
            started = time.monotonic()
            task = asyncio.ensure_future(collector.poll())
            done, _ = await asyncio.wait({task}, timeout=HANG_SECONDS)
            if not done:
                # Past every deadline: a hang. Say where every task is waiting.
                result.problems.append(f"crash: poll {n} hung (no answer after {HANG_SECONDS} s)")
                result.hang_stacks = task_stacks()
                break
            try:
                snapshot = task.result()
            except Exception as exc:  # a crash is the finding
                result.problems.append(f"crash: poll {n} raised {type(exc).__name__}: {exc}")
                break
            result.durations.append(time.monotonic() - started)
            result.polls = n
            result.rss_mb.append(current_rss_mb())
            check_poll(result, snapshot, n, accounts, faulted, recover_by)
            if episode_left:
                episode_left -= 1
                if episode_left == 0:
                    aws.clear_faults()
                    for account in faulted:
                        recover_by[account] = n + RECOVERY_POLLS
                    faulted = set()
                    quiet_left = rng.randint(RECOVERY_POLLS, 4)
            else:
                quiet_left -= 1
            if progress is not None and (n % 25 == 0 or n == polls):
                growth = result.rss_growth
                progress(
                    f"poll {n}/{polls}: {time.monotonic() - began:.0f} s, rss {result.rss_mb[-1]:.0f} MB"
                    + (f" ({growth * 100:+.1f} % since warm-up)" if growth is not None else "")
                    + f", problems {len(result.problems)}"
                )
            if interval:
                await asyncio.sleep(interval)
        aws.clear_faults()
    result.seconds = time.monotonic() - began
    if log_file is not None:
        result.log_errors = scan_log(log_file)
    return result


def check_poll(
    result: SoakResult,
    snapshot: FleetSnapshot,
    n: int,
    accounts: list[str],
    faulted: set[str],
    recover_by: dict[str, int],
) -> None:
    got = {a.id: a for a in snapshot.accounts}
    if sorted(got) != sorted(accounts):
        result.problems.append(f"crash: poll {n} returned accounts {sorted(got)}")
        return
    for account_id, account in got.items():
        ok = account.status is AccountStatus.OK
        if not ok:
            result.error_polls += 1
            if not account.error:
                result.problems.append(f"crash: poll {n}: {account_id} in error without a reason")
        if account_id in faulted:
            continue
        deadline = recover_by.get(account_id)
        if ok:
            if deadline is not None:
                del recover_by[account_id]  # recovered; from now on it must stay OK
        elif deadline is None:
            result.problems.append(f"isolation: poll {n}: {account_id} in error with no fault on it: {account.error}")
        elif n >= deadline:
            result.problems.append(
                f"recovery: poll {n}: {account_id} still in error {RECOVERY_POLLS} polls after its fault cleared:"
                f" {account.error}"
            )
            del recover_by[account_id]


def task_stacks() -> str:
    out = io.StringIO()
    for task in asyncio.all_tasks():
        print(f"--- {task!r}", file=out)
        task.print_stack(limit=12, file=out)
    return out.getvalue()


_RECORD = re.compile(r"^\S+ \S+ (ERROR|CRITICAL) ")


def scan_log(path: Path) -> list[str]:
    """Tracebacks and ERROR/CRITICAL records in the log file."""

    try:
        text = path.read_text(errors="replace")
    except OSError as error:
        return [f"cannot read the log file {path}: {error}"]
    return [line for line in text.splitlines() if _RECORD.match(line) or line.startswith("Traceback")]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--polls", type=int, default=500)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--interval", type=float, default=0.0, help="seconds between polls (the refresh interval)")
    parser.add_argument("--accounts", type=int, default=4)
    parser.add_argument("--services", type=int, default=15, help="services per cluster (2 regions x 2 clusters)")
    parser.add_argument("--log-file", type=Path, default=None, help="default: a temporary file")
    parser.add_argument("--json", action="store_true", help="print JSON only")
    args = parser.parse_args()
    if args.polls < 40:
        parser.error("--polls must be at least 40 (warm-up and the RSS comparison need them)")

    from heartbeat_tui.logs import setup_logging

    log_file = args.log_file or Path(tempfile.mkdtemp(prefix="heartbeat-soak-")) / "heartbeat.log"
    os.environ["HEARTBEAT_LOG_FILE"] = str(log_file)
    setup_logging("INFO")
    fleet = FleetSpec.benchmark(accounts=args.accounts, regions=2, clusters=2, services=args.services)
    say = (lambda _: None) if args.json else (lambda line: print(line, flush=True))
    say(
        f"soak: {args.polls} polls, seed {args.seed}, {args.accounts} accounts x 2 regions x 2 clusters x"
        f" {args.services} services, interval {args.interval} s, log {log_file}"
    )
    with EmbeddedAWS(fleet, step_seconds=5.0) as aws:
        while aws.health().get("history_pending", 0):
            time.sleep(0.1)
        result = asyncio.run(soak(aws, args.polls, args.seed, interval=args.interval, log_file=log_file, progress=say))
    logging.shutdown()
    report = result.to_json()
    report["log_file"] = str(log_file)
    report["fleet"] = {"accounts": args.accounts, "regions": 2, "clusters": 2, "services_per_cluster": args.services}
    if args.json:
        print(json.dumps(report, indent=2))
    else:
        print(f"episodes: {report['episodes']}")
        print(f"poll seconds: {report['poll_seconds']}; account-polls in error: {report['account_polls_in_error']}")
        print(f"rss: {report['rss_mb']}")
        for problem in report["problems"] + report["log_errors"] + report["unhandled"]:
            print(f"  ! {problem}")
        if result.hang_stacks:
            print(result.hang_stacks)
        for name, passed in report["checks"].items():
            print(f"  [{'ok' if passed else 'FAIL'}] {name}")
        verdict = "PASSED" if report["verdict"] == "pass" else "FAILED"
        print(f"SOAK {verdict}: {result.polls} polls in {result.seconds:.0f} s")
    return 0 if report["verdict"] == "pass" else 1


if __name__ == "__main__":
    sys.exit(main())
