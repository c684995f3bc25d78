"""What the dashboard and the fleet-wide view share: a services table with a
filter, Enter for detail, catching up with the newest view on resume."""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from textual import on
from textual.binding import Binding, BindingType
from textual.screen import Screen

from heartbeat_tui.tui.view import FleetView
from heartbeat_tui.tui.widgets.filter_bar import FilterBar
from heartbeat_tui.tui.widgets.service_table import ServiceTable

if TYPE_CHECKING:
    from heartbeat_tui.tui.app import HeartbeatApp


class FleetScreen(Screen):
    """A screen that shows a FleetView. `show_view` is called by the app for
    the current screen only; hidden screens catch up when they resume."""

    shown_view: FleetView | None = None

    @property
    def hb(self) -> HeartbeatApp:
        return self.app  # type: ignore[return-value]

    def show_view(self, view: FleetView) -> None:
        self.shown_view = view
        self.apply_view(view)

    def apply_view(self, view: FleetView) -> None:  # pragma: no cover - overridden
        raise NotImplementedError

    def restyle(self) -> None:
        """The theme changed: colours baked into cells must be redone."""
        if self.shown_view is not None:
            self.apply_view(self.shown_view)

    def on_screen_resume(self) -> None:
        view = self.hb.view
        if view is not None and view is not self.shown_view:
            self.show_view(view)


class ServicesScreen(FleetScreen):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("slash", "filter", "Filter", id="services.filter", key_display="/"),
    ]

    def services_table(self) -> ServiceTable:
        return self.query_one(ServiceTable)

    def action_filter(self) -> None:
        self.query_one(FilterBar).open()

    @on(FilterBar.Changed)
    def _filter_changed(self, event: FilterBar.Changed) -> None:
        self.services_table().set_filter(event.filter)

    @on(FilterBar.Closed)
    def _filter_closed(self) -> None:
        self.services_table().focus()

    def clear_filter(self) -> bool:
        table = self.services_table()
        if table.filter.empty:
            return False
        self.query_one(FilterBar).clear()
        return True

    @on(ServiceTable.Selected)
    def _open_detail(self, event: ServiceTable.Selected) -> None:
        from heartbeat_tui.tui.screens.detail import ServiceDetailScreen

        self.app.push_screen(ServiceDetailScreen(event.row.key))

    @on(ServiceTable.OrderChanged)
    def _order_changed(self, event: ServiceTable.OrderChanged) -> None:
        self.update_titles()

    def update_titles(self) -> None:  # pragma: no cover - overridden
        pass

    @staticmethod
    def table_title(prefix: str, table: ServiceTable) -> str:
        total, shown = len(table.rows), len(table.order)
        count = f"{shown}/{total}" if shown != total else f"{total}"
        title = f"{prefix} · {count} · sort {table.sort_description}"
        if not table.filter.empty:
            title += f" · /{table.filter.text}"
        return title
