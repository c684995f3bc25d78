"""Braille line plots of percent series, with percent and time axes.

Pure (no Textual): `plot_lines` returns rows of (text, style-name) runs that
the MetricPlot widget colours with theme variables. Each character cell holds
2x4 braille dots, so a 60-column plot shows 120 time buckets.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from heartbeat_tui.models import MetricSeries

Run = tuple[str, str | None]  # text, style name (None: default)

# Braille dot bits by (column in cell, row in cell from the top).
_DOTS = ((0x01, 0x02, 0x04, 0x40), (0x08, 0x10, 0x20, 0x80))
AXIS_WIDTH = 5  # "100%" + axis line


@dataclass(frozen=True)
class PlotSeries:
    label: str
    series: MetricSeries
    style: str  # a theme variable name, e.g. styles.PLOT_AVERAGE
    aggregate: str = "mean"  # how points in one dot column combine: "mean" | "max"


def _columns(series: MetricSeries, start: float, end: float, count: int, aggregate: str) -> list[float | None]:
    return series.buckets(start, end, count, "max" if aggregate == "max" else "mean")


def nice_ceiling(value: float) -> float:
    """The y-axis top: 100 % unless something went above it (ECS can)."""

    return 100.0 if value <= 100 else float(math.ceil(value / 50.0) * 50)


def plot_lines(
    series: Sequence[PlotSeries],
    *,
    start: float,
    end: float,
    width: int,
    height: int,
    time_label: Callable[[float], str],
) -> list[list[Run]]:
    """`height` plot rows plus an axis row and a time-label row, `width` cells wide."""

    plot_width = max(4, width - AXIS_WIDTH)
    plot_height = max(2, height)
    dots_x, dots_y = plot_width * 2, plot_height * 4
    columns = [(s, _columns(s.series, start, end, dots_x, s.aggregate)) for s in series]
    highest = max((v for _, cols in columns for v in cols if v is not None), default=0.0)
    top = nice_ceiling(highest)
    bits = [[0] * plot_width for _ in range(plot_height)]
    owner: list[list[str | None]] = [[None] * plot_width for _ in range(plot_height)]
    for spec, cols in columns:
        previous: int | None = None
        for x, value in enumerate(cols):
            if value is None:
                previous = None
                continue
            y = min(dots_y - 1, max(0, round(value / top * (dots_y - 1))))
            low, high = (y, y) if previous is None else (min(y, previous), max(y, previous))
            for dot in range(low, high + 1):
                row_from_top = dots_y - 1 - dot
                cell_y, in_cell = divmod(row_from_top, 4)
                cell_x, dx = divmod(x, 2)
                bits[cell_y][cell_x] |= _DOTS[dx][in_cell]
                owner[cell_y][cell_x] = spec.style
            previous = y
    rows: list[list[Run]] = []
    label_rows = {0: f"{top:.0f}%", plot_height // 2: f"{top / 2:.0f}%", plot_height - 1: "0%"}
    for cell_y in range(plot_height):
        label = label_rows.get(cell_y, "")
        runs: list[Run] = [(f"{label:>{AXIS_WIDTH - 1}}┤" if label else " " * (AXIS_WIDTH - 1) + "│", "axis")]
        current_style: str | None = None
        text = ""
        for cell_x in range(plot_width):
            value = bits[cell_y][cell_x]
            style = owner[cell_y][cell_x] if value else None
            char = chr(0x2800 + value) if value else " "
            if style != current_style and text:
                runs.append((text, current_style))
                text = ""
            current_style = style
            text += char
        if text:
            runs.append((text, current_style))
        rows.append(runs)
    rows.append([(" " * (AXIS_WIDTH - 1) + "└" + "─" * plot_width, "axis")])
    rows.append([(_time_axis(start, end, plot_width, time_label), "axis")])
    return rows


def _time_axis(start: float, end: float, width: int, label: Callable[[float], str]) -> str:
    line = [" "] * (AXIS_WIDTH + width)
    ticks = 4 if width >= 40 else 2
    for i in range(ticks + 1):
        text = label(start + (end - start) * i / ticks)
        position = AXIS_WIDTH + round(width * i / ticks) - len(text) // 2
        position = max(0, min(len(line) - len(text), position))
        if all(c == " " for c in line[max(0, position - 1) : position + len(text) + 1]):
            line[position : position + len(text)] = text
    return "".join(line).rstrip()
