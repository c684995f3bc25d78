"""Fakes for the controller: a fleet source that can hold or fail a poll, and
an observer that records what the controller reports."""

from __future__ import annotations

import asyncio
from collections.abc import Collection
from typing import Any

from heartbeat_tui.controller import PollStatus
from heartbeat_tui.models import FleetSnapshot, ServiceDetail
from tests.support.factory import make_snapshot

FLEET = make_snapshot(accounts=3, clusters=1, services=2)
IDS = [a.id for a in FLEET.accounts]


class FakeSource:
    """Answers `poll(only)` as the collector does; a poll can be held, or fail."""

    def __init__(self) -> None:
        self.polls: list[tuple[str, ...] | None] = []
        self.relists = 0
        self.hold: asyncio.Event | None = None
        self.fail: Exception | None = None

    async def poll(self, only: Collection[str] | None = None) -> FleetSnapshot:
        self.polls.append(None if only is None else tuple(only))
        if self.hold is not None:
            await self.hold.wait()
        if self.fail is not None:
            raise self.fail
        return FLEET.model_copy(update={"accounts": tuple(a for a in FLEET.accounts if only is None or a.id in only)})

    async def fetch_service_detail(self, account_id: str, region: str, cluster_arn: str, name: str) -> ServiceDetail:
        raise LookupError(account_id)

    async def fetch_logs(self, query: Any) -> Any:
        raise LookupError(query.account_id)

    def relist_next_poll(self) -> None:
        self.relists += 1

    async def prepare(self) -> None:
        return None

    async def aclose(self) -> None:
        return None


class Recorder:
    """The observer: every status, failure and snapshot, in order."""

    def __init__(self) -> None:
        self.statuses: list[PollStatus] = []
        self.failures: list[str] = []
        self.snapshots: list[tuple[str, ...]] = []
        self.previous: list[FleetSnapshot | None] = []

    def status_changed(self, status: PollStatus) -> None:
        self.statuses.append(status)

    def poll_failed(self, error: BaseException, text: str) -> None:
        self.failures.append(text)

    async def snapshot_polled(self, snapshot: FleetSnapshot, previous: FleetSnapshot | None) -> None:
        self.snapshots.append(tuple(a.id for a in snapshot.accounts))
        self.previous.append(previous)
