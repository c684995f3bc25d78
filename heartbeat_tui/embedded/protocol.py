"""Wire-level helpers for the middleware: parse an AWS request, build responses.

The collector talks to the embedded AWS exactly as to real AWS, so everything
here mirrors what the real services put on the wire:

* ECS, application-autoscaling and CloudWatch speak awsJson (``X-Amz-Target``
  names the operation, the body is JSON, timestamps are epoch seconds).
* STS and IAM speak the query protocol (form body ``Action=...``), XML answers.
* S3 is REST: the method and path name the operation, errors are ``<Error>`` XML.

No moto import here: this module is pure and unit-testable.
"""

from __future__ import annotations

import io
import json
import re
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs

import orjson

#: The one line the child prints on stdout when it serves (see server.py).
READY_PREFIX = "HEARTBEAT_EMBEDDED_READY "

#: Signing names we attribute and fault; "cloudwatch" is an accepted alias.
SERVICE_ALIASES = {"cloudwatch": "monitoring", "autoscaling": "application-autoscaling"}

_CREDENTIAL_RE = re.compile(r"Credential=([^/,\s]+)/(\d{8})/([^/]+)/([^/]+)/aws4_request")

#: The XML namespaces the query services answer with.
_QUERY_NAMESPACES = {
    "sts": "https://sts.amazonaws.com/doc/2011-06-15/",
    "iam": "https://iam.amazonaws.com/doc/2010-05-08/",
}

JSON_CONTENT_TYPES = {
    "ecs": "application/x-amz-json-1.1",
    "application-autoscaling": "application/x-amz-json-1.1",
    "monitoring": "application/x-amz-json-1.0",
}


def canonical_service(name: str) -> str:
    """Map a user-facing service name (``cloudwatch``) to its signing name."""
    lowered = name.strip().lower()
    return SERVICE_ALIASES.get(lowered, lowered)


@dataclass
class AwsRequest:
    """What the middleware needs to know about one AWS API request."""

    method: str
    path: str
    headers: dict[str, str]
    body: bytes
    service: str | None
    region: str | None
    access_key: str | None
    operation: str | None
    protocol: str  # "json" | "query" | "cbor" | "other"
    params: dict[str, Any] = field(default_factory=dict)

    @property
    def json_params(self) -> dict[str, Any]:
        return self.params if self.protocol == "json" else {}


def read_request(environ: dict[str, Any]) -> AwsRequest:
    """Parse the WSGI environ, consuming the body and putting it back for moto."""
    try:
        length = int(environ.get("CONTENT_LENGTH") or 0)
    except ValueError:
        length = 0
    body = environ["wsgi.input"].read(length) if length > 0 else b""
    environ["wsgi.input"] = io.BytesIO(body)

    headers = {key[5:].replace("_", "-").lower(): value for key, value in environ.items() if key.startswith("HTTP_")}
    if environ.get("CONTENT_TYPE"):
        headers["content-type"] = environ["CONTENT_TYPE"]

    access_key = region = service = None
    match = _CREDENTIAL_RE.search(headers.get("authorization", ""))
    if match:
        access_key, _, region, service = match.groups()
        service = service.lower()

    content_type = headers.get("content-type", "").lower()
    target = headers.get("x-amz-target")
    operation: str | None = None
    params: dict[str, Any] = {}
    if "cbor" in content_type or "rpc-v2-cbor" in headers.get("smithy-protocol", ""):
        protocol = "cbor"
    elif target:
        protocol = "json"
        operation = target.rsplit(".", 1)[-1]
        try:
            loaded = _loads(body or b"{}")
            params = loaded if isinstance(loaded, dict) else {}
        except ValueError:
            params = {}
    else:
        form: dict[str, list[str]] = {}
        if "x-www-form-urlencoded" in content_type and body:
            form = parse_qs(body.decode("utf-8", "replace"), keep_blank_values=True)
        query = parse_qs(environ.get("QUERY_STRING", ""), keep_blank_values=True)
        merged = {**query, **form}
        if "Action" in merged:
            protocol = "query"
            params = {key: values[0] for key, values in merged.items()}
            operation = params.get("Action")
        else:
            protocol = "other"
            if service == "s3":
                operation = s3_operation(environ.get("REQUEST_METHOD", "GET"), environ.get("PATH_INFO", ""), query)

    return AwsRequest(
        method=environ.get("REQUEST_METHOD", "GET"),
        path=environ.get("PATH_INFO", ""),
        headers=headers,
        body=body,
        service=service,
        region=region,
        access_key=access_key,
        operation=operation,
        protocol=protocol,
        params=params,
    )


def _loads(body: bytes) -> Any:
    """JSON by orjson (a 500-query GetMetricData request took the standard
    library milliseconds); whatever orjson refuses, the standard library judges."""
    try:
        return orjson.loads(body)
    except orjson.JSONDecodeError:
        return json.loads(body)


@dataclass
class Response:
    """A buffered HTTP response (the middleware always knows its full body)."""

    status: int
    body: bytes
    headers: list[tuple[str, str]] = field(default_factory=list)

    def header(self, name: str) -> str | None:
        lowered = name.lower()
        return next((v for k, v in self.headers if k.lower() == lowered), None)

    def send(self, start_response: Callable[..., Any]) -> Iterable[bytes]:
        headers = [(k, v) for k, v in self.headers if k.lower() != "content-length"]
        headers.append(("Content-Length", str(len(self.body))))
        start_response(f"{self.status} {_REASONS.get(self.status, 'Status')}", headers)
        return [self.body]


_REASONS = {
    200: "OK",
    400: "Bad Request",
    403: "Forbidden",
    404: "Not Found",
    408: "Request Timeout",
    500: "Internal Server Error",
    503: "Service Unavailable",
}


#: The query keys of a plain bucket listing (any other names a subresource: left unnamed).
_S3_LIST_KEYS = {"list-type", "prefix", "delimiter", "continuation-token", "max-keys", "start-after",
                 "encoding-type", "fetch-owner", "marker"}  # fmt: skip
_S3_BUCKET_OPERATIONS = {"HEAD": "HeadBucket", "GET": "ListObjects", "PUT": "CreateBucket", "DELETE": "DeleteBucket"}
_S3_OBJECT_OPERATIONS = {"HEAD": "HeadObject", "GET": "GetObject", "PUT": "PutObject", "DELETE": "DeleteObject"}


def s3_operation(method: str, path: str, query: dict[str, list[str]]) -> str | None:
    """The operation of a path-style S3 request (REST: the method and path say it),
    so that stats and faults can name S3 operations as they name the others'.
    botocore's own `x-id` wins; a request on a subresource (`?tagging`...) is None."""

    if query.get("x-id"):
        return query["x-id"][0]
    parts = path.lstrip("/").split("/", 1)
    if not parts[0]:
        return None
    if len(parts) == 1 or not parts[1]:
        if set(query) - _S3_LIST_KEYS:
            return None
        if method == "GET" and query.get("list-type") == ["2"]:
            return "ListObjectsV2"
        return _S3_BUCKET_OPERATIONS.get(method)
    return None if query else _S3_OBJECT_OPERATIONS.get(method)


def _request_id() -> str:
    return str(uuid.uuid4())


def json_response(service: str | None, payload: Any, status: int = 200) -> Response:
    content_type = JSON_CONTENT_TYPES.get(service or "", "application/x-amz-json-1.1")
    # orjson: a 500-query GetMetricData answer is 180,000 numbers; the stdlib
    # encoder made the embedded AWS, not the collector, the bottleneck of a poll.
    body = orjson.dumps(payload)
    return Response(status, body, [("Content-Type", content_type), ("x-amzn-RequestId", _request_id())])


def json_error(
    service: str | None,
    code: str,
    message: str,
    status: int = 400,
    *,
    query_code: str | None = None,
) -> Response:
    """An awsJson error.  CloudWatch is "awsQueryCompatible": real AWS adds the
    ``x-amzn-query-error`` header with the former query-protocol code, and
    botocore reports that code.  We do the same so the collector sees what it
    would see against real CloudWatch."""
    response = json_response(service, {"__type": code, "message": message}, status)
    response.headers.append(("x-amzn-ErrorType", code))
    if service == "monitoring":
        fault_type = "Receiver" if status >= 500 else "Sender"
        response.headers.append(("x-amzn-query-error", f"{query_code or code};{fault_type}"))
    return response


def _xml_escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;")


def query_error(service: str | None, code: str, message: str, status: int = 400) -> Response:
    """A query-protocol (STS, IAM) XML error."""
    namespace = _QUERY_NAMESPACES.get(service or "", "https://sts.amazonaws.com/doc/2011-06-15/")
    fault_type = "Receiver" if status >= 500 else "Sender"
    body = (
        f'<ErrorResponse xmlns="{namespace}">'
        f"<Error><Type>{fault_type}</Type><Code>{_xml_escape(code)}</Code>"
        f"<Message>{_xml_escape(message)}</Message></Error>"
        f"<RequestId>{_request_id()}</RequestId></ErrorResponse>"
    ).encode()
    return Response(status, body, [("Content-Type", "text/xml")])


def s3_error(code: str, message: str, status: int) -> Response:
    """A REST-XML (S3) error: `<Error>` at the top, no namespace."""
    body = (
        f'<?xml version="1.0" encoding="UTF-8"?><Error><Code>{_xml_escape(code)}</Code>'
        f"<Message>{_xml_escape(message)}</Message><RequestId>{_request_id()}</RequestId></Error>"
    ).encode()
    return Response(status, body, [("Content-Type", "application/xml")])


def aws_error(
    request: AwsRequest,
    code: str,
    message: str,
    status: int = 400,
    *,
    query_code: str | None = None,
) -> Response:
    """An error in whichever protocol the request spoke."""
    if request.service == "s3":
        return s3_error(code, message, status)
    if request.protocol == "query":
        return query_error(request.service, query_code or code, message, status)
    return json_error(request.service, code, message, status, query_code=query_code)


def control_json(payload: Any, status: int = 200) -> Response:
    body = json.dumps(payload, separators=(",", ":"), default=str).encode()
    return Response(status, body, [("Content-Type", "application/json")])
