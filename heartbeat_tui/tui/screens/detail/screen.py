"""Service detail: a fixed title, then tabs (overview, tasks, events, configuration).

The title (the service's name, where it runs, its counts) stays on screen
whatever is scrolled. Tabs keep each list whole and reachable without pushing
another off the screen: every task in a table with the selected one's
containers and stopped reason below it, every event kept, the configuration
and the task definition. A value never wraps mid-field: a field too long for
the width is cut with an ellipsis (an image keeps its tag: cut on the left).
"""

from __future__ import annotations

from typing import ClassVar

from rich.console import Group
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, VerticalScroll
from textual.widgets import DataTable, Static, TabbedContent, TabPane

from heartbeat_tui.models import ServiceDetail, Task
from heartbeat_tui.tui.messages import DetailReady, DetailRequested, LogsRequested
from heartbeat_tui.tui.plot import PlotSeries
from heartbeat_tui.tui.screens.base import CopyTarget, FleetScreen
from heartbeat_tui.tui.screens.detail.configuration import configuration
from heartbeat_tui.tui.screens.detail.layout import shown_time
from heartbeat_tui.tui.screens.detail.overview import deployments, events, scaling, title
from heartbeat_tui.tui.screens.detail.tasks import COLUMNS, TaskTable, task_cells, task_pane
from heartbeat_tui.tui.styles import PLOT_AVERAGE, PLOT_MAXIMUM
from heartbeat_tui.tui.text import plain
from heartbeat_tui.tui.view import FleetView, ServiceRow, percent_text
from heartbeat_tui.tui.widgets.flash_bar import FlashBar
from heartbeat_tui.tui.widgets.footer import Footer
from heartbeat_tui.tui.widgets.header import HeaderBar
from heartbeat_tui.tui.widgets.metric_plot import MetricPlot

TABS = ("overview", "tasks", "events", "config")


class ServiceDetailScreen(FleetScreen):
    help_title = "Service detail"

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "app.pop_screen", "Back", id="detail.back"),
        Binding("t", "load_tasks", "Reload tasks", id="detail.tasks"),
        Binding("l", "logs", "Logs", id="detail.logs"),
        Binding("1", "tab('overview')", "Overview", id="detail.tab_overview", show=False),
        Binding("2", "tab('tasks')", "Tasks", id="detail.tab_tasks", show=False),
        Binding("3", "tab('events')", "Events", id="detail.tab_events", show=False),
        Binding("4", "tab('config')", "Configuration", id="detail.tab_config", show=False),
        Binding("right_square_bracket", "next_tab(1)", "Next tab", id="detail.next_tab", show=False),
        Binding("left_square_bracket", "next_tab(-1)", "Previous tab", id="detail.previous_tab", show=False),
        Binding("j,down", "scroll('down')", "Scroll down", id="detail.down", show=False),
        Binding("k,up", "scroll('up')", "Scroll up", id="detail.up", show=False),
        Binding("g,home", "scroll('home')", "Top", id="detail.top", show=False),
        Binding("G,end", "scroll('end')", "Bottom", id="detail.bottom", show=False),
        Binding("pagedown,ctrl+f", "scroll('pagedown')", "Page down", id="detail.page_down", show=False),
        Binding("pageup,ctrl+b", "scroll('pageup')", "Page up", id="detail.page_up", show=False),
    ]

    def __init__(self, service_arn: str) -> None:
        super().__init__(id="detail")
        self.service_arn = service_arn
        self.row: ServiceRow | None = None
        self.detail: ServiceDetail | None = None
        self.detail_error: str | None = None
        self.tasks_loading = False

    def compose(self) -> ComposeResult:
        yield HeaderBar("service detail")
        yield Static("", id="detail-title")
        with TabbedContent(initial="overview", id="detail-tabs"):
            with TabPane("1 Overview", id="overview"), VerticalScroll(id="detail-body", classes="detail-pane"):
                with Horizontal(id="plots"):
                    yield MetricPlot("CPU %", id="cpu-plot")
                    yield MetricPlot("Memory %", id="mem-plot")
                yield Static("", id="detail-deployments", classes="detail-section")
                yield Static("", id="detail-scaling", classes="detail-section")
            with TabPane("2 Tasks", id="tasks"):
                yield TaskTable(id="detail-task-table", cursor_type="row", zebra_stripes=False)
                with VerticalScroll(id="detail-task-pane", classes="detail-pane"):
                    yield Static("", id="detail-tasks")
            with TabPane("3 Events", id="events"), VerticalScroll(id="detail-events-pane", classes="detail-pane"):
                yield Static("", id="detail-events")
            with TabPane("4 Config", id="config"), VerticalScroll(id="detail-config-pane", classes="detail-pane"):
                yield Static("", id="detail-config")
        yield FlashBar()
        yield Footer()

    def copy_target(self) -> CopyTarget | None:
        return None if self.row is None else CopyTarget.service(self.row)

    def on_mount(self) -> None:
        self.query_one("#detail-body").focus()
        if self.hb.state.view is not None:
            self.show_view(self.hb.state.view)
        self.action_load_tasks()

    # -- tabs -----------------------------------------------------------------------------

    @property
    def active_tab(self) -> str:
        return self.query_one("#detail-tabs", TabbedContent).active or "overview"

    def action_tab(self, tab: str) -> None:
        self.query_one("#detail-tabs", TabbedContent).active = tab
        self._focus_tab(tab)

    def action_next_tab(self, step: int) -> None:
        self.action_tab(TABS[(TABS.index(self.active_tab) + step) % len(TABS)])

    def on_tabbed_content_tab_activated(self, event: TabbedContent.TabActivated) -> None:
        event.stop()
        self._focus_tab(event.pane.id or "overview")

    def _focus_tab(self, tab: str) -> None:
        target = {
            "overview": "#detail-body",
            "tasks": "#detail-task-table",
            "events": "#detail-events-pane",
            "config": "#detail-config-pane",
        }[tab]
        self.query_one(target).focus()

    def apply_view(self, view: FleetView) -> None:
        row = view.services.get(self.service_arn)
        if row is None:
            if self.row is None:
                self.query_one("#detail-title", Static).update(plain(f"unknown service {self.service_arn}"))
            else:
                self.query_one("#detail-title", Static).update(
                    Group(title(self.hb, self.row), Text("this service is no longer in the poll", style="bold"))
                )
            return
        self.row = row
        service = row.service
        self.query_one("#detail-title", Static).update(title(self.hb, row))
        self._plots(row, view)
        self.query_one("#detail-deployments", Static).update(deployments(self.hb, service))
        self.query_one("#detail-scaling", Static).update(scaling(self.hb, service, self.detail, self.tasks_loading))
        self.query_one("#detail-events", Static).update(events(self.hb, service))
        self._set_tab_label("events", f"3 Events ({len(service.events)})")
        self._show_config()
        self._show_tasks()

    def _set_tab_label(self, tab: str, label: str) -> None:
        self.query_one("#detail-tabs", TabbedContent).get_tab(tab).label = label

    def _plots(self, row: ServiceRow, view: FleetView) -> None:
        metrics = row.service.metrics
        end = view.snapshot.generated_at.timestamp()
        start = end - self.hb.history_seconds
        label = lambda t: shown_time(self.hb, t, "%H:%M")  # noqa: E731
        one_hour = end - 3600
        for plot_id, average, maximum, now in (
            ("#cpu-plot", metrics.cpu_average, metrics.cpu_maximum, row.cpu),
            ("#mem-plot", metrics.memory_average, metrics.memory_maximum, row.mem),
        ):
            peak = maximum.max_since(one_hour)
            # The row's current values: the view's rule (a stale point is not "now").
            subtitle = f"now {percent_text(now).strip()} · max 1h {percent_text(peak).strip()}"
            self.query_one(plot_id, MetricPlot).set_data(
                (
                    PlotSeries("Maximum", maximum, PLOT_MAXIMUM, "max"),
                    PlotSeries("Average", average, PLOT_AVERAGE, "mean"),
                ),
                start=start,
                end=end,
                time_label=label,
                subtitle=subtitle,
            )

    # -- configuration: the service's and its task definition's --------------------------

    def _show_config(self) -> None:
        if self.row is None:
            return
        config = configuration(self.hb, self.row.service, self.detail, self.tasks_loading)
        self.query_one("#detail-config", Static).update(config)

    # -- tasks, on demand ----------------------------------------------------------------

    def action_load_tasks(self) -> None:
        """Ask the app for this service's tasks and policies (the screen starts no I/O itself)."""

        row = self.row
        if row is None:
            self._show_tasks()
            return
        self.tasks_loading = True
        self.detail_error = None
        self._show_tasks()
        self.post_message(DetailRequested(self.service_arn, row.account_id, row.region, row.cluster_arn, row.name))

    def on_detail_ready(self, message: DetailReady) -> None:
        message.stop()
        if message.service_arn != self.service_arn:
            return
        if message.error is not None:
            self.detail_error = message.error
        else:
            self.detail = message.detail
        self.tasks_loading = False
        if self.row is not None:
            self.query_one("#detail-scaling", Static).update(
                scaling(self.hb, self.row.service, self.detail, self.tasks_loading)
            )
        self._show_config()
        self._show_tasks()

    def _show_tasks(self) -> None:
        """The task table (every task, one row each) and the selected task's whole story below it."""

        table = self.query_one("#detail-task-table", TaskTable)
        detail = self.detail
        tasks = detail.tasks if detail is not None else ()
        if not table.columns:
            for key, label in COLUMNS:
                table.add_column(label, key=key)
        selected = self.selected_task
        keep = selected.arn if selected is not None else None
        table.clear()
        for task in tasks:
            table.add_row(*task_cells(self.hb, task), key=task.arn)
        if keep is not None:
            index = next((i for i, t in enumerate(tasks) if t.arn == keep), 0)
            table.move_cursor(row=index, animate=False)
        running = sum(1 for t in tasks if t.last_status == "RUNNING")
        self._set_tab_label("tasks", f"2 Tasks ({running}/{len(tasks)})" if detail is not None else "2 Tasks")
        self._show_task_pane()

    @property
    def selected_task(self) -> Task | None:
        """The task under the task table's cursor (None: no tasks yet)."""

        if self.detail is None or not self.detail.tasks:
            return None
        table = self.query_one("#detail-task-table", TaskTable)
        if table.row_count == 0:
            return None
        index = min(max(table.cursor_row, 0), len(self.detail.tasks) - 1)
        return self.detail.tasks[index]

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        event.stop()
        self._show_task_pane()

    def _show_task_pane(self) -> None:
        pane = task_pane(self.hb, self.detail, self.detail_error, self.tasks_loading, self.selected_task)
        self.query_one("#detail-tasks", Static).update(pane)

    def action_logs(self) -> None:
        """CloudWatch Logs of the selected task (tasks tab) or of the service."""

        row = self.row
        if row is None:
            return
        task = self.selected_task if self.active_tab == "tasks" else None
        self.post_message(LogsRequested.of(row, task))

    def action_scroll(self, where: str) -> None:
        tab = self.active_tab
        if tab == "tasks":
            # j k g G move in the task table; a page key scrolls the selected task's story below it.
            table = self.query_one("#detail-task-table", TaskTable)
            story = self.query_one("#detail-task-pane", VerticalScroll)
            if where in ("pagedown", "pageup"):
                (story.scroll_page_down if where == "pagedown" else story.scroll_page_up)(animate=False)
                return
            last = max(table.row_count - 1, 0)
            row = {"down": table.cursor_row + 1, "up": table.cursor_row - 1, "home": 0, "end": last}[where]
            table.move_cursor(row=min(max(row, 0), last), animate=False)
            return
        body = self.query_one(
            {"overview": "#detail-body", "events": "#detail-events-pane", "config": "#detail-config-pane"}[tab],
            VerticalScroll,
        )
        {
            "down": lambda: body.scroll_down(animate=False),
            "up": lambda: body.scroll_up(animate=False),
            "home": lambda: body.scroll_home(animate=False),
            "end": lambda: body.scroll_end(animate=False),
            "pagedown": lambda: body.scroll_page_down(animate=False),
            "pageup": lambda: body.scroll_page_up(animate=False),
        }[where]()
