"""What the readers of a poll (ECS, CloudWatch, Application Auto Scaling) share:
the AWS access, the configuration, and the one way a step calls AWS."""

from __future__ import annotations

import asyncio
import functools
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any, TypeVar

from heartbeat_tui.aws.access import AwsAccess
from heartbeat_tui.aws.errors import BadResponse, is_expired_credentials
from heartbeat_tui.aws.lean import Operation
from heartbeat_tui.collector.limits import MAX_EMPTY_PAGES, MAX_PAGES
from heartbeat_tui.collector.state import AccountState
from heartbeat_tui.collector.steps import PRIORITY_CHAIN, Step, StepFailed
from heartbeat_tui.config import Config

log = logging.getLogger("heartbeat_tui.collector.collector")
T = TypeVar("T")


class PollContext:
    """Owned by one `Collector` and handed to each of its readers. `relisting` is
    set by the collector at the start of each poll (see `Collector.relist_next_poll`)."""

    __slots__ = ("access", "config", "relisting")

    def __init__(self, config: Config, access: AwsAccess) -> None:
        self.config = config
        self.access = access
        self.relisting = False

    @property
    def history_seconds(self) -> int:
        return self.config.file.collector.history_minutes * 60

    async def call(
        self, state: AccountState, step: Step, coro: Callable[[], Awaitable[T]], priority: int = PRIORITY_CHAIN
    ) -> T:
        """One AWS call of a step, within the account's bound for the step's lane;
        any failure becomes a `StepFailed` naming the step."""

        async with state.lane(step.lane).slot(priority):
            try:
                try:
                    return await coro()
                except Exception as exc:
                    # Assumed credentials rejected as expired (revoked, clock skew,
                    # a long suspend): assume the role again once and retry.
                    if is_expired_credentials(exc) and await self.access.force_refresh(state.config):
                        log.info("credentials of %s expired early; assumed the role again", state.config.id)
                        return await coro()
                    raise
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # every failure becomes a StepFailed
                raise StepFailed(step, exc) from exc

    async def read(
        self,
        state: AccountState,
        step: Step,
        method: Operation,
        priority: int = PRIORITY_CHAIN,
        *,
        answer_digest: bool = False,
        answer_known: int | None = None,
        **params: Any,
    ) -> dict[str, Any]:
        """`call` of `method(**params)`, a client's operation: a hot read is
        answered by the client's lean caller, without botocore's per-call
        pipeline, where it can be (`AwsAccess.call`; `LeanCalls.call` for
        `answer_digest` and `answer_known`)."""

        call = functools.partial(
            self.access.call, method, answer_digest=answer_digest, answer_known=answer_known, **params
        )
        return await self.call(state, step, call, priority)

    async def pages(
        self,
        state: AccountState,
        step: Step,
        method: Operation,
        token_key: str = "nextToken",
        priority: int = PRIORITY_CHAIN,
        **kwargs: Any,
    ) -> AsyncIterator[dict[str, Any]]:
        """Every page of a paged call, one bounded call at a time."""

        token: str | None = None
        seen: set[str] = set()
        pages = empty = 0
        while True:
            page_kwargs = {**kwargs, token_key: token} if token else kwargs
            page = await self.read(state, step, method, priority, **page_kwargs)
            yield page
            token = page.get(token_key)
            if not token:
                return
            # A broken endpoint handing out the same page again, or pages without
            # end: stop, loudly (bounded: AWS may send a few empty pages, not 20).
            if token in seen:
                raise StepFailed(step, BadResponse(f"the same {token_key} came back twice"))
            pages += 1
            empty = 0 if any(isinstance(v, list) and v for v in page.values()) else empty + 1
            if empty >= MAX_EMPTY_PAGES:
                raise StepFailed(step, BadResponse(f"{empty} empty pages in a row, each with a {token_key}: gave up"))
            if pages >= MAX_PAGES:
                raise StepFailed(step, BadResponse(f"more than {MAX_PAGES} pages: gave up"))
            seen.add(token)


__all__ = ["Operation", "PollContext"]
