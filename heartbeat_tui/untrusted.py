"""Untrusted text (from AWS, the configuration, users) made safe to show.

Anyone who can call `ecs:StopTask` in a monitored account writes a task's
stopped reason; names, events, error messages and aliases are others' text
too. Written raw to a terminal, an ESC starts a sequence that sets the
clipboard (OSC 52) or the window title, a right-to-left override reorders
what the operator reads. `visible` maps every such code point to a visible
escape (`\\x1b`, `\\u202e`): nothing reaches the terminal raw, and the operator
still sees that something odd is there.

This is the one mapping: the TUI (through `heartbeat_tui.tui.text`), the
table and CSV exports, the CLI's stderr lines and the log formatter all use
it. JSON needs none (it escapes control characters itself and keeps values
exact). It runs on every cell shown, so the common case (nothing unsafe) is
one regex search and returns the string itself.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

#: Code points never written raw: C0 controls (tab and newline included: a
#: one-line cell has no room for them), DEL and C1 controls, bidirectional
#: marks, embeddings, overrides and isolates, the Unicode line and paragraph
#: separators, and lone surrogates (they cannot even be encoded to UTF-8).
_UNSAFE_RANGES: tuple[tuple[int, int], ...] = (
    (0x00, 0x1F),
    (0x7F, 0x9F),
    (0x061C, 0x061C),
    (0x200E, 0x200F),
    (0x2028, 0x202E),
    (0x2066, 0x2069),
    (0xD800, 0xDFFF),
)


def _codepoints(ranges: Iterable[tuple[int, int]]) -> list[int]:
    return [cp for low, high in ranges for cp in range(low, high + 1)]


def _escape(cp: int) -> str:
    return f"\\x{cp:02x}" if cp < 0x100 else f"\\u{cp:04x}"


UNSAFE: frozenset[int] = frozenset(_codepoints(_UNSAFE_RANGES))
_TABLE = {cp: _escape(cp) for cp in UNSAFE}
_LINES_TABLE = {cp: text for cp, text in _TABLE.items() if cp != 0x0A}


def _pattern(ranges: Iterable[tuple[int, int]]) -> re.Pattern[str]:
    return re.compile("[" + "".join(f"\\u{low:04x}-\\u{high:04x}" for low, high in ranges) + "]")


_ANY_UNSAFE = _pattern(_UNSAFE_RANGES)
_LINES_UNSAFE = _pattern(((0x00, 0x09), (0x0B, 0x1F), *_UNSAFE_RANGES[1:]))


def visible(text: str) -> str:
    """`text` with every unsafe code point (see `UNSAFE`) as a visible escape,
    newlines included: for a cell, a title, a one-line message or log line."""

    if _ANY_UNSAFE.search(text) is None:
        return text
    return text.translate(_TABLE)


def visible_lines(text: str) -> str:
    """Like `visible`, but newlines stay: for a panel that shows lines."""

    if _LINES_UNSAFE.search(text) is None:
        return text
    return text.translate(_LINES_TABLE)


def is_safe(text: str) -> bool:
    """True when `visible(text)` is `text` itself."""

    return _ANY_UNSAFE.search(text) is None


__all__ = ["UNSAFE", "is_safe", "visible", "visible_lines"]
