"""`FleetSource`: the one seam snapshots come through.

A local `Collector`, the collector on its own thread (`controller/threaded.py`), a
session's narrowed view of either (`ScopedSource`), a remote snapshot service
and the tests' fakes all satisfy it; the controller never asks which.
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Protocol, runtime_checkable

from heartbeat_tui.errors import HeartbeatError
from heartbeat_tui.models import FleetSnapshot, LogBatch, LogQuery, ServiceDetail


@runtime_checkable
class FleetSource(Protocol):
    """Where snapshots and on-demand service details come from."""

    async def poll(self, only: Collection[str] | None = None) -> FleetSnapshot:
        """Every account's state (or the accounts in `only`)."""

    async def fetch_service_detail(
        self, account_id: str, region: str, cluster_arn: str, service_name: str
    ) -> ServiceDetail:
        """Tasks and scaling policies of one service, read now."""

    async def fetch_logs(self, query: LogQuery) -> LogBatch:
        """CloudWatch Logs lines of one service or task, read now."""

    def relist_next_poll(self) -> None:
        """Re-read every service list whole on the next poll (a manual refresh); a no-op where lists are not kept."""

    async def prepare(self) -> None:
        """Get ready for the first poll without calling AWS (clients, models); may do nothing."""

    async def aclose(self) -> None:
        """Release connections; the source is not used afterwards."""


class OutOfScope(HeartbeatError):
    """An account outside the session's allow-list was asked for."""


def scoped(snapshot: FleetSnapshot, scope: frozenset[str] | None) -> FleetSnapshot:
    """`snapshot` with only the accounts of `scope` (None: all of them)."""

    if scope is None or all(account.id in scope for account in snapshot.accounts):
        return snapshot
    return snapshot.model_copy(update={"accounts": tuple(a for a in snapshot.accounts if a.id in scope)})


class ScopedSource:
    """A FleetSource that polls, and details, only the accounts of one scope (None: all).

    It does not own the source it narrows: `aclose` leaves it open."""

    def __init__(self, source: FleetSource, scope: frozenset[str] | None) -> None:
        self.source = source
        self.scope = scope

    async def poll(self, only: Collection[str] | None = None) -> FleetSnapshot:
        if self.scope is None:
            return await self.source.poll(only)
        wanted = self.scope if only is None else self.scope.intersection(only)
        return await self.source.poll(sorted(wanted))

    def relist_next_poll(self) -> None:
        self.source.relist_next_poll()

    async def fetch_service_detail(
        self, account_id: str, region: str, cluster_arn: str, service_name: str
    ) -> ServiceDetail:
        if self.scope is not None and account_id not in self.scope:
            raise OutOfScope(f"account {account_id} is not on this session's allow-list")
        return await self.source.fetch_service_detail(account_id, region, cluster_arn, service_name)

    async def fetch_logs(self, query: LogQuery) -> LogBatch:
        if self.scope is not None and query.account_id not in self.scope:
            raise OutOfScope(f"account {query.account_id} is not on this session's allow-list")
        return await self.source.fetch_logs(query)

    async def prepare(self) -> None:
        await self.source.prepare()

    async def aclose(self) -> None:
        return None
