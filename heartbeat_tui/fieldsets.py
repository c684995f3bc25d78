"""One shared set of field names per shape of frozen model: the one place that
touches pydantic's per-instance internals.

Every pydantic model instance carries `__pydantic_fields_set__`, the names of
the fields it was given: a `set` of its own, 216 bytes for up to four names,
728 up to eighteen, 2,264 beyond. A parsed service has nineteen, the copy with
its metrics attached twenty-two: 4.5 KB a service, more than the rest of both
objects. A frozen model's set never changes once it is made (assignment is
refused, and `model_copy` copies the set before adding the updated names), so
every instance with the same names can hold one shared set.

`tests/test_fieldsets.py` fails loudly if a pydantic upgrade changes what this
relies on: the attribute's name, that it is read (never written) after
construction, and that `model_copy` copies it first.
"""

from __future__ import annotations

from pydantic import BaseModel

_SHARED: dict[frozenset[str], set[str]] = {}


def share_fields_set(model: BaseModel) -> None:
    """Make `model` (frozen, just made) hold the shared set equal to its own."""

    names = model.__pydantic_fields_set__
    key = frozenset(names)
    shared = _SHARED.get(key)
    if shared is None:
        shared = _SHARED.setdefault(key, set(names))  # a copy: whoever made `names` may still hold it
    if shared is not names:
        object.__setattr__(model, "__pydantic_fields_set__", shared)


def shared_sets() -> int:
    """How many distinct sets are shared (a handful: one per way a model is made)."""

    return len(_SHARED)


__all__ = ["share_fields_set", "shared_sets"]
