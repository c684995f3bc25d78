"""The WSGI middleware wrapped around moto's app in the child.

For every AWS request it: attributes the request to an account (moto's own
access-key mapping; AssumeRole goes to the account in RoleArn), counts it,
applies run-time faults, and then answers it itself (ECS paging and state,
scaling activities, AWS/ECS metrics, denied AssumeRole) or passes it to moto.
``/_heartbeat/...`` is the control API (JSON), on the same port:

=======  ===========================  ===============================================
GET      /_heartbeat/health           status, step, paused, uptime, counts
GET      /_heartbeat/fleet            the seeded fleet: accounts, clusters, services
                                      with kind/status/desired/running/... each
GET      /_heartbeat/faults           the active faults
POST     /_heartbeat/faults           add one: {"kind", "account", "service",
                                      "operation", "rate", "seconds", "code"}
DELETE   /_heartbeat/faults           clear all faults
GET      /_heartbeat/stats            requests per account/service/operation
POST     /_heartbeat/stats/reset      zero them
POST     /_heartbeat/simulator/tick   {"steps": n}: n steps, synchronously
POST     /_heartbeat/simulator/pause  stop stepping (metrics keep the wall clock)
POST     /_heartbeat/simulator/resume
=======  ===========================  ===============================================
"""

from __future__ import annotations

import io
import itertools
import json
import sys
import threading
import time
import traceback
from collections.abc import Callable, Iterable
from typing import Any

from heartbeat_tui.embedded.autoscaling_api import AutoscalingApi
from heartbeat_tui.embedded.cloudwatch_api import CloudWatchApi
from heartbeat_tui.embedded.ecs_api import EcsApi
from heartbeat_tui.embedded.faults import (
    FAULT_TOKEN_PREFIX,
    MALFORMED_PAGE_VARIANTS,
    TERMINAL_KINDS,
    UNKNOWN_ENUM_VALUE,
    Fault,
    FaultError,
    Faults,
    IssuedKeys,
    Stats,
    assume_role_target,
    assumed_role_elsewhere,
    error_status,
)
from heartbeat_tui.embedded.paging import ApiError
from heartbeat_tui.embedded.protocol import (
    AwsRequest,
    Response,
    aws_error,
    control_json,
    json_error,
    json_response,
    read_request,
)
from heartbeat_tui.embedded.simulator import Simulator
from heartbeat_tui.embedded.world import World

CONTROL_PREFIX = "/_heartbeat"
_HOP_BY_HOP = {"content-length", "transfer-encoding", "connection", "keep-alive"}


class HeartbeatApp:
    def __init__(self, moto_app: Callable[..., Iterable[bytes]], world: World, simulator: Simulator) -> None:
        from moto.backends import get_backend
        from moto.iam.models import get_account_id_from

        self.moto_app = moto_app
        self.world = world
        self.simulator = simulator
        self.faults = Faults(world.spec.seed)
        self.stats = Stats()
        self.issued = IssuedKeys()
        self.ecs = EcsApi(world)
        self.autoscaling = AutoscalingApi(world)
        self.cloudwatch = CloudWatchApi(world)
        self._account_of_key = get_account_id_from
        # The services whose data lives per region (signing name -> moto's backends).
        self._regional_backends = {
            signing: get_backend(name)  # type: ignore[call-overload]  # moto types each name apart
            for signing, name in (
                ("ecs", "ecs"),
                ("application-autoscaling", "applicationautoscaling"),
                ("monitoring", "cloudwatch"),
                ("dynamodb", "dynamodb"),
            )
        }
        self._denied = {a.id for a in world.spec.accounts if a.deny_assume_role}
        self._external_ids = {a.id: a.external_id for a in world.spec.accounts if a.external_id}
        self.started = time.time()
        # DynamoDB applies each conditional write, and each transaction, atomically
        # (transactions are serializable). moto's server is threaded and does not:
        # a transaction deep-copies its tables before writing, and another request
        # runs meanwhile. One DynamoDB request at a time makes the emulation faithful.
        self._dynamodb_lock = threading.Lock()

    # -- WSGI ------------------------------------------------------------------------

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        try:
            path = environ.get("PATH_INFO", "")
            if path == CONTROL_PREFIX or path.startswith(CONTROL_PREFIX + "/"):
                return self.control(environ).send(start_response)
            request = read_request(environ)
            return self.handle(environ, request).send(start_response)
        except Exception as exc:  # never let a bug look like a hung server
            traceback.print_exc(file=sys.stderr)
            return json_error(None, "InternalFailure", f"embedded AWS bug: {exc!r}", 500).send(start_response)

    # -- AWS requests -------------------------------------------------------------------

    def attribute(self, request: AwsRequest) -> str:
        """The account a request acts in: AssumeRole -> RoleArn's account; otherwise
        the account moto maps the access key to (unknown keys: the default account)."""
        target = assume_role_target(request)
        if target is not None:
            return target
        return str(self._account_of_key(request.access_key or "AKIAEXAMPLE"))

    def handle(self, environ: dict[str, Any], request: AwsRequest) -> Response:
        if request.protocol == "cbor":
            return json_error(
                request.service,
                "UnsupportedProtocolException",
                "The embedded AWS speaks awsJson for CloudWatch, but this request is smithy-rpc-v2-cbor. "
                "botocore changed the protocol it picks: update heartbeat_tui/embedded (CloudWatch handler).",
                400,
            )
        account = self.attribute(request)
        service, operation = request.service, request.operation
        self.stats.record(account, service, operation)
        followed_fault_page = _strip_fault_token(environ, request)
        first_page = not followed_fault_page and _token_key(service) not in request.json_params

        unhosted = self._unhosted_region(request, account)
        if unhosted is not None:
            return unhosted

        fired = self.faults.matching(account, service, operation)
        malformed: Fault | None = None
        elsewhere: Fault | None = None
        for fault in fired:
            if fault.kind == "latency":
                time.sleep(fault.seconds if fault.seconds is not None else 1.0)
            elif fault.kind == "timeout":
                time.sleep(fault.seconds if fault.seconds is not None else 30.0)
            elif fault.kind == "malformed":
                malformed = fault
            elif fault.kind == "wrong_account":
                elsewhere = fault
        if fired:
            self.stats.record_fault(account, service, operation)
        for fault in fired:
            if fault.kind in TERMINAL_KINDS:
                response = self.fault_response(fault, request)
                if response is not None:
                    return response

        if service == "sts" and operation == "AssumeRole":
            denied = self._check_assume_role(request, account)
            if denied is not None:
                return denied

        response = self.dispatch(environ, request, account)
        if service == "sts" and operation == "AssumeRole" and response.status == 200:
            self.issued.record_response(account, response.body)
            if elsewhere is not None:
                response.body = assumed_role_elsewhere(response.body, elsewhere.code)
        if service == "ecs" and operation in ("UpdateService", "DeleteService") and response.status == 200:
            self._mirror_write(request, account, response)
        if malformed is not None and response.status == 200:
            response = _malform(response, malformed.code, _token_key(service), first_page=first_page)
        return response

    def _unhosted_region(self, request: AwsRequest, account: str) -> Response | None:
        """A request signed for a region this endpoint does not host (not one of
        botocore's regions for the service, as moto's backends hold them): the
        error real AWS gives a credential scoped to a region it does not serve,
        instead of a KeyError deep in a handler."""

        backends = self._regional_backends.get(request.service or "")
        region = request.region
        if backends is None or region is None or region in backends[account]:
            return None
        message = f"Credential should be scoped to a valid region, not '{region}'."
        status = 403 if request.protocol == "query" else 400
        return aws_error(request, "InvalidSignatureException", message, status, query_code="SignatureDoesNotMatch")

    def fault_response(self, fault: Fault, request: AwsRequest) -> Response | None:
        if fault.kind == "throttle":
            return aws_error(request, "ThrottlingException", "Rate exceeded", 400, query_code="Throttling")
        if fault.kind == "error":
            code = fault.code or "InternalFailure"
            status = error_status(code)
            message = (
                "We encountered an internal error. Please try again."
                if status >= 500
                else f"Injected {code} (embedded AWS fault)."
            )
            return aws_error(request, code, message, status)
        if fault.kind == "deny_assume_role":
            if request.service == "sts" and request.operation == "AssumeRole":
                return self._access_denied(request)
            return None
        if fault.kind == "expire_credentials":
            issued = self.issued.issued_at(request.access_key)
            if issued is not None and issued < fault.created_at:
                return aws_error(
                    request,
                    "ExpiredTokenException",
                    "The security token included in the request is expired",
                    400,
                    query_code="ExpiredToken",
                )
            return None
        return None

    def _access_denied(self, request: AwsRequest) -> Response:
        caller_account = self._account_of_key(request.access_key or "AKIAEXAMPLE")
        role_arn = request.params.get("RoleArn", "")
        return aws_error(
            request,
            "AccessDenied",
            f"User: arn:aws:sts::{caller_account}:assumed-role/HeartbeatHub/heartbeat is not authorized "
            f"to perform: sts:AssumeRole on resource: {role_arn}",
            403,
        )

    def _check_assume_role(self, request: AwsRequest, account: str) -> Response | None:
        """The fleet's standing policies: denied trust, required ExternalId."""
        if account in self._denied:
            return self._access_denied(request)
        expected = self._external_ids.get(account)
        if expected is not None and request.params.get("ExternalId") != expected:
            return self._access_denied(request)
        return None

    def _mirror_write(self, request: AwsRequest, account: str, response: Response) -> None:
        """moto accepted a write to an ECS service: apply it to the simulator's model
        too, or DescribeServices (answered from the model) would not show it."""
        params = request.json_params
        cluster = str(params.get("cluster") or "default").rsplit("/", 1)[-1]
        name = str(params.get("service") or "").rsplit("/", 1)[-1]
        service = self.world.services.get((account, request.region or "us-east-1", cluster, name))
        if service is None:
            return
        if request.operation == "DeleteService":
            self.simulator.delete_service(service)
            return
        task_definition = None
        if params.get("taskDefinition"):
            try:
                task_definition = json.loads(response.body)["service"]["taskDefinition"]
            except (ValueError, KeyError, TypeError):
                task_definition = None
        desired = params.get("desiredCount")
        self.simulator.update_service(
            service,
            desired if isinstance(desired, int) and not isinstance(desired, bool) else None,
            task_definition,
            bool(params.get("forceNewDeployment")),
        )

    def dispatch(self, environ: dict[str, Any], request: AwsRequest, account: str) -> Response:
        service, operation = request.service, request.operation
        region = request.region or "us-east-1"
        params = request.json_params
        try:
            if service == "ecs" and operation in self.ecs.handlers:
                with self.world.lock:
                    return json_response(service, self.ecs.handlers[operation](account, region, params))
            if service == "application-autoscaling" and operation in self.autoscaling.handlers:
                with self.world.lock:
                    return json_response(service, self.autoscaling.handlers[operation](account, region, params))
            if service == "monitoring" and operation == "GetMetricData" and request.protocol == "json":
                answer = self.cloudwatch.get_metric_data(account, region, params)
                if answer is not None:  # None: checked, and moto's to answer
                    return json_response(service, answer)
        except ApiError as error:
            return aws_error(request, error.code, error.message, error.status, query_code=error.query_code)
        if service == "logs" and self.world.applogs is not None:
            self.world.applogs.ready.wait(30.0)  # the demo's logs are seeded after start-up
        if service == "dynamodb":
            with self._dynamodb_lock:
                return self.call_moto(environ)
        return self.call_moto(environ)

    def call_moto(self, environ: dict[str, Any]) -> Response:
        captured: dict[str, Any] = {}
        chunks: list[bytes] = []

        def start_response(
            status: str, headers: list[tuple[str, str]], exc_info: Any = None
        ) -> Callable[[bytes], None]:
            captured["status"] = status
            captured["headers"] = headers
            return chunks.append

        result = self.moto_app(environ, start_response)
        try:
            for chunk in result:
                chunks.append(chunk)
        finally:
            close = getattr(result, "close", None)
            if close is not None:
                close()
        status = int(str(captured.get("status", "500")).split()[0])
        headers = [(k, v) for k, v in captured.get("headers", []) if k.lower() not in _HOP_BY_HOP]
        return Response(status, b"".join(chunks), headers)

    # -- control API ----------------------------------------------------------------------

    def control(self, environ: dict[str, Any]) -> Response:
        method = environ.get("REQUEST_METHOD", "GET")
        path = environ.get("PATH_INFO", "")[len(CONTROL_PREFIX) :].rstrip("/") or "/"
        body: dict[str, Any] = {}
        try:
            length = int(environ.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0
        if length:
            try:
                loaded = json.loads(environ["wsgi.input"].read(length) or b"{}")
                body = loaded if isinstance(loaded, dict) else {}
            except ValueError:
                return control_json({"error": "body must be a JSON object"}, 400)

        route = (method, path)
        if route == ("GET", "/health"):
            with self.world.lock:
                return control_json(
                    {
                        "status": "ok",
                        "step": self.world.step,
                        "paused": self.simulator.paused,
                        "uptime": round(time.time() - self.started, 3),
                        "accounts": len(self.world.spec.accounts),
                        "clusters": len(self.world.clusters),
                        "services": len(self.world.services),
                        "history_pending": self.world.metrics.pending,
                    }
                )
        if route == ("GET", "/faults"):
            return control_json({"faults": self.faults.list()})
        if route == ("POST", "/faults"):
            try:
                fault = self.faults.add(body)
            except FaultError as error:
                return control_json({"error": str(error)}, 400)
            return control_json(fault.to_json())
        if route == ("DELETE", "/faults"):
            self.faults.clear()
            return control_json({"faults": []})
        if route == ("GET", "/stats"):
            return control_json({"stats": self.stats.list()})
        if route == ("POST", "/stats/reset"):
            self.stats.reset()
            return control_json({"stats": []})
        if route == ("POST", "/simulator/tick"):
            steps = body.get("steps", 1)
            if isinstance(steps, bool) or not isinstance(steps, int) or not 0 <= steps <= 10_000:
                return control_json({"error": "steps must be an integer 0..10000"}, 400)
            return control_json({"step": self.simulator.tick(steps)})
        if route == ("POST", "/simulator/pause"):
            self.simulator.pause()
            return control_json({"paused": True, "step": self.world.step})
        if route == ("POST", "/simulator/resume"):
            self.simulator.resume()
            return control_json({"paused": False, "step": self.world.step})
        if route == ("GET", "/fleet"):
            with self.world.lock:
                return control_json(self.world.fleet_summary())
        return control_json({"error": f"no control route {method} {CONTROL_PREFIX}{path}"}, 404)


def _drop_field(value: Any, name: str) -> Any:
    if isinstance(value, dict):
        return {k: _drop_field(v, name) for k, v in value.items() if k != name}
    if isinstance(value, list):
        return [_drop_field(v, name) for v in value]
    return value


def _replace_text(value: Any, name: str, replacement: str) -> Any:
    if isinstance(value, dict):
        return {
            k: replacement if k == name and isinstance(v, str) else _replace_text(v, name, replacement)
            for k, v in value.items()
        }
    if isinstance(value, list):
        return [_replace_text(v, name, replacement) for v in value]
    return value


def _token_key(service: str | None) -> str:
    return "nextToken" if service == "ecs" else "NextToken"


_ENDLESS_PAGES = itertools.count(1)


def _strip_fault_token(environ: dict[str, Any], request: AwsRequest) -> bool:
    """A next token handed out by a ``malformed`` page fault: answer the request
    as if it carried none (the real first page). True when one was stripped."""

    if request.protocol != "json":
        return False
    key = _token_key(request.service)
    token = request.params.get(key)
    if not (isinstance(token, str) and token.startswith(FAULT_TOKEN_PREFIX)):
        return False
    del request.params[key]
    body = json.dumps(request.params).encode()
    environ["wsgi.input"] = io.BytesIO(body)  # moto reads the body again
    environ["CONTENT_LENGTH"] = str(len(body))
    request.body = body
    return True


def _malform(response: Response, code: str | None, token_key: str, *, first_page: bool) -> Response:
    """Spoil a successful answer as the ``malformed`` fault's ``code`` says (see faults.py)."""

    if not code:
        return Response(response.status, response.body[: len(response.body) // 2], response.headers)
    try:
        data = json.loads(response.body)
    except ValueError:
        return response
    if not isinstance(data, dict):
        return response
    if code in MALFORMED_PAGE_VARIANTS:
        if code == "empty_page" and not first_page:
            return response
        data = {k: [] if isinstance(v, list) else v for k, v in data.items()}
        suffix = "first" if code == "empty_page" else str(next(_ENDLESS_PAGES))
        data[token_key] = FAULT_TOKEN_PREFIX + suffix
    elif code == "partial":
        data = {k: v[: len(v) // 2] if isinstance(v, list) else v for k, v in data.items()}
    elif code.startswith("enum:"):
        data = _replace_text(data, code[len("enum:") :], UNKNOWN_ENUM_VALUE)
    else:
        data = _drop_field(data, code[len("drop:") :] if code.startswith("drop:") else code)
    body = json.dumps(data, separators=(",", ":")).encode()
    return Response(response.status, body, response.headers)
