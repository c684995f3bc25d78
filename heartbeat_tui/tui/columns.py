"""The services tables' columns: labels, widths, sort keys and the keys that sort by them.

One declaration a column drives the header, the sort (`s`, shift+letter, a
click on the header), the help's line of sort keys and which columns a narrow
terminal drops; apart from the rows (view.py), which do not need to know how
they are ordered.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

if TYPE_CHECKING:
    from heartbeat_tui.tui.view import ServiceRow


@dataclass(frozen=True)
class Column:
    key: str
    label: str
    width: int
    align: Literal["left", "right"] = "left"
    # Sort key for one row; numbers sort descending first (hottest on top).
    sort_key: Callable[[ServiceRow], Any] = lambda row: row.name
    descending_first: bool = False
    # Its sort key (shift+letter, as k9s has them): a letter of the label, underlined in the header.
    letter: str = ""
    # How the title names the order when it is no column's arrow (the severity order).
    order_text: tuple[str, str] | None = None


def _none_low(value: float | None) -> float:
    return -1.0 if value is None else value


_ROLLOUT_RANK = {"FAILED": 0, "IN_PROGRESS": 1, "COMPLETED": 2, None: 3}

# The default order of the services pane and the fleet view: worst first (severity.py).
SEVERITY = "severity"

SERVICE_COLUMNS: dict[str, Column] = {
    c.key: c
    for c in (
        Column("account", "ACCOUNT", 16, sort_key=lambda r: (r.account, r.name), letter="A"),
        Column("cluster", "CLUSTER", 16, sort_key=lambda r: (r.cluster, r.name), letter="U"),
        Column("name", "SERVICE", 28, sort_key=lambda r: r.name, letter="E"),
        Column("status", "STATUS", 8, sort_key=lambda r: (r.status, r.name), letter="T"),
        Column(
            "tasks",
            "RUN/DES",
            7,
            "right",
            sort_key=lambda r: (r.running - r.desired, -r.desired, r.name),
            letter="R",
        ),
        Column(
            "pending", "PEND", 4, "right", sort_key=lambda r: (r.pending, r.name), descending_first=True, letter="D"
        ),
        Column(
            "rollout",
            "ROLLOUT",
            11,
            sort_key=lambda r: (_ROLLOUT_RANK.get(r.rollout, 3), r.name),
            letter="O",
        ),
        Column("cpu", "CPU", 15, sort_key=lambda r: (_none_low(r.cpu), r.name), descending_first=True, letter="C"),
        Column("mem", "MEM", 15, sort_key=lambda r: (_none_low(r.mem), r.name), descending_first=True, letter="M"),
        Column(
            "scaling",
            "LAST SCALING",
            18,
            sort_key=lambda r: (r.scaling[-5:], r.name),
            descending_first=True,
            letter="I",
        ),
        # Not a column of its own: the rows' colours already say it.
        Column(
            SEVERITY,
            "SEVERITY",
            0,
            sort_key=lambda r: (*r.rank, r.name),
            letter="P",
            order_text=("worst first", "worst last"),
        ),
    )
}

# Shift+letter -> the column it sorts by.
SORT_LETTERS: dict[str, str] = {c.letter: c.key for c in SERVICE_COLUMNS.values() if c.letter}
SORT_HELP = (
    "Column sort keys (services tables): shift+letter, underlined in the column's header; again reverses: "
    + ", ".join(
        f"{c.letter} {c.order_text[0] if c.order_text else c.label.lower()}"
        for c in SERVICE_COLUMNS.values()
        if c.letter
    )
    + ". ctrl+z: problems only, in every table."
)

CLUSTER_TABLE_COLUMNS = ("name", "status", "tasks", "pending", "rollout", "cpu", "mem", "scaling")
FLEET_TABLE_COLUMNS = ("account", "cluster", "name", "status", "tasks", "rollout", "cpu", "mem", "scaling")
COMPACT_DROP = ("pending", "scaling", "status")


def sort_rows(rows: Iterable[ServiceRow], column: str, reverse: bool) -> list[str]:
    col = SERVICE_COLUMNS[column]
    descending = col.descending_first != reverse
    return [r.key for r in sorted(rows, key=col.sort_key, reverse=descending)]
