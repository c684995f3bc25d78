"""A step's identity is structured (Lane, Step, StepFailed's fields): the lane
bounding its calls comes from the enum, and failures are told apart by field,
not by parsing their text."""

from __future__ import annotations

import asyncio

import pytest

from heartbeat_tui.aws.errors import AssumeRoleFailed, BadResponse
from heartbeat_tui.collector.state import AccountState
from heartbeat_tui.collector.steps import ASSUME_ROLE_STEP, Lane, Step, StepFailed, guard
from heartbeat_tui.config import AccountConfig


def _state(max_in_flight: int = 1) -> AccountState:
    return AccountState(config=AccountConfig(id="210987654321"), max_in_flight=max_in_flight)


async def test_each_lane_has_its_own_bound_and_a_lane_one_bound() -> None:
    state = _state(max_in_flight=1)
    async with state.lane(Lane.ECS).slot():
        # ECS's only slot is taken: CloudWatch's is still free ...
        other = asyncio.ensure_future(_enter(state, Lane.CLOUDWATCH))
        same = asyncio.ensure_future(_enter(state, Lane.ECS))
        await _turns()
        assert other.done()
        assert not same.done()  # ... and a second ECS call waits for it
    await _turns()
    assert same.done()
    assert state.lane(Lane.ECS) is state.lane(Step(Lane.ECS, "DescribeServices").lane)


async def _turns() -> None:
    for _ in range(5):  # let every ready task run (no timing involved)
        await asyncio.sleep(0)


async def _enter(state: AccountState, lane: Lane) -> None:
    async with state.lane(lane).slot():
        pass


def test_a_failure_carries_its_step_and_region_as_fields() -> None:
    step = Step(Lane.AUTOSCALING, "DescribeScalableTargets")
    failure = StepFailed(step, RuntimeError("boom")).at("eu-west-1")
    assert failure.step == step and failure.step.lane is Lane.AUTOSCALING and failure.region == "eu-west-1"
    assert str(failure) == "eu-west-1 ApplicationAutoScaling DescribeScalableTargets: RuntimeError: boom"


def test_a_role_that_could_not_be_assumed_is_the_assume_role_step_whichever_call_found_it() -> None:
    cause = AssumeRoleFailed("arn:aws:iam::210987654321:role/x", RuntimeError("denied"))
    failure = StepFailed(Step(Lane.CLOUDWATCH, "GetMetricData"), cause).at("us-east-1")
    assert failure.step == ASSUME_ROLE_STEP and failure.step.lane is Lane.STS
    assert str(failure).startswith("us-east-1 STS AssumeRole: ")


async def test_a_malformed_answer_is_reported_as_its_lanes_failure() -> None:
    async def bad() -> None:
        raise BadResponse("no clusterArns")

    with pytest.raises(StepFailed) as caught:
        await guard(Lane.AUTOSCALING, bad())
    assert caught.value.step == Step(Lane.AUTOSCALING) and caught.value.step.operation is None
    assert str(caught.value).startswith("Application Auto Scaling (unexpected response): ")
