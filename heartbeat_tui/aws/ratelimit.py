"""A fix for aiobotocore's adaptive-retry rate limiter under cancellation.

botocore's "adaptive" retry mode puts a client-side token bucket in front of
every request. aiobotocore's `AsyncTokenBucket` waits for tokens with
`asyncio.wait_for(condition.wait(), timeout)`, holding the condition's lock
around it. When the caller is cancelled while waiting (our per-account
deadline cancels what is left of a slow poll), `wait_for` (Python < 3.12)
can leave the condition's lock taken: every later request of that client
waits for a lock nobody holds, and the account misses its deadline in every
poll from then on (tests/collector/test_throttling.py hangs without this).

`install()` replaces that one wait with a timeout in the same task
(`asyncio.timeout`, or a timer that cancels the task on Python 3.10), so a
cancellation leaves `Condition.wait` the normal way: with the lock re-taken,
released by the `async with` around it. Nothing else of the bucket changes.
"""

from __future__ import annotations

import asyncio
import sys
from typing import Any

from aiobotocore.retries.bucket import AsyncTokenBucket


async def _wait_for_new_fill_rate(self: Any, sleep_amount: float) -> None:
    condition = self._new_fill_rate_condition
    if sys.version_info >= (3, 11):
        try:
            async with asyncio.timeout(sleep_amount):
                await condition.wait()
        except TimeoutError:
            pass  # the fill rate did not change meanwhile
        return
    task = asyncio.current_task()
    fired = False

    def fire() -> None:
        nonlocal fired
        fired = True
        if task is not None:
            task.cancel()

    timer = asyncio.get_running_loop().call_later(sleep_amount, fire)
    try:
        await condition.wait()
    except asyncio.CancelledError:
        if not fired:
            raise
    finally:
        timer.cancel()


def install() -> None:
    """Patch `AsyncTokenBucket` once (idempotent)."""

    if AsyncTokenBucket._wait_for_new_fill_rate is not _wait_for_new_fill_rate:
        AsyncTokenBucket._wait_for_new_fill_rate = _wait_for_new_fill_rate


__all__ = ["install"]
