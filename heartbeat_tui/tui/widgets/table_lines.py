"""What one line of a services table shows: the header and each row, as Rich segments.

The widget (service_table.py) decides which lines to paint and caches them;
this says what is in a line, from the row, the column layout and a lookup of
the theme's styles, so a change of how a cell reads touches no scrolling or
ordering code.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Literal

from rich.segment import Segment
from rich.style import Style
from textual.strip import Strip

from heartbeat_tui.tui.styles import Status, level_status, rollout_status, service_status, tasks_status
from heartbeat_tui.tui.text import visible
from heartbeat_tui.tui.view import Column, ServiceRow, Thresholds, age_text, percent_text

# A component style of the table by its name or status (`service-table--<name>`), in the current theme.
StyleOf = Callable[[Status | str], Style]


def fit(text: str, width: int, align: str = "left") -> str:
    """`text` in exactly `width` cells: cut with an ellipsis, or padded on the side `align` says."""
    if len(text) > width:
        return text[: max(0, width - 1)] + "…" if width > 0 else ""
    return text.rjust(width) if align == "right" else text.ljust(width)


def header_strip(
    layout: Sequence[tuple[Column, int]], sort_column: str, sort_reverse: bool, style: Style, style_of: StyleOf
) -> Strip:
    """The column labels; the sorted one with its arrow, each with its sort key (shift+letter) underlined."""

    style += style_of("header")
    segments = []
    underline = style + Style(underline=True)
    for column, width in layout:
        label = column.label
        if column.key == sort_column:
            descending = column.descending_first != sort_reverse
            label += "↓" if descending else "↑"
        text = fit(label, width, column.align)
        # Its sort key (shift+letter), underlined where the label shows it.
        at = text.find(column.letter) if column.letter else -1
        if at < 0:
            segments.append(Segment(text + " ", style))
        else:
            segments += [
                Segment(text[:at], style),
                Segment(text[at], underline),
                Segment(text[at + 1 :] + " ", style),
            ]
    return Strip(segments)


def row_strip(
    row: ServiceRow,
    layout: Sequence[tuple[Column, int]],
    cursor: bool,
    thresholds: Thresholds,
    base: Style,
    style_of: StyleOf,
) -> Strip:
    """One service's line: each cell coloured by its status in the theme (a stale row dim, the cursor's lit)."""

    def with_status(status: Status | None) -> Style:
        """A cell's style for a status: its colour from the theme, bold or dim from the table's CSS."""
        return base if status is None else base + style_of(status)

    if row.stale:
        base += style_of(Status.STALE)
    if cursor:
        base += style_of("cursor")
    segments = []
    for column, width in layout:
        key = column.key
        style = base
        # Names, status, rollout and scaling come from AWS or the configuration.
        if key == "name":
            text = visible(row.name)
        elif key == "account":
            text = visible(row.account)
            if row.stale:
                text += f" {age_text(row.stale_seconds)}"
        elif key == "cluster":
            text = visible(row.cluster)
        elif key == "status":
            text = visible(row.status)
            style = with_status(service_status(row.status))
        elif key == "tasks":
            text = f"{row.running}/{row.desired}"
            style = with_status(tasks_status(row.running, row.desired))
        elif key == "pending":
            text = str(row.pending) if row.pending else ""
        elif key == "rollout":
            text = visible(row.rollout or "-")
            style = with_status(rollout_status(row.rollout))
        elif key in ("cpu", "mem"):
            value = row.cpu if key == "cpu" else row.mem
            level = thresholds.level(value)
            if level != "ok":
                style = with_status(level_status(level))
            spark_width = max(0, width - 5)
            which: Literal["cpu", "mem"] = "cpu" if key == "cpu" else "mem"
            text = f"{row.spark(which, spark_width)} {percent_text(value)}" if spark_width else percent_text(value)
        elif key == "scaling":
            text = visible(row.scaling)
            style = base + style_of("muted") if not row.stale and not cursor else base
        else:  # pragma: no cover - every column is listed above
            text = ""
        segments.append(Segment(fit(text, width, column.align), style))
        segments.append(Segment(" ", base))
    return Strip(segments)
