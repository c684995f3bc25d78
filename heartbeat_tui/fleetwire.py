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

Decoding is incremental when the caller keeps a `FleetMemo` between decodes
(a cluster replica for each account's part, a remote dashboard for
`/api/v1/fleet`): a piece (account, region, cluster, service, its metrics) whose
wire form is byte for byte one the last decode validated is that decode's
very object, so only what changed is validated, and unchanged objects keep
their identity across snapshots as a local collector's do. A piece is known
by a BLAKE2b digest of its wire form (children by their digests; a series
by its timeline's bytes, not its index in this document's table): 16 bytes
held per piece, not the document.
"""

from __future__ import annotations

import base64
import binascii
import sys
from array import array
from hashlib import blake2b
from typing import Any, TypeVar

import orjson
from pydantic import ValidationError

from heartbeat_tui.errors import EXIT_USAGE, HeartbeatError
from heartbeat_tui.models import (
    AccountSnapshot,
    Cluster,
    FleetSnapshot,
    MetricSeries,
    RegionSnapshot,
    Service,
    ServiceDetail,
    ServiceMetrics,
)

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


class _Series:
    """The document's timelines, each decoded once, and its series over them."""

    def __init__(self, timelines: Any) -> None:
        if not isinstance(timelines, list):
            raise WireFormatError("the wire format's timelines are not a list")
        self._raw = timelines
        self._decoded: dict[int, array[int]] = {}
        self._digests: dict[int, bytes] = {}

    def _timeline(self, index: Any) -> array[int]:
        stamps = self._decoded.get(index) if isinstance(index, int) else None
        if stamps is None:
            if not (isinstance(index, int) and 0 <= index < len(self._raw) and isinstance(self._raw[index], str)):
                raise WireFormatError(f"the wire format's metric series names no timeline: {index!r}")
            stamps = self._decoded[index] = _from_little_endian("I", _b64(self._raw[index], 4))
        return stamps

    def timeline_digest(self, index: Any) -> bytes | None:
        """What a series' timeline index stands for, the same in every document (None: not a timeline)."""

        digest = self._digests.get(index) if isinstance(index, int) else None
        if digest is None:
            if not (isinstance(index, int) and 0 <= index < len(self._raw) and isinstance(self._raw[index], str)):
                return None
            digest = self._digests[index] = blake2b(self._raw[index].encode("ascii"), digest_size=16).digest()
        return digest

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


def _invalid(kind: str, exc: ValidationError, prefix: str = "") -> WireFormatError:
    first = exc.errors()[0]
    where = prefix + ".".join(str(part) for part in first["loc"])
    return WireFormatError(f"malformed {kind} in the wire format: {where}: {first['msg']}")


class FleetMemo:
    """The objects one fleet decode built, by the digest of their wire form: what the next decode reuses.

    Each decode replaces the memo's content with its own pieces, so it holds
    one document's worth (what left the document is let go)."""

    __slots__ = ("pieces", "rests")

    def __init__(self) -> None:
        self.pieces: dict[bytes, Any] = {}  # digest of a whole piece -> its object
        self.rests: dict[bytes, Service] = {}  # digest of a service without its metrics -> a service


_M = TypeVar("_M", AccountSnapshot, RegionSnapshot, Cluster, Service, ServiceMetrics, FleetSnapshot)


def _digest(tag: bytes, *parts: bytes) -> bytes:
    h = blake2b(digest_size=16, person=tag)  # the tag keeps pieces of different kinds apart
    for part in parts:
        h.update(part)
    return h.digest()


class _Decoder:
    """One decode: validates what the memo does not hold, takes the rest from it, and refills it."""

    def __init__(self, memo: FleetMemo | None, series: _Series) -> None:
        self.series = series
        self.old = memo.pieces if memo is not None else {}
        self.old_rests = memo.rests if memo is not None else {}
        self.pieces: dict[bytes, Any] = {}
        self.rests: dict[bytes, Service] = {}

    def validate(self, model: type[_M], raw: Any, where: str) -> _M:
        try:
            return model.model_validate(raw)
        except ValidationError as exc:
            raise _invalid("fleet", exc, where) from None

    def level(
        self, tag: bytes, model: type[_M], raw: Any, children: str, child: Any, where: str
    ) -> tuple[_M, bytes | None]:
        """A piece holding a list of children: reused when its own fields and every child's digest are the same."""

        items = raw.get(children) if isinstance(raw, dict) else None
        if not isinstance(items, list):  # absent or malformed: validated whole, never reused
            return self.validate(model, raw, where), None
        built = [child(item, f"{where}{children}.{i}.") for i, item in enumerate(items)]
        digests = [d for _, d in built]
        own = {k: v for k, v in raw.items() if k != children}
        key = None if None in digests else _digest(tag, orjson.dumps(own), *digests)
        value = self.old.get(key) if key is not None else None
        if value is None:
            value = self.validate(model, {**own, children: [o for o, _ in built]}, where)
        if key is not None:
            self.pieces[key] = value
        return value, key

    def account(self, raw: Any, where: str) -> tuple[AccountSnapshot, bytes | None]:
        return self.level(b"account", AccountSnapshot, raw, "regions", self.region, where)

    def region(self, raw: Any, where: str) -> tuple[RegionSnapshot, bytes | None]:
        return self.level(b"region", RegionSnapshot, raw, "clusters", self.cluster, where)

    def cluster(self, raw: Any, where: str) -> tuple[Cluster, bytes | None]:
        return self.level(b"cluster", Cluster, raw, "services", self.service, where)

    def service(self, raw: Any, where: str) -> tuple[Service, bytes | None]:
        """A service: itself if unchanged, else its fields (metrics apart) and its metrics, each reused if unchanged."""

        if not isinstance(raw, dict) or not isinstance(raw.get("metrics", {}), dict):
            return self.validate(Service, self.with_series(raw), where), None
        metrics_raw: dict[str, Any] = raw.get("metrics", {})
        metrics_form = self.metrics_form(metrics_raw)
        if metrics_form is None:  # a series naming no timeline: validated whole, for its one-line error
            return self.validate(Service, self.with_series(raw), where), None
        rest = {k: v for k, v in raw.items() if k != "metrics"}
        rest_key = _digest(b"rest", orjson.dumps(rest))
        metrics_key = _digest(b"metrics", metrics_form)
        key = _digest(b"service", rest_key, metrics_key)
        value = self.old.get(key)
        if value is None:
            metrics = self.old.get(metrics_key)
            if metrics is None:
                metrics = self.validate(
                    ServiceMetrics, self.with_series({"metrics": metrics_raw})["metrics"], where + "metrics."
                )
            same_rest = self.old_rests.get(rest_key)
            if same_rest is not None:  # only its metrics moved (a new minute): its fields were validated before
                value = same_rest.model_copy(update={"metrics": metrics})
            else:
                value = self.validate(Service, {**rest, "metrics": metrics}, where)
        self.pieces[key] = value
        self.pieces[metrics_key] = value.metrics
        self.rests[rest_key] = value
        return value, key

    def metrics_form(self, metrics: dict[str, Any]) -> bytes | None:
        """A service's metrics as bytes that mean the same in every document: a series' timeline index
        (this document's table) replaced by the digest of the timeline itself. None: a series names no timeline."""

        form: dict[str, Any] = {}
        for name, value in metrics.items():
            if name in _SERIES and isinstance(value, list) and len(value) == 2:
                timeline = self.series.timeline_digest(value[0])
                if timeline is None:
                    return None
                value = [timeline.hex(), value[1]]
            form[name] = value
        return orjson.dumps(form)

    def with_series(self, raw: Any) -> Any:
        """A service's raw form with its series as `MetricSeries` (for one that is validated whole)."""

        if isinstance(raw, dict) and isinstance(raw.get("metrics"), dict):
            metrics = {k: self.series.series(v) if k in _SERIES else v for k, v in raw["metrics"].items()}
            return {**raw, "metrics": metrics}
        return raw


def decode_fleet(data: bytes, previous: FleetMemo | None = None) -> FleetSnapshot:
    """The snapshot `encode_fleet` wrote; `WireFormatError` for anything else.

    With `previous` (kept by the caller from one decode to the next), what is
    unchanged since the last decode is that decode's object, not validated
    again; `previous` then holds this decode's pieces. A document that fails
    leaves `previous` as it was."""

    document, body = _document(data, "fleet")
    decoder = _Decoder(previous, _Series(document.get("timelines")))
    accounts = body.get("accounts")
    if isinstance(accounts, list):
        body = {**body, "accounts": [decoder.account(a, f"accounts.{i}.")[0] for i, a in enumerate(accounts)]}
    snapshot = decoder.validate(FleetSnapshot, body, "")
    if previous is not None:
        previous.pieces, previous.rests = decoder.pieces, decoder.rests
    return snapshot


def decode_detail(data: bytes) -> ServiceDetail:
    """The detail `encode_detail` wrote; `WireFormatError` for anything else."""

    try:
        return ServiceDetail.model_validate(_document(data, "detail")[1])
    except ValidationError as exc:
        raise _invalid("detail", exc) from None
