"""Steps of a poll: how a failure is named, and how concurrent steps end together."""

from __future__ import annotations

import asyncio
import contextlib
import heapq
import itertools
import logging
from collections.abc import AsyncIterator, Awaitable
from dataclasses import dataclass
from enum import Enum
from typing import Any, TypeVar

from heartbeat_tui.aws.errors import AssumeRoleFailed, BadResponse, ProfileCredentialsFailed, describe_error
from heartbeat_tui.collector.parse import name_from_arn

log = logging.getLogger("heartbeat_tui.collector.collector")
T = TypeVar("T")
A = TypeVar("A")
B = TypeVar("B")


class Lane(Enum):
    """The AWS service a step calls. AWS throttles each service on its own (ECS's
    burst limits are ECS's alone), so each account has one bound on calls in
    flight per lane: a heavy CloudWatch read never takes a slot an ECS call
    could use. The value prefixes an operation in messages ("ECS ListServices");
    `label` names the service as a whole ("Application Auto Scaling")."""

    ECS = "ECS"
    CLOUDWATCH = "CloudWatch"
    AUTOSCALING = "ApplicationAutoScaling"
    STS = "STS"
    IAM = "IAM"
    LOGS = "CloudWatchLogs"

    @property
    def label(self) -> str:
        return {Lane.AUTOSCALING: "Application Auto Scaling", Lane.LOGS: "CloudWatch Logs"}.get(self, self.value)


@dataclass(frozen=True, slots=True)
class Step:
    """One kind of call of a poll: its lane and its operation (None: the lane's
    steps as a whole, as a guard reports a malformed answer)."""

    lane: Lane
    operation: str | None = None

    def __str__(self) -> str:
        return self.lane.label if self.operation is None else f"{self.lane.value} {self.operation}"


#: The step named when an account's role could not be assumed, whichever call
#: needed its credentials (assumed-role keys are renewed lazily, inside a call).
ASSUME_ROLE_STEP = Step(Lane.STS, "AssumeRole")


class StepFailed(Exception):
    """One step of a poll failed. `step` (and `region`, once known) say which,
    as fields; `str()` says where and why, for a person."""

    def __init__(
        self, step: Step, cause: BaseException, *, where: str | None = None, region: str | None = None
    ) -> None:
        if isinstance(cause, AssumeRoleFailed):
            step, where = ASSUME_ROLE_STEP, None
        elif isinstance(cause, ProfileCredentialsFailed):
            where = f"profile {cause.profile}"  # botocore's chain failed, before any call
        self.step = step
        self.where = str(step) if where is None else where
        self.cause = cause
        self.region = region
        prefix = f"{region} " if region else ""
        super().__init__(f"{prefix}{self.where}: {describe_error(cause)}")

    def at(self, region: str) -> StepFailed:
        """The same failure, located in an account-region."""

        return StepFailed(self.step, self.cause, where=self.where, region=region)


def chunks(items: list[T], size: int) -> list[list[T]]:
    return [items[i : i + size] for i in range(0, len(items), size)]


def balanced_chunks(items: list[T], size: int) -> list[list[T]]:
    """As few chunks of at most `size` as `chunks`, but of nearly equal sizes
    (1,600 metric queries: 4 x 400, not 500, 500, 500, 100), so that concurrent
    calls end together instead of waiting on the largest."""

    if not items:
        return []
    count = -(-len(items) // size)
    base, extra = divmod(len(items), count)
    out, start = [], 0
    for n in range(count):
        end = start + base + (1 if n < extra else 0)
        out.append(items[start:end])
        start = end
    return out


async def gather_all(*steps: Awaitable[T]) -> list[T]:
    """`asyncio.gather`, but the first failure cancels the other steps (and waits
    for them), so nothing keeps calling AWS after its poll has given up."""

    tasks = [asyncio.ensure_future(step) for step in steps]
    try:
        return list(await asyncio.gather(*tasks))
    except BaseException:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        raise


async def gather_both(first: Awaitable[A], second: Awaitable[B]) -> tuple[A, B]:
    """`gather_all` of two steps of different types, typed as such."""

    first_task, second_task = asyncio.ensure_future(first), asyncio.ensure_future(second)
    await gather_all(first_task, second_task)
    return first_task.result(), second_task.result()


async def settle(task: asyncio.Future[Any]) -> None:
    """Cancel a side task that its poll no longer needs and wait for it to end."""

    if not task.done():
        task.cancel()
    await asyncio.gather(task, return_exceptions=True)


async def guard(lane: Lane, step: Awaitable[T]) -> T:
    """Await a lane's steps; anything but an AWS failure (already a StepFailed) is a
    malformed response or a bug: report it as this lane's failure, with a log."""

    try:
        return await step
    except (StepFailed, asyncio.CancelledError):
        raise
    except BadResponse as exc:  # described by its text: no traceback needed
        log.warning("%s step: %s", lane.label, exc)
        raise StepFailed(Step(lane), exc, where=f"{lane.label} (unexpected response)") from exc
    except Exception as exc:
        log.exception("%s step failed unexpectedly", lane.label)
        raise StepFailed(Step(lane), exc, where=f"{lane.label} (unexpected response)") from exc


def raise_failures(where: Step, response: dict[str, Any]) -> None:
    """`failures[]` of an ECS Describe call: MISSING is a race with a deletion
    (the item is simply gone); anything else is reported, not dropped."""

    failures = [f for f in response.get("failures") or [] if f.get("reason") != "MISSING"]
    if failures:
        reasons = ", ".join(f"{name_from_arn(str(f.get('arn')))}: {f.get('reason')}" for f in failures[:3])
        raise StepFailed(where, RuntimeError(reasons))


#: Who gets a free slot of an account's calls in flight first (lower first).
#: Calls with successors (pages of a paged read, the inventory chain, AssumeRole)
#: go before the fan-out; among the fan-out, the heavy GetMetricData calls
#: (seconds of work on both ends) go before the many small DescribeServices, so
#: they overlap with them instead of trailing behind them.
PRIORITY_CHAIN = 0
PRIORITY_HEAVY = 1
PRIORITY_FAN_OUT = 2


class PrioritySemaphore:
    """A semaphore that hands a freed slot to the waiter with the lowest
    priority number, in arrival order among equals (asyncio's is FIFO only:
    each page of a paged read waited behind every batch call queued before it)."""

    def __init__(self, value: int) -> None:
        if value < 1:
            raise ValueError("a semaphore needs at least one slot")
        self._free = value
        self._waiters: list[tuple[int, int, asyncio.Future[None]]] = []
        self._arrivals = itertools.count()

    @contextlib.asynccontextmanager
    async def slot(self, priority: int = PRIORITY_CHAIN) -> AsyncIterator[None]:
        await self._acquire(priority)
        try:
            yield
        finally:
            self._release()

    async def _acquire(self, priority: int) -> None:
        if self._free > 0 and not self._waiters:
            self._free -= 1
            return
        granted: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        heapq.heappush(self._waiters, (priority, next(self._arrivals), granted))
        try:
            await granted
        except asyncio.CancelledError:
            if granted.done() and not granted.cancelled():
                self._release()  # granted, then cancelled before it ran: pass the slot on
            raise  # otherwise the entry stays in the heap, done, and is skipped

    def _release(self) -> None:
        self._free += 1
        while self._free > 0 and self._waiters:
            _, _, granted = heapq.heappop(self._waiters)
            if not granted.done():
                self._free -= 1
                granted.set_result(None)


def raise_unanswered(
    where: Step, what: str, asked: list[str], items: list[dict[str, Any]], key: str, response: dict[str, Any]
) -> None:
    """A Describe call that answers for fewer items than it was asked about, and
    says nothing of the others in `failures[]`, is incomplete: report it (the
    last good data stays) instead of showing fewer services as if complete."""

    answered = {name_from_arn(str(item.get(key))) for item in items}
    answered |= {name_from_arn(str(f.get("arn"))) for f in response.get("failures") or []}
    missing = [name_from_arn(arn) for arn in asked if name_from_arn(arn) not in answered]
    if missing:
        shown = ", ".join(missing[:3]) + (", …" if len(missing) > 3 else "")
        count = f"{len(asked) - len(missing)} of the {len(asked)} {what}"
        raise StepFailed(where, BadResponse(f"answered {count} asked for (missing: {shown})"))
