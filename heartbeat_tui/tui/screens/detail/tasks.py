"""The detail screen's tasks tab: a row a task, and below the table the selected
task's whole story (its containers, exit codes and why it stopped), wrapped and
scrollable rather than cut to a column."""

from __future__ import annotations

from typing import ClassVar

from rich.console import Group, RenderableType
from rich.text import Text
from textual.binding import Binding, BindingType
from textual.widgets import DataTable

from heartbeat_tui.models import ServiceDetail, Task
from heartbeat_tui.tui.screens.detail.layout import TailFit, fields, short_arn, shown_time
from heartbeat_tui.tui.state import DashboardHost
from heartbeat_tui.tui.styles import Status, task_health_status, task_last_status
from heartbeat_tui.tui.text import PlainTable, plain, visible

#: The task table's columns: (key, label).
COLUMNS = (
    ("task", "task"),
    ("status", "status"),
    ("health", "health"),
    ("started", "started"),
    ("exit", "exit codes"),
    ("stop", "stop code"),
)


class TaskTable(DataTable[Text]):
    """The task table: page keys scroll the selected task's story (the table's own
    j k g G move the cursor), so a long stopped reason is readable whole."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("pagedown,ctrl+f", "screen.scroll('pagedown')", "Page down", id="tasks.page_down", show=False),
        Binding("pageup,ctrl+b", "screen.scroll('pageup')", "Page up", id="tasks.page_up", show=False),
    ]


def task_cells(hb: DashboardHost, task: Task) -> tuple[Text, ...]:
    health = plain(task.health_status or "-")
    health_level = task_health_status(task.health_status)
    if health_level is not None:
        health.stylize(hb.status_style(health_level))
    status = plain(task.last_status or "-")
    last_level = task_last_status(task.last_status)
    if last_level is not None:
        status.stylize(hb.status_style(last_level))
    exits = " ".join(f"{c.exit_code}" for c in task.containers if c.exit_code is not None)
    critical = hb.status_style(Status.CRITICAL)
    stop = plain(task.stop_code or "", style=critical if task.stop_code == "TaskFailedToStart" else "")
    return (
        plain(task.id[:12]),
        status,
        health,
        Text(shown_time(hb, task.started_at, "%m-%d %H:%M")),
        plain(exits or "-", style=critical if any(c.exit_code for c in task.containers) else ""),
        stop,
    )


def task_pane(
    hb: DashboardHost, detail: ServiceDetail | None, error: str | None, loading: bool, task: Task | None
) -> RenderableType:
    """What is below the table: why there are no tasks yet, or a summary and `task`'s story."""

    critical = hb.status_style(Status.CRITICAL)
    parts: list[RenderableType] = []
    if error:
        parts.append(plain(f"could not fetch tasks: {error} (t retries)", style=critical))
    if detail is None:
        if loading:
            parts.append(Text("loading tasks…", style="dim"))
        elif not error:
            parts.append(Text("press t to fetch the tasks", style="dim"))
        return Group(*parts)
    for failure in detail.errors:
        parts.append(plain(failure, style=critical))
    running = sum(1 for t in detail.tasks if t.last_status == "RUNNING")
    line = f"{running} running, {len(detail.tasks) - running} other; fetched {shown_time(hb, detail.fetched_at)}"
    if loading:
        line += " · refreshing…"
    parts.append(Text(line + " · l: the selected task's logs", style="dim"))
    if task is None:
        parts.append(Text("no tasks", style="dim"))
    else:
        parts.append(task_story(hb, task))
    return Group(*parts)


def task_story(hb: DashboardHost, task: Task) -> RenderableType:
    critical = hb.status_style(Status.CRITICAL)
    revision = short_arn(task.task_definition).removeprefix("task-definition/")
    rows: list[tuple[str, RenderableType]] = [
        ("task", TailFit(plain(task.id))),
        ("status", plain(f"{task.last_status or '-'} (desired {task.desired_status or '-'})")),
        ("definition", plain(f"{revision} · {task.launch_type or '-'} · {task.availability_zone or '-'}")),
        ("started", shown_time(hb, task.started_at, "%m-%d %H:%M:%S")),
    ]
    if task.stopped_at is not None:
        rows.append(("stopped", shown_time(hb, task.stopped_at, "%m-%d %H:%M:%S")))
    parts: list[RenderableType] = [fields(rows)]
    if task.containers:
        table = PlainTable(box=None, pad_edge=False, expand=True, header_style="bold dim")
        table.add_column("container", no_wrap=True, overflow="ellipsis")
        table.add_column("status", no_wrap=True)
        table.add_column("exit", no_wrap=True, justify="right")
        table.add_column("health", no_wrap=True)
        table.add_column("reason", ratio=1)
        for c in task.containers:
            exit_text = plain("-" if c.exit_code is None else str(c.exit_code), style=critical if c.exit_code else "")
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
