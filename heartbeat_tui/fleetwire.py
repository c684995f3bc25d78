"""The dashboard's wire format: a `FleetSnapshot` or a `ServiceDetail` as bytes and back.

`heartbeat serve` sends it to remote dashboards (`/api/v1/fleet`, the service
detail), which rebuild the very models a local collector would have given them,
so every pane renders the same. It is not the JSON export contract (that one is
for people and scripts, export.py): this one carries everything, exactly, and a
top-level `"schema"` that `decode_*` checks, because a dashboard and a server of
different versions must fail with one clear line, not render half a snapshot.

Metric series travel as two lists (epoch seconds, values): about a tenth of the
size of point objects, and parsed by orjson in C. Floats keep their exact value
(orjson writes the shortest repr that reads back the same); a NaN travels as
null and comes back a NaN.
"""

from __future__ import annotations

import math
from typing import Any

import orjson
from pydantic import ValidationError

from heartbeat_tui.errors import EXIT_USAGE, HeartbeatError
from heartbeat_tui.models import FleetSnapshot, MetricSeries, ServiceDetail

SCHEMA = 1
MEDIA_TYPE_FLEET = "application/vnd.heartbeat.fleet+json"
MEDIA_TYPE_DETAIL = "application/vnd.heartbeat.detail+json"
_SERIES = ("cpu_average", "cpu_maximum", "memory_average", "memory_maximum")


class WireFormatError(HeartbeatError):
    """Bytes that are not this version's wire format: another version's server, or not HeartBeat at all."""

    exit_code = EXIT_USAGE


def _default(value: object) -> Any:
    if isinstance(value, MetricSeries):
        values: list[float] = value.values.tolist()  # type: ignore[assignment]  # typeshed: int
        # One C-speed sum finds a NaN or an infinity (or an overflow: the slow path is exact anyway).
        if not math.isfinite(sum(values)):
            return [value.timestamps.tolist(), [v if math.isfinite(v) else None for v in values]]
        return [value.timestamps.tolist(), values]
    raise TypeError(f"{type(value).__name__} is not part of the wire format")


def _dumps(kind: str, body: dict[str, Any]) -> bytes:
    return orjson.dumps({"schema": SCHEMA, "kind": kind, kind: body}, default=_default)


def encode_fleet(snapshot: FleetSnapshot) -> bytes:
    """The snapshot, whole, as the wire format's bytes."""

    return _dumps("fleet", snapshot.model_dump())


def encode_detail(detail: ServiceDetail) -> bytes:
    return _dumps("detail", detail.model_dump())


def _series(raw: Any) -> MetricSeries:
    if not (isinstance(raw, list) and len(raw) == 2 and all(isinstance(part, list) for part in raw)):
        raise WireFormatError("the wire format's metric series is not [timestamps, values]")
    stamps, values = raw
    try:
        return MetricSeries(stamps, (math.nan if v is None else v for v in values))
    except (TypeError, ValueError, OverflowError) as exc:
        raise WireFormatError(f"the wire format's metric series is malformed: {exc}") from None


def _body(data: bytes, kind: str) -> dict[str, Any]:
    try:
        document = orjson.loads(data)
    except orjson.JSONDecodeError:
        raise WireFormatError("not the HeartBeat wire format (not JSON)") from None
    if not isinstance(document, dict):
        raise WireFormatError("not the HeartBeat wire format (not a JSON object)")
    schema = document.get("schema")
    if schema != SCHEMA:
        raise WireFormatError(
            f"wire format schema {schema!r} received, this HeartBeat reads schema {SCHEMA}:"
            " use the same HeartBeat version on both ends"
        )
    body = document.get(kind)
    if document.get("kind") != kind or not isinstance(body, dict):
        raise WireFormatError(f"the wire format holds {document.get('kind')!r}, not {kind!r}")
    return body


def _invalid(kind: str, exc: ValidationError) -> WireFormatError:
    first = exc.errors()[0]
    where = ".".join(str(part) for part in first["loc"])
    return WireFormatError(f"malformed {kind} in the wire format: {where}: {first['msg']}")


def decode_fleet(data: bytes) -> FleetSnapshot:
    """The snapshot `encode_fleet` wrote; `WireFormatError` for anything else."""

    body = _body(data, "fleet")
    try:
        for account in body.get("accounts") or ():
            for region in account.get("regions") or ():
                for cluster in region.get("clusters") or ():
                    for service in cluster.get("services") or ():
                        metrics = service.get("metrics")
                        if isinstance(metrics, dict):
                            for name in _SERIES:
                                if name in metrics:
                                    metrics[name] = _series(metrics[name])
        return FleetSnapshot.model_validate(body)
    except ValidationError as exc:
        raise _invalid("fleet", exc) from None
    except (AttributeError, TypeError):
        raise WireFormatError("malformed fleet in the wire format: an object where a list belongs") from None


def decode_detail(data: bytes) -> ServiceDetail:
    """The detail `encode_detail` wrote; `WireFormatError` for anything else."""

    try:
        return ServiceDetail.model_validate(_body(data, "detail"))
    except ValidationError as exc:
        raise _invalid("detail", exc) from None
