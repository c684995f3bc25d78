"""Service detail: a fixed title, then tabs (overview, tasks, events, configuration).

The title (the service's name, where it runs, its counts) stays on screen
whatever is scrolled. Tabs keep each list whole and reachable without pushing
another off the screen: every task in a table with the selected one's
containers and stopped reason below it, every event kept, the configuration
and the task definition. A value never wraps mid-field: a field too long for
the width is cut with an ellipsis (an image keeps its tag: cut on the left).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timezone
from typing import ClassVar

from rich.console import Console, ConsoleOptions, Group, RenderableType, RenderResult
from rich.measure import Measurement
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, VerticalScroll
from textual.widgets import DataTable, Static, TabbedContent, TabPane

from heartbeat_tui.models import ContainerDefinition, Service, ServiceDetail, Task
from heartbeat_tui.tui.messages import DetailReady, DetailRequested, LogsRequested
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
from heartbeat_tui.tui.text import PlainTable, plain, visible
from heartbeat_tui.tui.view import FleetView, ServiceRow, age_text, percent_text
from heartbeat_tui.tui.widgets.flash_bar import FlashBar
from heartbeat_tui.tui.widgets.footer import Footer
from heartbeat_tui.tui.widgets.header import HeaderBar
from heartbeat_tui.tui.widgets.metric_plot import MetricPlot

ACTIVITIES_SHOWN = 10
TABS = ("overview", "tasks", "events", "config")


class TailFit:
    """One line cut on the left to the width it gets (`…ecr/app:9f17c5d`): for a
    value whose end matters most (an image and its tag, an ARN's id)."""

    def __init__(self, text: Text) -> None:
        self.text = text

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        text, width = self.text, options.max_width
        if text.cell_len > width > 1:
            text = Text("…", style="dim") + text[len(text.plain) - (width - 1) :]
        text.no_wrap = True
        yield text

    def __rich_measure__(self, console: Console, options: ConsoleOptions) -> Measurement:
        return Measurement(min(12, self.text.cell_len), self.text.cell_len)


def short_arn(arn: str | None) -> str:
    """The resource part of an ARN (`targetgroup/name/id`), which names it within its account."""

    return "-" if not arn else arn.split(":", 5)[-1]


def _number(value: int | None) -> str:
    return "-" if value is None else str(value)


def fields(rows: Iterable[tuple[str, RenderableType]]) -> PlainTable:
    """Label and value lines; a value is cut with an ellipsis, never wrapped."""

    table = PlainTable(box=None, pad_edge=False, show_header=False, expand=True)
    table.add_column("label", style="dim", no_wrap=True)
    table.add_column("value", no_wrap=True, overflow="ellipsis", ratio=1)
    for label, value in rows:
        table.add_row(label, value)
    return table


class TaskTable(DataTable[Text]):
    """The task table: page keys scroll the selected task's story (the table's own
    j k g G move the cursor), so a long stopped reason is readable whole."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("pagedown,ctrl+f", "screen.scroll('pagedown')", "Page down", id="tasks.page_down", show=False),
        Binding("pageup,ctrl+b", "screen.scroll('pageup')", "Page up", id="tasks.page_up", show=False),
    ]


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
        self._set_tab_label("events", f"3 Events ({len(service.events)})")
        self._show_config()
        self._show_tasks()

    def _set_tab_label(self, tab: str, label: str) -> None:
        self.query_one("#detail-tabs", TabbedContent).get_tab(tab).label = label

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
        table = PlainTable(box=None, pad_edge=False, expand=True, header_style="bold dim")
        for column in ("status", "rollout", "des/run/pend", "failed", "task definition", "updated"):
            table.add_column(column, no_wrap=True, overflow="ellipsis")
        reasons: list[RenderableType] = []
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
            )
            if d.rollout_state_reason:
                # Prose, under the table: it wraps between words at any width, never squeezed into a column.
                reasons.append(plain(f"{d.status}: {d.rollout_state_reason}", style="dim"))
        return self._section("Deployments", Group(table, *reasons))

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
            table = PlainTable(box=None, pad_edge=False, expand=True, header_style="bold dim")
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
        table = PlainTable(box=None, pad_edge=False, show_header=False, expand=True)
        table.add_column("when", no_wrap=True, style="dim")
        table.add_column("message", ratio=1)  # prose: wraps between words
        for event in service.events:
            table.add_row(self._time(event.created_at, "%m-%d %H:%M:%S"), plain(event.message))
        return self._section(f"Events, newest first (all {len(service.events)} kept)", table)

    # -- configuration: the service's and its task definition's --------------------------

    def _when(self, value: datetime | None) -> str:
        if value is None:
            return "-"
        age = (self.hb.state.view.snapshot.generated_at if self.hb.state.view else datetime.now(timezone.utc)) - value
        return f"{self._time(value, '%Y-%m-%d %H:%M')} ({age_text(age.total_seconds())} ago)"

    def _show_config(self) -> None:
        if self.row is None:
            return
        service = self.row.service
        rows: list[tuple[str, RenderableType]] = [
            ("created", self._when(service.created_at)),
            (
                "launch type",
                plain(f"{service.launch_type or '-'} · platform version {service.platform_version or '-'}"),
            ),
            ("task definition", plain(short_arn(service.task_definition).removeprefix("task-definition/"))),
        ]
        config = service.deployment_configuration
        if config is not None:
            breaker = {None: "not reported", True: "on", False: "off"}
            rollback = " + rollback" if config.circuit_breaker and config.rollback else ""
            rows.append(
                (
                    "deployment",
                    f"min healthy {_number(config.minimum_healthy_percent)}%"
                    f" · max {_number(config.maximum_percent)}%"
                    f" · circuit breaker {breaker[config.circuit_breaker]}{rollback}",
                )
            )
        for lb in service.load_balancers:
            port = f" → {lb.container_name or '-'}:{_number(lb.container_port)}"
            if lb.target_group_arn:
                group = short_arn(lb.target_group_arn).removeprefix("targetgroup/")
                rows.append(("target group", TailFit(plain(group + port))))
            else:
                rows.append(("load balancer", TailFit(plain((lb.load_balancer_name or "-") + port))))
        if not service.load_balancers:
            rows.append(("load balancer", Text("none", style="dim")))
        network = service.network
        if network is not None:
            rows.append(("subnets", plain(", ".join(network.subnets) or "-")))
            rows.append(("security groups", plain(", ".join(network.security_groups) or "-")))
            rows.append(("public IP", plain(network.assign_public_ip or "-")))
        else:
            rows.append(("network", Text("no awsvpc configuration (bridge or host networking)", style="dim")))
        parts: list[RenderableType] = [self._section("Service", fields(rows))]
        if service.deployments:
            deployments: list[tuple[str, RenderableType]] = []
            for d in service.deployments:
                revision = short_arn(d.task_definition).removeprefix("task-definition/")
                created = self._time(d.created_at, "%m-%d %H:%M")
                deployments.append((visible(d.status), plain(f"{d.id} · created {created} · {revision}")))
            parts += [Text(""), self._section("Deployments", fields(deployments))]
        parts += [Text(""), self._task_definition_section()]
        self.query_one("#detail-config", Static).update(Group(*parts))

    def _task_definition_section(self) -> RenderableType:
        definition = self.detail.task_definition if self.detail is not None else None
        if definition is None:
            note = "loading…" if self.tasks_loading else "not read (t reloads)"
            return self._section("Task definition", Text(note, style="dim"))
        title = f"Task definition {visible(definition.family)}:{definition.revision or '?'}"
        network = definition.network_mode or "-"
        summary = f"cpu {definition.cpu or '-'} · memory {definition.memory or '-'} · network {network}"
        blocks: list[RenderableType] = [plain(summary, style="dim")]
        for container in definition.containers:
            blocks.append(self._container(container))
        return self._section(visible(title), Group(*blocks))

    @staticmethod
    def _container(container: ContainerDefinition) -> RenderableType:
        head = Text(no_wrap=True, overflow="ellipsis")
        head.append(visible(container.name), style="bold")
        head.append(
            "  essential" if container.essential else "  not essential", style="" if container.essential else "dim"
        )
        memory = "-" if container.memory is None else f"{container.memory}"
        if container.memory_reservation is not None:
            memory += f" (reserved {container.memory_reservation})"
        head.append(f" · cpu {container.cpu if container.cpu is not None else '-'} · memory {memory}")
        ports = ", ".join(
            f"{_number(p.container_port)}{'' if p.host_port in (None, p.container_port) else f'→{p.host_port}'}"
            f"/{p.protocol or 'tcp'}"
            for p in container.ports
        )
        head.append(visible(f" · ports {ports or '-'}"))
        log = container.log
        logs = (
            "-"
            if log is None
            else log.driver
            if log.driver != "awslogs"
            else f"awslogs {log.option('awslogs-group') or '?'}"
        )
        return Group(head, fields([("  image", TailFit(plain(container.image or "-"))), ("  logs", plain(logs))]))

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
        self._show_config()
        self._show_tasks()

    def _show_tasks(self) -> None:
        """The task table (every task, one row each) and the selected task's whole story below it."""

        table = self.query_one("#detail-task-table", TaskTable)
        detail = self.detail
        tasks = detail.tasks if detail is not None else ()
        if not table.columns:
            for key, label in (
                ("task", "task"),
                ("status", "status"),
                ("health", "health"),
                ("started", "started"),
                ("exit", "exit codes"),
                ("stop", "stop code"),
            ):
                table.add_column(label, key=key)
        selected = self.selected_task
        keep = selected.arn if selected is not None else None
        table.clear()
        for task in tasks:
            table.add_row(*self._task_cells(task), key=task.arn)
        if keep is not None:
            index = next((i for i, t in enumerate(tasks) if t.arn == keep), 0)
            table.move_cursor(row=index, animate=False)
        running = sum(1 for t in tasks if t.last_status == "RUNNING")
        self._set_tab_label("tasks", f"2 Tasks ({running}/{len(tasks)})" if detail is not None else "2 Tasks")
        self._show_task_pane()

    def _task_cells(self, task: Task) -> tuple[Text, ...]:
        health = plain(task.health_status or "-")
        health_level = task_health_status(task.health_status)
        if health_level is not None:
            health.stylize(self.hb.status_style(health_level))
        status = plain(task.last_status or "-")
        last_level = task_last_status(task.last_status)
        if last_level is not None:
            status.stylize(self.hb.status_style(last_level))
        exits = " ".join(f"{c.exit_code}" for c in task.containers if c.exit_code is not None)
        critical = self.hb.status_style(Status.CRITICAL)
        stop = plain(task.stop_code or "", style=critical if task.stop_code == "TaskFailedToStart" else "")
        return (
            plain(task.id[:12]),
            status,
            health,
            Text(self._time(task.started_at, "%m-%d %H:%M")),
            plain(exits or "-", style=critical if any(c.exit_code for c in task.containers) else ""),
            stop,
        )

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
            widget.update(Group(*parts))
            return
        for error in detail.errors:
            parts.append(plain(error, style=critical))
        running = sum(1 for t in detail.tasks if t.last_status == "RUNNING")
        line = f"{running} running, {len(detail.tasks) - running} other; fetched {self._time(detail.fetched_at)}"
        if self.tasks_loading:
            line += " · refreshing…"
        parts.append(Text(line + " · l: the selected task's logs", style="dim"))
        task = self.selected_task
        if task is None:
            parts.append(Text("no tasks", style="dim"))
        else:
            parts.append(self._task_story(task))
        widget.update(Group(*parts))

    def _task_story(self, task: Task) -> RenderableType:
        critical = self.hb.status_style(Status.CRITICAL)
        revision = short_arn(task.task_definition).removeprefix("task-definition/")
        rows: list[tuple[str, RenderableType]] = [
            ("task", TailFit(plain(task.id))),
            ("status", plain(f"{task.last_status or '-'} (desired {task.desired_status or '-'})")),
            ("definition", plain(f"{revision} · {task.launch_type or '-'} · {task.availability_zone or '-'}")),
            ("started", self._time(task.started_at, "%m-%d %H:%M:%S")),
        ]
        if task.stopped_at is not None:
            rows.append(("stopped", self._time(task.stopped_at, "%m-%d %H:%M:%S")))
        parts: list[RenderableType] = [fields(rows)]
        if task.containers:
            table = PlainTable(box=None, pad_edge=False, expand=True, header_style="bold dim")
            table.add_column("container", no_wrap=True, overflow="ellipsis")
            table.add_column("status", no_wrap=True)
            table.add_column("exit", no_wrap=True, justify="right")
            table.add_column("health", no_wrap=True)
            table.add_column("reason", ratio=1)
            for c in task.containers:
                exit_text = plain(
                    "-" if c.exit_code is None else str(c.exit_code), style=critical if c.exit_code else ""
                )
                table.add_row(
                    plain(c.name),
                    plain(c.last_status or "-"),
                    exit_text,
                    plain(c.health_status or "-"),
                    plain(c.reason or ""),
                )
            parts.append(table)
        if task.stop_code or task.stopped_reason:
            reason = Text()
            reason.append("stopped: ", style="bold")
            if task.stop_code:
                reason.append(visible(task.stop_code) + " ", style=critical)
            # Anyone allowed ecs:StopTask writes this reason: never raw to the terminal. Whole, wrapped.
            reason.append(visible(task.stopped_reason or ""))
            parts.append(reason)
        return Group(*parts)

    def action_logs(self) -> None:
        """CloudWatch Logs of the selected task (tasks tab) or of the service."""

        row = self.row
        if row is None:
            return
        task = self.selected_task if self.active_tab == "tasks" else None
        self.post_message(
            LogsRequested(
                account_id=row.account_id,
                region=row.region,
                cluster_arn=row.cluster_arn,
                service_name=row.name,
                title=f"{row.cluster} · {row.account} · {row.region}",
                task_id=task.id if task is not None else None,
                task_definition=(task.task_definition if task is not None else None) or row.service.task_definition,
            )
        )

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
