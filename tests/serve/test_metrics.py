"""`/metrics` over real HTTP against the embedded AWS: the exposition parses with
prometheus-client's own parser and matches the hub's snapshot value by value,
is cut to the caller's scope, answers only the clients it should, and survives
hostile names."""

from __future__ import annotations

import socket
import subprocess
from collections import Counter
from collections.abc import AsyncIterator, Collection, Iterable
from datetime import datetime, timezone
from typing import Any

import pytest
from aiohttp import ClientSession
from aiohttp.test_utils import TestClient, TestServer
from prometheus_client.parser import text_string_to_metric_families

from heartbeat_tui.controller import ManualScheduler, scoped
from heartbeat_tui.errors import ConfigError
from heartbeat_tui.models import (
    AccountSnapshot,
    AccountStatus,
    Cluster,
    FleetSnapshot,
    MetricSeries,
    PollStats,
    RegionSnapshot,
    Service,
    ServiceDetail,
    ServiceMetrics,
)
from heartbeat_tui.serve.app import build_app
from heartbeat_tui.serve.hub import Hub
from heartbeat_tui.serve.metrics import TOKEN_VARIABLE, metrics_handler
from tests.serve.conftest import INTERVAL, PAYMENTS, Served
from tests.serve.test_process import Setup, heartbeat, setup  # noqa: F401 (setup: a fixture)

METRICS_TOKEN = "scrape-me-0123456789abcdef"
SERVICE_GAUGES = {
    "heartbeat_service_desired_tasks": "desired_count",
    "heartbeat_service_running_tasks": "running_count",
    "heartbeat_service_pending_tasks": "pending_count",
}

Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]


def samples(text: str) -> Samples:
    """Every sample of the exposition, keyed by name and sorted labels (a duplicate fails)."""

    found: Samples = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            key = (sample.name, tuple(sorted(sample.labels.items())))
            assert key not in found, f"duplicate sample {key}"
            found[key] = sample.value
    return found


def expected_samples(snapshot: FleetSnapshot, *, last_poll_at: float, calls: Counter[str]) -> Samples:
    """What /metrics must say about `snapshot`, worked out here from the model."""

    want: Samples = {}
    for account in snapshot.accounts:
        alias = account.alias or ""
        want[("heartbeat_account_up", (("account_alias", alias), ("account_id", account.id)))] = (
            1.0 if account.status is AccountStatus.OK else 0.0
        )
        for region, cluster, service in account.services():
            labels = tuple(
                sorted(
                    {
                        "account_id": account.id,
                        "account_alias": alias,
                        "region": region.region,
                        "cluster": cluster.name,
                        "service": service.name,
                    }.items()
                )
            )
            for name, field in SERVICE_GAUGES.items():
                want[(name, labels)] = float(getattr(service, field))
            as_of = region.metrics_as_of(snapshot.generated_at)
            cpu = service.metrics.cpu_average.current(as_of)
            memory = service.metrics.memory_average.current(as_of)
            if cpu is not None:
                want[("heartbeat_service_cpu_utilization_percent", labels)] = cpu
            if memory is not None:
                want[("heartbeat_service_memory_utilization_percent", labels)] = memory
    want[("heartbeat_poll_duration_seconds", ())] = snapshot.stats.duration_seconds
    want[("heartbeat_last_poll_timestamp_seconds", ())] = last_poll_at
    for name, count in calls.items():
        service_name, operation = name.split(".")
        want[("heartbeat_aws_api_calls_total", (("operation", operation), ("service", service_name)))] = float(count)
    return want


async def scrape(client: TestClient[Any, Any], token: str | None = None, **headers: str) -> tuple[int, str]:
    if token is not None:
        headers["Authorization"] = f"Bearer {token}"
    response = await client.get("/metrics", headers=headers)
    return response.status, await response.text()


@pytest.fixture
async def tokened(served: Served, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[TestClient[Any, Any]]:
    """The same hub and users behind an app started with HEARTBEAT_METRICS_TOKEN set."""

    monkeypatch.setenv(TOKEN_VARIABLE, METRICS_TOKEN)
    client: TestClient[Any, Any] = TestClient(TestServer(build_app(served.hub, served.auth, served.config)))
    await client.start_server()
    yield client
    await client.close()


async def test_exposition_parses_and_matches_the_snapshot_value_by_value(served: Served) -> None:
    status, _ = await scrape(served.client)
    assert status == 503  # before the first poll
    await served.poll()
    first = served.hub.snapshot
    assert first is not None
    served.wall.now += INTERVAL
    await served.poll()
    snapshot = served.hub.snapshot
    assert snapshot is not None and snapshot is not first
    calls = Counter(dict(first.stats.calls)) + Counter(dict(snapshot.stats.calls))  # cumulative over both polls

    status, text = await scrape(served.client)
    assert status == 200
    got = samples(text)
    assert got == expected_samples(snapshot, last_poll_at=served.wall.now, calls=calls)
    names = {name for name, _ in got}
    # Not vacuous: the demo fleet has current CPU and memory, a failed account, and polls that cost calls.
    assert {"heartbeat_service_cpu_utilization_percent", "heartbeat_service_memory_utilization_percent"} <= names
    assert 0.0 in {value for (name, _), value in got.items() if name == "heartbeat_account_up"}
    assert calls["ecs.DescribeServices"] > 0 and snapshot.service_count > 10

    response = await served.client.get("/metrics", headers={"Accept-Encoding": "gzip"})
    assert response.headers["Content-Encoding"] == "gzip" and await response.text() == text


async def test_a_user_sees_only_its_allow_list_in_every_label(served: Served) -> None:
    await served.poll()
    snapshot = served.hub.snapshot
    assert snapshot is not None
    others = [a for a in snapshot.accounts if a.id != PAYMENTS]
    assert others and any(a.id == PAYMENTS for a in snapshot.accounts)

    _, text = await scrape(served.client, served.tokens["user"])
    got = samples(text)
    accounts = {dict(labels).get("account_id") for _, labels in got} - {None}
    assert accounts == {PAYMENTS}
    for account in others:
        assert account.id not in text and (not account.alias or account.alias not in text)
    mine = scoped(snapshot, frozenset({PAYMENTS}))
    want = expected_samples(mine, last_poll_at=served.wall.now, calls=Counter(dict(snapshot.stats.calls)))
    assert got == want

    _, text = await scrape(served.client, served.tokens["nobody"])
    assert not any(dict(labels).get("account_id") for _, labels in samples(text))
    _, text = await scrape(served.client, served.tokens["monitor"])
    assert {dict(labels).get("account_id") for _, labels in samples(text)} - {None} == {a.id for a in snapshot.accounts}


async def test_loopback_only_without_a_metrics_token(served: Served) -> None:
    await served.poll()
    assert (await scrape(served.client))[0] == 200
    # Relayed by a proxy on this host: not a loopback client.
    status, text = await scrape(served.client, **{"X-Forwarded-For": "203.0.113.9"})
    assert status == 403 and '"code": "forbidden"' in text.replace('":"', '": "')
    assert (await scrape(served.client, Forwarded="for=203.0.113.9"))[0] == 403
    # A token that is not one of ours is refused, even from loopback.
    assert (await scrape(served.client, "forged.token.value"))[0] == 401
    assert (await scrape(served.client, Authorization="Basic Zm9vOmJhcg=="))[0] == 401


def non_loopback_address() -> str | None:
    """An address of this host that is not loopback (the route to a documentation
    address; no packet is sent), or None on a host without one."""

    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        try:
            probe.connect(("192.0.2.1", 9))
            address: str = probe.getsockname()[0]
        except OSError:
            return None
    return None if address.startswith("127.") else address


async def test_a_remote_client_is_refused_without_a_token_and_let_in_with_it(
    served: Served, monkeypatch: pytest.MonkeyPatch
) -> None:
    address = non_loopback_address()
    if address is None:
        pytest.skip("this host has no address but loopback")
    await served.poll()
    for environment in ({}, {TOKEN_VARIABLE: METRICS_TOKEN}):
        for name, value in environment.items():
            monkeypatch.setenv(name, value)
        server = TestServer(build_app(served.hub, served.auth, served.config), host=address)
        await server.start_server()
        try:
            async with ClientSession() as http:
                url = f"http://{address}:{server.port}/metrics"
                anonymous = await http.get(url)
                admin = await http.get(url, headers=served.bearer("admin"))
                scraper = await http.get(url, headers={"Authorization": f"Bearer {METRICS_TOKEN}"})
                if environment:
                    assert (anonymous.status, admin.status, scraper.status) == (401, 200, 200)
                else:
                    assert (anonymous.status, admin.status, scraper.status) == (403, 403, 403)
        finally:
            await server.close()


async def test_with_a_metrics_token_a_bearer_is_required(served: Served, tokened: TestClient[Any, Any]) -> None:
    await served.poll()
    snapshot = served.hub.snapshot
    assert snapshot is not None
    status, text = await scrape(tokened)
    assert status == 401 and "unauthorized" in text
    assert (await scrape(tokened, METRICS_TOKEN[:-1] + "x"))[0] == 401
    assert (await scrape(tokened, METRICS_TOKEN + "x"))[0] == 401
    status, text = await scrape(tokened, METRICS_TOKEN)
    assert status == 200
    assert {dict(labels).get("account_id") for _, labels in samples(text)} - {None} == {a.id for a in snapshot.accounts}
    # A session token still works, cut to its role; a revoked one does not.
    status, text = await scrape(tokened, served.tokens["user"])
    assert status == 200 and {dict(labels).get("account_id") for _, labels in samples(text)} - {None} == {PAYMENTS}
    await served.auth.logout(served.tokens["user"])
    assert (await scrape(tokened, served.tokens["user"]))[0] == 401


def test_a_short_metrics_token_is_a_config_error(served: Served) -> None:
    with pytest.raises(ConfigError, match=TOKEN_VARIABLE):
        metrics_handler(served.hub, served.auth, served.config, environ={TOKEN_VARIABLE: "short"})


class FixedSource:
    """A FleetSource that answers one given snapshot (names no AWS API would return)."""

    def __init__(self, snapshot: FleetSnapshot) -> None:
        self.snapshot = snapshot

    async def poll(self, only: Collection[str] | None = None) -> FleetSnapshot:
        return self.snapshot

    async def fetch_service_detail(
        self, account_id: str, region: str, cluster_arn: str, service_name: str
    ) -> ServiceDetail:
        raise NotImplementedError

    def relist_next_poll(self) -> None:
        pass

    async def prepare(self) -> None:
        pass

    async def aclose(self) -> None:
        pass


async def hub_over(snapshot: FleetSnapshot) -> Hub:
    scheduler = ManualScheduler()
    hub = Hub(FixedSource(snapshot), interval_seconds=INTERVAL, scheduler=scheduler, monotonic=scheduler.monotonic)
    assert hub.controller.poll_now()
    await scheduler.drain()
    assert hub.snapshot is not None
    return hub


HOSTILE = [
    'quote"d',
    "back\\slash",
    "new\nline",
    'all\\"of\nthem\\n',
    "} fake_metric 1\n# TYPE x counter",
    "ünïcode ☃",
    "",
]


def hostile_snapshot(now: datetime) -> FleetSnapshot:
    stamp = int(now.timestamp()) - 60
    metrics = ServiceMetrics(cpu_average=MetricSeries([stamp], [12.5]), memory_average=MetricSeries([stamp], [50.0]))

    def services(cluster: str) -> Iterable[Service]:
        for i, name in enumerate(HOSTILE):
            yield Service(
                arn=f"arn:{i}", name=name, cluster_arn=cluster, status="ACTIVE", desired_count=i, metrics=metrics
            )

    accounts = tuple(
        AccountSnapshot(
            id=account_id,
            alias=alias,
            regions=(
                RegionSnapshot(
                    region='eu-"west"\n1',
                    fetched_at=now,
                    metrics_fetched_at=now,
                    clusters=(
                        Cluster(arn="arn:c", name=HOSTILE[3], status="ACTIVE", services=tuple(services("arn:c"))),
                    ),
                ),
            ),
        )
        for account_id, alias in (("111111111111", 'ali"as\\\n'), ("222222222222", None))
    )
    return FleetSnapshot(generated_at=now, accounts=accounts, stats=PollStats(calls=(('ecs.List"Odd\n', 3),)))


async def test_hostile_label_values_come_back_exact(served: Served) -> None:
    snapshot = hostile_snapshot(datetime.now(timezone.utc))
    hub = await hub_over(snapshot)
    client: TestClient[Any, Any] = TestClient(TestServer(build_app(hub, served.auth, served.config)))
    await client.start_server()
    try:
        status, text = await scrape(client)
        openmetrics = await client.get("/metrics", headers={"Accept": "application/openmetrics-text"})
        openmetrics_text = await openmetrics.text()
    finally:
        await client.close()
        await hub.close()
    assert status == 200
    assert "fake_metric" not in {family.name for family in text_string_to_metric_families(text)}
    assert samples(text) == expected_samples(
        snapshot, last_poll_at=hub.last_poll_at or 0.0, calls=Counter({'ecs.List"Odd\n': 3})
    )
    assert openmetrics.status == 200 and openmetrics.content_type == "application/openmetrics-text"
    assert openmetrics_text.endswith("# EOF\n")


async def test_a_service_without_a_recent_point_has_no_cpu_or_memory_sample(served: Served) -> None:
    now = datetime.now(timezone.utc)
    recent, old = int(now.timestamp()) - 60, int(now.timestamp()) - 3600
    series = {"fresh": recent, "scaled-to-zero": old}
    services = tuple(
        Service(
            arn=f"arn:{name}",
            name=name,
            cluster_arn="arn:c",
            status="ACTIVE",
            metrics=ServiceMetrics(
                cpu_average=MetricSeries([stamp], [7.0]), memory_average=MetricSeries([stamp], [9.0])
            ),
        )
        for name, stamp in series.items()
    )
    region = RegionSnapshot(
        region="eu-west-1",
        metrics_fetched_at=now,
        clusters=(Cluster(arn="arn:c", name="c", status="ACTIVE", services=services),),
    )
    snapshot = FleetSnapshot(generated_at=now, accounts=(AccountSnapshot(id="111111111111", regions=(region,)),))
    hub = await hub_over(snapshot)
    client: TestClient[Any, Any] = TestClient(TestServer(build_app(hub, served.auth, served.config)))
    await client.start_server()
    try:
        _, text = await scrape(client)
    finally:
        await client.close()
        await hub.close()
    got = samples(text)
    for name in ("heartbeat_service_cpu_utilization_percent", "heartbeat_service_memory_utilization_percent"):
        assert {dict(labels)["service"] for metric, labels in got if metric == name} == {"fresh"}
    running = {dict(labels)["service"] for metric, labels in got if metric == "heartbeat_service_running_tasks"}
    assert running == {"fresh", "scaled-to-zero"}


@pytest.mark.slow
def test_a_short_metrics_token_stops_serve_before_it_listens(setup: Setup) -> None:  # noqa: F811 (the fixture)
    result = subprocess.run(
        heartbeat(setup, "serve", "--listen", "127.0.0.1:0"),
        capture_output=True,
        text=True,
        env={**setup.env, TOKEN_VARIABLE: "short"},
        timeout=120,
        cwd=setup.log.parent,
    )
    assert result.returncode == 2, result
    assert result.stderr.count("\n") == 1 and TOKEN_VARIABLE in result.stderr and "Traceback" not in result.stderr
    assert "short" not in result.stderr.replace("shorter", "") and "listening" not in result.stdout
