"""What the dashboard and the fleet-wide view share: a services table with a
filter, Enter for detail, catching up with the newest view on resume, and
copying what is selected (its ARN, or its AWS console page) to the clipboard."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import ClassVar, cast

from textual import on
from textual.binding import Binding, BindingType
from textual.content import Content
from textual.screen import Screen
from textual.widget import Widget

from heartbeat_tui.links import console_url
from heartbeat_tui.tui.messages import ProblemsOnlyRequested
from heartbeat_tui.tui.state import DashboardHost
from heartbeat_tui.tui.text import content
from heartbeat_tui.tui.view import FleetView, ServiceRow
from heartbeat_tui.tui.widgets.filter_bar import FilterBar, FilterInput
from heartbeat_tui.tui.widgets.service_table import ServiceTable


def set_border_title(widget: Widget, title: Content) -> None:
    """`widget.border_title = title` when it is a new title: Textual repaints the
    whole widget on every set (a 60-line services table, every poll), the same
    title or not."""

    if widget.border_title != title.markup:
        widget.border_title = title


# Called in a thread with the next view; what it returns comes back to `apply_prepared`.
ViewPlanner = Callable[[FleetView], object]


@dataclass(frozen=True)
class CopyTarget:
    """What `y` and `Y` copy: the selected account, cluster or service."""

    what: str  # "account", "cluster" or "service"
    name: str
    ident: str  # the account id, or the ARN
    url: str | None = None  # its AWS console page, if it has one

    @classmethod
    def service(cls, row: ServiceRow) -> CopyTarget:
        return cls("service", row.name, row.key, console_url(row.key, cluster=row.cluster))

    @classmethod
    def cluster(cls, name: str, arn: str) -> CopyTarget:
        return cls("cluster", name, arn, console_url(arn))


class FleetScreen(Screen[None]):
    """A screen that shows a FleetView. `show_view` is called by the app for
    the current screen only; hidden screens catch up when they resume."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("y", "copy('arn')", "Copy ARN or id", id="copy.arn", show=False),
        Binding("Y", "copy('console')", "Copy console URL", id="copy.console", show=False),
    ]

    shown_view: FleetView | None = None

    @property
    def hb(self) -> DashboardHost:
        """The app's state and presentation settings (screens never import the app)."""
        return cast(DashboardHost, self.app)

    def show_view(self, view: FleetView, prepared: object = None) -> None:
        """Show `view`; `prepared` is what `view_planner` worked out for it off the loop."""
        if self.shown_view is not view:
            # A screen that was hidden for a while catches up: the view it showed goes to the
            # reaper (freed when nothing else holds it: at 40,000 rows a few dozen ms of the loop).
            self.hb.retire(self.shown_view)
        self.shown_view = view
        if prepared is None:
            self.apply_view(view)
        else:
            self.apply_prepared(view, prepared)

    def release_view(self) -> None:
        """Hidden under an opaque screen: let go of the view shown (a whole fleet's
        rows and, through them, an old snapshot's services, kept alive for as long
        as the fleet view is open); `on_screen_resume` shows the newest again."""

        if self.shown_view is not None:
            self.hb.retire(self.shown_view)
            self.shown_view = None

    def apply_view(self, view: FleetView) -> None:  # pragma: no cover - overridden
        raise NotImplementedError

    def view_planner(self) -> ViewPlanner | None:
        """Work on the next view that can be done off the loop, in the thread that
        builds it (pure, on what the screen shows now); None: nothing to do there."""
        return None

    def apply_prepared(self, view: FleetView, prepared: object) -> None:
        """`apply_view` with what `view_planner` prepared."""
        self.apply_view(view)

    def restyle(self) -> None:
        """The theme changed: colours baked into cells must be redone."""
        if self.shown_view is not None:
            self.apply_view(self.shown_view)

    def on_screen_resume(self) -> None:
        view = self.hb.state.view
        if view is not None and view is not self.shown_view:
            self.show_view(view)

    def copy_target(self) -> CopyTarget | None:
        """What is selected here, for `y` and `Y`."""
        return None

    def action_copy(self, kind: str) -> None:
        """Copy the selection's ARN (an account: its id) or console URL to the
        clipboard (OSC 52: it reaches the operator's own machine over SSH)."""

        target = self.copy_target()
        if target is None:
            self.notify("Nothing selected to copy", severity="warning", timeout=3)
            return
        if kind == "console":
            if target.url is None:
                self.notify(f"No console page to copy for {target.what} {target.name}", severity="warning", timeout=3)
                return
            text, title = target.url, f"Copied the console URL of {target.what} {target.name}"
        else:
            text, title = target.ident, f"Copied the {'id' if target.what == 'account' else 'ARN'} of {target.what}"
        self.app.copy_to_clipboard(text)
        self.notify(text, title=title, timeout=4)


class ServicesScreen(FleetScreen):
    BINDINGS: ClassVar[list[BindingType]] = [
        # A priority binding: run as the app reads the key, so the filter has the focus
        # before the keys read with it are handed to the table (`/account:x` typed in
        # one burst, or pasted, lost its first letters). In the filter, `/` is text.
        Binding("slash", "filter", "Filter", id="services.filter", key_display="/", priority=True),
        Binding("ctrl+z", "problems_only", "Problems only", id="services.problems"),
    ]

    def services_table(self) -> ServiceTable:
        return self.query_one(ServiceTable)

    def copy_target(self) -> CopyTarget | None:
        row = self.services_table().cursor_row
        return None if row is None else CopyTarget.service(row)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "filter" and isinstance(self.focused, FilterInput):
            return False  # typed into the filter
        return super().check_action(action, parameters)

    def action_filter(self) -> None:
        self.query_one(FilterBar).open()

    def action_problems_only(self) -> None:
        self.post_message(ProblemsOnlyRequested())

    def show_problems_only(self) -> None:
        """Apply the app's problems-only switch to the services table (in `apply_view`)."""
        self.services_table().set_problems_only(self.hb.state.problems_only)

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
    def table_title(prefix: str, table: ServiceTable) -> Content:
        total, shown = len(table.rows), len(table.order)
        count = f"{shown}/{total}" if shown != total else f"{total}"
        title = f"{prefix} · {count} · sort {table.sort_description}"
        if table.problems_only:
            title += " · problems only"
        if not table.filter.empty:
            title += f" · /{table.filter.text}"
        return content(title)  # a cluster's name, the operator's filter: never markup
