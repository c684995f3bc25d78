"""Steps of a poll: the per-account bound on calls in flight (never exceeded,
served by priority) and how batches are cut."""

from __future__ import annotations

import asyncio

from hypothesis import given
from hypothesis import strategies as st

from heartbeat_tui.collector.steps import PrioritySemaphore, balanced_chunks, chunks


async def test_never_more_than_the_bound_and_lower_priority_first() -> None:
    semaphore = PrioritySemaphore(2)
    in_flight = peak = 0
    order: list[str] = []
    gate = asyncio.Event()

    async def call(name: str, priority: int) -> None:
        nonlocal in_flight, peak
        async with semaphore.slot(priority):
            in_flight += 1
            peak = max(peak, in_flight)
            order.append(name)
            await gate.wait()
            in_flight -= 1

    tasks = [asyncio.create_task(call(f"batch{n}", 2)) for n in range(4)]
    await asyncio.sleep(0)
    tasks += [asyncio.create_task(call("heavy", 1)), asyncio.create_task(call("page", 0))]
    await asyncio.sleep(0)
    gate.set()
    await asyncio.gather(*tasks)
    assert peak == 2
    # The first two took the free slots; then the page, the heavy call, and the
    # rest of the batch in arrival order.
    assert order == ["batch0", "batch1", "page", "heavy", "batch2", "batch3"]


async def test_a_cancelled_waiter_loses_nothing() -> None:
    semaphore = PrioritySemaphore(1)
    release = asyncio.Event()
    done: list[str] = []

    async def hold() -> None:
        async with semaphore.slot():
            await release.wait()

    async def call(name: str) -> None:
        async with semaphore.slot():
            done.append(name)

    holder = asyncio.create_task(hold())
    await asyncio.sleep(0)
    waiting = asyncio.create_task(call("cancelled"))
    after = asyncio.create_task(call("after"))
    await asyncio.sleep(0)
    waiting.cancel()
    release.set()
    await asyncio.gather(holder, after)
    assert waiting.cancelled() and done == ["after"]

    # Granted a slot, then cancelled before running: the slot is passed on.
    release.clear()
    holder = asyncio.create_task(hold())
    await asyncio.sleep(0)
    granted = asyncio.create_task(call("granted"))
    await asyncio.sleep(0)
    release.set()
    await holder  # frees the slot and hands it to `granted`
    granted.cancel()
    await asyncio.gather(granted, return_exceptions=True)
    await asyncio.wait_for(call("next"), timeout=1)
    assert done[-1] == "next"


@given(st.integers(min_value=0, max_value=3000), st.sampled_from([1, 3, 10, 100, 500]))
def test_balanced_batches_are_as_few_as_plain_ones_and_nearly_equal(count: int, size: int) -> None:
    items = list(range(count))
    balanced = balanced_chunks(items, size)
    assert len(balanced) == len(chunks(items, size))  # the same number of calls
    assert [x for chunk in balanced for x in chunk] == items
    assert all(0 < len(chunk) <= size for chunk in balanced)
    if balanced:
        assert max(map(len, balanced)) - min(map(len, balanced)) <= 1
