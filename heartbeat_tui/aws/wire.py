"""How requests and answers cross the wire, faster than botocore does by default.

Each piece uses botocore's or aiobotocore's internals (a parser hook, the
serializer, the User-Agent builder, the HTTP session class): they live here,
apart from `access.py`'s sessions and credentials, and `tests/aws` fails
loudly when an upgrade changes what they rely on.
"""

from __future__ import annotations

import json
import threading
from typing import Any, ClassVar

import orjson
from aiobotocore.httpsession import AIOHTTPSession
from aiobotocore.session import AioSession
from botocore.context import get_context
from botocore.serialize import JSONSerializer

from heartbeat_tui.aws.services import AUTOSCALING, CLOUDWATCH, ECS


def _raw_timestamp(value: Any) -> Any:
    return value


def fast_timestamps(session: AioSession) -> AioSession:
    """Leave timestamps as the wire sends them (epoch numbers for JSON services).

    botocore turns every timestamp into a datetime; for GetMetricData that is
    90,000 of them per call and it dominated a cold poll (1.27 s against 0.11 s
    to parse one 500-query, 3-hour response here). The collector converts the
    few timestamps it keeps itself (`collector.parse.to_datetime`).
    """

    session.get_component("response_parser_factory").set_parser_defaults(timestamp_parser=_raw_timestamp)
    return session


# Read operations the collector calls often, with large answers, on services
# whose JSON wire format is exactly botocore's parsed shape (no renamed members,
# no blobs; timestamps stay epoch numbers, as with `fast_timestamps`).
FAST_JSON_OPERATIONS: dict[str, tuple[str, ...]] = {
    CLOUDWATCH: ("GetMetricData",),
    ECS: (
        "ListClusters",
        "DescribeClusters",
        "ListServices",
        "DescribeServices",
        "ListTasks",
        "DescribeTasks",
    ),
    AUTOSCALING: ("DescribeScalableTargets", "DescribeScalingActivities", "DescribeScalingPolicies"),
}


_TIMESTAMPS = b'"Timestamps":['
# What a shared Timestamps array is replaced with before decoding: a string AWS
# never sends there (an answer that holds it is decoded as it is).
_SHARED = "=shared-timestamps="
_SHARED_JSON = b'"Timestamps":"' + _SHARED.encode() + b'"'
_BACKSLASH = ord("\\")
# Shorter arrays (about 20 timestamps, a warm poll's re-read minutes) are
# decoded as they are: finding and splicing 500 of them cost more than decoding
# them (0.33 against 0.22 ms for 500 series of 9 points).
_SHARE_FROM = 256


def loads_answer(operation: str, body: bytes) -> Any:
    """A JSON answer decoded by orjson; for GetMetricData, each Timestamps array
    that repeats the answer's first non-empty one is decoded once and shared.

    A 3-hour GetMetricData answer is 500 series of 180 points, most over the
    same minutes: its 90,000 timestamps were most of the decoding (about 5 ms an
    answer; 2 ms with them shared). The arrays are compared as bytes, so the
    answer decodes to equal values either way; the shared list is read, never changed.
    Arrays shorter than `_SHARE_FROM` bytes are not worth it and stay as they are.
    """

    if operation != "GetMetricData" or _SHARED.encode() in body:
        return orjson.loads(body)
    start = body.find(_TIMESTAMPS)
    # Not an empty array (the next one), nor the end of a key that holds an escaped quote.
    while start >= 0 and (body.startswith(b"]", start + len(_TIMESTAMPS)) or body[start - 1] == _BACKSLASH):
        start = body.find(_TIMESTAMPS, start + 1)
    end = body.find(b"]", start) + 1 if start >= 0 else 0
    if end - start < _SHARE_FROM:  # none, or a warm poll's few minutes: a plain decode is quicker
        return orjson.loads(body)
    shared_json = body[start:end]
    pieces: list[bytes] = []
    done = 0
    at = start
    while at >= 0:
        if body.startswith(shared_json, at) and body[at - 1] != _BACKSLASH:
            pieces += (body[done:at], _SHARED_JSON)
            done = at + len(shared_json)
            at = body.find(_TIMESTAMPS, done)
        else:
            at = body.find(_TIMESTAMPS, at + 1)
    if len(pieces) < 4:  # no array repeats
        return orjson.loads(body)
    pieces.append(body[done:])
    data = orjson.loads(b"".join(pieces))
    results = data.get("MetricDataResults") if isinstance(data, dict) else None
    if not isinstance(results, list):
        return orjson.loads(body)
    shared = orjson.loads(shared_json[len(_TIMESTAMPS) - 1 :])
    for result in results:
        if isinstance(result, dict) and result.get("Timestamps") == _SHARED:
            result["Timestamps"] = shared
    return data


def fast_json(response_dict: dict[str, Any], customized_response_dict: dict[str, Any], **kwargs: Any) -> None:
    """Decode a successful JSON response with one `orjson.loads`.

    botocore's shape walker costs about a microsecond per value, and one poll
    of a large fleet moves millions (a 500-query GetMetricData answer alone has
    180,000 numbers). The result has the same keys and values as botocore's
    parse. Anything else (an error, another wire format, a body that is not
    a JSON object) is left to botocore untouched.
    """

    body = response_dict.get("body")
    if response_dict.get("status_code") != 200 or not isinstance(body, bytes) or not body.startswith(b"{"):
        return
    model = kwargs.get("operation_model")
    try:
        data = loads_answer(getattr(model, "name", ""), body)
    except orjson.JSONDecodeError:
        return
    if not isinstance(data, dict):
        return
    customized_response_dict.update(data)
    response_dict["body"] = b"{}"


# Request parameters sent as they are: one large list per operation, whose items
# the collector builds in wire form (the names botocore would send, only strings,
# numbers, lists and structures). 24 GetMetricData requests of 500 queries each
# per poll: botocore's shape walk took about 4 ms per request to encode them.
SPLICED_LISTS: dict[str, dict[str, str]] = {
    CLOUDWATCH: {"GetMetricData": "MetricDataQueries"},
}
_PLAIN_TYPES = frozenset({"string", "integer", "long", "boolean", "double", "float"})


def _plain_shape(shape: Any, depth: int = 0) -> bool:
    """True when botocore's JSON serializer would send values of this shape
    unchanged: no renamed members, no timestamps, blobs or documents."""

    if depth > 20:
        return False
    kind = shape.type_name
    if kind in _PLAIN_TYPES:
        return True
    if kind == "list":
        return _plain_shape(shape.member, depth + 1)
    if kind == "structure":
        if getattr(shape, "is_document_type", False):
            return False
        return all(
            "name" not in member.serialization and _plain_shape(member, depth + 1) for member in shape.members.values()
        )
    return False


class EncodedList:
    """A list parameter already in JSON (its items as botocore would send them):
    `SplicingSerializer` puts the text in the request as it is."""

    __slots__ = ("json",)

    def __init__(self, json: bytes) -> None:
        self.json = json

    def items(self) -> list[Any]:
        """The list itself, for a serializer that cannot splice."""

        decoded: list[Any] = orjson.loads(self.json)
        return decoded


def _decoded(items: list[Any] | EncodedList) -> list[Any]:
    return items.items() if isinstance(items, EncodedList) else items


class SplicingSerializer:
    """botocore's JSON serializer, with one large list parameter of an operation
    encoded by orjson instead of botocore's walk over every value.

    botocore still serializes everything else (headers, target, timestamps, the
    query-compatible header) from the same parameters with the list empty; the
    list is then put in place: an `EncodedList` as its text, a list encoded by
    orjson. The request on the wire is the same JSON. Used only when the
    operation's model shows the list's items go on the wire as they are;
    otherwise, and for every other operation, botocore does it all (an
    `EncodedList` decoded back into a list for it).
    """

    def __init__(self, inner: Any, lists: dict[str, str], flat: tuple[str, ...] = ()) -> None:
        """`flat`: operations whose top-level members are encoded without botocore's walk (`FlatRequests`)."""

        self._inner = inner
        self._lists = lists
        self._plain: dict[str, bool] = {}
        self._flat = FlatRequests(inner, flat) if flat and type(inner) is JSONSerializer else None

    def _splices(self, operation_model: Any, key: str) -> bool:
        plain = self._plain.get(operation_model.name)
        if plain is None:
            members = operation_model.input_shape.members if operation_model.input_shape is not None else {}
            member = members.get(key)
            plain = (
                type(self._inner) is JSONSerializer  # awsJson (not REST-JSON, CBOR or query)
                and member is not None
                and "name" not in member.serialization
                and member.type_name == "list"
                and _plain_shape(member)
            )
            self._plain[operation_model.name] = plain
        return plain

    def serialize_to_request(self, parameters: dict[str, Any], operation_model: Any) -> dict[str, Any]:
        key = self._lists.get(operation_model.name)
        items = parameters.get(key) if key is not None else None
        if key is None or not isinstance(items, (list, EncodedList)):
            return self._botocore(parameters, operation_model)
        if not self._splices(operation_model, key):
            return self._botocore({**parameters, key: _decoded(items)}, operation_model)
        serialized = self._botocore({**parameters, key: []}, operation_model)
        if isinstance(items, EncodedList):
            # botocore's body with the list empty, the list's text put in its
            # place. A key is written once and a string's quotes are escaped, so
            # the pattern is there once (or the body is rebuilt as below).
            name = orjson.dumps(key)
            empty = name + b": []"
            if serialized["body"].count(empty) == 1:
                serialized["body"] = serialized["body"].replace(empty, name + b":" + items.json)
                return serialized
        body = orjson.loads(serialized["body"])
        body[key] = _decoded(items)
        serialized["body"] = orjson.dumps(body)
        return serialized

    def _botocore(self, parameters: dict[str, Any], operation_model: Any) -> dict[str, Any]:
        if self._flat is not None:
            flat = self._flat.serialize_to_request(parameters, operation_model)
            if flat is not None:
                return flat
        serialized: dict[str, Any] = self._inner.serialize_to_request(parameters, operation_model)
        return serialized

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)


# Shapes botocore's JSON serializer puts in the body as they are given.
_AS_GIVEN = frozenset({"string", "integer", "long", "boolean"})


class FlatRequests:
    """botocore's JSON request for an operation, its body built from the
    top-level parameters without botocore's shape walk.

    botocore's JSON serializer turns the parameters into a dict by walking
    every value against its shape, then `json.dumps` it. For a string,
    integer, long or boolean member the walk puts the value in as it is, and
    for a list of them a list of its items; so does this, and any other member
    (a timestamp, a float, a structure) is handed to botocore's own method for
    its type. The body is then `json.dumps` of the same dict: the same bytes.
    Method, path and headers are botocore's, taken from its first request for
    the operation, whose body this checks against botocore's own (a difference
    leaves the operation to botocore). An operation with a host prefix or an
    unknown parameter (botocore's error) is botocore's too.
    """

    def __init__(self, inner: Any, operations: tuple[str, ...]) -> None:
        self._inner = inner
        self._operations = frozenset(operations)
        # Per operation: botocore's request without its body, or None (botocore's).
        self._templates: dict[str, dict[str, Any] | None] = {}

    def _body(self, parameters: dict[str, Any], operation_model: Any) -> bytes | None:
        shape = operation_model.input_shape
        if shape is None:
            return None
        members = shape.members
        inner = self._inner
        body: dict[str, Any] = {}
        for key, value in parameters.items():
            member = members.get(key)
            if member is None:
                return None
            name = member.serialization.get("name", key)
            kind = member.type_name
            if kind in _AS_GIVEN:
                body[name] = value
            elif kind == "list" and member.member.type_name in _AS_GIVEN and isinstance(value, (list, tuple)):
                body[name] = list(value)
            else:
                inner._serialize(body, value, member, name)
        return json.dumps(body).encode(inner.DEFAULT_ENCODING)

    def serialize_to_request(self, parameters: dict[str, Any], operation_model: Any) -> dict[str, Any] | None:
        """botocore's request dict, or None: let botocore build it."""

        name = operation_model.name
        if name not in self._operations or operation_model.endpoint is not None:
            return None
        template: Any = self._templates.get(name, False)
        if template is None:
            return None
        body = self._body(parameters, operation_model)
        if body is None:
            return None
        if template is False:
            theirs: dict[str, Any] = self._inner.serialize_to_request(parameters, operation_model)
            same = theirs.get("body") == body and "host_prefix" not in theirs
            self._templates[name] = {k: v for k, v in theirs.items() if k != "body"} if same else None
            return theirs
        serialized = dict(template)
        serialized["headers"] = dict(template["headers"])
        serialized["body"] = body
        return serialized


def cache_user_agent(client: Any) -> None:
    """Build the User-Agent header once per set of feature ids, not per request.

    botocore builds it from a dozen components twice per request (about 5 % of
    a poll's CPU); only the feature ids of the current call vary.
    """

    creator = getattr(client, "_user_agent_creator", None)
    build = getattr(creator, "to_string", None)
    if creator is None or build is None:
        return
    built: dict[frozenset[str], str] = {}

    def to_string() -> str:
        context = get_context()
        features = frozenset(context.features) if context is not None else frozenset()
        features |= frozenset(getattr(creator, "_client_features", None) or ())
        text = built.get(features)
        if text is None:
            text = built[features] = build()
        return text

    creator.to_string = to_string


class SharedTLSSession(AIOHTTPSession):  # type: ignore[misc]  # aiobotocore is untyped
    """aiobotocore's HTTP session, with one TLS context for all clients.

    Each client builds its own SSL context and loads the whole CA bundle into
    it: about 80 ms of CPU per client, two seconds of a cold poll over a few
    accounts and regions. A context is safe to share, so clients with the same
    verification settings (and no client certificate or proxy, which customise
    the context) share one.
    """

    _contexts: ClassVar[dict[Any, Any]] = {}
    _lock: ClassVar[threading.Lock] = threading.Lock()

    def _build_ssl_contexts(self, proxy_url: Any) -> Any:
        if self._cert_file or proxy_url:
            return super()._build_ssl_contexts(proxy_url)
        with self._lock:  # built in worker threads, possibly several at once
            context = self._contexts.get(self._verify)
            if context is None:
                context = self._contexts[self._verify] = self._build_verify_context()
        return context, None


__all__ = [
    "FAST_JSON_OPERATIONS",
    "SPLICED_LISTS",
    "EncodedList",
    "FlatRequests",
    "SharedTLSSession",
    "SplicingSerializer",
    "cache_user_agent",
    "fast_json",
    "fast_timestamps",
    "loads_answer",
]
