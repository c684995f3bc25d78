"""The detail screen's title and its overview tab: deployments, auto scaling and
events, each rendered from the service (and the policies, once read) alone."""

from __future__ import annotations

from rich.console import Group, RenderableType
from rich.text import Text

from heartbeat_tui.models import Service, ServiceDetail
from heartbeat_tui.tui.screens.detail.layout import section, shown_time
from heartbeat_tui.tui.state import DashboardHost
from heartbeat_tui.tui.styles import (
    Status,
    activity_status,
    level_status,
    rollout_status,
    tasks_status,
)
from heartbeat_tui.tui.text import PlainTable, plain, visible
from heartbeat_tui.tui.view import ServiceRow, age_text, percent_text

ACTIVITIES_SHOWN = 10


def title(hb: DashboardHost, row: ServiceRow) -> RenderableType:
    """Name, place and staleness; status, counts, rollout and current use; launch type and revision."""

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


def deployments(hb: DashboardHost, service: Service) -> RenderableType:
    if not service.deployments:
        return section("Deployments", Text("none", style="dim"))
    table = PlainTable(box=None, pad_edge=False, expand=True, header_style="bold dim")
    for column in ("status", "rollout", "des/run/pend", "failed", "task definition", "updated"):
        table.add_column(column, no_wrap=True, overflow="ellipsis")
    reasons: list[RenderableType] = []
    for d in service.deployments:
        rollout = plain(d.rollout_state or "-")
        rollout_level = rollout_status(d.rollout_state)
        if rollout_level is not None:
            rollout.stylize(hb.status_style(rollout_level))
        # Rich parses a str cell as markup: every value from AWS is a plain Text.
        table.add_row(
            plain(d.status),
            rollout,
            f"{d.desired_count}/{d.running_count}/{d.pending_count}",
            str(d.failed_tasks) if d.failed_tasks else "",
            plain((d.task_definition or "-").rsplit("/", 1)[-1]),
            shown_time(hb, d.updated_at or d.created_at, "%m-%d %H:%M"),
        )
        if d.rollout_state_reason:
            # Prose, under the table: it wraps between words at any width, never squeezed into a column.
            reasons.append(plain(f"{d.status}: {d.rollout_state_reason}", style="dim"))
    return section("Deployments", Group(table, *reasons))


def scaling(hb: DashboardHost, service: Service, detail: ServiceDetail | None, loading: bool) -> RenderableType:
    """The scalable target, its policies (from `detail`, read on demand) and the last activities."""

    parts: list[RenderableType] = []
    target = service.scalable_target
    if target is None:
        parts.append(Text("no scalable target (not auto scaled)", style="dim"))
    else:
        line = Text(f"min {target.min_capacity} · max {target.max_capacity} · desired {service.desired_count}")
        if target.suspended:
            line.append("  (scaling suspended)", style=hb.status_style(Status.WARNING))
        parts.append(line)
    if detail is not None and detail.policies:
        for policy in detail.policies:
            target_text = f" target {policy.target_value:g}" if policy.target_value is not None else ""
            metric = f" on {policy.metric}" if policy.metric else ""
            parts.append(plain(f"policy {policy.name}: {policy.policy_type}{target_text}{metric}", style="dim"))
    elif loading:
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
                status.stylize(hb.status_style(activity_level))
            what = plain(activity.description)
            if activity.cause:
                what.append(f"\ncause: {visible(activity.cause)}", style="dim")
            if activity.status_message:
                what.append(f"\n{visible(activity.status_message)}", style="dim")
            table.add_row(shown_time(hb, activity.start_time, "%m-%d %H:%M"), status, what)
        parts.append(table)
    else:
        parts.append(Text("no scaling activity in the window", style="dim"))
    return section("Scaling", Group(*parts))


def events(hb: DashboardHost, service: Service) -> RenderableType:
    if not service.events:
        return section("Events", Text("none", style="dim"))
    table = PlainTable(box=None, pad_edge=False, show_header=False, expand=True)
    table.add_column("when", no_wrap=True, style="dim")
    table.add_column("message", ratio=1)  # prose: wraps between words
    for event in service.events:
        table.add_row(shown_time(hb, event.created_at, "%m-%d %H:%M:%S"), plain(event.message))
    return section(f"Events, newest first (all {len(service.events)} kept)", table)
