"""Incremental fleet decoding: what is unchanged since the last decode is its very object, what changed is new and
validated as strictly as ever."""

from __future__ import annotations

import base64
import struct
from array import array
from collections.abc import Iterator
from datetime import datetime, timezone
from typing import Any

import orjson
import pytest

from heartbeat_tui.collector import Collector
from heartbeat_tui.fleetwire import FleetMemo, WireFormatError, decode_fleet, encode_fleet
from heartbeat_tui.models import (
    AccountSnapshot,
    Cluster,
    FleetSnapshot,
    MetricSeries,
    RegionSnapshot,
    Service,
    ServiceMetrics,
)
from tests.support.configs import make_config


async def _polls(aws: Any) -> tuple[FleetSnapshot, FleetSnapshot]:
    async with Collector(make_config(aws)) as collector:
        return await collector.poll(), await collector.poll()


def _services(snapshot: FleetSnapshot) -> Iterator[Service]:
    for account in snapshot.accounts:
        for _, _, service in account.services():
            yield service


def _with_service(snapshot: FleetSnapshot, arn: str, change: dict[str, Any]) -> FleetSnapshot:
    """The snapshot with one service's fields changed (every other object the same)."""

    def account(a: Any) -> Any:
        regions = tuple(
            r.model_copy(
                update={
                    "clusters": tuple(
                        c.model_copy(
                            update={
                                "services": tuple(
                                    s.model_copy(update=change) if s.arn == arn else s for s in c.services
                                )
                            }
                        )
                        for c in r.clusters
                    )
                }
            )
            for r in a.regions
        )
        return a.model_copy(update={"regions": regions})

    return snapshot.model_copy(update={"accounts": tuple(account(a) for a in snapshot.accounts)})


@pytest.fixture
async def polled(clean_aws: Any) -> tuple[FleetSnapshot, FleetSnapshot]:
    return await _polls(clean_aws)


async def test_the_same_document_twice_gives_the_same_objects(polled: tuple[FleetSnapshot, FleetSnapshot]) -> None:
    snapshot, _ = polled
    data = encode_fleet(snapshot)
    memo = FleetMemo()
    first = decode_fleet(data, memo)
    second = decode_fleet(data, memo)
    assert first == second == snapshot
    assert first is not second  # the document's own fields (generated_at, stats) are read each time
    assert len(list(_services(first))) > 10
    assert all(a is b for a, b in zip(first.accounts, second.accounts, strict=True))
    assert all(a is b for a, b in zip(_services(first), _services(second), strict=True))
    without = decode_fleet(data)  # no memo: everything new, and equal
    assert without == first and not any(a is b for a, b in zip(_services(without), _services(first), strict=True))


async def test_a_changed_service_is_new_and_honoured_the_rest_kept(polled: tuple[FleetSnapshot, FleetSnapshot]) -> None:
    snapshot, _ = polled
    memo = FleetMemo()
    before = decode_fleet(encode_fleet(snapshot), memo)
    target = next(_services(snapshot))
    changed = _with_service(snapshot, target.arn, {"running_count": target.running_count + 7, "status": "DRAINING"})
    after = decode_fleet(encode_fleet(changed), memo)
    assert after == changed and after != before
    pairs = list(zip(_services(before), _services(after), strict=True))
    moved = [(old, new) for old, new in pairs if old is not new]
    assert len(moved) == 1
    old, new = moved[0]
    assert new.arn == target.arn and new.running_count == target.running_count + 7 and new.status == "DRAINING"
    assert new.metrics is old.metrics  # its metrics did not change: the same object
    # Only the account holding it is new; its other clusters stay the very objects.
    assert sum(a is not b for a, b in zip(before.accounts, after.accounts, strict=True)) == 1


async def test_a_new_metric_minute_is_honoured(polled: tuple[FleetSnapshot, FleetSnapshot]) -> None:
    snapshot, _ = polled
    memo = FleetMemo()
    before = decode_fleet(encode_fleet(snapshot), memo)
    target = next(s for s in _services(snapshot) if s.metrics.cpu_average)
    series = target.metrics.cpu_average
    grown = MetricSeries([*series.timestamps.tolist(), series.timestamps[-1] + 60], [*series.values.tolist(), 42.5])
    metrics = target.metrics.model_copy(update={"cpu_average": grown})
    after = decode_fleet(encode_fleet(_with_service(snapshot, target.arn, {"metrics": metrics})), memo)
    new = next(s for s in _services(after) if s.arn == target.arn)
    old = next(s for s in _services(before) if s.arn == target.arn)
    assert new is not old and new.metrics.cpu_average.values[-1] == 42.5 and len(new.metrics.cpu_average) == len(grown)
    assert new.model_copy(update={"metrics": old.metrics}) == old  # every other field as it was
    assert new.metrics.memory_average == old.metrics.memory_average


def _raw_service(document: dict[str, Any], index: int = 0) -> dict[str, Any]:
    services = [
        s for a in document["fleet"]["accounts"] for r in a["regions"] for c in r["clusters"] for s in c["services"]
    ]
    return services[index]  # type: ignore[no-any-return]


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"desired_count": "many"}, "services.0.desired_count"),
        ({"surprise": 1}, "services.0.surprise"),
        ({"metrics": {"cpu_average": [0, "not base64!"]}}, "metric series is malformed"),
        ({"metrics": {"cpu_average": [99999, "AAAAAA=="]}}, "names no timeline"),
        ({"metrics": {"disk": [0, "AAAAAA=="]}}, "services.0.metrics.disk"),
        ({"deployments": {"not": "a list"}}, "services.0.deployments"),
    ],
)
async def test_a_malformed_changed_service_still_fails_strictly(
    polled: tuple[FleetSnapshot, FleetSnapshot], change: dict[str, Any], message: str
) -> None:
    snapshot, _ = polled
    data = encode_fleet(snapshot)
    memo = FleetMemo()
    before = decode_fleet(data, memo)
    document = orjson.loads(data)
    _raw_service(document).update(change)
    with pytest.raises(WireFormatError) as caught:
        decode_fleet(orjson.dumps(document), memo)
    assert message in str(caught.value) and "\n" not in str(caught.value)
    again = decode_fleet(data, memo)  # a failed decode leaves the memo as it was
    assert all(a is b for a, b in zip(_services(before), _services(again), strict=True))


async def test_successive_polls_decode_exactly(polled: tuple[FleetSnapshot, FleetSnapshot]) -> None:
    first, second = polled
    memo = FleetMemo()
    decode_fleet(encode_fleet(first), memo)
    back = decode_fleet(encode_fleet(second), memo)
    assert back == second and encode_fleet(back) == encode_fleet(second)
    assert back.stats == second.stats and back.poll_number == second.poll_number


def test_empty_pieces_are_reused_too() -> None:
    """An account without regions, a cluster without services, a service without history."""

    service = Service(arn="arn:s", name="s", cluster_arn="arn:c/c", status="ACTIVE", metrics=ServiceMetrics())
    clusters = (
        Cluster(arn="arn:c/e", name="e", status="ACTIVE"),
        Cluster(arn="arn:c/c", name="c", status="ACTIVE", services=(service,)),
    )
    snapshot = FleetSnapshot(
        generated_at=datetime(2026, 1, 2, tzinfo=timezone.utc),
        accounts=(
            AccountSnapshot(id="1", regions=(RegionSnapshot(region="r", clusters=clusters),)),
            AccountSnapshot(id="2"),
        ),
    )
    memo = FleetMemo()
    first = decode_fleet(encode_fleet(snapshot), memo)
    again = decode_fleet(encode_fleet(snapshot), memo)
    assert first == again == snapshot
    assert again.accounts[0].regions[0].clusters[0] is first.accounts[0].regions[0].clusters[0]
    assert again.accounts[1] is first.accounts[1]


async def test_a_series_is_known_by_its_timeline_not_its_index(polled: tuple[FleetSnapshot, FleetSnapshot]) -> None:
    """Schema 2 sends each timeline once, by index: the index means nothing from one document to the next."""

    snapshot, _ = polled
    data = encode_fleet(snapshot)
    memo = FleetMemo()
    before = decode_fleet(data, memo)
    document = orjson.loads(data)
    timelines = document["timelines"]
    assert timelines, "the fleet has history"

    # The same timelines, renumbered: every service is the last decode's object.
    renumbered = orjson.loads(data)
    renumbered["timelines"] = [base64.b64encode(struct.pack("<I", 60)).decode(), *timelines]
    for service in _all_raw_services(renumbered):
        for name, series in service["metrics"].items():
            if isinstance(series, list):
                service["metrics"][name] = [series[0] + 1, series[1]]
    again = decode_fleet(orjson.dumps(renumbered), memo)
    assert all(a is b for a, b in zip(_services(before), _services(again), strict=True))

    # Timeline 0 moved a minute on, its index kept: the series over it are new, with the new times.
    moved = orjson.loads(data)
    stamps = array("I", base64.b64decode(timelines[0]))
    moved["timelines"][0] = base64.b64encode(array("I", (t + 60 for t in stamps)).tobytes()).decode()
    after = decode_fleet(orjson.dumps(moved), memo)
    checked = 0
    for raw, old, new in zip(_all_raw_services(moved), _services(again), _services(after), strict=True):
        on_zero = [name for name, v in raw["metrics"].items() if isinstance(v, list) and v[0] == 0]
        for name in on_zero:
            assert new is not old
            old_stamps = list(getattr(old.metrics, name).timestamps)
            assert list(getattr(new.metrics, name).timestamps) == [t + 60 for t in old_stamps]
            checked += 1
    assert checked, "some series use timeline 0"


def _all_raw_services(document: dict[str, Any]) -> list[dict[str, Any]]:
    return [
        s for a in document["fleet"]["accounts"] for r in a["regions"] for c in r["clusters"] for s in c["services"]
    ]
