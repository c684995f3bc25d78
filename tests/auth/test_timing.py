"""An unknown username costs what a wrong password costs (real PBKDF2 parameters).

Robust on a loaded machine: the kinds of attempt are interleaved, and the
ratio of medians must stay within a band around 1. Without the dummy hash an
unknown user would answer in a few milliseconds against ~0.3-0.5 s, a ratio
near 0.01, far outside the band.
"""

from __future__ import annotations

import statistics
import time
from typing import Any

import pytest

from heartbeat_tui.auth import LoginFailed
from heartbeat_tui.auth.service import AuthService, open_auth
from tests.support.auth import ADMIN, ADMIN_PASSWORD, FAST_ITERATIONS, PASSWORD, auth_config

ROUNDS = 7


async def timed_failure(auth: AuthService, username: str, password: str) -> float:
    started = time.perf_counter()
    with pytest.raises(LoginFailed):
        await auth.login(username, password)
    return time.perf_counter() - started


async def test_unknown_user_costs_what_a_wrong_password_costs(fleet_aws: Any) -> None:
    config = auth_config(fleet_aws, auth={"lockout_threshold": 100})
    # Users are made cheaply, then upgraded to the real cost by logging in once with it.
    async with open_auth(config, iterations=FAST_ITERATIONS) as cheap:
        await cheap.store.ensure_tables()
        await cheap.bootstrap_admin(ADMIN, ADMIN_PASSWORD)
        admin = await cheap.login(ADMIN, ADMIN_PASSWORD)
        await cheap.create_user(admin, username="known", password=PASSWORD, role="user")
    async with open_auth(config) as auth:
        assert auth.iterations == 600_000
        await auth.login("known", PASSWORD)  # upgrades the stored hash to 600,000 iterations
        assert (await auth.store.get("known")).password_hash.startswith("pbkdf2_sha256$600000$")
        await timed_failure(auth, "warm-up", "wrong password!!")
        unknown, wrong = [], []
        for i in range(ROUNDS):
            pair = [("nobody-here", unknown), ("known", wrong)]
            for username, bucket in pair if i % 2 else reversed(pair):
                bucket.append(await timed_failure(auth, username, "wrong password!!"))
    # Each round's two logins run back to back, under the same load: the median of
    # their ratios, not the ratio of medians taken over seconds of a loaded
    # machine's changing load (which ranged 0.63-1.28 for the same code).
    ratio = statistics.median(u / w for u, w in zip(unknown, wrong, strict=True))
    assert statistics.median(wrong) > 0.05  # the real cost, not a shortcut
    assert 0.75 <= ratio <= 1.33, (unknown, wrong)
