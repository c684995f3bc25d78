"""Every service of every account in one table: what is worst right now anywhere, first."""

from __future__ import annotations

from typing import ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType

from heartbeat_tui.tui.screens.base import ServicesScreen, ViewPlanner, set_border_title
from heartbeat_tui.tui.table_order import TablePlan
from heartbeat_tui.tui.text import content
from heartbeat_tui.tui.textual_private import set_table_subtitle
from heartbeat_tui.tui.view import FLEET_TABLE_COLUMNS, SEVERITY, FleetView
from heartbeat_tui.tui.widgets.filter_bar import FilterBar
from heartbeat_tui.tui.widgets.flash_bar import FlashBar
from heartbeat_tui.tui.widgets.footer import Footer
from heartbeat_tui.tui.widgets.header import HeaderBar
from heartbeat_tui.tui.widgets.service_table import ServiceTable


class FleetServicesScreen(ServicesScreen):
    help_title = "Fleet-wide services"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "back", "Back", id="fleet.back"),
        Binding("f", "app.pop_screen", "Dashboard", id="fleet.dashboard", show=False),
    ]

    def __init__(self) -> None:
        super().__init__(id="fleet")

    def compose(self) -> ComposeResult:
        yield HeaderBar("fleet-wide")
        yield ServiceTable(
            FLEET_TABLE_COLUMNS,
            sort=(SEVERITY, False),
            thresholds=self.hb.thresholds,
            empty_text="no services yet",
            id="fleet-services",
        )
        yield FilterBar()
        yield FlashBar()
        yield Footer()

    def on_mount(self) -> None:
        self.services_table().focus()
        self.update_titles()
        if self.hb.state.view is not None:
            self.show_view(self.hb.state.view)

    def apply_view(self, view: FleetView) -> None:
        self.apply_prepared(view, None)

    def view_planner(self) -> ViewPlanner | None:
        """The table's next order (40,000 rows compared and sorted) in the view's thread."""
        if self.services_table().problems_only != self.hb.state.problems_only:
            return None  # the switch changes in `apply_view`: a plan now would be for the old one
        planner = self.services_table().planner()
        return lambda view: planner(view.services)

    def apply_prepared(self, view: FleetView, prepared: object) -> None:
        self.show_problems_only()
        self.services_table().set_rows(view.services, prepared if isinstance(prepared, TablePlan) else None)
        self.update_titles()

    def update_titles(self) -> None:
        table = self.services_table()
        set_border_title(table, self.table_title("All services", table))
        self._show_selected_names(table)

    @on(ServiceTable.Highlighted)
    def _highlighted(self, event: ServiceTable.Highlighted) -> None:
        self._show_selected_names(event.table)

    @staticmethod
    def _show_selected_names(table: ServiceTable) -> None:
        """The selected row's account, cluster and service in full under the table:
        at 80 columns `payments…` could be prod or staging."""

        row = table.cursor_row
        # Changes with every cursor move: only the border line is repainted, not the table.
        set_table_subtitle(table, content(f"{row.account} · {row.cluster} · {row.name}" if row else ""))

    def action_back(self) -> None:
        if not self.clear_filter():
            self.app.pop_screen()
