"""A services table's next order, worked out off the UI's event loop.

At 40,000 services a refresh cannot compare, filter and sort every row on the
loop: 50 ms is about a microsecond a row, and a poll that crosses a minute
changes every row (each series gets its new point). `plan_order` does that work
wherever it is called: the dashboard calls it in the thread that builds the
`FleetView`, against the rows the table shows and its sort, filter and
problems-only switch at that moment. The table adopts the plan in time
proportional to the rows on screen if it still shows those rows with that
query, and otherwise works the order out itself, with the same function (the
operator re-sorted or filtered while the view was being built).

Pure: no Textual here.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

from heartbeat_tui.filters import Filter
from heartbeat_tui.tui.view import SERVICE_COLUMNS, ServiceRow, sort_rows


@dataclass(frozen=True, slots=True)
class TableQuery:
    """What decides which rows a table shows, and in what order."""

    sort_column: str
    sort_reverse: bool
    filter: Filter
    problems_only: bool

    def same(self, other: TableQuery) -> bool:
        # A filter is compiled once per edit: the same text typed again is a new
        # object and costs one re-sort, never a wrong order.
        return (
            self.sort_column == other.sort_column
            and self.sort_reverse == other.sort_reverse
            and self.problems_only == other.problems_only
            and self.filter is other.filter
        )

    @property
    def everything(self) -> bool:
        return self.filter.empty and not self.problems_only

    def shows(self, row: ServiceRow) -> bool:
        return (not self.problems_only or row.problem) and (self.filter.empty or self.filter(row))


@dataclass(frozen=True, slots=True, eq=False)
class TablePlan:
    """The table's next rows and order, against the rows it showed (`base`)."""

    base: Mapping[str, ServiceRow]
    query: TableQuery
    rows: dict[str, ServiceRow]
    # None: every row keeps its place (same keys, no sort key or match changed).
    order: list[str] | None
    index: dict[str, int] | None
    changed: int  # rows that look different
    # The longest service, account and cluster names (columns are sized to
    # them); None when the set of rows is the same as `base`'s.
    widths: dict[str, int] | None


Planner = Callable[[Mapping[str, ServiceRow]], TablePlan]


def order_of(rows: Mapping[str, ServiceRow], query: TableQuery) -> tuple[list[str], dict[str, int]]:
    """The keys shown, in order, and each one's place."""

    shown = rows.values() if query.everything else [row for row in rows.values() if query.shows(row)]
    order = sort_rows(shown, query.sort_column, query.sort_reverse)
    return order, {key: i for i, key in enumerate(order)}


def name_widths(rows: Mapping[str, ServiceRow]) -> dict[str, int]:
    values = rows.values()
    return {
        "name": max((len(r.name) for r in values), default=0),
        "account": max((len(r.account) for r in values), default=0),
        "cluster": max((len(r.cluster) for r in values), default=0),
    }


def plan_order(base: Mapping[str, ServiceRow], rows: Mapping[str, ServiceRow], query: TableQuery) -> TablePlan:
    """Compare `rows` with `base` and order them for `query`; O(rows).

    A row that is the same object as before (its service unchanged) costs one
    identity test. One that looks the same (equal `signature`) takes over the
    sparklines already drawn for it. The rows are sorted again only when one
    was added or removed, or a changed row's sort key, filter match or problem
    changed.
    """

    new = dict(rows)
    sort_key = SERVICE_COLUMNS[query.sort_column].sort_key
    filt = query.filter
    reorder = len(base) != len(new)
    added = reorder
    changed = 0
    for key, row in new.items():
        prev = base.get(key)
        if prev is row:
            continue
        if prev is None:
            reorder = added = True
            continue
        if prev.signature == row.signature:
            row._sparks = prev._sparks  # same look: keep the sparklines drawn (`row` is not shown yet)
            continue
        changed += 1
        if not reorder and (
            sort_key(prev) != sort_key(row)
            or (not filt.empty and filt(prev) != filt(row))
            or (query.problems_only and prev.problem != row.problem)
        ):
            reorder = True
    order, index = order_of(new, query) if reorder else (None, None)
    return TablePlan(base, query, new, order, index, changed, name_widths(new) if added else None)


__all__ = ["Planner", "TablePlan", "TableQuery", "name_widths", "order_of", "plan_order"]
