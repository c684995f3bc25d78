"""Service detail: placeholder until step 3."""

from __future__ import annotations

from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.widgets import Footer, Static

from heartbeat_tui.tui.screens.base import FleetScreen
from heartbeat_tui.tui.view import FleetView
from heartbeat_tui.tui.widgets.header import HeaderBar


class ServiceDetailScreen(FleetScreen):
    help_title = "Service detail"
    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "app.pop_screen", "Back", id="detail.back")]

    def __init__(self, service_arn: str) -> None:
        super().__init__(id="detail")
        self.service_arn = service_arn

    def compose(self) -> ComposeResult:
        yield HeaderBar("service")
        yield Static(self.service_arn, id="detail-title")
        yield Footer()

    def apply_view(self, view: FleetView) -> None:
        pass
