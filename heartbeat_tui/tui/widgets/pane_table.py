"""Small DataTables (accounts, clusters) with vim keys, updated by row key.

Each pane has its columns for a wide terminal and, optionally, a narrower set
(fewer columns, shorter values) used when the wide one would not fit beside
the other pane (80 columns): the pane never scrolls sideways. The first
column takes whatever width is left. Rows are given as cells by column key,
so a pane can switch between its sets by itself when the terminal is resized,
keeping its cursor on the same row."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

from rich.text import Text
from textual import events
from textual.binding import Binding, BindingType
from textual.widgets import DataTable

from heartbeat_tui.tui.text import plain

Cell = str | Text
ColumnSpec = tuple[str, str, int]  # key, label, width (the gap to the next column included)
MIN_FIRST_COLUMN = 8


def _fit(cell: Cell, width: int) -> Text:
    """Leave one column free at the right of every cell (the gap between columns).

    A `str` cell is untrusted text (a name, an alias): DataTable would parse it
    as markup, so it becomes a plain `Text` with visible escapes. A `Text`
    cell was built through `heartbeat_tui.tui.text` already."""

    room = width - 1
    if not isinstance(cell, Text):
        cell = plain(cell)
    if cell.cell_len > room:
        cell = cell.copy()
        cell.truncate(room, overflow="ellipsis")
    return cell


def _sort_key(cells: object) -> object:
    """DataTable sorts cell values; Rich Text has no order, its plain string does."""

    if isinstance(cells, tuple):
        return tuple(c.plain if isinstance(c, Text) else c for c in cells)
    return cells.plain if isinstance(cells, Text) else cells


class PaneTable(DataTable[Any]):
    """A DataTable that is only ever updated in place: `sync` never clears."""

    # As in the services table: the cursor is a background only, so a red badge stays
    # red on the selected row, and dim in a pane without the focus.
    DEFAULT_CSS = """
    PaneTable > .datatable--cursor { background: $foreground 10%; color: $foreground; text-style: none; }
    PaneTable:focus > .datatable--cursor { background: $primary 28%; color: $foreground; text-style: bold; }
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("j", "cursor_down", "Down", id="pane.down", show=False),
        Binding("k", "cursor_up", "Up", id="pane.up", show=False),
        Binding("g", "scroll_top", "First row", id="pane.first", show=False),
        Binding("G", "scroll_bottom", "Last row", id="pane.last", show=False),
    ]

    def __init__(
        self,
        columns: Sequence[ColumnSpec],
        *,
        narrow: Sequence[ColumnSpec] | None = None,
        sort_columns: Sequence[str] = (),
        id: str | None = None,
    ) -> None:
        # No cell padding: the fixed widths include the gap, so the panes fit 80 columns.
        super().__init__(
            id=id,
            cursor_type="row",
            zebra_stripes=False,
            show_row_labels=False,
            cell_padding=0,
            cursor_foreground_priority="renderable",
        )
        self.sort_columns = tuple(sort_columns)
        self._wide = tuple(columns)
        self._narrow = tuple(narrow) if narrow else None
        self._column_specs: tuple[ColumnSpec, ...] = ()
        self._rows: Mapping[str, Mapping[str, Cell]] = {}
        self._shown: dict[str, tuple[Text, ...]] = {}

    @property
    def is_narrow(self) -> bool:
        """True while the narrower set of columns is shown."""

        return self._narrow is not None and [c[0] for c in self._column_specs] == [c[0] for c in self._narrow]

    def layout_for(self, width: int) -> tuple[ColumnSpec, ...]:
        """The columns for `width` cells: the wide set when it fits, else the
        narrow one; the first column gets what is left (never less than 8)."""

        specs = self._wide
        if width > 0 and self._narrow is not None and sum(c[2] for c in self._wide) > width:
            specs = self._narrow
        if width <= 0:
            return specs
        (key, label, first), rest = specs[0], specs[1:]
        room = width - sum(c[2] for c in rest)
        return ((key, label, max(MIN_FIRST_COLUMN, min(room, first * 2))), *rest)

    def _room(self) -> int:
        # A vertical scrollbar's width is always set aside: rows that arrive
        # later never push the last column out of sight.
        return self.size.width - self.styles.scrollbar_size_vertical

    def on_mount(self) -> None:
        self._apply_layout(self.layout_for(self._room()))

    def on_resize(self, event: events.Resize) -> None:
        specs = self.layout_for(self._room())
        if specs != self._column_specs:
            self._apply_layout(specs)

    def _apply_layout(self, specs: tuple[ColumnSpec, ...]) -> None:
        """Fixed widths: a cell that grows later (an "error 5m" badge) is never
        cut, and no update recomputes them; a new layout rebuilds the columns,
        keeping the cursor's row (no highlight events: the selection stays)."""

        cursor = self.cursor_key
        with self.prevent(DataTable.RowHighlighted, DataTable.CellHighlighted):
            if self._column_specs:
                self.clear(columns=True)
            self._column_specs = specs
            self._shown = {}
            for key, label, width in specs:
                self.add_column(label, key=key, width=width)
            if self._rows:
                self.sync(self._rows)
            if cursor is not None:
                self.move_to_key(cursor)

    def sync(self, rows: Mapping[str, Mapping[str, Cell]], *, force: bool = False) -> bool:
        """Rows by key, in display order, each its cells by column key (columns
        not shown are ignored): update changed cells, add new rows, remove gone
        ones. Returns True when the set of rows changed."""

        self._rows = rows
        shown = self._shown
        gone = [key for key in shown if key not in rows]
        for key in gone:
            self.remove_row(key)
            del shown[key]
        added = False
        column_keys = [spec[0] for spec in self._column_specs]
        widths = [spec[2] for spec in self._column_specs]
        for key, raw in rows.items():
            cells = tuple(_fit(raw.get(column, ""), width) for column, width in zip(column_keys, widths))
            before = shown.get(key)
            if before is None:
                self.add_row(*cells, key=key)
                added = True
            elif force or before != cells:
                for column, old, new in zip(column_keys, before, cells):
                    if force or old != new:
                        self.update_cell(key, column, new)
            shown[key] = cells
        sort_columns = [key for key in self.sort_columns if key in column_keys]
        if added and sort_columns:
            self.sort(*sort_columns, key=_sort_key)
        return bool(gone or added)

    @property
    def cursor_key(self) -> str | None:
        if not self.row_count or self.cursor_row < 0:
            return None
        try:
            return self.coordinate_to_cell_key(self.cursor_coordinate).row_key.value
        except Exception:  # an empty or shrinking table
            return None

    def move_to_key(self, key: str) -> None:
        try:
            self.move_cursor(row=self.get_row_index(key), animate=False)
        except Exception:  # the row is gone
            pass
