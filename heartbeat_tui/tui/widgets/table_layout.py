"""How a services table's columns share the terminal's width (pure: no widget, no styles).

Kept apart from the widget because it is the one part of the table with rules
of its own (what gives way first on a narrow terminal, what a wide one's spare
width is spent on) and it is worked out from numbers alone.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from heartbeat_tui.tui.columns import COMPACT_DROP, SERVICE_COLUMNS, Column

# Narrower than this, a table drops its least needed columns (`COMPACT_DROP`) and narrows others.
COMPACT_WIDTH = 100

# A sparkline column's widest (a 20-cell line: three minutes a cell over the hour).
SPARK_MAX = 25


def fit_columns(
    columns: Iterable[str], width: int, name_width: int, content_widths: Mapping[str, int]
) -> list[tuple[Column, int]]:
    """Each shown column and its width, for a table `width` cells wide (0: not laid out yet).

    `name_width`: what the service names want; `content_widths`: the longest
    account and cluster names (fleet view), which those columns grow to.
    """

    compact = 0 < width < COMPACT_WIDTH
    keys = [k for k in columns if not (compact and k in COMPACT_DROP)]
    layout: list[tuple[Column, int]] = []
    # Account and cluster want their longest name (up to 40), not a fixed 16.
    wanted = {k: max(len(SERVICE_COLUMNS[k].label), min(40, w)) for k, w in content_widths.items() if w}
    for key in keys:
        column = SERVICE_COLUMNS[key]
        w = wanted.get(key, column.width)
        if key in ("cpu", "mem") and compact:
            w = 10
        if key in ("account", "cluster") and compact:
            w = min(w, 12)
        layout.append((column, w))
    if width > 0:
        # Fit the width: the last-scaling column, then account and cluster, give way first.
        excess = sum(w for c, w in layout if c.key != "name") + name_width + len(layout) - (width - 1)
        for key, floor in (("scaling", 10), ("account", 12), ("cluster", 12), ("account", 9), ("cluster", 9)):
            if excess <= 0:
                break
            for i, (column, w) in enumerate(layout):
                if column.key == key and w > floor:
                    cut = min(excess, w - floor)
                    layout[i] = (column, w - cut)
                    excess -= cut
    fixed = sum(w for c, w in layout if c.key != "name") + len(layout)
    room = width - 1 - fixed if width > 0 else name_width
    names = max(12, min(name_width, room))
    spare = room - names
    # Width the names leave unused: first account and cluster back up to their
    # longest names, then the CPU and memory sparklines (a longer history per
    # row; at 80 columns back up to their full width, on a wide terminal up to
    # `SPARK_MAX`).
    for key in ("account", "cluster"):
        for i, (column, w) in enumerate(layout):
            if column.key == key and spare > 0 and w < wanted.get(key, 0):
                grow = min(wanted[key] - w, spare)
                layout[i] = (column, w + grow)
                spare -= grow
    limit = {"cpu": SPARK_MAX, "mem": SPARK_MAX} if width > 0 else {}
    if compact:
        limit = {"cpu": SERVICE_COLUMNS["cpu"].width, "mem": SERVICE_COLUMNS["mem"].width}
    cpu_share = (spare + 1) // 2
    for i, (column, w) in enumerate(layout):
        if column.key in limit and spare > 0:
            grow = max(0, min(limit[column.key] - w, cpu_share if column.key == "cpu" else spare))
            layout[i] = (column, w + grow)
            spare -= grow
    return [(c, names if c.key == "name" else w) for c, w in layout]
