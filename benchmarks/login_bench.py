"""Login benchmark: verification time and whether a login leaks that a user exists.

Against DynamoDB on the embedded AWS (real HTTP), with the real password
hashing parameters (PBKDF2-HMAC-SHA256, 600,000 iterations unless --iterations),
it measures, interleaved round by round so machine noise hits every kind alike:

* a successful login (verify, conditional success write, token, audit);
* a wrong password for a known user;
* an unknown user (verified against a dummy hash);
* a locked user (right password);
* one PBKDF2 verification alone, and a session check (JWT + store lookups).

The figure that matters is the ratio of medians unknown-user / wrong-password
(target 0.9-1.1): far below 1 would tell an attacker which usernames exist.

Run:  .venv/bin/python benchmarks/login_bench.py [--rounds 15] [--iterations 600000] [--json]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import secrets
import statistics
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from cryptography.fernet import Fernet
from pydantic import SecretStr

from heartbeat_tui.auth import LoginFailed
from heartbeat_tui.auth.passwords import PasswordHasher
from heartbeat_tui.auth.service import AuthService, open_auth
from heartbeat_tui.config import EnvSettings, config_from_dict
from heartbeat_tui.embedded import EmbeddedAWS
from heartbeat_tui.embedded.fleet import FleetSpec

PASSWORD = "benchmark password 1"
WRONG = "not the password!!"


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


async def timed(call: Callable[[], Awaitable[Any]], expect_failure: bool) -> float:
    started = time.perf_counter()
    try:
        await call()
    except LoginFailed:
        if not expect_failure:
            raise
    else:
        if expect_failure:
            raise AssertionError("a login that should fail succeeded")
    return time.perf_counter() - started


async def measure(aws: EmbeddedAWS, rounds: int, iterations: int) -> dict[str, Any]:
    credentials = aws.credentials()
    env = EnvSettings(
        _env_file=None,  # type: ignore[call-arg]
        aws_access_key_id=credentials["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=SecretStr(credentials["AWS_SECRET_ACCESS_KEY"]),
        dynamodb_users_table=f"bench-users-{secrets.token_hex(4)}",
        jwt_secret=SecretStr(secrets.token_urlsafe(48)),
        encryption_key=SecretStr(Fernet.generate_key().decode()),
    )
    data = aws.config_dict()
    data["auth"] = {"lockout_threshold": 100}  # the wrong-password user must not lock itself
    config = config_from_dict(data, env=env, source="benchmark")

    async with open_auth(config, iterations=iterations) as auth:
        await auth.store.ensure_tables()
        await auth.bootstrap_admin("bench-admin", PASSWORD)
        admin = await auth.login("bench-admin", PASSWORD)
        for name in ("known", "locked"):
            await auth.create_user(admin, username=name, password=PASSWORD, role="user")
        now = time.time()
        await auth.store.record_failure("locked", now, stale_before=now, threshold=1, lock_until=now + 3600)
        return await _rounds(auth, rounds, iterations)


async def _rounds(auth: AuthService, rounds: int, iterations: int) -> dict[str, Any]:
    hasher = PasswordHasher(iterations)
    stored = hasher.hash(PASSWORD)
    session = await auth.login("known", PASSWORD)
    kinds: dict[str, tuple[Callable[[], Awaitable[Any]], bool]] = {
        "success": (lambda: auth.login("known", PASSWORD), False),
        "wrong_password": (lambda: auth.login("known", WRONG), True),
        "unknown_user": (lambda: auth.login("nobody-at-all", WRONG), True),
        "locked_user": (lambda: auth.login("locked", PASSWORD), True),
        "pbkdf2_verify": (lambda: asyncio.to_thread(hasher.verify, PASSWORD, stored), False),
        "session_check": (lambda: auth.check(session.token), False),
    }
    for call, failure in kinds.values():  # warm-up: connections, caches
        await timed(call, failure)
    samples: dict[str, list[float]] = {name: [] for name in kinds}
    order = list(kinds)
    for i in range(rounds):
        # Rotate the order each round: no kind always runs first or last.
        for name in order[i % len(order) :] + order[: i % len(order)]:
            call, failure = kinds[name]
            samples[name].append(await timed(call, failure))
    medians = {name: statistics.median(values) for name, values in samples.items()}
    return {
        "iterations": iterations,
        "rounds": rounds,
        "median_seconds": medians,
        "p90_seconds": {name: percentile(values, 0.9) for name, values in samples.items()},
        "ratio_unknown_to_wrong_password": medians["unknown_user"] / medians["wrong_password"],
        "ratio_locked_to_wrong_password": medians["locked_user"] / medians["wrong_password"],
        "cpu_count": os.cpu_count(),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--iterations", type=int, default=600_000)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    with EmbeddedAWS(FleetSpec.demo(), paused=True) as aws:
        result = asyncio.run(measure(aws, args.rounds, args.iterations))
    if args.json:
        print(json.dumps(result, indent=2))
        return 0
    print(f"PBKDF2-HMAC-SHA256, {result['iterations']:,} iterations, {result['rounds']} interleaved rounds")
    print(f"{'':<16} {'median':>9} {'p90':>9}")
    for name, median in result["median_seconds"].items():
        print(f"{name:<16} {median * 1000:>7.1f}ms {result['p90_seconds'][name] * 1000:>7.1f}ms")
    ratio = result["ratio_unknown_to_wrong_password"]
    verdict = "within" if 0.9 <= ratio <= 1.1 else "OUTSIDE"
    print(f"unknown-user / wrong-password: {ratio:.3f} ({verdict} the 0.9-1.1 target)")
    print(f"locked-user / wrong-password:  {result['ratio_locked_to_wrong_password']:.3f}")
    return 0 if 0.9 <= ratio <= 1.1 else 1


if __name__ == "__main__":
    raise SystemExit(main())
