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

Decoding is incremental when the caller keeps a `FleetMemo` between decodes
(a cluster replica for each account's part, a remote dashboard for
`/api/v1/fleet`): a piece (account, region, cluster, service, its metrics) whose
wire form is byte for byte one the last decode validated is that decode's
very object, so only what changed is validated, and unchanged objects keep
their identity across snapshots as a local collector's do. A piece is known
by a BLAKE2b digest of its wire form (children by their digests): 16 bytes
held per piece, not the document.
"""

from __future__ import annotations

import math
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

    def __init__(self, memo: FleetMemo | None) -> None:
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
            return self.validate(Service, _with_series(raw), where), None
        rest = {k: v for k, v in raw.items() if k != "metrics"}
        metrics_raw: dict[str, Any] = raw.get("metrics", {})
        rest_key = _digest(b"rest", orjson.dumps(rest))
        metrics_key = _digest(b"metrics", orjson.dumps(metrics_raw))
        key = _digest(b"service", rest_key, metrics_key)
        value = self.old.get(key)
        if value is None:
            metrics = self.old.get(metrics_key)
            if metrics is None:
                metrics = self.validate(
                    ServiceMetrics, _with_series({"metrics": metrics_raw})["metrics"], where + "metrics."
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


def _with_series(raw: Any) -> Any:
    """A service's raw form with its series as `MetricSeries` (for one that is validated whole)."""

    if isinstance(raw, dict) and isinstance(raw.get("metrics"), dict):
        metrics = {k: _series(v) if k in _SERIES else v for k, v in raw["metrics"].items()}
        return {**raw, "metrics": metrics}
    return raw


def decode_fleet(data: bytes, previous: FleetMemo | None = None) -> FleetSnapshot:
    """The snapshot `encode_fleet` wrote; `WireFormatError` for anything else.

    With `previous` (kept by the caller from one decode to the next), what is
    unchanged since the last decode is that decode's object, not validated
    again; `previous` then holds this decode's pieces. A document that fails
    leaves `previous` as it was."""

    body = _body(data, "fleet")
    decoder = _Decoder(previous)
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
        return ServiceDetail.model_validate(_body(data, "detail"))
    except ValidationError as exc:
        raise _invalid("detail", exc) from None
