"""The Application Auto Scaling step of a poll: DescribeScalableTargets and
DescribeScalingActivities (paged), beside the ECS steps. Activities are read
newest first; the walk stops at the first one already known and finished, or
older than the window."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from typing import Any

from heartbeat_tui.aws.services import AUTOSCALING
from heartbeat_tui.collector.context import Operation, PollContext
from heartbeat_tui.collector.limits import AUTOSCALING_PAGE_SIZE, DESIRED_COUNT, TERMINAL_ACTIVITY_STATES
from heartbeat_tui.collector.merging import keep_equal, merge_activities
from heartbeat_tui.collector.parse import fingerprint, parse_scalable_target, parse_scaling_activity
from heartbeat_tui.collector.state import AccountState, RegionState
from heartbeat_tui.collector.steps import Lane, Step, gather_both
from heartbeat_tui.models import ScalableTarget, ScalingActivity


class ScalingReader:
    """The Application Auto Scaling part of a poll, and of a service's detail."""

    __slots__ = ("_ctx",)

    def __init__(self, ctx: PollContext) -> None:
        self._ctx = ctx

    def pages(
        self, state: AccountState, operation: str, method: Operation, **kwargs: Any
    ) -> AsyncIterator[dict[str, Any]]:
        """Every page of an Application Auto Scaling read of ECS, the largest pages allowed."""

        return self._ctx.pages(
            state,
            Step(Lane.AUTOSCALING, operation),
            method,
            token_key="NextToken",
            ServiceNamespace="ecs",
            MaxResults=AUTOSCALING_PAGE_SIZE,
            **kwargs,
        )

    async def fetch(self, state: AccountState, rstate: RegionState, region: str, now: datetime) -> None:
        aas = await self._ctx.access.client(state.config, AUTOSCALING, region)

        parsed = rstate.parsed_targets
        seen: dict[str, tuple[int, ScalableTarget]] = {}

        async def targets() -> dict[str, ScalableTarget]:
            found: dict[str, ScalableTarget] = {}
            async for page in self.pages(state, "DescribeScalableTargets", aas.describe_scalable_targets):
                for item in page.get("ScalableTargets") or []:
                    if item.get("ScalableDimension", DESIRED_COUNT) == DESIRED_COUNT:
                        # Most targets never change: an unchanged item keeps its object, unparsed.
                        digest = fingerprint(item)
                        cached = parsed.get(str(item.get("ResourceId")))
                        if cached is not None and cached[0] == digest:
                            target = cached[1]
                        else:
                            target = parse_scalable_target(item)
                        seen[target.resource_id] = (digest, target)
                        found[target.resource_id] = target
            return found

        window_start = now - timedelta(seconds=self._ctx.history_seconds)
        known = {a.activity_id: a for acts in rstate.activities.values() for a in acts}
        finished = {i for i, a in known.items() if a.status_code in TERMINAL_ACTIVITY_STATES}
        # Activities still in progress must be read again until they finish; the
        # walk (newest first, all services mixed) goes back at least that far.
        unfinished = [a.start_time for i, a in known.items() if i not in finished and a.start_time is not None]
        walk_back_to = min(unfinished) if unfinished else None

        async def activities() -> list[ScalingActivity]:
            found: list[ScalingActivity] = []
            async for page in self.pages(state, "DescribeScalingActivities", aas.describe_scaling_activities):
                for item in page.get("ScalingActivities") or []:
                    activity = parse_scaling_activity(item)
                    if activity.start_time is not None and activity.start_time < window_start:
                        return found
                    older_than_unfinished = (
                        walk_back_to is None or activity.start_time is None or activity.start_time < walk_back_to
                    )
                    if activity.activity_id in finished and older_than_unfinished:
                        # Newest first: everything from here on is already known and final.
                        return found
                    found.append(activity)
            return found

        found_targets, found_activities = await gather_both(targets(), activities())
        rstate.parsed_targets = seen
        rstate.targets = keep_equal(rstate.targets, found_targets)
        rstate.activities = keep_equal(
            rstate.activities, merge_activities(rstate.activities, found_activities, window_start)
        )
        rstate.scaling_fetched_at = now


__all__ = ["ScalingReader"]
