"""Remembering the operator's choices in the config file with minimal edits.

`save_theme` changes (or adds) one line, `theme = "..."` under `[ui]`, and
leaves every other byte of the file alone, comments included. The file and
the section are created when missing. Pure Python, no Textual.
"""

from __future__ import annotations

import os
import re
import tempfile
from pathlib import Path

_TABLE = re.compile(r"^\s*\[\s*([A-Za-z0-9_.\-\"' ]+?)\s*\]\s*(#.*)?$")
_ARRAY_TABLE = re.compile(r"^\s*\[\[")
_THEME = re.compile(r"^(\s*theme\s*=\s*)(\"[^\"]*\"|'[^']*'|[^#\s]*)(.*)$")


def _quoted(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def set_ui_theme(text: str, theme: str) -> str:
    """`text` with `[ui].theme` set to `theme` (pure; used by `save_theme`)."""

    lines = text.splitlines(keepends=True)
    section: str | None = None
    ui_header: int | None = None
    ui_end: int | None = None
    for index, line in enumerate(lines):
        if _ARRAY_TABLE.match(line):
            if section == "ui" and ui_end is None:
                ui_end = index
            section = "[[array]]"
            continue
        match = _TABLE.match(line)
        if match:
            if section == "ui" and ui_end is None:
                ui_end = index
            section = match.group(1).strip().strip("\"'")
            if section == "ui":
                ui_header = index
                ui_end = None
            continue
        if section == "ui":
            found = _THEME.match(line.rstrip("\r\n"))
            if found:
                newline = line[len(line.rstrip("\r\n")) :] or "\n"
                lines[index] = f"{found.group(1)}{_quoted(theme)}{found.group(3)}{newline}"
                return "".join(lines)
    entry = f"theme = {_quoted(theme)}\n"
    if ui_header is None:
        prefix = "".join(lines)
        if prefix and not prefix.endswith("\n"):
            prefix += "\n"
        separator = "\n" if prefix.strip() else ""
        return f"{prefix}{separator}[ui]\n{entry}"
    insert_at = ui_end if ui_end is not None else len(lines)
    # Keep the blank lines that separate the next table after our new line.
    while insert_at > ui_header + 1 and not lines[insert_at - 1].strip():
        insert_at -= 1
    if insert_at > 0 and not lines[insert_at - 1].endswith("\n"):
        lines[insert_at - 1] += "\n"
    lines.insert(insert_at, entry)
    return "".join(lines)


def save_theme(path: Path, theme: str) -> None:
    """Remember the theme in the config file (created, with its folder, when missing)."""

    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        text = ""
    updated = set_ui_theme(text, theme)
    if updated == text:
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    # Write beside it and rename, so a crash never leaves half a config file.
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=".config-", suffix=".toml")
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            out.write(updated)
        if path.exists():
            os.chmod(temporary, path.stat().st_mode & 0o777)
        os.replace(temporary, path)
    except BaseException:
        try:
            os.unlink(temporary)
        except OSError:
            pass
        raise
