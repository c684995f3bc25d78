"""Frozen models are compact (heartbeat_tui.fieldsets): one set of field names per
shape, and their values in a key-sharing dict.

These fail loudly if a pydantic upgrade changes what that relies on: the set is
pydantic's per-instance `__pydantic_fields_set__`, never written after
construction, `model_copy` copies it before adding the updated names, and the
field values live in the instance `__dict__`, whichever way a model is made.
"""

from __future__ import annotations

import gc
import pickle
import tracemalloc
from collections.abc import Callable
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


def test_a_service_with_its_deployments_and_events_costs_no_set_or_keys_of_its_own() -> None:
    """1,000 services of 19 fields, a deployment and three events each: without sharing
    their sets alone were 2,264 + 728 + 3 x 216 bytes a service, and their dicts' own
    keys (pydantic's plain dicts) 240 + 288 + 3 x 80 more."""

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
    assert per_service < 1900  # 1,650 here; with dicts of their own 2,400; with a set each too, 4,500


def _bytes_each(make: Callable[[], object], count: int = 2000) -> float:
    for _ in range(100):  # the shapes' sets and keys exist before measuring
        make()
    gc.collect()
    tracemalloc.start()
    try:
        start = tracemalloc.get_traced_memory()[0]
        kept = [make() for _ in range(count)]
        gc.collect()
        return (tracemalloc.get_traced_memory()[0] - start) / len(kept)
    finally:
        tracemalloc.stop()


WHEN = datetime(2026, 1, 1, tzinfo=timezone.utc)
EVENT = ServiceEvent(id="e", created_at=WHEN, message="m")


@pytest.mark.parametrize(
    "make",
    [
        pytest.param(lambda: ServiceEvent(id="e", created_at=WHEN, message="m"), id="constructor"),
        pytest.param(lambda: ServiceEvent.model_validate(EVENT.model_dump()), id="model_validate"),
        pytest.param(lambda: ServiceEvent.model_validate_json(EVENT.model_dump_json()), id="model_validate_json"),
        pytest.param(lambda: EVENT.model_copy(update={"message": "n"}), id="model_copy"),
        pytest.param(lambda: pickle.loads(pickle.dumps(EVENT)), id="pickle"),  # a worker's poll
    ],
)
def test_every_way_a_model_is_made_gives_a_compact_one(make: Callable[[], ServiceEvent]) -> None:
    """An event (three fields): the object, a 112-byte key-sharing dict and, unpickled,
    its own datetime: 190-240 bytes; with pydantic's own dict and set, 270-720."""

    made = make()
    assert made.id == "e" and made.created_at == WHEN and made.message in ("m", "n")
    assert made.model_dump() == {**EVENT.model_dump(), "message": made.message}
    assert made == EVENT or made.message == "n"
    assert hash(made) == hash(ServiceEvent(id="e", created_at=WHEN, message=made.message))
    assert _bytes_each(make) < 250
