"""DynamoDB storage for users, lockout, revoked sessions and the audit trail.

Two tables, created by `heartbeat init` (`ensure_tables`), on demand billing:

* the users table (`DYNAMODB_USERS_TABLE`, partition key `username` S): one
  item per user, with the lockout counters on the item so that failures
  recorded by any process on any machine count;
* `<users table>-auth` (partition key `pk` S, TTL attribute `expires_at`):
  `revoked#<jti>` for logged-out sessions until they would have expired, and
  `audit#<time>#<id>` audit records.

Every write that could overwrite something is conditional: creating a user
requires that it does not exist, profile edits require the `version` read,
lockout counters are atomic `ADD`s, and a successful login requires the user
to be active and not locked at the moment of the write. The low-level client
is used with explicit attribute types, so the same code runs against real
DynamoDB and the embedded AWS.
"""

from __future__ import annotations

import asyncio
import contextvars
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, TypeVar

from botocore.exceptions import ClientError, HTTPClientError
from botocore.exceptions import ConnectionError as BotoConnectionError

from heartbeat_tui.auth.errors import StoreError, StoreMissing, StoreUnavailable, UserExists
from heartbeat_tui.auth.roles import Role
from heartbeat_tui.aws.errors import describe_error, error_code
from heartbeat_tui.reasons import one_line

log = logging.getLogger(__name__)
T = TypeVar("T")

AUTH_TABLE_SUFFIX = "-auth"
TTL_ATTRIBUTE = "expires_at"
REVOKED_PREFIX = "revoked#"
AUDIT_PREFIX = "audit#"
_TABLE_WAIT_SECONDS = 120.0
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

    aws = access._config.file.aws  # noqa: SLF001 - the same configuration the access was made from
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


# -- attribute values ------------------------------------------------------------------------------


def _s(value: str) -> dict[str, str]:
    return {"S": value}


def _n(value: float | int) -> dict[str, str]:
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return {"N": repr(value) if isinstance(value, float) else str(value)}


def _bool(value: bool) -> dict[str, bool]:
    return {"BOOL": bool(value)}


def _list(values: Sequence[str]) -> dict[str, list[dict[str, str]]]:
    return {"L": [_s(v) for v in values]}


def _get_s(item: Mapping[str, Any], name: str) -> str | None:
    value = item.get(name)
    return value["S"] if value and "S" in value else None


def _get_n(item: Mapping[str, Any], name: str) -> float | None:
    value = item.get(name)
    if not value or "N" not in value:
        return None
    number = Decimal(value["N"])
    return float(number)


def _get_int(item: Mapping[str, Any], name: str, default: int = 0) -> int:
    number = _get_n(item, name)
    return int(number) if number is not None else default


def _get_bool(item: Mapping[str, Any], name: str, default: bool = False) -> bool:
    value = item.get(name)
    return bool(value["BOOL"]) if value and "BOOL" in value else default


def _get_list(item: Mapping[str, Any], name: str) -> tuple[str, ...]:
    value = item.get(name)
    if not value or "L" not in value:
        return ()
    return tuple(v["S"] for v in value["L"] if "S" in v)


# -- records ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class UserRecord:
    """One users-table item, as stored (personal fields still encrypted)."""

    username: str
    role: Role
    active: bool
    password_hash: str = field(repr=False)
    accounts: tuple[str, ...] = ()
    email_enc: str | None = field(default=None, repr=False)
    full_name_enc: str | None = field(default=None, repr=False)
    version: int = 1
    failed_attempts: int = 0
    last_failure_at: float | None = None
    locked_until: float | None = None
    last_login_at: float | None = None
    sessions_valid_after: float | None = None
    created_at: float | None = None
    created_by: str | None = None
    updated_at: float | None = None
    updated_by: str | None = None

    def is_locked(self, now: float) -> bool:
        return self.locked_until is not None and self.locked_until > now

    @classmethod
    def from_item(cls, item: Mapping[str, Any]) -> UserRecord:
        role_text = _get_s(item, "role") or ""
        try:
            role = Role(role_text)
        except ValueError:
            # An item edited by hand with a role we do not know: treat as the least privileged.
            log.warning("user %r has an unknown role %r; treated as disabled", _get_s(item, "username"), role_text)
            return cls(username=_get_s(item, "username") or "", role=Role.USER, active=False, password_hash="")
        return cls(
            username=_get_s(item, "username") or "",
            role=role,
            active=_get_bool(item, "active"),
            password_hash=_get_s(item, "password_hash") or "",
            accounts=_get_list(item, "accounts"),
            email_enc=_get_s(item, "email_enc"),
            full_name_enc=_get_s(item, "full_name_enc"),
            version=_get_int(item, "version", 1),
            failed_attempts=_get_int(item, "failed_attempts"),
            last_failure_at=_get_n(item, "last_failure_at"),
            locked_until=_get_n(item, "locked_until"),
            last_login_at=_get_n(item, "last_login_at"),
            sessions_valid_after=_get_n(item, "sessions_valid_after"),
            created_at=_get_n(item, "created_at"),
            created_by=_get_s(item, "created_by"),
            updated_at=_get_n(item, "updated_at"),
            updated_by=_get_s(item, "updated_by"),
        )

    def to_item(self) -> dict[str, Any]:
        item: dict[str, Any] = {
            "username": _s(self.username),
            "role": _s(self.role.value),
            "active": _bool(self.active),
            "password_hash": _s(self.password_hash),
            "accounts": _list(self.accounts),
            "version": _n(self.version),
            "failed_attempts": _n(self.failed_attempts),
        }
        optional_s = {
            "email_enc": self.email_enc,
            "full_name_enc": self.full_name_enc,
            "created_by": self.created_by,
            "updated_by": self.updated_by,
        }
        optional_n = {
            "last_failure_at": self.last_failure_at,
            "locked_until": self.locked_until,
            "last_login_at": self.last_login_at,
            "sessions_valid_after": self.sessions_valid_after,
            "created_at": self.created_at,
            "updated_at": self.updated_at,
        }
        item.update({k: _s(v) for k, v in optional_s.items() if v is not None})
        item.update({k: _n(v) for k, v in optional_n.items() if v is not None})
        return item


# Attributes an admin edit may set (the update builder accepts nothing else).
_EDITABLE = {
    "role": _s,
    "active": _bool,
    "password_hash": _s,
    "accounts": _list,
    "email_enc": _s,
    "full_name_enc": _s,
    "sessions_valid_after": _n,
    "failed_attempts": _n,
    "updated_at": _n,
    "updated_by": _s,
}
_REMOVABLE = {"email_enc", "full_name_enc", "locked_until", "last_failure_at"}


class UserStore:
    """The tables of one deployment, through one aiobotocore DynamoDB client."""

    def __init__(self, client: Any, users_table: str, *, call_seconds: float = DEFAULT_CALL_SECONDS) -> None:
        self._client = client
        self.users_table = users_table
        self.auth_table = auth_table_name(users_table)
        self.call_seconds = call_seconds
        # What each HTTP attempt got, for the message when the deadline passes first.
        events = client.meta.events
        events.register("before-send.dynamodb", _on_send, unique_id="heartbeat-store-send")
        events.register("response-received.dynamodb", _on_response, unique_id="heartbeat-store-response")

    # -- plumbing ------------------------------------------------------------

    async def _call(self, table: str, what: str, call: Callable[[], Awaitable[T]]) -> T:
        attempts = _Attempts()
        token = _attempts.set(attempts)
        try:
            return await asyncio.wait_for(call(), self.call_seconds)
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # noqa: BLE001 - every failure becomes one readable line
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

    # -- tables --------------------------------------------------------------

    async def ensure_tables(self) -> list[str]:
        """Create what is missing and enable TTL; idempotent. Returns what it did."""

        done: list[str] = []
        for table, key in ((self.users_table, "username"), (self.auth_table, "pk")):
            if await self._create_table(table, key):
                done.append(f"created table {table}")
        for table in (self.users_table, self.auth_table):
            await self._wait_active(table)
        if await self._enable_ttl(self.auth_table):
            done.append(f"enabled TTL ({TTL_ATTRIBUTE}) on {self.auth_table}")
        return done

    async def _create_table(self, table: str, key: str) -> bool:
        try:
            await self._client.create_table(
                TableName=table,
                KeySchema=[{"AttributeName": key, "KeyType": "HASH"}],
                AttributeDefinitions=[{"AttributeName": key, "AttributeType": "S"}],
                BillingMode="PAY_PER_REQUEST",
            )
        except Exception as exc:  # noqa: BLE001
            if error_code(exc) == "ResourceInUseException":
                return False  # already there (or being created by another process)
            raise store_failure(table, "CreateTable", exc) from None
        return True

    async def _wait_active(self, table: str) -> None:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + _TABLE_WAIT_SECONDS
        while True:
            described = await self._call(table, "DescribeTable", lambda: self._client.describe_table(TableName=table))
            if described["Table"].get("TableStatus") == "ACTIVE":
                return
            if loop.time() > deadline:
                raise StoreError(f"DynamoDB table {table} is not ACTIVE after {_TABLE_WAIT_SECONDS:.0f} s")
            await asyncio.sleep(1.0)

    async def _enable_ttl(self, table: str) -> bool:
        described = await self._call(
            table, "DescribeTimeToLive", lambda: self._client.describe_time_to_live(TableName=table)
        )
        status = described.get("TimeToLiveDescription", {})
        if status.get("TimeToLiveStatus") in ("ENABLED", "ENABLING"):
            return False
        await self._call(
            table,
            "UpdateTimeToLive",
            lambda: self._client.update_time_to_live(
                TableName=table, TimeToLiveSpecification={"Enabled": True, "AttributeName": TTL_ATTRIBUTE}
            ),
        )
        return True

    # -- users ---------------------------------------------------------------

    async def get(self, username: str) -> UserRecord | None:
        response = await self._call(
            self.users_table,
            "GetItem",
            lambda: self._client.get_item(
                TableName=self.users_table, Key={"username": _s(username)}, ConsistentRead=True
            ),
        )
        item = response.get("Item")
        return UserRecord.from_item(item) if item else None

    async def create(self, record: UserRecord) -> None:
        """Write a new user; `UserExists` (nothing changed) if the name is taken."""

        try:
            await self._call(
                self.users_table,
                "PutItem",
                lambda: self._client.put_item(
                    TableName=self.users_table,
                    Item=record.to_item(),
                    ConditionExpression="attribute_not_exists(username)",
                ),
            )
        except ConditionFailed:
            raise UserExists(record.username) from None

    async def pages(self, page_size: int = 100) -> AsyncIterator[list[UserRecord]]:
        """Every user, a page at a time (strongly consistent scan)."""

        start: dict[str, Any] | None = None
        while True:
            kwargs: dict[str, Any] = {"TableName": self.users_table, "ConsistentRead": True, "Limit": page_size}
            if start:
                kwargs["ExclusiveStartKey"] = start
            response = await self._call(self.users_table, "Scan", lambda kw=kwargs: self._client.scan(**kw))
            yield [UserRecord.from_item(item) for item in response.get("Items", [])]
            start = response.get("LastEvaluatedKey")
            if not start:
                return

    async def all(self) -> list[UserRecord]:
        records: list[UserRecord] = []
        async for page in self.pages():
            records.extend(page)
        return records

    async def update(
        self,
        username: str,
        expected_version: int,
        set_values: Mapping[str, Any],
        remove: Sequence[str] = (),
        *,
        while_admin: str | None = None,
    ) -> None:
        """Set/remove attributes and bump `version`, only if `version` is still `expected_version`.

        With `while_admin`, only if that other user is at the same moment an active
        admin: one transaction (an update and a condition check), so two admins
        demoting or disabling each other at once can never leave no active admin
        (DynamoDB serializes transactions; one of the two is cancelled).

        Raises `ConditionFailed` (nothing written) when the user changed or vanished,
        or `while_admin` is no longer an active admin.
        """

        names: dict[str, str] = {"#version": "version", "#username": "username"}
        values: dict[str, Any] = {":expected": _n(expected_version), ":next": _n(expected_version + 1)}
        sets = ["#version = :next"]
        for i, (name, value) in enumerate(set_values.items()):
            encoder = _EDITABLE[name]  # KeyError on a programming mistake, never on input
            names[f"#a{i}"] = name
            values[f":v{i}"] = encoder(value)
            sets.append(f"#a{i} = :v{i}")
        expression = "SET " + ", ".join(sets)
        removals = []
        for j, name in enumerate(remove):
            if name not in _REMOVABLE:
                raise ValueError(f"{name} cannot be removed")
            names[f"#r{j}"] = name
            removals.append(f"#r{j}")
        if removals:
            expression += " REMOVE " + ", ".join(removals)
        update = {
            "TableName": self.users_table,
            "Key": {"username": _s(username)},
            "UpdateExpression": expression,
            "ConditionExpression": "attribute_exists(#username) AND #version = :expected",
            "ExpressionAttributeNames": names,
            "ExpressionAttributeValues": values,
        }
        if while_admin is None:
            await self._call(self.users_table, "UpdateItem", lambda: self._client.update_item(**update))
            return
        keeper = {
            "TableName": self.users_table,
            "Key": {"username": _s(while_admin)},
            "ConditionExpression": "attribute_exists(#u) AND #a = :true AND #r = :admin",
            "ExpressionAttributeNames": {"#u": "username", "#a": "active", "#r": "role"},
            "ExpressionAttributeValues": {":true": _bool(True), ":admin": _s(Role.ADMIN.value)},
        }
        await self._call(
            self.users_table,
            "TransactWriteItems",
            lambda: self._client.transact_write_items(TransactItems=[{"Update": update}, {"ConditionCheck": keeper}]),
        )

    # -- lockout -------------------------------------------------------------

    async def record_failure(
        self, username: str, now: float, *, stale_before: float, threshold: int, lock_until: float
    ) -> tuple[int, bool]:
        """Count a failed login for an existing, unlocked user, atomically.

        Returns (failures in a row, locked now). A streak whose last failure is
        older than `stale_before` starts again at 1. For a user that does not
        exist or is locked nothing is written (the same round trips are made,
        so the timing does not tell them apart).
        """

        names = {"#u": "username", "#f": "failed_attempts", "#l": "last_failure_at", "#k": "locked_until"}
        not_locked = "(attribute_not_exists(#k) OR #k <= :now)"
        key = {"username": _s(username)}
        # A fresh streak: only when the last failure is old (or there is none).
        response = await self._update_user(
            Key=key,
            UpdateExpression="SET #f = :one, #l = :now",
            ConditionExpression=f"attribute_exists(#u) AND {not_locked} AND (attribute_not_exists(#l) OR #l < :stale)",
            ExpressionAttributeNames=names,
            ExpressionAttributeValues={":one": _n(1), ":now": _n(now), ":stale": _n(stale_before)},
            ReturnValues="ALL_NEW",
        )
        if response is None:
            response = await self._update_user(
                Key=key,
                UpdateExpression="ADD #f :one SET #l = :now",
                ConditionExpression=f"attribute_exists(#u) AND {not_locked}",
                ExpressionAttributeNames=names,
                ExpressionAttributeValues={":one": _n(1), ":now": _n(now)},
                ReturnValues="ALL_NEW",
            )
        if response is None:
            return 0, False  # unknown or already locked: nothing to count
        failures = _get_int(response.get("Attributes", {}), "failed_attempts")
        if failures < threshold:
            return failures, False
        # Whoever crosses the threshold first locks; the streak starts over afterwards.
        locked = await self._update_user_if(
            Key=key,
            UpdateExpression="SET #k = :until, #f = :zero",
            ConditionExpression=f"attribute_exists(#u) AND #f >= :threshold AND {not_locked}",
            ExpressionAttributeNames={"#u": "username", "#f": "failed_attempts", "#k": "locked_until"},
            ExpressionAttributeValues={
                ":until": _n(lock_until),
                ":zero": _n(0),
                ":threshold": _n(threshold),
                ":now": _n(now),
            },
        )
        return failures, locked  # False: another process locked it first

    async def _update_user(self, **update: Any) -> dict[str, Any] | None:
        """One conditional UpdateItem on a user: its answer, or None when the
        condition does not hold (nothing was written)."""

        try:
            return await self._call(
                self.users_table,
                "UpdateItem",
                lambda: self._client.update_item(TableName=self.users_table, **update),
            )
        except ConditionFailed:
            return None

    async def _update_user_if(self, **update: Any) -> bool:
        """One conditional UpdateItem on a user; False when its condition does not hold."""

        return await self._update_user(**update) is not None

    async def record_success(self, username: str, now: float, password_hash: str) -> bool:
        """Reset the streak and stamp the login, only if the user is still active,
        not locked and has the password just verified. False: refuse the login."""

        return await self._update_user_if(
            Key={"username": _s(username)},
            UpdateExpression="SET #f = :zero, #t = :now REMOVE #l",
            ConditionExpression=(
                "attribute_exists(#u) AND #a = :true AND #p = :hash AND (attribute_not_exists(#k) OR #k <= :now)"
            ),
            ExpressionAttributeNames={
                "#u": "username",
                "#f": "failed_attempts",
                "#t": "last_login_at",
                "#l": "last_failure_at",
                "#a": "active",
                "#p": "password_hash",
                "#k": "locked_until",
            },
            ExpressionAttributeValues={
                ":zero": _n(0),
                ":now": _n(now),
                ":true": _bool(True),
                ":hash": _s(password_hash),
            },
        )

    async def replace_hash(self, username: str, old_hash: str, new_hash: str) -> bool:
        """Upgrade a hash to the current cost, unless the password changed meanwhile."""

        return await self._update_user_if(
            Key={"username": _s(username)},
            UpdateExpression="SET #p = :new",
            ConditionExpression="attribute_exists(#u) AND #p = :old",
            ExpressionAttributeNames={"#u": "username", "#p": "password_hash"},
            ExpressionAttributeValues={":new": _s(new_hash), ":old": _s(old_hash)},
        )

    async def unlock(self, username: str) -> bool:
        return await self._update_user_if(
            Key={"username": _s(username)},
            UpdateExpression="SET #f = :zero REMOVE #k, #l",
            ConditionExpression="attribute_exists(#u)",
            ExpressionAttributeNames={
                "#u": "username",
                "#f": "failed_attempts",
                "#k": "locked_until",
                "#l": "last_failure_at",
            },
            ExpressionAttributeValues={":zero": _n(0)},
        )

    # -- sessions ------------------------------------------------------------

    async def revoke(self, jti: str, username: str, expires_at: float) -> None:
        item = {
            "pk": _s(REVOKED_PREFIX + jti),
            "username": _s(username),
            TTL_ATTRIBUTE: _n(int(expires_at) + 1),
        }
        await self._call(
            self.auth_table, "PutItem", lambda: self._client.put_item(TableName=self.auth_table, Item=item)
        )

    async def is_revoked(self, jti: str) -> bool:
        response = await self._call(
            self.auth_table,
            "GetItem",
            lambda: self._client.get_item(
                TableName=self.auth_table,
                Key={"pk": _s(REVOKED_PREFIX + jti)},
                ConsistentRead=True,
                ProjectionExpression="pk",
            ),
        )
        return bool(response.get("Item"))

    # -- audit ---------------------------------------------------------------

    async def put_audit(self, key: str, fields: Mapping[str, str | float], expires_at: float) -> None:
        item: dict[str, Any] = {"pk": _s(AUDIT_PREFIX + key), TTL_ATTRIBUTE: _n(int(expires_at))}
        for name, value in fields.items():
            item[name] = _s(value) if isinstance(value, str) else _n(value)
        await self._call(
            self.auth_table,
            "PutItem",
            lambda: self._client.put_item(
                TableName=self.auth_table, Item=item, ConditionExpression="attribute_not_exists(pk)"
            ),
        )

    async def audit_records(self, limit: int = 1000) -> list[dict[str, Any]]:
        """Audit items, newest first (a scan: for tests and small deployments)."""

        records: list[dict[str, Any]] = []
        start: dict[str, Any] | None = None
        while True:
            kwargs: dict[str, Any] = {
                "TableName": self.auth_table,
                "ConsistentRead": True,
                "FilterExpression": "begins_with(pk, :p)",
                "ExpressionAttributeValues": {":p": _s(AUDIT_PREFIX)},
            }
            if start:
                kwargs["ExclusiveStartKey"] = start
            response = await self._call(self.auth_table, "Scan", lambda kw=kwargs: self._client.scan(**kw))
            for item in response.get("Items", []):
                record: dict[str, Any] = {}
                for name, value in item.items():
                    if "S" in value:
                        record[name] = value["S"]
                    elif "N" in value:
                        record[name] = float(Decimal(value["N"]))
                records.append(record)
            start = response.get("LastEvaluatedKey")
            if not start:
                break
        records.sort(key=lambda r: str(r.get("pk")), reverse=True)
        return records[:limit]
