"""Frozen models share one set of field names per shape (heartbeat_tui.fieldsets).

These fail loudly if a pydantic upgrade changes what the sharing relies on: the
set is pydantic's per-instance `__pydantic_fields_set__`, never written after
construction, and `model_copy` copies it before adding the updated names.
"""

from __future__ import annotations

import gc
import pickle
import tracemalloc
from datetime import datetime, timezone

import pytest
from pydantic import ValidationError

from heartbeat_tui.models import Deployment, Service, ServiceEvent

FIELDS = {
    "status": "ACTIVE",
    "desired_count": 2,
    "running_count": 2,
    "pending_count": 0,
    "launch_type": "FARGATE",
    "task_definition": "arn:aws:ecs:eu-west-1:1:task-definition/api:7",
    "platform_version": "1.4.0",
    "created_at": datetime(2026, 1, 1, tzinfo=timezone.utc),
}


def service(n: int) -> Service:
    return Service(arn=f"arn:aws:ecs:eu-west-1:1:service/c/s{n}", name=f"s{n}", cluster_arn="c", **FIELDS)


def test_models_made_alike_share_one_set_and_copies_get_their_own_names() -> None:
    a, b = service(1), service(2)
    assert a.model_fields_set is b.model_fields_set
    assert a.model_fields_set == {"arn", "name", "cluster_arn", *FIELDS}
    copied = a.model_copy(update={"desired_count": 5, "events": ()})
    assert copied.model_fields_set == a.model_fields_set | {"events"}
    assert copied.model_fields_set is b.model_copy(update={"desired_count": 1, "events": ()}).model_fields_set
    assert a.model_fields_set == {"arn", "name", "cluster_arn", *FIELDS}  # the shared set is untouched
    assert a.model_dump(exclude_unset=True) == {"arn": a.arn, "name": "s1", "cluster_arn": "c", **FIELDS}
    assert (
        Service.model_validate(a.model_dump()).model_fields_set
        is Service.model_validate(b.model_dump()).model_fields_set
    )
    assert pickle.loads(pickle.dumps(a)) == a


def test_assignment_is_refused_and_leaves_the_shared_set_alone() -> None:
    a, b = service(1), service(2)
    with pytest.raises(ValidationError):
        a.events = ()  # type: ignore[misc]
    assert "events" not in b.model_fields_set


def test_a_service_with_its_deployments_and_events_costs_no_set_of_its_own() -> None:
    """1,000 services of 19 fields, a deployment and three events each: without sharing
    their sets alone were 2,264 + 728 + 3 x 216 bytes a service."""

    when = datetime(2026, 1, 1, tzinfo=timezone.utc)
    for _ in range(3):  # the shapes' sets exist before measuring
        Deployment(id="d", status="PRIMARY", desired_count=1, running_count=1, pending_count=0, failed_tasks=0)
        ServiceEvent(id="e", created_at=when, message="m")
    gc.collect()
    tracemalloc.start()
    try:
        start = tracemalloc.get_traced_memory()[0]
        kept = [
            service(n).model_copy(
                update={
                    "deployments": (
                        Deployment(
                            id=f"d{n}",
                            status="PRIMARY",
                            desired_count=1,
                            running_count=1,
                            pending_count=0,
                            failed_tasks=0,
                        ),
                    ),
                    "events": tuple(ServiceEvent(id=f"e{n}-{k}", created_at=when, message="m") for k in range(3)),
                }
            )
            for n in range(1000)
        ]
        gc.collect()
        per_service = (tracemalloc.get_traced_memory()[0] - start) / len(kept)
    finally:
        tracemalloc.stop()
    assert per_service < 3000  # 2,400 here; with a set each, 4,500
