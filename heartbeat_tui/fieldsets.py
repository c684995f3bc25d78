"""Compact frozen models: the one place that touches pydantic's per-instance internals.

A fleet of 40,000 services holds about half a million model instances, and
pydantic gives each two containers of its own where one shared would do:

* `__pydantic_fields_set__`, the names of the fields it was given: a `set`,
  216 bytes for up to four names, 728 up to eighteen, 2,264 beyond. A frozen
  model's set never changes once it is made (assignment is refused, and
  `model_copy` copies the set before adding the updated names), so every
  instance with the same names holds one shared set (`share_fields_set`).
* `__dict__`, the field values: a dict with its own table of keys (464 bytes
  for a service's 19 fields, 184 for three). `compact` gives the model a
  key-sharing dict of its class's fields instead (`keysharing`: 256 and 112
  bytes) with the same values.

`tests/test_fieldsets.py` fails loudly if a pydantic upgrade changes what this
relies on: the fields-set attribute's name, that it is read (never written)
after construction, that `model_copy` copies it first, and that field values
live in the instance `__dict__` (a replaced one is read, copied, pickled and
compared like pydantic's own).
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel

from heartbeat_tui.keysharing import dict_shape

_SHARED: dict[frozenset[str], set[str]] = {}
_TEMPLATES: dict[type[BaseModel], dict[str, Any]] = {}
_set_attribute = object.__setattr__


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
    return _TEMPLATES.setdefault(cls, dict_shape(cls.model_fields))


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
