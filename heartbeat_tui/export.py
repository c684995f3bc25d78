"""Headless export of a snapshot: the JSON contract, CSV and a plain table.

The JSON keys are a documented, stable contract (README, "JSON export
contract"): keys are only ever added, never renamed or removed.
"""

from __future__ import annotations

import csv
import fnmatch
import io
import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any

from heartbeat_tui.links import console_url
from heartbeat_tui.models import (
    AccountSnapshot,
    Cluster,
    FleetSnapshot,
    MetricSeries,
    RegionSnapshot,
    ScalingActivity,
    Service,
    metrics_as_of,
)
from heartbeat_tui.untrusted import visible

SCHEMA_VERSION = 1
HOUR = timedelta(hours=1)


@dataclass(frozen=True)
class Filters:
    """`--account ID_OR_ALIAS`, `--cluster NAME`, `--service NAME` (shell globs allowed)."""

    account: str | None = None
    cluster: str | None = None
    service: str | None = None

    def account_matches(self, account: AccountSnapshot) -> bool:
        if self.account is None:
            return True
        return any(
            value is not None and fnmatch.fnmatchcase(value, self.account) for value in (account.id, account.alias)
        )

    def cluster_matches(self, cluster: Cluster) -> bool:
        return self.cluster is None or fnmatch.fnmatchcase(cluster.name, self.cluster)

    def service_matches(self, service: Service) -> bool:
        return self.service is None or fnmatch.fnmatchcase(service.name, self.service)


def _time(value: datetime | None) -> str | None:
    if value is None:
        return None
    return value.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 2)


def metric_summary(
    average: MetricSeries, maximum: MetricSeries, now: datetime, fetched_at: datetime | None = None
) -> dict[str, Any]:
    since = (now - HOUR).timestamp()
    as_of = metrics_as_of(fetched_at, now)
    return {
        "latest": _round(average.current(as_of)),
        "latest_at": _time(datetime.fromtimestamp(average.latest_timestamp, tz=now.tzinfo))
        if average.latest_timestamp is not None
        else None,
        "max_1h": _round(maximum.max_since(since)),
    }


def metric_history(average: MetricSeries, maximum: MetricSeries) -> dict[str, Any]:
    """The whole window held (`--history`), one entry per minute either series has,
    oldest first; null where one of the two has no point for that minute."""

    averages = dict(zip(average.timestamps, average.values))
    maxima = dict(zip(maximum.timestamps, maximum.values))
    minutes = sorted(averages.keys() | maxima.keys())
    return {
        "timestamps": [_time(datetime.fromtimestamp(t, tz=timezone.utc)) for t in minutes],
        "average": [_round(averages.get(t)) for t in minutes],
        "maximum": [_round(maxima.get(t)) for t in minutes],
    }


def _activity(activity: ScalingActivity) -> dict[str, Any]:
    return {
        "activity_id": activity.activity_id,
        "description": activity.description,
        "cause": activity.cause,
        "status_code": activity.status_code,
        "status_message": activity.status_message,
        "start_time": _time(activity.start_time),
        "end_time": _time(activity.end_time),
    }


def service_dict(
    service: Service, now: datetime, metrics_fetched_at: datetime | None = None, *, history: bool = False
) -> dict[str, Any]:
    data = _service_dict(service, now, metrics_fetched_at)
    if history:
        metrics = service.metrics
        data["cpu"]["history"] = metric_history(metrics.cpu_average, metrics.cpu_maximum)
        data["memory"]["history"] = metric_history(metrics.memory_average, metrics.memory_maximum)
    return data


def _service_dict(service: Service, now: datetime, metrics_fetched_at: datetime | None) -> dict[str, Any]:
    target = service.scalable_target
    return {
        "name": service.name,
        "arn": service.arn,
        "console_url": console_url(service.arn, cluster=service.cluster_arn.rpartition("/")[2] or None),
        "status": service.status,
        "desired_count": service.desired_count,
        "running_count": service.running_count,
        "pending_count": service.pending_count,
        "rollout_state": service.rollout_state,
        "launch_type": service.launch_type,
        "task_definition": service.task_definition,
        "cpu": metric_summary(service.metrics.cpu_average, service.metrics.cpu_maximum, now, metrics_fetched_at),
        "memory": metric_summary(
            service.metrics.memory_average, service.metrics.memory_maximum, now, metrics_fetched_at
        ),
        "scaling": {
            "min_capacity": target.min_capacity if target else None,
            "max_capacity": target.max_capacity if target else None,
            "activities": [_activity(a) for a in service.scaling_activities],
        },
        "deployments": [
            {
                "id": d.id,
                "status": d.status,
                "rollout_state": d.rollout_state,
                "rollout_state_reason": d.rollout_state_reason,
                "task_definition": d.task_definition,
                "desired_count": d.desired_count,
                "running_count": d.running_count,
                "pending_count": d.pending_count,
                "failed_tasks": d.failed_tasks,
                "created_at": _time(d.created_at),
                "updated_at": _time(d.updated_at),
            }
            for d in service.deployments
        ],
        "events": [{"id": e.id, "created_at": _time(e.created_at), "message": e.message} for e in service.events],
    }


def _region_dict(region: RegionSnapshot, filters: Filters, now: datetime, history: bool) -> dict[str, Any]:
    return {
        "region": region.region,
        "status": "ok" if region.ok else "error",
        "errors": list(region.errors),
        "stale": list(region.stale),
        "fetched_at": _time(region.fetched_at),
        "metrics_fetched_at": _time(region.metrics_fetched_at),
        "scaling_fetched_at": _time(region.scaling_fetched_at),
        "clusters": [
            {
                "name": cluster.name,
                "arn": cluster.arn,
                "console_url": console_url(cluster.arn),
                "status": cluster.status,
                "active_services_count": cluster.active_services_count,
                "running_tasks_count": cluster.running_tasks_count,
                "pending_tasks_count": cluster.pending_tasks_count,
                "services": [
                    service_dict(s, now, region.metrics_fetched_at, history=history)
                    for s in cluster.services
                    if filters.service_matches(s)
                ],
            }
            for cluster in region.clusters
            if filters.cluster_matches(cluster)
        ],
    }


def snapshot_dict(snapshot: FleetSnapshot, filters: Filters = Filters(), *, history: bool = False) -> dict[str, Any]:
    """The JSON contract (README); `history` adds each service's CPU and memory series
    (`cpu.history`, `memory.history`: timestamps, average, maximum)."""

    now = snapshot.generated_at
    accounts = []
    for account in snapshot.accounts:
        if not filters.account_matches(account):
            continue
        stale = account.stale_seconds(now)
        accounts.append(
            {
                "id": account.id,
                "alias": account.alias,
                "status": account.status.value,
                "error": account.error,
                "warnings": list(account.warnings),
                "stale_seconds": None if stale is None else int(stale),
                "last_success_at": _time(account.last_success_at),
                "regions": [_region_dict(r, filters, now, history) for r in account.regions],
            }
        )
    return {
        "schema_version": SCHEMA_VERSION,
        "generated_at": _time(snapshot.generated_at),
        "poll": {
            "number": snapshot.poll_number,
            "duration_seconds": round(snapshot.stats.duration_seconds, 3),
            "api_calls": snapshot.stats.total_calls,
            "http_requests": snapshot.stats.http_requests,
        },
        "accounts": accounts,
    }


def to_json(snapshot: FleetSnapshot, filters: Filters = Filters(), *, history: bool = False) -> str:
    return json.dumps(snapshot_dict(snapshot, filters, history=history), indent=2) + "\n"


CSV_COLUMNS = (
    "account_id",
    "account_alias",
    "account_status",
    "account_error",
    "stale_seconds",
    "region",
    "cluster",
    "service",
    "status",
    "desired_count",
    "running_count",
    "pending_count",
    "rollout_state",
    "cpu_latest",
    "cpu_max_1h",
    "memory_latest",
    "memory_max_1h",
    "min_capacity",
    "max_capacity",
    "last_scaling_activity",
)


def _csv_rows(snapshot: FleetSnapshot, filters: Filters) -> Iterator[dict[str, Any]]:
    data = snapshot_dict(snapshot, filters)
    for account in data["accounts"]:
        base = {
            "account_id": account["id"],
            "account_alias": account["alias"],
            "account_status": account["status"],
            "account_error": account["error"],
            "stale_seconds": account["stale_seconds"],
        }
        emitted = False
        for region in account["regions"]:
            for cluster in region["clusters"]:
                for service in cluster["services"]:
                    activities = service["scaling"]["activities"]
                    emitted = True
                    yield {
                        **base,
                        "region": region["region"],
                        "cluster": cluster["name"],
                        "service": service["name"],
                        "status": service["status"],
                        "desired_count": service["desired_count"],
                        "running_count": service["running_count"],
                        "pending_count": service["pending_count"],
                        "rollout_state": service["rollout_state"],
                        "cpu_latest": service["cpu"]["latest"],
                        "cpu_max_1h": service["cpu"]["max_1h"],
                        "memory_latest": service["memory"]["latest"],
                        "memory_max_1h": service["memory"]["max_1h"],
                        "min_capacity": service["scaling"]["min_capacity"],
                        "max_capacity": service["scaling"]["max_capacity"],
                        "last_scaling_activity": activities[0]["description"] if activities else None,
                    }
        if not emitted and (account["status"] != "ok" or filters == Filters()):
            # An account with nothing to show still gets a row, so its failure is visible.
            yield base


def to_csv(snapshot: FleetSnapshot, filters: Filters = Filters()) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=CSV_COLUMNS, lineterminator="\n")
    writer.writeheader()
    for row in _csv_rows(snapshot, filters):
        # Values are others' text (names, errors): control characters become visible escapes.
        writer.writerow({k: "" if v is None else visible(v) if isinstance(v, str) else v for k, v in row.items()})
    return out.getvalue()


def _pct(value: float | None) -> str:
    return "-" if value is None else f"{value:.0f}%"


def to_table(snapshot: FleetSnapshot, filters: Filters = Filters()) -> str:
    """A plain-text overview for people at a terminal (not a stable format)."""

    lines: list[str] = []
    data = snapshot_dict(snapshot, filters)
    for account in data["accounts"]:
        name = f"{account['alias']} ({account['id']})" if account["alias"] else account["id"]
        status = account["status"].upper()
        if account["status"] != "ok" and account["stale_seconds"] is not None:
            status += f", data {account['stale_seconds']}s old"
        lines.append(f"{name}  [{status}]")
        if account["error"]:
            lines.append(f"  ! {account['error']}")
        for region in account["regions"]:
            for cluster in region["clusters"]:
                services = cluster["services"]
                lines.append(
                    f"  {region['region']}/{cluster['name']}  {len(services)} services,"
                    f" {cluster['running_tasks_count']} tasks running"
                )
                for s in services:
                    flag = ""
                    if s["rollout_state"] == "FAILED":
                        flag = "  FAILED ROLLOUT"
                    elif s["running_count"] < s["desired_count"]:
                        flag = "  BELOW DESIRED"
                    lines.append(
                        f"    {s['name']:<36} {s['status']:<9} {s['running_count']:>3}/{s['desired_count']:<3}"
                        f" cpu {_pct(s['cpu']['latest']):>4} mem {_pct(s['memory']['latest']):>4}"
                        f" {s['rollout_state'] or '':<11}{flag}"
                    )
    # Built from names and errors others wrote: one pass makes every control character visible.
    return "\n".join(visible(line) for line in lines) + "\n"
