"""The detail screen's configuration tab: the service's own settings (launch,
deployment, load balancers, network), its deployments, and the task definition
with each container (read on demand with the tasks)."""

from __future__ import annotations

from datetime import datetime, timezone

from rich.console import Group, RenderableType
from rich.text import Text

from heartbeat_tui.models import ContainerDefinition, Service, ServiceDetail
from heartbeat_tui.tui.screens.detail.layout import TailFit, fields, number, section, short_arn, shown_time
from heartbeat_tui.tui.state import DashboardHost
from heartbeat_tui.tui.text import plain, visible
from heartbeat_tui.tui.view import age_text


def _when(hb: DashboardHost, value: datetime | None) -> str:
    if value is None:
        return "-"
    age = (hb.state.view.snapshot.generated_at if hb.state.view else datetime.now(timezone.utc)) - value
    return f"{shown_time(hb, value, '%Y-%m-%d %H:%M')} ({age_text(age.total_seconds())} ago)"


def configuration(hb: DashboardHost, service: Service, detail: ServiceDetail | None, loading: bool) -> RenderableType:
    """The whole tab: the service, its deployments, then the task definition."""

    rows: list[tuple[str, RenderableType]] = [
        ("created", _when(hb, service.created_at)),
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
                f"min healthy {number(config.minimum_healthy_percent)}%"
                f" · max {number(config.maximum_percent)}%"
                f" · circuit breaker {breaker[config.circuit_breaker]}{rollback}",
            )
        )
    for lb in service.load_balancers:
        port = f" → {lb.container_name or '-'}:{number(lb.container_port)}"
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
    parts: list[RenderableType] = [section("Service", fields(rows))]
    if service.deployments:
        deployments: list[tuple[str, RenderableType]] = []
        for d in service.deployments:
            revision = short_arn(d.task_definition).removeprefix("task-definition/")
            created = shown_time(hb, d.created_at, "%m-%d %H:%M")
            deployments.append((visible(d.status), plain(f"{d.id} · created {created} · {revision}")))
        parts += [Text(""), section("Deployments", fields(deployments))]
    parts += [Text(""), task_definition_section(detail, loading)]
    return Group(*parts)


def task_definition_section(detail: ServiceDetail | None, loading: bool) -> RenderableType:
    definition = detail.task_definition if detail is not None else None
    if definition is None:
        note = "loading…" if loading else "not read (t reloads)"
        return section("Task definition", Text(note, style="dim"))
    title = f"Task definition {visible(definition.family)}:{definition.revision or '?'}"
    network = definition.network_mode or "-"
    summary = f"cpu {definition.cpu or '-'} · memory {definition.memory or '-'} · network {network}"
    blocks: list[RenderableType] = [plain(summary, style="dim")]
    for container in definition.containers:
        blocks.append(container_block(container))
    return section(visible(title), Group(*blocks))


def container_block(container: ContainerDefinition) -> RenderableType:
    head = Text(no_wrap=True, overflow="ellipsis")
    head.append(visible(container.name), style="bold")
    head.append("  essential" if container.essential else "  not essential", style="" if container.essential else "dim")
    memory = "-" if container.memory is None else f"{container.memory}"
    if container.memory_reservation is not None:
        memory += f" (reserved {container.memory_reservation})"
    head.append(f" · cpu {container.cpu if container.cpu is not None else '-'} · memory {memory}")
    ports = ", ".join(
        f"{number(p.container_port)}{'' if p.host_port in (None, p.container_port) else f'→{p.host_port}'}"
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
