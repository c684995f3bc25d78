"""The dashboard's wire format: a `FleetSnapshot` or a `ServiceDetail` as bytes and back.

`heartbeat serve` sends it to remote dashboards (`/api/v1/fleet`, the service
detail), which rebuild the very models a local collector would have given them,
so every pane renders the same. It is not the JSON export contract (that one is
for people and scripts, export.py): this one carries everything, exactly, and a
top-level `"schema"` that `decode_*` checks, because a dashboard and a server of
different versions must fail with one clear line, not render half a snapshot.

Metric series travel as their arrays' bytes, base64, little-endian: the values
as float32 (exactly what the snapshot holds, NaN and infinities included), the
timestamps as an index into the document's `timelines`, each distinct timeline
(uint32 epoch seconds) sent once, however many series share it. Schema 2: a
fleet of 40,000 services is a third of schema 1's size (two lists of numbers
per series), and decoding it makes no Python float or int per point.
"""

from __future__ import annotations

import base64
import binascii
import sys
from array import array
from typing import Any

import orjson
from pydantic import ValidationError

from heartbeat_tui.errors import EXIT_USAGE, HeartbeatError
from heartbeat_tui.models import FleetSnapshot, MetricSeries, ServiceDetail

SCHEMA = 2
MEDIA_TYPE_FLEET = "application/vnd.heartbeat.fleet+json"
MEDIA_TYPE_DETAIL = "application/vnd.heartbeat.detail+json"
_SERIES = ("cpu_average", "cpu_maximum", "memory_average", "memory_maximum")


class WireFormatError(HeartbeatError):
    """Bytes that are not this version's wire format: another version's server, or not HeartBeat at all."""

    exit_code = EXIT_USAGE


def _little_endian(values: memoryview) -> bytes:
    if sys.byteorder == "little":
        return values.tobytes()
    swapped = array(values.format, values.tobytes())
    swapped.byteswap()
    return swapped.tobytes()


def _from_little_endian(typecode: str, data: bytes) -> array[Any]:
    out = array(typecode)
    out.frombytes(data)
    if sys.byteorder != "little":
        out.byteswap()
    return out


class _Encoder:
    """orjson's `default` for one document: series as [timeline index, values], timelines collected."""

    def __init__(self) -> None:
        self.timelines: list[str] = []
        self._indexes: dict[int, int] = {}

    def __call__(self, value: object) -> Any:
        if isinstance(value, MetricSeries):
            # The snapshot holds every series while it is encoded: a token stays its timeline's.
            index = self._indexes.get(value.timeline_token)
            if index is None:
                index = self._indexes[value.timeline_token] = len(self.timelines)
                self.timelines.append(base64.b64encode(_little_endian(value.timestamps)).decode("ascii"))
            return [index, base64.b64encode(_little_endian(value.values)).decode("ascii")]
        raise TypeError(f"{type(value).__name__} is not part of the wire format")


def _dumps(kind: str, body: dict[str, Any]) -> bytes:
    encoder = _Encoder()
    encoded = orjson.dumps(body, default=encoder)
    return orjson.dumps(
        {"schema": SCHEMA, "kind": kind, "timelines": encoder.timelines, kind: orjson.Fragment(encoded)}
    )


def encode_fleet(snapshot: FleetSnapshot) -> bytes:
    """The snapshot, whole, as the wire format's bytes."""

    return _dumps("fleet", snapshot.model_dump())


def encode_detail(detail: ServiceDetail) -> bytes:
    return _dumps("detail", detail.model_dump())


class _Decoder:
    """The document's timelines, each decoded once, and its series over them."""

    def __init__(self, timelines: Any) -> None:
        if not isinstance(timelines, list):
            raise WireFormatError("the wire format's timelines are not a list")
        self._raw = timelines
        self._decoded: dict[int, array[int]] = {}

    def _timeline(self, index: Any) -> array[int]:
        stamps = self._decoded.get(index) if isinstance(index, int) else None
        if stamps is None:
            if not (isinstance(index, int) and 0 <= index < len(self._raw) and isinstance(self._raw[index], str)):
                raise WireFormatError(f"the wire format's metric series names no timeline: {index!r}")
            stamps = self._decoded[index] = _from_little_endian("I", _b64(self._raw[index], 4))
        return stamps

    def series(self, raw: Any) -> MetricSeries:
        if not (isinstance(raw, list) and len(raw) == 2 and isinstance(raw[1], str)):
            raise WireFormatError("the wire format's metric series is not [timeline, values]")
        try:
            return MetricSeries(self._timeline(raw[0]), _from_little_endian("f", _b64(raw[1], 4)))
        except ValueError as exc:
            raise WireFormatError(f"the wire format's metric series is malformed: {exc}") from None


def _b64(text: str, item_size: int) -> bytes:
    try:
        data = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise WireFormatError("the wire format's metric series is malformed: not base64") from None
    if len(data) % item_size:
        raise WireFormatError("the wire format's metric series is malformed: a partial number")
    return data


def _document(data: bytes, kind: str) -> tuple[dict[str, Any], dict[str, Any]]:
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
    return document, body


def _invalid(kind: str, exc: ValidationError) -> WireFormatError:
    first = exc.errors()[0]
    where = ".".join(str(part) for part in first["loc"])
    return WireFormatError(f"malformed {kind} in the wire format: {where}: {first['msg']}")


def decode_fleet(data: bytes) -> FleetSnapshot:
    """The snapshot `encode_fleet` wrote; `WireFormatError` for anything else."""

    document, body = _document(data, "fleet")
    decoder = _Decoder(document.get("timelines"))
    try:
        for account in body.get("accounts") or ():
            for region in account.get("regions") or ():
                for cluster in region.get("clusters") or ():
                    for service in cluster.get("services") or ():
                        metrics = service.get("metrics")
                        if isinstance(metrics, dict):
                            for name in _SERIES:
                                if name in metrics:
                                    metrics[name] = decoder.series(metrics[name])
        return FleetSnapshot.model_validate(body)
    except ValidationError as exc:
        raise _invalid("fleet", exc) from None
    except (AttributeError, TypeError):
        raise WireFormatError("malformed fleet in the wire format: an object where a list belongs") from None


def decode_detail(data: bytes) -> ServiceDetail:
    """The detail `encode_detail` wrote; `WireFormatError` for anything else."""

    try:
        return ServiceDetail.model_validate(_document(data, "detail")[1])
    except ValidationError as exc:
        raise _invalid("detail", exc) from None
