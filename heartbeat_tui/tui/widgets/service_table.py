"""A services table on Textual's line API, for fleets of thousands of services.

Only visible lines are rendered. Rows live in a dict keyed by service ARN plus
a sorted list of the keys that pass the filter; a refresh compares row
signatures, so only changed rows are repainted, new ones added and gone ones
removed. The list is re-sorted only when a row was added or removed or a
changed row's sort key (or filter match) changed. That comparison and the sort
can be done off the loop (`planner`, table_order.py): at 40,000 services they
are what a refresh costs. The cursor follows its row by key, and keeps its
place on screen, across every refresh, sort and filter.

What a line shows is table_lines.py's, how the columns share the width
table_layout.py's; this module keeps the rows, their order, the cursor and
the caches.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from typing import ClassVar

from rich.segment import Segment
from rich.style import Style
from textual import events
from textual.binding import Binding, BindingType
from textual.geometry import Size
from textual.message import Message
from textual.reactive import reactive
from textual.scroll_view import ScrollView
from textual.strip import Strip

from heartbeat_tui.filters import EMPTY_FILTER, Filter
from heartbeat_tui.tui.messages import LogsRequested
from heartbeat_tui.tui.styles import Status
from heartbeat_tui.tui.table_order import Planner, TablePlan, TableQuery, order_of, plan_order
from heartbeat_tui.tui.text import visible
from heartbeat_tui.tui.view import SERVICE_COLUMNS, SEVERITY, SORT_LETTERS, Column, ServiceRow, Thresholds
from heartbeat_tui.tui.widgets.table_layout import fit_columns
from heartbeat_tui.tui.widgets.table_lines import fit, header_strip, row_strip

__all__ = ["ServiceTable"]

_CACHE_LIMIT = 400


class ServiceTable(ScrollView, can_focus=True):
    """Services, one per line; `set_rows` applies a refresh in place."""

    DEFAULT_CSS = """
    ServiceTable {
        background: $surface;
        height: 1fr;
        scrollbar-size-horizontal: 1;
        scrollbar-size-vertical: 1;
    }
    ServiceTable > .service-table--header { text-style: bold; color: $text-accent; background: $panel; }
    /* The cursor is a background only: a red FAILED keeps its colour on the selected
       row. A pane without the focus shows where its cursor is, dimly. */
    ServiceTable > .service-table--cursor { background: $foreground 10%; }
    ServiceTable:focus > .service-table--cursor { background: $primary 28%; text-style: bold; }
    ServiceTable > .service-table--warning { color: $hb-warning; }
    ServiceTable > .service-table--critical { color: $hb-critical; text-style: bold; }
    ServiceTable > .service-table--failed { color: $hb-failed; text-style: bold; }
    ServiceTable > .service-table--progress { color: $hb-progress; }
    ServiceTable > .service-table--stale { color: $hb-stale; text-style: dim; }
    ServiceTable > .service-table--muted { color: $text-muted; }
    ServiceTable > .service-table--empty { color: $text-muted; text-style: italic; }
    """

    COMPONENT_CLASSES: ClassVar[set[str]] = {
        "service-table--header",
        "service-table--cursor",
        "service-table--warning",
        "service-table--critical",
        "service-table--failed",
        "service-table--progress",
        "service-table--stale",
        "service-table--muted",
        "service-table--empty",
    }

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("j,down", "cursor_down", "Down", id="table.down", show=False),
        Binding("k,up", "cursor_up", "Up", id="table.up", show=False),
        Binding("g,home", "first", "First row", id="table.first", show=False),
        Binding("G,end", "last", "Last row", id="table.last", show=False),
        Binding("pagedown,ctrl+f", "page_down", "Page down", id="table.page_down", show=False),
        Binding("pageup,ctrl+b", "page_up", "Page up", id="table.page_up", show=False),
        Binding("enter", "select", "Detail", id="table.select"),
        # `l` is next pane on the dashboard; in a services table there is no pane further
        # right, so it opens the service's logs (as `l` opens in vi-like file managers).
        Binding("l", "logs", "Logs", id="table.logs", show=False),
        Binding("s", "cycle_sort", "Sort", id="table.sort"),
        Binding("S", "reverse_sort", "Reverse sort", id="table.reverse", show=False),
        # As k9s has them: shift+letter sorts by a column (the letter underlined in
        # its header), again reverses; P is the severity order, worst first. No
        # description: help says it in one line (`SORT_HELP`), not eleven.
        *(
            Binding(letter, f"sort_column('{column}')", "", id=f"table.sort_{column}", show=False)
            for letter, column in SORT_LETTERS.items()
        ),
    ]

    class Highlighted(Message):
        def __init__(self, table: ServiceTable, row: ServiceRow | None) -> None:
            super().__init__()
            self.table = table
            self.row = row

        @property
        def control(self) -> ServiceTable:
            return self.table

    class Selected(Message):
        def __init__(self, table: ServiceTable, row: ServiceRow) -> None:
            super().__init__()
            self.table = table
            self.row = row

        @property
        def control(self) -> ServiceTable:
            return self.table

    class OrderChanged(Message):
        """Sort, filter or the set of rows changed (for titles and counts)."""

        def __init__(self, table: ServiceTable) -> None:
            super().__init__()
            self.table = table

        @property
        def control(self) -> ServiceTable:
            return self.table

    thresholds: reactive[Thresholds] = reactive(Thresholds, always_update=True, layout=False)
    # Beyond this many rows a sort or filter the operator asks for is worked out in a thread.
    SORT_ON_LOOP_ROWS: ClassVar[int] = 5000

    def __init__(
        self,
        columns: tuple[str, ...],
        *,
        sort: tuple[str, bool] = (SEVERITY, False),
        thresholds: Thresholds | None = None,
        empty_text: str = "no services",
        name: str | None = None,
        id: str | None = None,  # Textual's spelling
        classes: str | None = None,
    ) -> None:
        super().__init__(name=name, id=id, classes=classes)
        self.all_columns = columns
        self.sort_column, self.sort_reverse = sort
        self.set_reactive(ServiceTable.thresholds, thresholds or Thresholds())
        self.empty_text = empty_text
        self._rows: dict[str, ServiceRow] = {}
        self._order: list[str] = []
        self._index: dict[str, int] = {}
        self._cursor = 0
        self._cursor_key: str | None = None
        self._filter: Filter = EMPTY_FILTER
        self._problems_only = False
        self._layout: list[tuple[Column, int]] = []
        self._layout_width = -1
        self._name_width = 14
        # The longest account and cluster names (fleet view): their columns are sized to them.
        self._content_widths: dict[str, int] = {}
        self._strips: dict[tuple[str, bool], tuple[tuple[object, ...], Strip]] = {}
        self._styles: dict[str, Style] = {}
        self._header: Strip | None = None
        # For the benchmark and tests: how many rows the last refresh repainted.
        self.last_changed = 0
        self.last_resorted = False

    # -- public API -------------------------------------------------------------

    @property
    def rows(self) -> Mapping[str, ServiceRow]:
        return self._rows

    @property
    def order(self) -> list[str]:
        """Keys of the rows shown, in order."""
        return self._order

    @property
    def cursor_row(self) -> ServiceRow | None:
        if 0 <= self._cursor < len(self._order):
            return self._rows[self._order[self._cursor]]
        return None

    @property
    def cursor_index(self) -> int:
        return self._cursor

    @property
    def filter(self) -> Filter:
        return self._filter

    @property
    def problems_only(self) -> bool:
        return self._problems_only

    def set_problems_only(self, on: bool) -> None:
        """Show only the services with a problem (severity.py), or all again."""
        if on != self._problems_only:
            self._problems_only = on
            self._rebuild_order()

    @property
    def table_query(self) -> TableQuery:
        """The sort, filter and problems-only switch the order follows now."""
        return TableQuery(self.sort_column, self.sort_reverse, self._filter, self._problems_only)

    def planner(self) -> Planner:
        """`plan_order` against the rows shown now, with the query of now: for a
        thread to call with the next rows; `set_rows` takes its plan if it still fits."""

        base, query = self._rows, self.table_query
        return lambda rows: plan_order(base, rows, query)

    def set_rows(self, rows: Mapping[str, ServiceRow], plan: TablePlan | None = None) -> None:
        """Apply a refresh: changed rows repainted, new ones added, gone ones removed.

        With a `plan` made for these rows off the loop (`planner`), the work here
        is proportional to the rows on screen; a plan made against other rows or
        another query is ignored and the order worked out here.
        """

        if plan is None or plan.base is not self._rows or not plan.query.same(self.table_query):
            plan = plan_order(self._rows, rows, self.table_query)
        old = self._rows
        self._rows = plan.rows
        self.last_changed = plan.changed
        self.last_resorted = plan.order is not None
        if plan.widths is not None:
            self._fit_names(plan.widths)
        if plan.order is not None and plan.index is not None:
            self._apply_order(plan.order, plan.index, old)
            return
        # Every row kept its place: repaint the changed ones on screen.
        top = int(self.scroll_offset.y)
        for index in range(top, min(len(self._order), top + self.size.height)):
            key = self._order[index]
            if old.get(key) is not self._rows[key]:
                self.refresh_line(index + 1)

    def _fit_names(self, widths: Mapping[str, int]) -> None:
        """Size the name columns to the longest names (the service's grows only, up to 40)."""

        if widths["name"] > self._name_width:
            self._name_width = min(40, widths["name"])
            self._layout_width = -1
        if any(k in self.all_columns for k in ("account", "cluster")):
            content = {"account": widths["account"], "cluster": widths["cluster"]}
            if content != self._content_widths:
                self._content_widths = content
                self._layout_width = -1

    def set_filter(self, filt: Filter) -> None:
        self._filter = filt
        self._rebuild_order()

    def sort_by(self, column: str, reverse: bool = False) -> None:
        """Sort by a column (or `severity`); the cursor goes to the top row, as
        the operator sorts to see what comes first."""

        if column not in SERVICE_COLUMNS:
            raise ValueError(f"unknown column {column!r}")
        self.sort_column, self.sort_reverse = column, reverse
        self._header = None
        self._cursor_key = None
        self._cursor = 0
        self.scroll_to(y=0, animate=False, immediate=True)
        self._rebuild_order()

    def move_cursor(self, index: int) -> None:
        if not self._order:
            self._cursor, self._cursor_key = 0, None
            return
        index = max(0, min(index, len(self._order) - 1))
        previous = self._cursor
        self._cursor = index
        self._cursor_key = self._order[index]
        self.refresh_line(previous + 1)
        self.refresh_line(index + 1)
        self._scroll_cursor_into_view()
        if previous != index:
            self.post_message(self.Highlighted(self, self.cursor_row))

    def select_key(self, key: str) -> bool:
        index = self._index.get(key)
        if index is None:
            return False
        self.move_cursor(index)
        return True

    @property
    def sort_description(self) -> str:
        column = SERVICE_COLUMNS[self.sort_column]
        if column.order_text is not None:
            return column.order_text[self.sort_reverse]
        descending = column.descending_first != self.sort_reverse
        return f"{column.label.lower()}{'↓' if descending else '↑'}"

    def visible_columns(self) -> list[str]:
        self._ensure_layout()
        return [c.key for c, _ in self._layout]

    # -- ordering -------------------------------------------------------------------

    def _rebuild_order(self) -> None:
        """Order the rows for the sort, filter and switch of now: on the loop for a
        table of up to `SORT_ON_LOOP_ROWS` rows, in a thread beyond (40,000 rows are
        60-130 ms of sorting; the header shows the new sort at once, the rows
        follow). A result is taken only if the table still shows the rows and
        query it was worked out for: a refresh or another key meanwhile wins."""

        query = self.table_query
        if len(self._rows) <= self.SORT_ON_LOOP_ROWS or not self.is_running:
            self._apply_order(*order_of(self._rows, query))
            return
        self.refresh_line(0)  # the header: the new sort's arrow
        self.run_worker(self._order_off_loop(self._rows, query), group="table-order", exclusive=True)

    async def _order_off_loop(self, rows: Mapping[str, ServiceRow], query: TableQuery) -> None:
        order, index = await asyncio.to_thread(order_of, rows, query)
        if rows is self._rows and query.same(self.table_query):
            self._apply_order(order, index)

    def _apply_order(
        self, order: list[str], index: dict[str, int], old_rows: Mapping[str, ServiceRow] | None = None
    ) -> None:
        """Show `order`; the cursor stays on its row, at its place on screen.

        `old_rows`: the rows shown until now (a refresh of the data, not a new
        sort or filter): when the table did not scroll, only the lines that show
        another row, or a changed one, are repainted. A new minute re-sorts the
        fleet, but most lines on screen keep their row (a whole 200x60 table is
        15-30 ms of the event loop to repaint, a line a fraction of one)."""

        cursor_key = self._cursor_key
        top_before = int(self.scroll_offset.y)
        screen_offset = self._cursor - top_before
        shown_before = self._shown_lines() if old_rows is not None else None
        layout_before = self._layout
        self._order = order
        self._index = index
        if cursor_key is not None and cursor_key in self._index:
            self._cursor = self._index[cursor_key]
        else:
            self._cursor = max(0, min(self._cursor, len(self._order) - 1))
            self._cursor_key = self._order[self._cursor] if self._order else None
        self._update_virtual_size()
        if self.size.height:
            target = self._cursor - max(0, min(screen_offset, self.size.height - 2))
            self.scroll_to(y=max(0, target), animate=False, immediate=True)
            self._scroll_cursor_into_view()
        if (
            shown_before is None
            or old_rows is None
            or int(self.scroll_offset.y) != top_before
            or self._layout != layout_before  # names grew: the columns moved
            or not self._order
            or not shown_before
            or shown_before[0][0] is None  # the line that said why the table was empty
        ):
            self.refresh()
        else:
            for line, (before, now) in enumerate(zip(shown_before, self._shown_lines(), strict=True)):
                if before != now or (now[0] is not None and old_rows.get(now[0]) is not self._rows[now[0]]):
                    self.refresh_line(top_before + line + 1)
        self.post_message(self.OrderChanged(self))
        if cursor_key != self._cursor_key:
            self.post_message(self.Highlighted(self, self.cursor_row))

    def _shown_lines(self) -> list[tuple[str | None, bool]]:
        """Each row line on screen: its row's key (None: past the last row) and whether the cursor is on it."""

        top = int(self.scroll_offset.y)
        lines = []
        for index in range(top, top + max(0, self.size.height - 1)):
            key = self._order[index] if index < len(self._order) else None
            lines.append((key, index == self._cursor))
        return lines

    def _update_virtual_size(self) -> None:
        self._ensure_layout()
        width = sum(w for _, w in self._layout) + len(self._layout)
        self.virtual_size = Size(width, len(self._order) + 1)

    def _scroll_cursor_into_view(self) -> None:
        height = self.scrollable_content_region.height - 1  # less the header line
        if height <= 0:
            return
        top = int(self.scroll_offset.y)
        if self._cursor < top:
            self.scroll_to(y=self._cursor, animate=False, immediate=True)
        elif self._cursor >= top + height:
            self.scroll_to(y=self._cursor - height + 1, animate=False, immediate=True)

    # -- layout and styles ------------------------------------------------------------

    def _ensure_layout(self) -> None:
        width = self.size.width
        if width == self._layout_width and self._layout:
            return
        self._layout_width = width
        self._layout = fit_columns(self.all_columns, width, self._name_width, self._content_widths)
        self._strips.clear()
        self._header = None

    def notify_style_update(self) -> None:
        super().notify_style_update()
        self._styles.clear()
        self._strips.clear()
        self._header = None

    def _style(self, part: Status | str) -> Style:
        name = part.value if isinstance(part, Status) else part
        style = self._styles.get(name)
        if style is None:
            style = self.get_component_rich_style(f"service-table--{name}", partial=True)
            background = self.get_component_styles(f"service-table--{name}").background
            if 0 < background.a < 1:
                # A partial Rich style drops the alpha: blend it over the table, as Textual paints it.
                style += Style(bgcolor=(self.background_colors[1] + background).rich_color)
            self._styles[name] = style
        return style

    def _base_style(self) -> Style:
        """The table's own style (`rich_style` walks every ancestor's styles: a
        quarter of a millisecond a line), kept until the styles change."""

        style = self._styles.get("")
        if style is None:
            style = self._styles[""] = self.rich_style
        return style

    def on_resize(self, event: events.Resize) -> None:
        self._ensure_layout()
        self._update_virtual_size()
        self._scroll_cursor_into_view()

    def on_focus(self) -> None:
        self._styles.clear()
        self._strips.clear()
        self.refresh()

    def on_blur(self) -> None:
        self._styles.clear()
        self._strips.clear()
        self.refresh()

    def watch_thresholds(self) -> None:
        self._strips.clear()
        self.refresh()

    # -- rendering -------------------------------------------------------------------

    def render_line(self, y: int) -> Strip:
        self._ensure_layout()
        scroll_x, scroll_y = self.scroll_offset
        width = self.scrollable_content_region.width
        base = self._base_style()
        if y == 0:
            strip = self._header_strip()
        else:
            index = int(scroll_y) + y - 1
            if index >= len(self._order):
                if index == 0:
                    text = self._empty_text()
                    return Strip([Segment(fit(" " + text, width), base + self._style("empty"))], width)
                return Strip.blank(width, base)
            key = self._order[index]
            cursor = index == self._cursor
            row = self._rows[key]
            cached = self._strips.get((key, cursor))
            # A row that looks the same (its signature) keeps its line across refreshes.
            if cached is None or cached[0] != row.signature:
                if len(self._strips) > _CACHE_LIMIT:
                    self._strips.clear()
                cached = (row.signature, row_strip(row, self._layout, cursor, self.thresholds, base, self._style))
                self._strips[(key, cursor)] = cached
            strip = cached[1]
        return strip.crop_extend(int(scroll_x), int(scroll_x) + width, base)

    def _empty_text(self) -> str:
        if not self._rows:
            return self.empty_text
        if self._filter.empty:
            return "no service with a problem (ctrl+z shows all)"
        text = f"no service matches '{visible(self._filter.text)}'"
        return text + (" among the problems (ctrl+z shows all)" if self._problems_only else "")

    def _header_strip(self) -> Strip:
        if self._header is None:
            self._header = header_strip(
                self._layout, self.sort_column, self.sort_reverse, self._base_style(), self._style
            )
        return self._header

    # -- keys and mouse ------------------------------------------------------------------

    def action_cursor_down(self) -> None:
        self.move_cursor(self._cursor + 1)

    def action_cursor_up(self) -> None:
        self.move_cursor(self._cursor - 1)

    def action_first(self) -> None:
        self.move_cursor(0)

    def action_last(self) -> None:
        self.move_cursor(len(self._order) - 1)

    def action_page_down(self) -> None:
        self.move_cursor(self._cursor + max(1, self.size.height - 2))

    def action_page_up(self) -> None:
        self.move_cursor(self._cursor - max(1, self.size.height - 2))

    def action_select(self) -> None:
        row = self.cursor_row
        if row is not None:
            self.post_message(self.Selected(self, row))

    def action_logs(self) -> None:
        row = self.cursor_row
        if row is not None:
            self.post_message(LogsRequested.of(row))

    def action_cycle_sort(self) -> None:
        keys = [SEVERITY, *self.visible_columns()]
        index = keys.index(self.sort_column) if self.sort_column in keys else -1
        self.sort_by(keys[(index + 1) % len(keys)])

    def action_reverse_sort(self) -> None:
        self.sort_by(self.sort_column, not self.sort_reverse)

    def action_sort_column(self, column: str) -> None:
        """Shift+letter: sort by that column; the same letter again reverses (as in k9s)."""
        self.sort_by(column, not self.sort_reverse if column == self.sort_column else False)

    def on_click(self, event: events.Click) -> None:
        offset = event.get_content_offset(self)
        if offset is None:
            return
        if offset.y == 0:
            x = offset.x + int(self.scroll_offset.x)
            for column, width in self._layout:
                if x < width + 1:
                    reverse = not self.sort_reverse if column.key == self.sort_column else False
                    self.sort_by(column.key, reverse)
                    break
                x -= width + 1
            return
        index = int(self.scroll_offset.y) + offset.y - 1
        if 0 <= index < len(self._order):
            self.move_cursor(index)
            if event.chain >= 2:
                self.action_select()
