"""Snapshot models made from values the parser has already checked, without pydantic's validation.

The parser (`collector.parse`) gives every field a value of exactly the type
the model declares (`str`, `int`, `bool`, a UTC `datetime`, a tuple of models,
or None), whatever the answer held. A service is about five models (itself,
its deployments and events, a load balancer), and validating them again was a
quarter of its parse: 27-29 us a service with pydantic's constructors, 20-23
without (the embedded fleet's DescribeServices items).

`maker(Model, *fields)` returns a function taking exactly those fields as
keywords that makes the object `Model(**fields)` would: the same values in
field order, defaults for the rest (the model's own objects: pydantic shares
a hashable default), the same set of given fields, no extra or private values,
then `model_post_init` (what pydantic's `model_construct` does). It applies
what the models' validators do: a `Shared` string is interned, a `SharedPart`
made canonical (`models.canonical`). The function is generated from the
model's fields, so a field added, renamed or newly `Shared` is followed; a
validator of any other kind, an alias, a default factory or an unhashable
default is refused with `TypeError` when the maker is made (at import).

This is the one module that builds models past pydantic's constructor.
`tests/collector/test_construct.py` fails loudly when a model or pydantic
changes what it relies on: every maker's object is compared with pydantic's for
generated values (equal objects, field sets, JSON and interned strings), and the
parser's output for generated answers with its output under `validated()`.
"""

from __future__ import annotations

import contextlib
import sys
import threading
import types
import typing
from collections.abc import Callable, Hashable, Iterator
from typing import Any, TypeVar

from pydantic import AfterValidator, BaseModel
from pydantic_core import PydanticUndefined

from heartbeat_tui.models import Frozen, canonical

_M = TypeVar("_M", bound=Frozen)


class _Mode(threading.local):
    validating = False


_mode = _Mode()


@contextlib.contextmanager
def validated() -> Iterator[None]:
    """Within, on this thread: every maker calls the model's own constructor (the
    slow path the fast one is checked against, for tests and diagnosis)."""

    before, _mode.validating = _mode.validating, True
    try:
        yield
    finally:
        _mode.validating = before


def maker(cls: type[_M], *given: str) -> Callable[..., _M]:
    """A function making `cls` from exactly the `given` fields (keywords), unvalidated."""

    return _generate(cls, given)


def _generate(cls: type[_M], given: tuple[str, ...]) -> Callable[..., _M]:
    fields = cls.model_fields
    config = cls.model_config
    decorators = cls.__pydantic_decorators__
    if (
        not config.get("frozen")
        or config.get("extra") != "forbid"
        or cls.__pydantic_root_model__
        or cls.__private_attributes__
        or any(getattr(decorators, kind) for kind in ("validators", "field_validators", "root_validators"))
        or decorators.model_validators
    ):
        raise TypeError(f"{cls.__name__}: only a frozen model without validators of its own is made unvalidated")
    unknown = [name for name in given if name not in fields]
    if unknown or len(set(given)) != len(given):
        raise TypeError(f"{cls.__name__}: not its fields, or repeated: {given}")
    namespace: dict[str, Any] = {
        "_cls": cls,
        "_new": cls.__new__,
        "_set": object.__setattr__,
        "_intern": sys.intern,
        "_canonical": canonical,
        "_mode": _mode,
        "_given": set(given),
    }
    entries = []
    for name, field in fields.items():
        where = f"{cls.__name__}.{name}"
        if field.alias is not None or field.validation_alias is not None or field.default_factory is not None:
            raise TypeError(f"{where}: an alias or a default factory is not supported")
        kind = _kind(field.annotation, field.metadata)
        if kind is None:
            raise TypeError(f"{where}: its validators are not known here")
        if name in given:
            value = {
                "plain": name,
                "interned": f"_intern({name})",
                "optional interned": f"None if {name} is None else _intern({name})",
                "interned items": f"tuple(map(_intern, {name}))",
                "canonical": f"_canonical({name})",
            }[kind]
        elif field.default is PydanticUndefined:
            raise TypeError(f"{where}: required, and not given")
        elif not isinstance(field.default, Hashable):
            raise TypeError(f"{where}: an unhashable default (pydantic copies it) is not supported")
        else:
            value = f"_default_{name}"
            namespace[value] = field.default
        entries.append(f"{name!r}: {value}")
    params = f"*, {', '.join(given)}" if given else ""
    source = (
        f"def make({params}):\n"
        f"    if _mode.validating:\n"
        f"        return _cls({', '.join(f'{name}={name}' for name in given)})\n"
        f"    fields = {{{', '.join(entries)}}}\n"
        "    model = _new(_cls)\n"
        "    _set(model, '__dict__', fields)\n"
        "    _set(model, '__pydantic_fields_set__', _given)\n"
        "    _set(model, '__pydantic_extra__', None)\n"
        "    _set(model, '__pydantic_private__', None)\n"
        "    model.model_post_init(None)\n"
        "    return model\n"
    )
    exec(compile(source, f"<make {cls.__name__}>", "exec"), namespace)  # our own text, from field names
    made: Callable[..., _M] = namespace["make"]
    made.__qualname__ = made.__name__ = f"make_{cls.__name__}"
    return made


def _is_intern(metadata: Any) -> bool:
    return len(metadata) == 1 and isinstance(metadata[0], AfterValidator) and metadata[0].func is sys.intern


def _validators(metadata: Any) -> list[Any]:
    """Everything in an annotation's metadata that could change or refuse a value."""

    return [m for m in metadata if not isinstance(m, str)]


def _kind(annotation: Any, metadata: list[Any]) -> str | None:
    """How a field's validators change a value: "plain" (they do not), "interned"
    (`Shared`), "optional interned" (`Shared | None`), "interned items" (a tuple of
    `Shared`), "canonical" (`SharedPart`); None: a validator not known here."""

    own = _validators(metadata)
    if own:
        if not _plain(annotation) or len(own) != 1 or not isinstance(own[0], AfterValidator):
            return None
        if own[0].func is sys.intern and annotation is str:
            return "interned"
        if own[0].func is canonical:
            return "canonical"
        return None
    if _plain(annotation):
        return "plain"
    origin, args = typing.get_origin(annotation), typing.get_args(annotation)
    if origin in (typing.Union, types.UnionType) and len(args) == 2 and type(None) in args:
        inner = args[0] if args[1] is type(None) else args[1]
        if typing.get_origin(inner) is typing.Annotated:
            base, *extra = typing.get_args(inner)
            return "optional interned" if base is str and _is_intern(extra) else None
        return None
    if origin is tuple and len(args) == 2 and args[1] is Ellipsis and typing.get_origin(args[0]) is typing.Annotated:
        base, *extra = typing.get_args(args[0])
        return "interned items" if base is str and _is_intern(extra) else None
    return None


def _plain(annotation: Any) -> bool:
    """No validator anywhere inside the annotation (nested models validate nothing
    of an instance given to them: pydantic does not revalidate instances)."""

    if typing.get_origin(annotation) is typing.Annotated:
        base, *extra = typing.get_args(annotation)
        return not _validators(extra) and _plain(base)
    if (
        isinstance(annotation, type)
        and issubclass(annotation, BaseModel)
        and annotation.model_config.get("revalidate_instances", "never") != "never"
    ):
        return False
    return all(_plain(arg) for arg in typing.get_args(annotation) if arg is not Ellipsis)


__all__ = ["maker", "validated"]
