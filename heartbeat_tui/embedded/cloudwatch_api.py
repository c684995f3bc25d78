"""CloudWatch GetMetricData for namespace AWS/ECS, answered from MetricStore.

Validation and paging follow CloudWatch: at most 500 queries, unique Ids that
start with a lowercase letter, StartTime < EndTime, MaxDatapoints (default
and maximum 100,800 in total per call) with NextToken paging, ScanBy
(TimestampDescending by default).  A query for an unknown series answers
empty with StatusCode Complete.

Requests whose queries are not all plain AWS/ECS MetricStat queries (metric
math, other namespaces) are left to moto, after the same request-level checks.
"""

from __future__ import annotations

import hashlib
import json
import re
import time
from datetime import datetime
from typing import Any, cast

import orjson

from heartbeat_tui.embedded.metrics import SeriesKey, is_valid_stat
from heartbeat_tui.embedded.paging import ApiError, decode_token, encode_token
from heartbeat_tui.embedded.world import World

MAX_QUERIES = 500
MAX_DATAPOINTS = 100_800
_ID_RE = re.compile(r"^[a-z][a-zA-Z0-9_]*$")
_SERVICE_DIMENSIONS = {"ClusterName", "ServiceName"}
_PLAIN_STATS = frozenset(("Average", "Maximum", "Minimum", "SampleCount", "Sum"))


def _validation(message: str) -> ApiError:
    return ApiError("ValidationError", message)


def _parse_time(value: Any, name: str) -> float:
    if isinstance(value, bool):
        raise _validation(f"The parameter {name} is not a valid timestamp.")
    if isinstance(value, (int, float)):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            pass
        try:
            return datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()
        except ValueError:
            pass
    raise _validation(f"The parameter {name} is required and must be a timestamp.")


def _fingerprint(value: Any) -> str:
    """A short digest of a request, to tie a NextToken to the request it came from."""
    try:
        # orjson: the standard library took ~10 ms to encode 500 queries.
        encoded = orjson.dumps(value, option=orjson.OPT_SORT_KEYS, default=str)
    except (TypeError, orjson.JSONEncodeError):
        encoded = json.dumps(value, sort_keys=True, default=str).encode()
    return hashlib.sha256(encoded).hexdigest()[:16]


class CloudWatchApi:
    def __init__(self, world: World) -> None:
        self.world = world
        # Store lookups of requests already checked, by account, region and the
        # queries' JSON: a dashboard sends the same queries every poll, with new
        # times. Bounded: cleared when full.
        self._lookups: dict[tuple[str, str, bytes], list[tuple[int, SeriesKey | None, int, str]]] = {}

    def get_metric_data(self, account: str, region: str, params: dict[str, Any]) -> dict[str, Any] | None:
        """The answer, or None when the request is for moto (metric math, other
        namespaces) once the request-level checks passed.

        Errors come out in the same order as ever: Ids, ownership, the
        request's times, ScanBy and MaxDatapoints, then each query's Period
        and Stat, then the NextToken. Queries seen before (the same JSON) passed
        all their checks then, and skip them.
        """
        queries = params.get("MetricDataQueries")
        if not isinstance(queries, list) or not queries:
            raise _validation("The parameter MetricDataQueries is required and must not be empty.")
        if len(queries) > MAX_QUERIES:
            raise _validation(f"The collection MetricDataQueries must not have a size greater than {MAX_QUERIES}.")
        try:
            # orjson writes NaN as null: such queries answer the same but for a
            # Label, which is read from this request's queries below.
            cache_key: tuple[str, str, bytes] | None = (account, region, orjson.dumps(queries))
        except (TypeError, orjson.JSONEncodeError):  # an integer orjson cannot write
            cache_key = None
        lookups = self._lookups.get(cache_key) if cache_key is not None else None
        if lookups is None:
            if not _check_queries(queries):
                return None
            start, end, scan_by, max_points = _request_window(params)
            lookups = _build_lookups(account, region, queries)
            if cache_key is not None:
                if len(self._lookups) >= 128:  # about 100 KB each for 500 queries
                    self._lookups.clear()
                self._lookups[cache_key] = lookups
        else:
            start, end, scan_by, max_points = _request_window(params)

        # A NextToken is tied to its request by a digest of the queries: hashing
        # 500 queries costs more than answering them, so only when a token is
        # checked or handed out.
        fingerprint: str | None = None
        offset = 0
        if params.get("NextToken") is not None:
            fingerprint = _fingerprint([queries, start, end, scan_by])
            offset = decode_token(
                params["NextToken"],
                "GetMetricData",
                fingerprint,
                ApiError(
                    "InvalidNextToken", "The service cannot process the NextToken.", query_code="InvalidNextToken"
                ),
            )
            if not isinstance(offset, int) or offset < 0:
                raise ApiError("InvalidNextToken", "The service cannot process the NextToken.")

        store = self.world.metrics
        with store.lock:  # the store's own lock: ECS handlers do not wait for this
            store.advance(time.time())
            answers = store.query_many(
                [(key, period, statistic) for _, key, period, statistic in lookups],
                start,
                end,
                scan_by == "TimestampDescending",
            )
        results = [
            (queries[index], timestamps, values)
            for (index, _, _, _), (timestamps, values) in zip(lookups, answers, strict=True)
        ]
        total = sum(len(timestamps) for _, timestamps, _ in results)

        page_end = offset + max_points
        out = []
        if offset == 0 and total <= max_points:
            # The usual answer: everything on one page, no series cut.
            out = [
                {
                    "Id": query["Id"],
                    "Label": query.get("Label") or query["MetricStat"]["Metric"].get("MetricName", query["Id"]),
                    "Timestamps": timestamps,
                    "Values": values,
                    "StatusCode": "Complete",
                    "Messages": [],
                }
                for query, timestamps, values in results
            ]
        else:
            position = 0
            last_page = page_end >= total
            for query, timestamps, values in results:
                # Datapoints are numbered across queries; this page is [offset, page_end).
                first, last = position, position + len(timestamps)
                position = last
                if first == last:  # an empty result goes on the page where its position falls
                    include = offset <= first < page_end or (last_page and first >= offset)
                else:
                    include = first < page_end and last > offset
                if not include:
                    continue
                lo = max(offset, first) - first
                hi = min(page_end, last) - first
                if lo or hi < len(timestamps):  # cut by the page (else the whole lists, uncopied)
                    timestamps, values = timestamps[lo:hi], values[lo:hi]
                out.append(_result(query, timestamps, values, "PartialData" if last > page_end else "Complete"))
        body: dict[str, Any] = {"MetricDataResults": out, "Messages": []}
        if page_end < total:
            if fingerprint is None:
                fingerprint = _fingerprint([queries, start, end, scan_by])
            body["NextToken"] = encode_token("GetMetricData", fingerprint, page_end)
        return body


def _check_queries(queries: list[Any]) -> bool:
    """Check every Id; then whether every query is ours (a plain AWS/ECS
    MetricStat) rather than moto's."""
    seen: set[str] = set()
    ours = True
    failure: Exception | None = None
    known_ids = _KNOWN_IDS
    for index, query in enumerate(queries, start=1):
        # The usual query inline (a known Id, a plain AWS/ECS MetricStat);
        # anything else through the full checks.
        query_id = query.get("Id") if type(query) is dict else None
        if type(query_id) is str and query_id in known_ids and query_id not in seen:
            seen.add(query_id)
        else:
            _check_id(query, index, seen)
        if ours:
            stat = query.get("MetricStat")
            metric = stat.get("Metric") if type(stat) is dict else None
            if type(metric) is dict and metric.get("Namespace") == "AWS/ECS" and "Expression" not in query:
                continue
            try:
                ours = _is_ours(query)
            except AttributeError as exc:  # a garbage Metric: fails once every Id is checked
                failure, ours = exc, False
    if failure is not None:
        raise failure
    return ours


def _request_window(params: dict[str, Any]) -> tuple[float, float, str, int]:
    """StartTime, EndTime, ScanBy and MaxDatapoints, checked."""
    start = _parse_time(params.get("StartTime"), "StartTime")
    end = _parse_time(params.get("EndTime"), "EndTime")
    if end <= start:
        raise _validation("The parameter StartTime must be less than the parameter EndTime.")
    scan_by = params.get("ScanBy") or "TimestampDescending"
    if scan_by not in ("TimestampDescending", "TimestampAscending"):
        raise _validation(f"The value {scan_by} for parameter ScanBy is not valid.")
    max_points = params.get("MaxDatapoints")
    if max_points is None:
        max_points = MAX_DATAPOINTS
    if isinstance(max_points, bool) or not isinstance(max_points, int) or max_points < 1:
        raise _validation("The parameter MaxDatapoints must be a positive integer.")
    return start, end, scan_by, min(max_points, MAX_DATAPOINTS)


def _build_lookups(
    account: str, region: str, queries: list[dict[str, Any]]
) -> list[tuple[int, SeriesKey | None, int, str]]:
    """(query index, store key or None, period, statistic) of each answered
    query (ReturnData not false), after its Period and Stat are checked."""
    lookups: list[tuple[int, SeriesKey | None, int, str]] = []
    for index, query in enumerate(queries, start=1):
        stat = query["MetricStat"]
        period = stat.get("Period")
        if isinstance(period, bool) or not isinstance(period, int) or period < 1:
            raise _validation(
                f"The parameter MetricDataQueries.member.{index}.MetricStat.Period must be a positive integer."
            )
        if period >= 60 and period % 60:
            raise _validation(
                f"The parameter MetricDataQueries.member.{index}.MetricStat.Period must be a multiple of 60."
            )
        statistic = stat.get("Stat")
        if not isinstance(statistic, str) or (statistic not in _PLAIN_STATS and not is_valid_stat(statistic)):
            raise _validation(
                f"The parameter MetricDataQueries.member.{index}.MetricStat.Stat is not valid: {statistic}."
            )
        metric = stat.get("Metric") or {}
        dims = metric.get("Dimensions")
        if (  # the usual dimensions inline; any other shape through _series_key
            type(dims) is list
            and len(dims) == 2
            and type(dims[0]) is dict
            and type(dims[1]) is dict
            and dims[0].get("Name") == "ClusterName"
            and dims[1].get("Name") == "ServiceName"
        ):
            # Values are checked where the series is looked up (None finds none).
            key: tuple[str, str, str, str, str] | None = cast(
                "tuple[str, str, str, str, str]",
                (account, region, dims[0].get("Value"), dims[1].get("Value"), metric.get("MetricName")),
            )
        else:
            key = _series_key(account, region, metric)
        if query.get("ReturnData") is not False:  # else checked, but not answered
            lookups.append((index - 1, key, period, statistic))
    return lookups


def _check_id(query: Any, index: int, seen: set[str]) -> None:
    query_id = query.get("Id") if isinstance(query, dict) else None
    if not isinstance(query_id, str) or not _valid_id(query_id):
        raise _validation(
            f"The value {query_id} for parameter MetricDataQueries.member.{index}.Id is not valid. "
            "The Id must start with a lowercase letter and contain only letters, numbers and underscores."
        )
    if query_id in seen:
        raise _validation(f"The value {query_id} for parameter MetricDataQueries.member.{index}.Id is not unique.")
    seen.add(query_id)


#: Ids that passed ``_ID_RE``: a dashboard sends the same few hundred Ids every
#: poll, and a set lookup is much cheaper than the regex. Bounded: cleared when full.
_KNOWN_IDS: set[str] = set()
_KNOWN_IDS_MAX = 10_000


def _valid_id(query_id: str) -> bool:
    if query_id in _KNOWN_IDS:
        return True
    if not _ID_RE.match(query_id):
        return False
    if len(_KNOWN_IDS) >= _KNOWN_IDS_MAX:
        _KNOWN_IDS.clear()
    _KNOWN_IDS.add(query_id)
    return True


def _is_ours(query: dict[str, Any]) -> bool:
    """A plain AWS/ECS MetricStat query (anything else goes to moto)."""
    stat = query.get("MetricStat")
    if not isinstance(stat, dict) or "Expression" in query:
        return False
    return (stat.get("Metric") or {}).get("Namespace") == "AWS/ECS"


def _series_key(account: str, region: str, metric: dict[str, Any]) -> SeriesKey | None:
    """The store's key for a metric with exactly the dimensions ClusterName and
    ServiceName (any order; a repeated name keeps its last value), else None."""
    dims = {d.get("Name"): d.get("Value") for d in metric.get("Dimensions") or [] if isinstance(d, dict)}
    if set(dims) != _SERVICE_DIMENSIONS:
        return None
    return (account, region, dims["ClusterName"], dims["ServiceName"], metric.get("MetricName"))  # type: ignore[return-value]


def _result(query: dict[str, Any], timestamps: list[int], values: list[float], status: str) -> dict[str, Any]:
    return {
        "Id": query["Id"],
        "Label": query.get("Label") or query["MetricStat"]["Metric"].get("MetricName", query["Id"]),
        "Timestamps": timestamps,
        "Values": values,
        "StatusCode": status,
        "Messages": [],
    }
