"""What the parts of `Collector` (ECS, CloudWatch, Application Auto Scaling
steps, each a mixin in its own module) use of the collector itself."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import datetime
from typing import TYPE_CHECKING, Any, TypeVar

from heartbeat_tui.collector.state import AccountState, RegionState
from heartbeat_tui.collector.steps import PRIORITY_CHAIN

if TYPE_CHECKING:
    from heartbeat_tui.aws.access import AwsAccess
    from heartbeat_tui.config import Config

T = TypeVar("T")


class CollectorPart:
    """The collector's AWS access, configuration, bounded calls and steps, as
    its mixins see them (declared for type checkers only; `Collector` has them)."""

    if TYPE_CHECKING:
        _access: AwsAccess
        _config: Config
        _relisting: bool

        @property
        def history_seconds(self) -> int: ...

        async def _call(
            self, state: AccountState, where: str, coro: Callable[[], Awaitable[T]], priority: int = PRIORITY_CHAIN
        ) -> T: ...

        def _pages(
            self,
            state: AccountState,
            where: str,
            method: Callable[..., Awaitable[dict[str, Any]]],
            token_key: str = "nextToken",
            priority: int = PRIORITY_CHAIN,
            **kwargs: Any,
        ) -> AsyncIterator[dict[str, Any]]: ...

        async def _fetch_metrics(
            self, state: AccountState, rstate: RegionState, region: str, refs: dict[str, list[str]], now: datetime
        ) -> None: ...


__all__ = ["CollectorPart"]
