"""Steps of a poll: how a failure is named, and how concurrent steps end together."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable
from typing import Any, TypeVar

from heartbeat_tui.aws.errors import BadResponse, describe_error
from heartbeat_tui.collector.parse import name_from_arn

log = logging.getLogger("heartbeat_tui.collector.collector")
T = TypeVar("T")


class StepFailed(Exception):
    """One step of a poll failed; `str()` says where and why."""

    def __init__(self, where: str, cause: BaseException) -> None:
        self.where = where
        self.cause = cause
        super().__init__(f"{where}: {describe_error(cause)}")


def _chunks(items: list[T], size: int) -> list[list[T]]:
    return [items[i : i + size] for i in range(0, len(items), size)]


async def _gather_all(*steps: Awaitable[T]) -> list[T]:
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


async def _settle(task: asyncio.Future[Any]) -> None:
    """Cancel a side task that its poll no longer needs and wait for it to end."""

    if not task.done():
        task.cancel()
    await asyncio.gather(task, return_exceptions=True)


async def _guard(where: str, step: Awaitable[T]) -> T:
    """Await a step; anything but an AWS failure (already a StepFailed) is a
    malformed response or a bug: report it as this step's failure, with a log."""

    try:
        return await step
    except (StepFailed, asyncio.CancelledError):
        raise
    except BadResponse as exc:  # described by its text: no traceback needed
        log.warning("%s step: %s", where, exc)
        raise StepFailed(f"{where} (unexpected response)", exc) from exc
    except Exception as exc:  # noqa: BLE001
        log.exception("%s step failed unexpectedly", where)
        raise StepFailed(f"{where} (unexpected response)", exc) from exc


def _raise_failures(where: str, response: dict[str, Any]) -> None:
    """`failures[]` of an ECS Describe call: MISSING is a race with a deletion
    (the item is simply gone); anything else is reported, not dropped."""

    failures = [f for f in response.get("failures") or [] if f.get("reason") != "MISSING"]
    if failures:
        reasons = ", ".join(f"{name_from_arn(str(f.get('arn')))}: {f.get('reason')}" for f in failures[:3])
        raise StepFailed(where, RuntimeError(reasons))


def _raise_unanswered(
    where: str, what: str, asked: list[str], items: list[dict[str, Any]], key: str, response: dict[str, Any]
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
