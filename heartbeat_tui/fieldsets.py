"""Compact frozen models: the one place that touches pydantic's per-instance internals.

A fleet of 40,000 services holds about half a million model instances, and
pydantic gives each two containers of its own where one shared would do:

* `__pydantic_fields_set__`, the names of the fields it was given: a `set`,
  216 bytes for up to four names, 728 up to eighteen, 2,264 beyond. A frozen
  model's set never changes once it is made (assignment is refused, and
  `model_copy` copies the set before adding the updated names), so every
  instance with the same names holds one shared set (`share_fields_set`).
* `__dict__`, the field values: a dict with its own table of keys (464 bytes
  for a service's 19 fields, 184 for three). CPython can keep the keys once per
  class and only the values per instance (a key-sharing dict, PEP 412: 296 and
  96 bytes), but only for a dict it made for an instance's attributes, never
  for the plain dict pydantic builds. `compact` gives the model a copy of one
  such dict per class (copying keeps the keys shared) with its values.

`tests/test_fieldsets.py` fails loudly if a pydantic upgrade changes what this
relies on: the fields-set attribute's name, that it is read (never written)
after construction, that `model_copy` copies it first, and that field values
live in the instance `__dict__` (a replaced one is read, copied, pickled and
compared like pydantic's own).
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel

_SHARED: dict[frozenset[str], set[str]] = {}
_TEMPLATES: dict[type[BaseModel], dict[str, Any]] = {}
_set_attribute = object.__setattr__
_SHARED_KEYS_ROOM = 64  # more than CPython's first room for a class's shared keys


def share_fields_set(model: BaseModel) -> None:
    """Make `model` (frozen, just made) hold the shared set equal to its own."""

    names = model.__pydantic_fields_set__
    key = frozenset(names)
    shared = _SHARED.get(key)
    if shared is None:
        shared = _SHARED.setdefault(key, set(names))  # a copy: whoever made `names` may still hold it
    if shared is not names:
        _set_attribute(model, "__pydantic_fields_set__", shared)


def _template(cls: type[BaseModel]) -> dict[str, Any]:
    """A key-sharing dict with every field of `cls`, in order: the attributes of
    an instance of a plain class made for it (its keys are that class's)."""

    holder_class = type(f"{cls.__name__}Values", (), {"__slots__": ("__dict__",)})
    # A copy's values are sized for the keys the class expects: CPython (3.11)
    # starts with room for 42 and gives each new instance one less, down to the
    # keys it has; so make instances until the room is what the fields need.
    for _ in range(_SHARED_KEYS_ROOM):
        holder = holder_class()
        for name in cls.model_fields:
            setattr(holder, name, None)
    template: dict[str, Any] = holder.__dict__
    return _TEMPLATES.setdefault(cls, template)


def compact(model: BaseModel) -> None:
    """Make `model` (frozen, just made) hold the shared set of field names and its
    values in a key-sharing dict. Copies of it (`model_copy`, pickle) keep both."""

    share_fields_set(model)
    cls = type(model)
    template = _TEMPLATES.get(cls) or _template(cls)
    values = template.copy()  # shares the template's keys
    values.update(model.__dict__)  # the same keys: the values change, the keys stay shared
    _set_attribute(model, "__dict__", values)


def shared_sets() -> int:
    """How many distinct sets are shared (a handful: one per way a model is made)."""

    return len(_SHARED)


__all__ = ["compact", "share_fields_set", "shared_sets"]
