"""The users store's DynamoDB plumbing: the client and its retries, what each
call's HTTP attempts got, and the one line a failed call becomes.

`DynamoStore` is the base of `UserStore` (store.py): the client, the two table
names and `_call`, the bounded call every store operation goes through. Its
parts (store_users.py, store_lockout.py, store_auth_table.py) build on it.
"""

from __future__ import annotations

import asyncio
import contextvars
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from botocore.exceptions import ClientError, HTTPClientError
from botocore.exceptions import ConnectionError as BotoConnectionError

from heartbeat_tui.auth.errors import StoreError, StoreMissing, StoreUnavailable
from heartbeat_tui.aws.errors import describe_error, error_code
from heartbeat_tui.reasons import one_line

# The store's log lines keep the logger they had before the split.
log = logging.getLogger("heartbeat_tui.auth.store")
T = TypeVar("T")

AUTH_TABLE_SUFFIX = "-auth"
TTL_ATTRIBUTE = "expires_at"
# One store call (botocore's retries included) never takes longer than this: a login,
# a session check or an admin action answers "user store unreachable" instead of hanging.
DEFAULT_CALL_SECONDS = 10.0
UNREACHABLE = "user store unreachable"
_TRANSIENT_CODES = {
    "Throttling",
    "ThrottlingException",
    "ProvisionedThroughputExceededException",
    "RequestLimitExceeded",
    "ServiceUnavailable",
    "InternalServerError",
    "InternalFailure",
    "LimitExceededException",
}


class ConditionFailed(Exception):
    """A conditional write found the item not as expected (nothing was written)."""


# -- retries within the deadline -----------------------------------------------------------------

#: botocore's backoff before retry i (1-based), at worst: rand(0, 1) * min(2 ** (i - 1), 20) seconds.
_MAX_BACKOFF = 20.0


def _worst_backoff(retries: int) -> float:
    return sum(min(2.0 ** (i - 1), _MAX_BACKOFF) for i in range(1, retries + 1))


@dataclass(frozen=True)
class RetryPlan:
    """How the store's client retries so that every attempt ends inside one
    call's deadline: the answer an operator sees is then the last attempt's
    ("HTTP 503 after 3 attempts"), not "no answer in time"."""

    attempts: int
    connect_timeout: float
    read_timeout: float

    @classmethod
    def within(cls, deadline: float, *, max_attempts: int, connect_timeout: float, read_timeout: float) -> RetryPlan:
        """As many attempts as `max_attempts` allows whose worst-case backoff
        fits in half the deadline; the other half shared by the attempts as
        their timeouts (never longer than the configured ones)."""

        attempts = 1
        while attempts < max_attempts and _worst_backoff(attempts) <= deadline / 2:
            attempts += 1
        per_attempt = max(0.5, (deadline - _worst_backoff(attempts - 1)) / attempts)
        read = min(read_timeout, per_attempt)
        return cls(attempts=attempts, connect_timeout=min(connect_timeout, read), read_timeout=read)


async def store_client(access: Any, deadline: float) -> Any:
    """The users store's DynamoDB client: base credentials, retries that fit `deadline`."""

    aws = access.config.file.aws  # the same configuration the access was made from
    plan = RetryPlan.within(
        deadline,
        max_attempts=aws.max_attempts,
        connect_timeout=aws.connect_timeout_seconds,
        read_timeout=aws.read_timeout_seconds,
    )
    return await access.bounded_client(
        "dynamodb",
        attempts=plan.attempts,
        connect_timeout=plan.connect_timeout,
        read_timeout=plan.read_timeout,
    )


@dataclass
class _Attempts:
    """What the HTTP attempts of one store call got, as botocore made them."""

    sent: int = 0
    answered: int = 0
    last: str | None = None  # the newest answer ("HTTP 503 ServiceUnavailable") or failure

    def summary(self) -> str:
        if self.sent == 0:
            return "nothing sent"
        tries = "1 attempt" if self.sent == 1 else f"{self.sent} attempts"
        if self.answered < self.sent or self.last is None:
            return f"{tries}, the last still unanswered"
        return f"{tries}, the last got {self.last}"


_attempts: contextvars.ContextVar[_Attempts | None] = contextvars.ContextVar("heartbeat_store_attempts", default=None)


def _on_send(**_: Any) -> None:
    attempts = _attempts.get()
    if attempts is not None:
        attempts.sent += 1


def _on_response(response_dict: Any = None, parsed_response: Any = None, exception: Any = None, **_: Any) -> None:
    attempts = _attempts.get()
    if attempts is None:
        return
    attempts.answered += 1
    if exception is not None:
        attempts.last = describe_error(exception)
    elif response_dict is not None:
        code = (parsed_response or {}).get("Error", {}).get("Code") if isinstance(parsed_response, dict) else None
        attempts.last = f"HTTP {response_dict.get('status_code')}" + (f" {code}" if code else "")


def is_unavailable(exc: BaseException) -> bool:
    """A failure that says nothing about the request itself: the store is down, slow,
    overloaded or unreachable. Retrying later may work; nothing was decided."""

    if isinstance(exc, (asyncio.TimeoutError, BotoConnectionError, HTTPClientError, OSError)):
        return True
    if isinstance(exc, ClientError):
        status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
        return (isinstance(status, int) and status >= 500) or error_code(exc) in _TRANSIENT_CODES
    return False


def _unavailable_reason(exc: BaseException) -> str:
    """An answer that says the store is down: its status, how many attempts
    got it, and AWS's words ("HTTP 503 ServiceUnavailable after 3 attempts")."""

    if not isinstance(exc, ClientError):
        return describe_error(exc)
    meta = exc.response.get("ResponseMetadata", {})
    error = exc.response.get("Error", {})
    status, code, message = meta.get("HTTPStatusCode"), error.get("Code"), error.get("Message")
    retries = meta.get("RetryAttempts")
    reason = f"HTTP {status}" if isinstance(status, int) else "error"
    if code and str(code) != str(status):
        reason += f" {code}"
    if isinstance(retries, int):
        reason += " after 1 attempt" if retries == 0 else f" after {retries + 1} attempts"
    if message and not str(message).lstrip().startswith("<"):
        reason += f": {one_line(str(message))}"
    return reason


def store_failure(
    table: str, what: str, exc: BaseException, *, deadline: float | None = None, attempts: _Attempts | None = None
) -> StoreError:
    """The one line for a failed store call: `StoreUnavailable` when it is worth a retry."""

    if isinstance(exc, asyncio.TimeoutError):
        within = f" within {deadline:g} s" if deadline is not None else " in time"
        reason = f"no answer{within}" + (f" ({attempts.summary()})" if attempts is not None else "")
    elif is_unavailable(exc):
        reason = _unavailable_reason(exc)
        if not isinstance(exc, ClientError) and attempts is not None and attempts.sent > 1:
            reason += f" after {attempts.sent} attempts"  # a timeout or a refused connection, each time
    else:
        reason = describe_error(exc)
    if is_unavailable(exc):
        return StoreUnavailable(f"{UNREACHABLE} (DynamoDB {table}: {what}: {reason}); try again when it is back")
    return StoreError(f"users store ({table}): {what}: {reason}")


def auth_table_name(users_table: str) -> str:
    return f"{users_table}{AUTH_TABLE_SUFFIX}"


class DynamoStore:
    """The client and the tables of one deployment, and the bounded call that
    every store operation goes through: shared by the item stores of `UserStore`."""

    def __init__(self, client: Any, users_table: str, *, call_seconds: float = DEFAULT_CALL_SECONDS) -> None:
        self.client = client
        self.users_table = users_table
        self.auth_table = auth_table_name(users_table)
        self.call_seconds = call_seconds
        # What each HTTP attempt got, for the message when the deadline passes first.
        events = client.meta.events
        events.register("before-send.dynamodb", _on_send, unique_id="heartbeat-store-send")
        events.register("response-received.dynamodb", _on_response, unique_id="heartbeat-store-response")

    # -- plumbing ------------------------------------------------------------

    async def call(self, table: str, what: str, call: Callable[[], Awaitable[T]]) -> T:
        """One bounded call on a table; any failure becomes one readable line (`StoreError`)."""

        attempts = _Attempts()
        token = _attempts.set(attempts)
        try:
            return await asyncio.wait_for(call(), self.call_seconds)
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # every failure becomes one readable line
            code = error_code(exc)
            if code in (
                "ConditionalCheckFailedException",
                "TransactionCanceledException",
                "TransactionConflictException",
            ):
                # A transaction is cancelled as a whole when one of its conditions fails (or
                # another transaction holds one of its items): nothing was written either.
                raise ConditionFailed(what) from None
            if code == "ResourceNotFoundException":
                raise StoreMissing(f"DynamoDB table {table} does not exist: run `heartbeat init`") from None
            failure = store_failure(table, what, exc, deadline=self.call_seconds, attempts=attempts)
            log.warning("DynamoDB %s on %s failed: %s", what, table, failure)
            raise failure from None
        finally:
            _attempts.reset(token)
