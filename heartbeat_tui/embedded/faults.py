"""Run-time faults and request statistics, per account, service and operation.

A fault matches a request by account (the account the request acts in; for
STS AssumeRole, the account in RoleArn), service (signing name; ``cloudwatch``
is accepted for ``monitoring``) and operation, each ``*`` by default, and fires
with probability ``rate``, at most ``times`` times (default: for ever).  Kinds:

* ``latency``: sleep ``seconds`` (default 1), then answer normally;
* ``timeout``: sleep ``seconds`` (default 30: longer than the client's read
  timeout), then answer normally, to a client that has usually gone;
* ``throttle``: ThrottlingException (JSON) / Throttling (query), HTTP 400;
* ``error``: HTTP 500 InternalFailure, or ``code`` (status from the code);
* ``deny_assume_role``: AssumeRole into the account -> AccessDenied, 403;
* ``wrong_account``: AssumeRole into the account succeeds, but its answer's
  assumed-role ARN is in another account (``code``: ``ACCOUNT`` or
  ``PARTITION:ACCOUNT``, default ``999999999999``): a role that leads
  somewhere else, which the client must refuse;
* ``expire_credentials``: requests signed with assumed-role keys issued before
  the fault was added -> ExpiredTokenException;
* ``malformed``: a 200 response is spoiled as ``code`` says (JSON answers;
  without ``code`` the body is cut in half):

  - ``FIELD`` or ``drop:FIELD``: the field is removed wherever it appears;
  - ``enum:FIELD``: every text value of the field becomes ``UNKNOWN_VALUE``
    (an enum value newer than the client);
  - ``partial``: every top-level list keeps only its first half;
  - ``empty_page``: the first page of a paged call comes back empty, with a
    next token that leads to the real first page (legal, and AWS does it);
  - ``endless_pages``: every page comes back empty with a new next token, for
    ever (a broken endpoint: the client must give up, not loop).

  The next tokens these hand out start with ``FAULT_TOKEN_PREFIX``; the
  middleware strips them from a request before answering it, even after the
  fault is cleared.
"""

from __future__ import annotations

import builtins
import itertools
import random
import re
import threading
import time
from collections import defaultdict
from dataclasses import asdict, dataclass
from typing import Any

from heartbeat_tui.embedded.protocol import AwsRequest, canonical_service

FAULT_TOKEN_PREFIX = "heartbeat-fault-page-"
UNKNOWN_ENUM_VALUE = "UNKNOWN_VALUE"
MALFORMED_PAGE_VARIANTS = ("empty_page", "endless_pages")

KINDS = (
    "latency",
    "throttle",
    "timeout",
    "error",
    "deny_assume_role",
    "expire_credentials",
    "malformed",
    "wrong_account",
)
TERMINAL_KINDS = ("throttle", "error", "deny_assume_role", "expire_credentials")

_ROLE_ACCOUNT_RE = re.compile(r"^arn:aws[\w-]*:iam::(\d{12}):")
_ELSEWHERE_RE = re.compile(r"^(?:([a-z][a-z0-9-]{0,62}):)?(\d{12})$")
_ASSUMED_ROLE_ARN_RE = re.compile(rb"(<Arn>arn:)([^:<]+)(:sts::)(\d{12})(:assumed-role/)")
DEFAULT_ELSEWHERE_ACCOUNT = "999999999999"


def role_account(role_arn: str | None) -> str | None:
    match = _ROLE_ACCOUNT_RE.match(role_arn or "")
    return match.group(1) if match else None


class FaultError(ValueError):
    """An invalid fault definition (answered 400 by the control API)."""


@dataclass
class Fault:
    id: int
    kind: str
    account: str = "*"
    service: str = "*"
    operation: str = "*"
    rate: float = 1.0
    seconds: float | None = None
    code: str | None = None
    created_at: float = 0.0
    fired: int = 0
    times: int | None = None  # fires at most this often; None: for ever

    def matches(self, account: str, service: str | None, operation: str | None) -> bool:
        return (
            (self.account == "*" or self.account == account)
            and (self.service == "*" or self.service == service)
            and (self.operation == "*" or self.operation == operation)
        )

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def error_status(code: str) -> int:
    lowered = code.lower()
    if "unavailable" in lowered:
        return 503
    if lowered.startswith("internal"):
        return 500
    if "accessdenied" in lowered:
        return 403
    return 400


class Faults:
    def __init__(self, seed: int = 0) -> None:
        self._lock = threading.Lock()
        self._faults: list[Fault] = []
        self._ids = itertools.count(1)
        self._rng = random.Random(f"heartbeat-faults:{seed}")

    def add(self, data: dict[str, Any]) -> Fault:
        kind = data.get("kind")
        if kind not in KINDS:
            raise FaultError(f"kind must be one of {', '.join(KINDS)}; got {kind!r}")
        try:
            rate = float(data.get("rate", 1.0))
        except (TypeError, ValueError):
            raise FaultError("rate must be a number") from None
        if not 0.0 <= rate <= 1.0:
            raise FaultError("rate must be between 0 and 1")
        seconds = data.get("seconds")
        if seconds is not None:
            try:
                seconds = float(seconds)
            except (TypeError, ValueError):
                raise FaultError("seconds must be a number") from None
            if seconds < 0:
                raise FaultError("seconds must be >= 0")
        times = data.get("times")
        if times is not None and (isinstance(times, bool) or not isinstance(times, int) or times < 1):
            raise FaultError("times must be a positive integer")
        if kind == "wrong_account" and data.get("code") is not None and not _ELSEWHERE_RE.match(str(data["code"])):
            raise FaultError("code of wrong_account must be ACCOUNT or PARTITION:ACCOUNT (12 digits)")
        service = str(data.get("service") or "*")
        fault = Fault(
            id=0,
            kind=kind,
            account=str(data.get("account") or "*"),
            service="*" if service == "*" else canonical_service(service),
            operation=str(data.get("operation") or "*"),
            rate=rate,
            seconds=seconds,
            code=(str(data["code"]) if data.get("code") is not None else None),
            created_at=time.time(),
            times=times,
        )
        with self._lock:
            fault.id = next(self._ids)
            self._faults.append(fault)
        return fault

    def clear(self) -> None:
        with self._lock:
            self._faults.clear()

    def list(self) -> list[dict[str, Any]]:
        with self._lock:
            return [f.to_json() for f in self._faults]

    def matching(self, account: str, service: str | None, operation: str | None) -> builtins.list[Fault]:
        """The faults that fire for this request (each rolled against its rate)."""
        with self._lock:
            fired = []
            for fault in self._faults:
                if fault.times is not None and fault.fired >= fault.times:
                    continue
                if fault.matches(account, service, operation) and (
                    fault.rate >= 1.0 or self._rng.random() < fault.rate
                ):
                    fault.fired += 1
                    fired.append(fault)
            return fired


class Stats:
    """HTTP requests received per (account, service, operation), faults included."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._counts: dict[tuple[str, str, str], list[int]] = defaultdict(lambda: [0, 0])

    def record(self, account: str, service: str | None, operation: str | None) -> None:
        with self._lock:
            self._counts[(account, service or "unknown", operation or "unknown")][0] += 1

    def record_fault(self, account: str, service: str | None, operation: str | None) -> None:
        with self._lock:
            self._counts[(account, service or "unknown", operation or "unknown")][1] += 1

    def reset(self) -> None:
        with self._lock:
            self._counts.clear()

    def list(self) -> list[dict[str, Any]]:
        with self._lock:
            return [
                {"account": a, "service": s, "operation": o, "count": c[0], "faulted": c[1]}
                for (a, s, o), c in sorted(self._counts.items())
            ]


class IssuedKeys:
    """When each assumed-role access key was issued, and for which account.

    Recorded by the middleware from AssumeRole responses, so that
    ``expire_credentials`` can expire exactly the keys issued before it.
    """

    _KEY_RE = re.compile(rb"<AccessKeyId>([^<]+)</AccessKeyId>")

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._issued: dict[str, tuple[str, float]] = {}

    def record_response(self, account: str, body: bytes) -> None:
        match = self._KEY_RE.search(body)
        if match:
            with self._lock:
                self._issued[match.group(1).decode()] = (account, time.time())

    def issued_at(self, access_key: str | None) -> float | None:
        if not access_key:
            return None
        with self._lock:
            entry = self._issued.get(access_key)
        return entry[1] if entry else None


def assume_role_target(request: AwsRequest) -> str | None:
    """The account an AssumeRole request is for (None for other requests)."""
    if request.service == "sts" and request.operation == "AssumeRole":
        return role_account(request.params.get("RoleArn"))
    return None


def assumed_role_elsewhere(body: bytes, code: str | None) -> bytes:
    """An AssumeRole answer (XML) whose assumed-role ARN names another account
    (and partition, if `code` gives one): see the ``wrong_account`` fault."""
    match = _ELSEWHERE_RE.match(code or DEFAULT_ELSEWHERE_ACCOUNT)
    assert match is not None  # checked when the fault was added
    partition, account = match.group(1), match.group(2)

    def swap(found: re.Match[bytes]) -> bytes:
        new_partition = partition.encode() if partition else found.group(2)
        return found.group(1) + new_partition + found.group(3) + account.encode() + found.group(5)

    return _ASSUMED_ROLE_ARN_RE.sub(swap, body)
