"""Models made without validation (`collector.construct`) are the models pydantic makes.

Fails loudly when a model or pydantic changes what the fast path relies on: the
objects are compared whole (values in field order, the set of given fields, no
extra or private values, equal JSON, interned strings and canonical parts the
very objects validation gives), for generated values and generated answers.
"""

from __future__ import annotations

import pickle
import sys
import types
import typing
from datetime import datetime, timedelta, timezone
from typing import Annotated, Any

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import AfterValidator, BaseModel, ConfigDict, field_validator

from heartbeat_tui.collector import parse
from heartbeat_tui.collector.construct import maker, validated
from heartbeat_tui.models import (
    Cluster,
    Deployment,
    DeploymentConfiguration,
    Frozen,
    LoadBalancer,
    MetricSeries,
    NetworkConfiguration,
    ScalableTarget,
    ScalingActivity,
    Service,
    ServiceEvent,
    Shared,
)

# Every model the parser makes with a maker (parse.py's `_*` makers).
MADE = (
    Cluster,
    Deployment,
    DeploymentConfiguration,
    LoadBalancer,
    NetworkConfiguration,
    ServiceEvent,
    Service,
    ScalableTarget,
    ScalingActivity,
)

_texts = st.text(max_size=12) | st.sampled_from(["ACTIVE", "PRIMARY", "FARGATE", "arn:aws:ecs:r:1:service/c/s"])
_moments = st.datetimes(
    min_value=datetime(1970, 1, 2), max_value=datetime(2100, 1, 1), timezones=st.sampled_from([timezone.utc])
)


def _values_for(annotation: Any, depth: int = 0) -> st.SearchStrategy[Any]:
    """Values of exactly a field's declared type (what the parser gives)."""

    origin, args = typing.get_origin(annotation), typing.get_args(annotation)
    if origin is typing.Annotated:
        return _values_for(args[0], depth)
    if origin in (typing.Union, types.UnionType):
        return st.one_of(*(_values_for(arg, depth) for arg in args))
    if origin is tuple:
        return st.lists(_values_for(args[0], depth + 1), max_size=3 if depth < 2 else 0).map(tuple)
    if annotation is type(None):
        return st.none()
    if annotation is str:
        return _texts
    if annotation is bool:
        return st.booleans()
    if annotation is int:
        return st.integers(min_value=-(2**63), max_value=2**63)
    if annotation is float:
        return st.floats(allow_nan=False)
    if annotation is datetime:
        return _moments
    if isinstance(annotation, type) and issubclass(annotation, Frozen):
        return _models(annotation, depth + 1)
    if annotation is MetricSeries:
        return st.sets(st.integers(0, 2**32 - 1), max_size=4).map(lambda ts: MetricSeries(sorted(ts), [0.5] * len(ts)))
    raise AssertionError(f"no strategy for {annotation!r}: extend the test with the new field type")


def _models(cls: type[Frozen], depth: int = 0) -> st.SearchStrategy[Any]:
    """pydantic's own instances of `cls`, with generated values for some of its fields."""

    return _given_fields(cls, depth).map(lambda fields: cls(**fields))


def _given_fields(cls: type[Frozen], depth: int = 0) -> st.SearchStrategy[dict[str, Any]]:
    required = {name: _values_for(f.annotation, depth) for name, f in cls.model_fields.items() if f.is_required()}
    optional = {name: _values_for(f.annotation, depth) for name, f in cls.model_fields.items() if not f.is_required()}
    return st.fixed_dictionaries(required, optional=optional if depth < 2 else {})


def _is_str(value: Any) -> bool:
    return isinstance(value, str)


def _series_json(value: Any) -> Any:
    assert isinstance(value, MetricSeries)
    return [value.timestamps.tolist(), value.values.tolist()]


def _interned_fields(cls: type[BaseModel]) -> set[str]:
    """The fields whose strings validation interns (`Shared`, alone, optional or in a tuple)."""

    return {name for name, f in cls.model_fields.items() if "intern" in repr((f.annotation, f.metadata))}


def _fresh(value: Any) -> Any:
    """An equal value with no string object in common with `value` (longer than one character)."""

    return orjson.loads(orjson.dumps(value))


def assert_same(fast: Any, slow: Any) -> None:
    """Equal models down to what pydantic keeps per instance, and the same shared objects."""

    assert type(fast) is type(slow)
    if not isinstance(slow, BaseModel):
        assert fast == slow
        if isinstance(slow, tuple):
            assert len(fast) == len(slow)
            for a, b in zip(fast, slow):
                assert_same(a, b)
        return
    assert fast == slow
    assert list(fast.__dict__) == list(slow.__dict__)  # field order
    assert fast.model_fields_set == slow.model_fields_set
    assert fast.__pydantic_extra__ == slow.__pydantic_extra__
    assert fast.__pydantic_private__ == slow.__pydantic_private__
    assert fast.__getstate__() == slow.__getstate__()
    assert pickle.loads(pickle.dumps(fast)) == slow
    assert hash(fast) == hash(slow)
    assert fast.model_dump_json(fallback=_series_json) == slow.model_dump_json(fallback=_series_json)
    interned = _interned_fields(type(slow))
    for name, value in slow.__dict__.items():
        field = type(slow).model_fields[name]
        mine = fast.__dict__[name]
        where = f"{type(slow).__name__}.{name}"
        if name not in slow.model_fields_set or "canonical" in repr(field.metadata):
            assert mine is value, f"{where}: not the very object validation gives"
        elif name in interned:
            # Made from distinct string objects: the same object only if both were interned.
            for a, b in zip(mine, value) if isinstance(value, tuple) else [(mine, value)]:
                assert a is b, f"{where}: {b!r} is interned by validation, not by the maker"
        else:
            assert_same(mine, value)


@pytest.mark.parametrize("cls", MADE, ids=lambda c: c.__name__)
@settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_a_maker_makes_what_validation_makes(cls: type[Frozen], data: st.DataObject) -> None:
    fields = data.draw(_given_fields(cls))
    make = maker(cls, *fields)
    fresh = {name: _fresh(value) if isinstance(value, str) else value for name, value in fields.items()}
    fresh.update({n: tuple(map(_fresh, v)) for n, v in fields.items() if isinstance(v, tuple) and all(map(_is_str, v))})
    assert_same(make(**fields), cls(**fresh))
    with validated():
        assert_same(make(**fields), cls(**fresh))


# -- the parser's answers, fast and validated ----------------------------------------------------

_junk = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**63), max_value=2**64 - 1)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3),
    max_leaves=6,
)
_stamps = st.one_of(
    st.integers(min_value=0, max_value=4_000_000_000),
    st.floats(min_value=0, max_value=4e9, allow_nan=False),
    _moments.map(lambda d: d.isoformat().replace("+00:00", "Z")),
    _moments.map(lambda d: (d + timedelta(microseconds=123)).astimezone(timezone(timedelta(hours=2))).isoformat()),
    st.sampled_from(["", "yesterday", "2026-13-01T00:00:00Z", "1e400"]),
    _junk,
)
_strings = _texts | st.sampled_from(["\x1b[31mred\x1b[0m", "a\u202eb", "[b]markup[/b]", "\x00", "é" * 3]) | _junk
_counts = st.integers(min_value=-5, max_value=2**40) | st.sampled_from(["12", " 7 ", "x", 3.9, True]) | _junk


def _answer_item(spec: dict[str, st.SearchStrategy[Any]]) -> st.SearchStrategy[dict[str, Any]]:
    return st.fixed_dictionaries({}, optional=spec)


_deployment = _answer_item(
    {
        "id": _strings,
        "status": _strings,
        "taskDefinition": _strings,
        "desiredCount": _counts,
        "runningCount": _counts,
        "pendingCount": _counts,
        "failedTasks": _counts,
        "rolloutState": _strings,
        "rolloutStateReason": _strings,
        "launchType": _strings,
        "platformVersion": _strings,
        "createdAt": _stamps,
        "updatedAt": _stamps,
    }
)
_service = st.fixed_dictionaries(
    {"serviceArn": _strings.filter(lambda v: v is not None)},
    optional={
        "serviceName": _strings,
        "clusterArn": _strings,
        "status": _strings,
        "desiredCount": _counts,
        "runningCount": _counts,
        "pendingCount": _counts,
        "launchType": _strings,
        "taskDefinition": _strings,
        "createdAt": _stamps,
        "platformVersion": _strings,
        "deploymentConfiguration": _answer_item(
            {
                "minimumHealthyPercent": _counts,
                "maximumPercent": _counts,
                "deploymentCircuitBreaker": _answer_item({"enable": _junk, "rollback": _junk}) | _junk,
            }
        )
        | _junk,
        "loadBalancers": st.lists(
            _answer_item(
                {
                    "targetGroupArn": _strings,
                    "loadBalancerName": _strings,
                    "containerName": _strings,
                    "containerPort": _counts,
                }
            )
            | _junk,
            max_size=2,
        )
        | _junk,
        "networkConfiguration": _answer_item(
            {
                "awsvpcConfiguration": _answer_item(
                    {
                        "subnets": st.lists(_strings, max_size=3) | _junk,
                        "securityGroups": st.lists(_strings, max_size=3) | _junk,
                        "assignPublicIp": _strings,
                    }
                )
            }
        ),
        "deployments": st.lists(_deployment, max_size=3),
        "events": st.lists(_answer_item({"id": _strings, "createdAt": _stamps, "message": _strings}), max_size=4),
    },
)
_cluster = st.fixed_dictionaries(
    {"clusterArn": _strings.filter(lambda v: v is not None), "activeServicesCount": _counts.filter(bool)},
    optional={"clusterName": _strings, "status": _strings, "runningTasksCount": _counts, "pendingTasksCount": _counts},
)
_target = st.fixed_dictionaries(
    {"ResourceId": _strings.filter(lambda v: v is not None)},
    optional={
        "ScalableDimension": _strings,
        "MinCapacity": _counts,
        "MaxCapacity": _counts,
        "SuspendedState": _answer_item({"DynamicScalingInSuspended": _junk, "ScheduledScalingSuspended": _junk})
        | _junk,
        "CreationTime": _stamps,
    },
)
_activity = st.fixed_dictionaries(
    {"ActivityId": _strings.filter(lambda v: v is not None)},
    optional={
        "ResourceId": _strings,
        "Description": _strings,
        "Cause": _strings,
        "StatusCode": _strings,
        "StatusMessage": _strings,
        "StartTime": _stamps,
        "EndTime": _stamps,
    },
)


def _outcome(parse_item: Any, item: dict[str, Any]) -> Any:
    try:
        return parse_item(item)
    except Exception as exc:  # the same refusal either way
        return type(exc), str(exc)


def _parse_service(item: dict[str, Any]) -> Service:
    return parse.parse_service(item, cluster_arn="arn:aws:ecs:r:1:cluster/c", max_events=3)


@pytest.mark.parametrize(
    ("parse_item", "items"),
    [
        (_parse_service, _service),
        (parse.parse_cluster, _cluster),
        (parse.parse_scalable_target, _target),
        (parse.parse_scaling_activity, _activity),
    ],
    ids=["service", "cluster", "scalable target", "scaling activity"],
)
@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_the_parser_makes_what_it_made_validated(parse_item: Any, items: Any, data: st.DataObject) -> None:
    item = data.draw(items)
    fast = _outcome(parse_item, item)
    with validated():
        slow = _outcome(parse_item, _fresh(item))
    if isinstance(slow, tuple):
        assert fast == slow
    else:
        assert_same(fast, slow)


# -- what the fast path refuses to do -----------------------------------------------------------


class _Stripped(Frozen):
    name: Annotated[str, AfterValidator(str.strip)]


class _Checked(Frozen):
    name: str

    @field_validator("name")
    @classmethod
    def _not_empty(cls, value: str) -> str:
        return value or "?"


class _Loose(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore")
    name: str


class _Interned(Frozen):
    name: Shared
    names: tuple[Shared, ...] = ()
    maybe: Shared | None = None


@pytest.mark.parametrize("cls", [_Stripped, _Checked, _Loose], ids=lambda c: c.__name__)
def test_a_model_with_validators_it_does_not_know_is_refused(cls: type[Any]) -> None:
    with pytest.raises(TypeError):
        maker(cls, "name")


def test_unknown_missing_or_repeated_fields_are_refused() -> None:
    with pytest.raises(TypeError):
        maker(ServiceEvent, "id", "message")  # created_at is required
    with pytest.raises(TypeError):
        maker(ServiceEvent, "id", "created_at", "message", "colour")
    with pytest.raises(TypeError):
        maker(ServiceEvent, "id", "id", "created_at", "message")
    make = maker(ServiceEvent, "id", "created_at", "message")
    with pytest.raises(TypeError):
        make(id="1", created_at=None)  # type: ignore[call-arg]


def test_shared_strings_are_interned_as_validation_interns_them() -> None:
    make = maker(_Interned, "name", "names", "maybe")
    name, item = "".join(["sv", "c-1"]), "".join(["sub", "net"])
    made = make(name=name, names=(item,), maybe="".join(["ma", "ybe"]))
    assert made.name is sys.intern("svc-1") and made.names[0] is sys.intern("subnet")
    assert made.maybe is sys.intern("maybe")
    assert make(name="x", names=(), maybe=None).maybe is None


def test_a_shared_part_is_the_one_alive_equal_object() -> None:
    make = maker(Service, "arn", "name", "cluster_arn", "status", "deployment_configuration")
    parts = [DeploymentConfiguration(minimum_healthy_percent=50, maximum_percent=n) for n in (150, 150)]
    assert parts[0] is not parts[1]
    made = [
        make(arn=f"a{n}", name="s", cluster_arn="c", status="ACTIVE", deployment_configuration=p)
        for n, p in enumerate(parts)
    ]
    assert made[0].deployment_configuration is made[1].deployment_configuration
    with validated():
        again = make(arn="a", name="s", cluster_arn="c", status="ACTIVE", deployment_configuration=parts[1])
    assert again.deployment_configuration is made[0].deployment_configuration
