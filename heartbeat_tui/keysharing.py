"""Dicts that share one table of keys: for the many small dicts of one shape a
poll makes (models' field values, GetMetricData queries).

A plain dict carries its own table of keys and values: 184 bytes for two or
three keys, 464 for up to twenty. CPython keeps the keys of an instance's
attributes once per class and only the values per instance (a key-sharing,
"split" dict, PEP 412), and a copy of such a dict shares its keys too. So each
shape is a template made as an instance's attributes, and every dict of that
shape a copy of it with its own values: 112 bytes for three keys, 256 for
nineteen. Setting a key the template has keeps the keys shared; any other
change turns the copy into a plain dict (correct, only larger).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

# More than CPython's first room for a class's shared keys (42 in 3.11).
_SHARED_KEYS_ROOM = 64


def dict_shape(keys: Iterable[str]) -> dict[str, Any]:
    """A template for dicts of these keys, in this order (values None)."""

    names = tuple(keys)
    holder_class = type("Shape", (), {"__slots__": ("__dict__",)})
    # A copy's values are sized for the keys the class expects: CPython starts
    # with room for 42 and gives each new instance one less, down to the keys it
    # has; so make instances until the room is what the keys need.
    for _ in range(_SHARED_KEYS_ROOM):
        holder = holder_class()
        for name in names:
            setattr(holder, name, None)
    template: dict[str, Any] = holder.__dict__
    return template


def shaped(template: dict[str, Any], *values: Any) -> dict[str, Any]:
    """A dict of the template's keys with these values, in order."""

    made = template.copy()
    for key, value in zip(template, values, strict=True):
        made[key] = value
    return made


__all__ = ["dict_shape", "shaped"]
