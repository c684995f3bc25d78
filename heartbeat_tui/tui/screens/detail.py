"""Service detail: history plots, deployments, events, scaling, tasks on demand."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import ClassVar

from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, VerticalScroll
from textual.widgets import Footer, Static

from heartbeat_tui.models import Service, ServiceDetail
from heartbeat_tui.tui.messages import DetailReady, DetailRequested
from heartbeat_tui.tui.plot import PlotSeries
from heartbeat_tui.tui.screens.base import CopyTarget, FleetScreen
from heartbeat_tui.tui.styles import (
    PLOT_AVERAGE,
    PLOT_MAXIMUM,
    Status,
    activity_status,
    level_status,
    rollout_status,
    task_health_status,
    task_last_status,
    tasks_status,
)
from heartbeat_tui.tui.text import plain, visible
from heartbeat_tui.tui.view import FleetView, ServiceRow, age_text, percent_text
from heartbeat_tui.tui.widgets.flash_bar import FlashBar
from heartbeat_tui.tui.widgets.header import HeaderBar
from heartbeat_tui.tui.widgets.metric_plot import MetricPlot

EVENTS_SHOWN = 10
ACTIVITIES_SHOWN = 10


class ServiceDetailScreen(FleetScreen):
    help_title = "Service detail"

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "app.pop_screen", "Back", id="detail.back"),
        Binding("t", "load_tasks", "Reload tasks", id="detail.tasks"),
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
        with VerticalScroll(id="detail-body"):
            yield Static("", id="detail-title")
            with Horizontal(id="plots"):
                yield MetricPlot("CPU %", id="cpu-plot")
                yield MetricPlot("Memory %", id="mem-plot")
            yield Static("", id="detail-deployments", classes="detail-section")
            yield Static("", id="detail-scaling", classes="detail-section")
            yield Static("", id="detail-tasks", classes="detail-section")
            yield Static("", id="detail-events", classes="detail-section")
        yield FlashBar()
        yield Footer()

    def copy_target(self) -> CopyTarget | None:
        return None if self.row is None else CopyTarget.service(self.row)

    def on_mount(self) -> None:
        self.query_one("#detail-body").focus()
        if self.hb.state.view is not None:
            self.show_view(self.hb.state.view)
        self.action_load_tasks()

    # -- data ---------------------------------------------------------------------------

    def apply_view(self, view: FleetView) -> None:
        row = view.services.get(self.service_arn)
        if row is None:
            if self.row is None:
                self.query_one("#detail-title", Static).update(plain(f"unknown service {self.service_arn}"))
            else:
                self.query_one("#detail-title", Static).update(
                    Group(self._title(self.row), Text("this service is no longer in the poll", style="bold"))
                )
            return
        self.row = row
        service = row.service
        self.query_one("#detail-title", Static).update(self._title(row))
        self._plots(row, view)
        self.query_one("#detail-deployments", Static).update(self._deployments(service))
        self.query_one("#detail-scaling", Static).update(self._scaling(service))
        self.query_one("#detail-events", Static).update(self._events(service))
        self._show_tasks()

    def _time(self, value: datetime | float | None, fmt: str = "%H:%M:%S") -> str:
        if value is None:
            return "-"
        if not isinstance(value, datetime):
            value = datetime.fromtimestamp(value, tz=timezone.utc)
        if not self.hb.frozen_time:
            value = value.astimezone()
        return value.strftime(fmt)

    def _title(self, row: ServiceRow) -> RenderableType:
        hb = self.hb
        text = Text()
        text.append(visible(row.name), style="bold")
        text.append(visible(f"   {row.cluster} · {row.account} ({row.account_id}) · {row.region}"))
        if row.stale:
            text.append(f"  stale: data {age_text(row.stale_seconds)} old", style=hb.status_style(Status.STALE))
        line = Text()
        line.append(f"{visible(row.status)}  ")
        tasks_level = tasks_status(row.running, row.desired)
        tasks_style = hb.status_style(tasks_level) if tasks_level is not None else ""
        line.append(f"running {row.running} / desired {row.desired} / pending {row.pending}", style=tasks_style)
        rollout_style = rollout_status(row.rollout)
        line.append("  rollout ")
        line.append(visible(row.rollout or "-"), style=hb.status_style(rollout_style) if rollout_style else "bold")
        line.append(" ")
        for label, value in (("cpu", row.cpu), ("mem", row.mem)):
            level = hb.thresholds.level(value)
            line.append(f" {label} ")
            line.append(
                percent_text(value).strip(), style=hb.status_style(level_status(level)) if level != "ok" else "bold"
            )
            line.append(" ")
        service = row.service
        details = Text(style="dim")
        details.append(visible(f"{service.launch_type or '-'} · {(service.task_definition or '-').rsplit('/', 1)[-1]}"))
        return Group(text, line, details)

    def _plots(self, row: ServiceRow, view: FleetView) -> None:
        metrics = row.service.metrics
        end = view.snapshot.generated_at.timestamp()
        start = end - self.hb.history_seconds
        label = lambda t: self._time(t, "%H:%M")  # noqa: E731
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

    def _section(self, title: str, body: RenderableType) -> RenderableType:
        return Group(Text(title, style="bold underline"), body)

    def _deployments(self, service: Service) -> RenderableType:
        if not service.deployments:
            return self._section("Deployments", Text("none", style="dim"))
        table = Table(box=None, pad_edge=False, expand=True, header_style="bold dim")
        for column in ("status", "rollout", "des/run/pend", "failed", "task definition", "updated", "reason"):
            table.add_column(column, no_wrap=column != "reason", overflow="fold" if column == "reason" else "ellipsis")
        for d in service.deployments:
            rollout = plain(d.rollout_state or "-")
            rollout_level = rollout_status(d.rollout_state)
            if rollout_level is not None:
                rollout.stylize(self.hb.status_style(rollout_level))
            # Rich parses a str cell as markup: every value from AWS is a plain Text.
            table.add_row(
                plain(d.status),
                rollout,
                f"{d.desired_count}/{d.running_count}/{d.pending_count}",
                str(d.failed_tasks) if d.failed_tasks else "",
                plain((d.task_definition or "-").rsplit("/", 1)[-1]),
                self._time(d.updated_at or d.created_at, "%m-%d %H:%M"),
                plain(d.rollout_state_reason),
            )
        return self._section("Deployments", table)

    def _scaling(self, service: Service) -> RenderableType:
        parts: list[RenderableType] = []
        target = service.scalable_target
        if target is None:
            parts.append(Text("no scalable target (not auto scaled)", style="dim"))
        else:
            line = Text(f"min {target.min_capacity} · max {target.max_capacity} · desired {service.desired_count}")
            if target.suspended:
                line.append("  (scaling suspended)", style=self.hb.status_style(Status.WARNING))
            parts.append(line)
        if self.detail is not None and self.detail.policies:
            for policy in self.detail.policies:
                target_text = f" target {policy.target_value:g}" if policy.target_value is not None else ""
                metric = f" on {policy.metric}" if policy.metric else ""
                parts.append(plain(f"policy {policy.name}: {policy.policy_type}{target_text}{metric}", style="dim"))
        elif self.tasks_loading:
            parts.append(Text("policies: loading…", style="dim"))
        if service.scaling_activities:
            table = Table(box=None, pad_edge=False, expand=True, header_style="bold dim")
            table.add_column("started", no_wrap=True)
            table.add_column("status", no_wrap=True)
            table.add_column("activity and cause", overflow="fold")
            for activity in service.scaling_activities[:ACTIVITIES_SHOWN]:
                status = plain(activity.status_code or "-")
                activity_level = activity_status(activity.status_code)
                if activity_level is not None:
                    status.stylize(self.hb.status_style(activity_level))
                what = plain(activity.description)
                if activity.cause:
                    what.append(f"\ncause: {visible(activity.cause)}", style="dim")
                if activity.status_message:
                    what.append(f"\n{visible(activity.status_message)}", style="dim")
                table.add_row(self._time(activity.start_time, "%m-%d %H:%M"), status, what)
            parts.append(table)
        else:
            parts.append(Text("no scaling activity in the window", style="dim"))
        return self._section("Scaling", Group(*parts))

    def _events(self, service: Service) -> RenderableType:
        if not service.events:
            return self._section("Events", Text("none", style="dim"))
        table = Table(box=None, pad_edge=False, show_header=False)
        table.add_column("when", no_wrap=True, style="dim")
        table.add_column("message", overflow="fold")
        for event in service.events[:EVENTS_SHOWN]:
            table.add_row(self._time(event.created_at, "%m-%d %H:%M:%S"), plain(event.message))
        return self._section(
            f"Latest events ({min(len(service.events), EVENTS_SHOWN)} of {len(service.events)})", table
        )

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
            self.query_one("#detail-scaling", Static).update(self._scaling(self.row.service))
        self._show_tasks()

    def _show_tasks(self) -> None:
        widget = self.query_one("#detail-tasks", Static)
        critical = self.hb.status_style(Status.CRITICAL)
        parts: list[RenderableType] = []
        if self.detail_error:
            parts.append(plain(f"could not fetch tasks: {self.detail_error} (t retries)", style=critical))
        detail = self.detail
        if detail is None:
            if self.tasks_loading:
                parts.append(Text("loading tasks…", style="dim"))
            elif not self.detail_error:
                parts.append(Text("press t to fetch the tasks", style="dim"))
            widget.update(self._section("Tasks", Group(*parts)))
            return
        for error in detail.errors:
            parts.append(plain(error, style=critical))
        table = Table(box=None, pad_edge=False, expand=True, header_style="bold dim")
        for column in ("task", "last status", "desired", "health", "zone", "started", "stopped reason"):
            table.add_column(column, no_wrap=column != "stopped reason", overflow="fold")
        for task in detail.tasks:
            health = plain(task.health_status or "-")
            health_level = task_health_status(task.health_status)
            if health_level is not None:
                health.stylize(self.hb.status_style(health_level))
            status = plain(task.last_status or "-")
            last_level = task_last_status(task.last_status)
            if last_level is not None:
                status.stylize(self.hb.status_style(last_level))
            reason = task.stopped_reason or ""
            if task.stop_code and task.stop_code not in reason:
                reason = f"{task.stop_code}: {reason}" if reason else task.stop_code
            table.add_row(
                plain(task.id[:12]),
                status,
                plain(task.desired_status or "-"),
                health,
                plain(task.availability_zone or "-"),
                self._time(task.started_at, "%m-%d %H:%M"),
                # Anyone allowed ecs:StopTask writes this reason: never raw to the terminal.
                plain(reason, style=critical if task.stop_code == "TaskFailedToStart" else ""),
            )
        running = sum(1 for t in detail.tasks if t.last_status == "RUNNING")
        title = (
            f"Tasks ({running} running, {len(detail.tasks) - running} other; fetched {self._time(detail.fetched_at)})"
        )
        if self.tasks_loading:
            title += " · refreshing…"
        parts.append(table if detail.tasks else Text("no tasks", style="dim"))
        widget.update(self._section(title, Group(*parts)))

    def action_scroll(self, where: str) -> None:
        body = self.query_one("#detail-body", VerticalScroll)
        {
            "down": lambda: body.scroll_down(animate=False),
            "up": lambda: body.scroll_up(animate=False),
            "home": lambda: body.scroll_home(animate=False),
            "end": lambda: body.scroll_end(animate=False),
            "pagedown": lambda: body.scroll_page_down(animate=False),
            "pageup": lambda: body.scroll_page_up(animate=False),
        }[where]()
