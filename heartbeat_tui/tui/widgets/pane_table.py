"""Small DataTables (accounts, clusters) with vim keys, updated by row key."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import ClassVar

from rich.text import Text
from textual.binding import Binding, BindingType
from textual.widgets import DataTable

Cell = str | Text


def _fit(cell: Cell, width: int) -> Cell:
    """Leave one column free at the right of every cell (the gap between columns)."""

    room = width - 1
    if isinstance(cell, Text):
        if cell.cell_len > room:
            cell = cell.copy()
            cell.truncate(room, overflow="ellipsis")
        return cell
    return cell if len(cell) <= room else cell[: room - 1] + "…"


class PaneTable(DataTable):
    """A DataTable that is only ever updated in place: `sync` never clears."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("j", "cursor_down", "Down", id="pane.down", show=False),
        Binding("k", "cursor_up", "Up", id="pane.up", show=False),
        Binding("g", "scroll_top", "First row", id="pane.first", show=False),
        Binding("G", "scroll_bottom", "Last row", id="pane.last", show=False),
    ]

    def __init__(
        self,
        columns: Sequence[tuple[str, str, int]],
        *,
        sort_columns: Sequence[str] = (),
        id: str | None = None,  # noqa: A002
    ) -> None:
        # No cell padding: the fixed widths include the gap, so the panes fit 80 columns.
        super().__init__(id=id, cursor_type="row", zebra_stripes=False, show_row_labels=False, cell_padding=0)
        self.sort_columns = tuple(sort_columns)
        self._column_specs = columns
        self._shown: dict[str, tuple[Cell, ...]] = {}

    def on_mount(self) -> None:
        # Fixed widths: a cell that grows later (an "error 5m" badge) is never cut,
        # and no update ever recomputes the widths.
        for key, label, width in self._column_specs:
            self.add_column(label, key=key, width=width)

    def sync(self, rows: Mapping[str, Sequence[Cell]], *, force: bool = False) -> bool:
        """Rows by key, in display order: update changed cells, add new rows,
        remove gone ones. Returns True when the set of rows changed."""

        shown = self._shown
        gone = [key for key in shown if key not in rows]
        for key in gone:
            self.remove_row(key)
            del shown[key]
        added = False
        column_keys = [spec[0] for spec in self._column_specs]
        widths = [spec[2] for spec in self._column_specs]
        for key, raw in rows.items():
            cells = tuple(_fit(cell, width) for cell, width in zip(raw, widths))
            before = shown.get(key)
            if before is None:
                self.add_row(*cells, key=key)
                added = True
            elif force or before != cells:
                for column, old, new in zip(column_keys, before, cells):
                    if force or old != new:
                        self.update_cell(key, column, new)
            shown[key] = cells
        if added and self.sort_columns:
            # Only plain-text columns are sort keys (Rich Text does not order).
            self.sort(*self.sort_columns)
        return bool(gone or added)

    @property
    def cursor_key(self) -> str | None:
        if not self.row_count or self.cursor_row < 0:
            return None
        try:
            return self.coordinate_to_cell_key(self.cursor_coordinate).row_key.value
        except Exception:  # noqa: BLE001 - an empty or shrinking table
            return None

    def move_to_key(self, key: str) -> None:
        try:
            self.move_cursor(row=self.get_row_index(key), animate=False)
        except Exception:  # noqa: BLE001 - the row is gone
            pass
