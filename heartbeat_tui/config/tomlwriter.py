"""TOML out: the standard library reads TOML but does not write it, and HeartBeat
writes only simple files (tests, the embedded AWS's settings, examples)."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any


def dump_toml(data: Mapping[str, Any]) -> str:
    """Write a TOML-shaped dict (tables, arrays of tables, scalars, lists of scalars)."""

    def scalar(value: Any) -> str:
        if isinstance(value, bool):
            return "true" if value else "false"
        if isinstance(value, (int, float)):
            return repr(value)
        if isinstance(value, str):
            # A JSON string is a valid TOML basic string (same escapes).
            return json.dumps(value, ensure_ascii=False).replace("\x7f", "\\u007f")
        if isinstance(value, (list, tuple)):
            return "[" + ", ".join(scalar(v) for v in value) + "]"
        raise TypeError(f"cannot write {type(value).__name__} to TOML")

    def bare(key: str) -> str:
        return key if re.fullmatch(r"[A-Za-z0-9_-]+", key) else scalar(key)

    lines: list[str] = []
    tables: list[tuple[str, Mapping[str, Any]]] = []
    arrays: list[tuple[str, list[Mapping[str, Any]]]] = []
    for key, value in data.items():
        if isinstance(value, Mapping):
            tables.append((key, value))
        elif isinstance(value, (list, tuple)) and value and all(isinstance(v, Mapping) for v in value):
            arrays.append((key, list(value)))
        elif value is not None:
            lines.append(f"{bare(key)} = {scalar(value)}")
    for key, table in tables:
        lines.append(f"\n[{bare(key)}]")
        lines.extend(f"{bare(k)} = {scalar(v)}" for k, v in table.items() if v is not None)
    for key, items in arrays:
        for item in items:
            lines.append(f"\n[[{bare(key)}]]")
            lines.extend(f"{bare(k)} = {scalar(v)}" for k, v in item.items() if v is not None)
    return "\n".join(lines).lstrip("\n") + "\n"
