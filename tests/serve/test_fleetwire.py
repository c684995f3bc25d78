"""The dashboard wire format: an exact round trip of what the collector polls."""

from __future__ import annotations

import base64
import math
import struct
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


def _one_service_fleet(metrics: ServiceMetrics) -> FleetSnapshot:
    from datetime import datetime, timezone

    from heartbeat_tui.models import AccountSnapshot, Cluster, RegionSnapshot, Service

    service = Service(arn="arn:svc", name="svc", cluster_arn="arn:c/c", status="ACTIVE", metrics=metrics)
    cluster = Cluster(arn="arn:c/c", name="c", status="ACTIVE", services=(service,))
    return FleetSnapshot(
        generated_at=datetime(2026, 1, 2, 3, 4, 5, 678901, tzinfo=timezone.utc),
        accounts=(AccountSnapshot(id="1", regions=(RegionSnapshot(region="r", clusters=(cluster,)),)),),
    )


def test_series_travel_as_bytes_over_shared_timelines_and_non_finite_values_survive() -> None:
    cpu = MetricSeries([60, 120, 180], [0.1, math.nan, 1e308 * 10])
    memory = MetricSeries([60, 120, 180], [1.0, 2.0, -math.inf])
    snapshot = _one_service_fleet(ServiceMetrics(cpu_average=cpu, memory_average=memory))
    raw = orjson.loads(encode_fleet(snapshot))
    assert raw["schema"] == SCHEMA == 2
    # Two series over the same minutes: the timeline travels once (uint32, little-endian); the
    # two without points share the empty one.
    assert raw["timelines"] == [base64.b64encode(struct.pack("<3I", 60, 120, 180)).decode(), ""]
    wire = raw["fleet"]["accounts"][0]["regions"][0]["clusters"][0]["services"][0]["metrics"]
    assert wire["cpu_average"] == [0, base64.b64encode(struct.pack("<3f", 0.1, math.nan, math.inf)).decode()]
    assert wire["memory_average"][0] == 0
    back = decode_fleet(encode_fleet(snapshot)).accounts[0].regions[0].clusters[0].services[0].metrics
    assert back.cpu_average.timestamps.tolist() == [60, 120, 180]
    assert back.cpu_average.values[0] == struct.unpack("f", struct.pack("f", 0.1))[0]  # float32, exactly
    assert math.isnan(back.cpu_average.values[1]) and back.cpu_average.values[2] == math.inf
    assert back.memory_average.values[2] == -math.inf
    assert back.cpu_average.timeline_token == back.memory_average.timeline_token  # shared again once decoded
    assert decode_fleet(encode_fleet(snapshot)).generated_at == snapshot.generated_at


def _document(series: object, timelines: object = ("PAAAAHgAAAA=",)) -> bytes:
    """A schema-2 fleet with one service whose cpu_average is `series` (the timeline: minutes 60 and 120)."""

    service = {"arn": "a", "name": "n", "cluster_arn": "c", "status": "s", "metrics": {"cpu_average": series}}
    cluster = {"arn": "a", "name": "n", "status": "s", "services": [service]}
    fleet = {
        "generated_at": "2026-01-01T00:00:00Z",
        "accounts": [{"id": "1", "regions": [{"region": "r", "clusters": [cluster]}]}],
    }
    document: dict[str, object] = {"schema": 2, "kind": "fleet", "fleet": fleet}
    if timelines is not None:
        document["timelines"] = list(timelines) if isinstance(timelines, tuple) else timelines
    return orjson.dumps(document)


def test_the_malformed_document_helper_is_itself_valid() -> None:
    two = base64.b64encode(struct.pack("<2f", 1.5, 2.5)).decode()
    series = decode_fleet(_document([0, two])).accounts[0].regions[0].clusters[0].services[0].metrics.cpu_average
    assert series.timestamps.tolist() == [60, 120] and series.values.tolist() == [1.5, 2.5]


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b'{"schema": 1, "kind": "fleet", "fleet": {}}', "schema 1 received, this HeartBeat reads schema 2"),
        (b'{"kind": "fleet", "fleet": {}}', "schema None received"),
        (b"<html>", "not JSON"),
        (b"[1]", "not a JSON object"),
        (b'{"schema": 2, "kind": "detail", "detail": {}}', "holds 'detail', not 'fleet'"),
        (b'{"schema": 2, "kind": "fleet", "timelines": [], "fleet": {"generated_at": "soon"}}', "generated_at"),
        (
            b'{"schema": 2, "kind": "fleet", "timelines": [], "fleet": {"generated_at": "2026-01-01T00:00:00Z", "x": 1}}',
            "x",
        ),
        (_document([[60, 120], [0.5, 1.0]]), "metric series is not [timeline, values]"),  # schema 1's form
        (_document([0, "AAAAAA=="], timelines=None), "timelines are not a list"),
        (_document([3, "AAAAAA=="]), "names no timeline: 3"),
        (_document(["0", "AAAAAA=="]), "names no timeline: '0'"),
        (_document([0, "not base64!"]), "not base64"),
        (_document([0, "AAA="]), "a partial number"),
        (_document([0, "AAAAAA=="]), "as many timestamps as values"),  # one value, two minutes
    ],
)
def test_anything_else_is_one_clear_error(data: bytes, message: str) -> None:
    with pytest.raises(WireFormatError) as caught:
        decode_fleet(data)
    assert message in str(caught.value) and "\n" not in str(caught.value)
