"""The dashboard wire format: an exact round trip of what the collector polls."""

from __future__ import annotations

import math
from typing import Any

import orjson
import pytest

from heartbeat_tui.collector import Collector
from heartbeat_tui.fleetwire import (
    SCHEMA,
    WireFormatError,
    decode_detail,
    decode_fleet,
    encode_detail,
    encode_fleet,
)
from heartbeat_tui.models import AccountStatus, FleetSnapshot, MetricSeries, ServiceMetrics
from tests.support.configs import DENIED_ACCOUNT, PAYMENTS, make_config


async def _polls(aws: Any) -> tuple[FleetSnapshot, FleetSnapshot, Any]:
    """A clean poll, then one where PAYMENTS's CloudWatch fails (stale metrics, region errors), and a detail."""

    async with Collector(make_config(aws)) as collector:
        first = await collector.poll()
        aws.add_fault(kind="error", account=PAYMENTS, service="monitoring", code="ServiceUnavailable")
        try:
            second = await collector.poll()
        finally:
            aws.clear_faults()
        account = next(a for a in first.accounts if a.status is AccountStatus.OK)
        region, cluster, service = next(iter(account.services()))
        detail = await collector.fetch_service_detail(account.id, region.region, cluster.arn, service.name)
    return first, second, detail


async def test_round_trip_is_exact_over_the_embedded_fleet(clean_aws: Any) -> None:
    first, second, detail = await _polls(clean_aws)
    # What the round trip must carry: history, an account in error, stale data and its errors.
    assert any(s.metrics.cpu_average for a in first.accounts for _, _, s in a.services())
    assert first.account(DENIED_ACCOUNT).status is AccountStatus.ERROR  # type: ignore[union-attr]
    payments = second.account(PAYMENTS)
    assert payments is not None and any(r.stale and r.errors for r in payments.regions)
    warned = first.model_copy(
        update={
            "accounts": tuple(
                a.model_copy(update={"warnings": ("alias: not readable\x1b[2J",)}) for a in first.accounts
            )
        }
    )
    assert detail.tasks and detail.fetched_at is not None

    for snapshot in (first, second, warned):
        back = decode_fleet(encode_fleet(snapshot))
        assert back == snapshot
        assert back.stats == snapshot.stats and back.poll_number == snapshot.poll_number
        assert encode_fleet(back) == encode_fleet(snapshot)
    assert decode_detail(encode_detail(detail)) == detail


def test_series_travel_as_two_lists_and_non_finite_values_survive() -> None:
    from datetime import datetime, timezone

    from heartbeat_tui.models import AccountSnapshot, Cluster, RegionSnapshot, Service

    series = MetricSeries([60, 120, 180], [0.1, math.nan, 1e308 * 10])
    service = Service(
        arn="arn:svc", name="svc", cluster_arn="arn:c/c", status="ACTIVE", metrics=ServiceMetrics(cpu_average=series)
    )
    cluster = Cluster(arn="arn:c/c", name="c", status="ACTIVE", services=(service,))
    snapshot = FleetSnapshot(
        generated_at=datetime(2026, 1, 2, 3, 4, 5, 678901, tzinfo=timezone.utc),
        accounts=(AccountSnapshot(id="1", regions=(RegionSnapshot(region="r", clusters=(cluster,)),)),),
    )
    raw = orjson.loads(encode_fleet(snapshot))
    assert raw["schema"] == SCHEMA
    wire = raw["fleet"]["accounts"][0]["regions"][0]["clusters"][0]["services"][0]["metrics"]["cpu_average"]
    assert wire == [[60, 120, 180], [0.1, None, None]]
    back = decode_fleet(encode_fleet(snapshot)).accounts[0].regions[0].clusters[0].services[0].metrics.cpu_average
    assert back.timestamps.tolist() == [60, 120, 180] and back.values[0] == 0.1 and math.isnan(back.values[1])
    assert decode_fleet(encode_fleet(snapshot)).generated_at == snapshot.generated_at


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b'{"schema": 2, "kind": "fleet", "fleet": {}}', "schema 2 received, this HeartBeat reads schema 1"),
        (b'{"kind": "fleet", "fleet": {}}', "schema None received"),
        (b"<html>", "not JSON"),
        (b"[1]", "not a JSON object"),
        (b'{"schema": 1, "kind": "detail", "detail": {}}', "holds 'detail', not 'fleet'"),
        (b'{"schema": 1, "kind": "fleet", "fleet": {"generated_at": "soon"}}', "generated_at"),
        (b'{"schema": 1, "kind": "fleet", "fleet": {"generated_at": "2026-01-01T00:00:00Z", "x": 1}}', "x"),
        (
            b'{"schema": 1, "kind": "fleet", "fleet": {"generated_at": "2026-01-01T00:00:00Z", "accounts": [{"id": "1",'
            b' "regions": [{"region": "r", "clusters": [{"arn": "a", "name": "n", "status": "s", "services": [{"arn":'
            b' "a", "name": "n", "cluster_arn": "c", "status": "s", "metrics": {"cpu_average": [[1, 2], [0.5]]}}]}]}]}]}}',
            "metric series is malformed",
        ),
    ],
)
def test_anything_else_is_one_clear_error(data: bytes, message: str) -> None:
    with pytest.raises(WireFormatError) as caught:
        decode_fleet(data)
    assert message in str(caught.value) and "\n" not in str(caught.value)
