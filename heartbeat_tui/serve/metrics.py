"""`/metrics`: the Prometheus exposition of the hub's latest poll, cut to the caller's scope.

`FleetCollector` is a prometheus-client custom collector over one
`FleetSnapshot`: no metric objects live between scrapes, so an account, a
cluster or a service that is gone from the fleet is gone from the exposition
(a registry of long-lived gauges would keep reporting it). prometheus-client
writes the text, so a label value holding quotes, backslashes or newlines is
escaped by the library that defines the format, never by hand.

Who may scrape (`metrics_handler`):

* `HEARTBEAT_METRICS_TOKEN` set: a Bearer token is required, either that token
  (compared in constant time; it sees every account) or a session token of
  the service, which sees what its role sees. Anything else is 401.
* not set: only loopback clients (a request relayed by a proxy, which says so
  in a `Forwarded`/`X-Forwarded-For` header, is not one), 403 otherwise. A
  loopback client without a token sees every account; with a session token,
  what its role sees.

The exposition is built once per poll per scope and format (the hub's cache),
gzipped when the scraper asks for it.
"""

from __future__ import annotations

import hmac
import ipaddress
import os
from collections.abc import Awaitable, Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

from aiohttp import web
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.exposition import choose_encoder
from prometheus_client.registry import Collector, CollectorRegistry

from heartbeat_tui.controller import scoped
from heartbeat_tui.errors import ConfigError
from heartbeat_tui.models import AccountStatus, FleetSnapshot
from heartbeat_tui.serve.errors import UNAUTHORIZED, ApiError
from heartbeat_tui.serve.http import accepts_gzip

if TYPE_CHECKING:
    from heartbeat_tui.auth import AuthService
    from heartbeat_tui.config import Config
    from heartbeat_tui.serve.hub import Hub

TOKEN_VARIABLE = "HEARTBEAT_METRICS_TOKEN"
MIN_TOKEN_LENGTH = 16
SERVICE_LABELS = ("account_id", "account_alias", "region", "cluster", "service")
_PROXY_HEADERS = ("Forwarded", "X-Forwarded-For", "X-Real-IP")


@dataclass(frozen=True)
class PollFacts:
    """What the hub knows about its polls beyond the snapshot: when the last one
    ended, how long it took, and the AWS calls of every poll so far."""

    last_poll_at: float | None
    poll_seconds: float | None
    aws_calls: Mapping[str, int]  # "<botocore service name>.<Operation>" -> calls


class FleetCollector(Collector):
    """The metrics of one (already scoped) snapshot, made fresh on each `collect`."""

    def __init__(self, snapshot: FleetSnapshot, facts: PollFacts) -> None:
        self.snapshot = snapshot
        self.facts = facts

    def collect(self) -> Iterator[Metric]:
        snapshot = self.snapshot
        per_service = {
            "desired_tasks": GaugeMetricFamily(
                "heartbeat_service_desired_tasks", "Tasks the ECS service wants running.", labels=SERVICE_LABELS
            ),
            "running_tasks": GaugeMetricFamily(
                "heartbeat_service_running_tasks", "Tasks of the ECS service running now.", labels=SERVICE_LABELS
            ),
            "pending_tasks": GaugeMetricFamily(
                "heartbeat_service_pending_tasks", "Tasks of the ECS service pending now.", labels=SERVICE_LABELS
            ),
            "cpu": GaugeMetricFamily(
                "heartbeat_service_cpu_utilization_percent",
                "Average CPU utilization of the service's latest CloudWatch minute (absent without a recent point).",
                labels=SERVICE_LABELS,
            ),
            "memory": GaugeMetricFamily(
                "heartbeat_service_memory_utilization_percent",
                "Average memory utilization of the service's latest CloudWatch minute (absent without a recent point).",
                labels=SERVICE_LABELS,
            ),
        }
        account_up = GaugeMetricFamily(
            "heartbeat_account_up",
            "1 when the account's last poll succeeded, 0 when it failed.",
            labels=("account_id", "account_alias"),
        )
        for account in snapshot.accounts:
            alias = account.alias or ""
            account_up.add_metric((account.id, alias), 1.0 if account.status is AccountStatus.OK else 0.0)
            for region in account.regions:
                as_of = region.metrics_as_of(snapshot.generated_at)
                for cluster in region.clusters:
                    for service in cluster.services:
                        labels = (account.id, alias, region.region, cluster.name, service.name)
                        per_service["desired_tasks"].add_metric(labels, service.desired_count)
                        per_service["running_tasks"].add_metric(labels, service.running_count)
                        per_service["pending_tasks"].add_metric(labels, service.pending_count)
                        cpu = service.metrics.cpu_average.current(as_of)
                        if cpu is not None:
                            per_service["cpu"].add_metric(labels, cpu)
                        memory = service.metrics.memory_average.current(as_of)
                        if memory is not None:
                            per_service["memory"].add_metric(labels, memory)
        yield from per_service.values()
        yield account_up

        facts = self.facts
        duration = GaugeMetricFamily("heartbeat_poll_duration_seconds", "Wall time of the last poll of the fleet.")
        if facts.poll_seconds is not None:
            duration.add_metric((), facts.poll_seconds)
        yield duration
        last = GaugeMetricFamily(
            "heartbeat_last_poll_timestamp_seconds", "When the last poll of the fleet ended (Unix time)."
        )
        if facts.last_poll_at is not None:
            last.add_metric((), facts.last_poll_at)
        yield last
        calls = CounterMetricFamily(
            "heartbeat_aws_api_calls",
            "AWS API calls made by every poll since the service started, by AWS service and operation.",
            labels=("service", "operation"),
        )
        for name, count in sorted(facts.aws_calls.items()):
            service_name, _, operation = name.partition(".")
            calls.add_metric((service_name, operation), count)
        yield calls


def exposition(snapshot: FleetSnapshot, facts: PollFacts, accept: str | None = None) -> tuple[bytes, str]:
    """The text of `snapshot`'s metrics in the format `accept` asks for (Prometheus
    text by default, OpenMetrics when asked) and its content type."""

    registry = CollectorRegistry(auto_describe=False)
    registry.register(FleetCollector(snapshot, facts))
    encode, content_type = choose_encoder(accept or "")
    return encode(registry), content_type


def metrics_token(environ: Mapping[str, str] = os.environ) -> str | None:
    """`HEARTBEAT_METRICS_TOKEN`, or None when it is not set (or empty). A short
    one is refused: it would be the one guess between a scraper and the fleet."""

    token = environ.get(TOKEN_VARIABLE, "").strip()
    if not token:
        return None
    if len(token) < MIN_TOKEN_LENGTH:
        raise ConfigError(
            "environment", TOKEN_VARIABLE, f"is shorter than {MIN_TOKEN_LENGTH} characters; use a long random value"
        )
    return token


def is_loopback_client(request: web.Request) -> bool:
    """A client on this host, talking to us directly (not through a proxy that says so)."""

    if any(header in request.headers for header in _PROXY_HEADERS):
        return False
    try:
        return ipaddress.ip_address(request.remote or "").is_loopback
    except ValueError:
        return False


def metrics_handler(
    hub: Hub, auth: AuthService, config: Config, environ: Mapping[str, str] = os.environ
) -> Callable[[web.Request], Awaitable[web.StreamResponse]]:
    """The `/metrics` handler (see the module docstring for who may scrape)."""

    expected = metrics_token(environ)
    expected_bytes = expected.encode() if expected is not None else None

    async def scope_of(request: web.Request) -> frozenset[str] | None:
        scheme, _, token = request.headers.get("Authorization", "").partition(" ")
        token = token.strip()
        bearer = scheme.lower() == "bearer" and bool(token)
        if expected_bytes is None and not is_loopback_client(request):
            raise ApiError(403, "forbidden", f"/metrics answers loopback clients only unless {TOKEN_VARIABLE} is set")
        if not bearer:
            if expected_bytes is not None or request.headers.get("Authorization"):
                raise ApiError(401, "unauthorized", UNAUTHORIZED)
            return None
        if expected_bytes is not None and hmac.compare_digest(token.encode(), expected_bytes):
            return None
        session = await auth.check(token)  # an AuthError is a 401 (the app's middleware)
        return session.account_scope

    async def metrics(request: web.Request) -> web.StreamResponse:
        scope = await scope_of(request)
        accept = request.headers.get("Accept")
        _, content_type = choose_encoder(accept or "")
        # Read together with the snapshot `hub.body` takes (no await between): one poll's facts.
        facts = PollFacts(hub.last_poll_at, hub.last_poll_seconds, dict(hub.aws_calls))

        def build(snapshot: FleetSnapshot) -> bytes:
            return exposition(scoped(snapshot, scope), facts, accept)[0]

        key = ("metrics", content_type, None if scope is None else tuple(sorted(scope)))
        body = await hub.body(key, build, content_type)
        if body is None:
            raise ApiError(503, "starting", "no poll has finished yet; try again in a few seconds")
        headers = {"Content-Type": content_type, "Cache-Control": "no-store", "Vary": "Authorization, Accept-Encoding"}
        if accepts_gzip(request):
            headers["Content-Encoding"] = "gzip"
            return web.Response(body=body.gzipped, headers=headers)
        return web.Response(body=body.data, headers=headers)

    return metrics


__all__ = ["FleetCollector", "PollFacts", "exposition", "is_loopback_client", "metrics_handler", "metrics_token"]
