"""`heartbeat doctor`'s lines for `[cluster]`: the lease table and the parts bucket.

A replica finds a wrong table or a refused permission only at its first
heartbeat or publish, as a poll error on every replica. These checks find it
first, from one machine, without touching any lease or part:

* the lease table exists, is ACTIVE and has the key `heartbeat init` gives it;
* Scan reads it, and PutItem and UpdateItem are tried with a condition that can
  never hold: DynamoDB checks the permission before the condition, so
  ConditionalCheckFailedException proves the right to write and writes nothing;
* the bucket exists, and a probe object under the prefix (beside the parts,
  never among them) is put, read back and deleted. Replicas never delete, so
  a refused delete is a WARN that names the object left behind.

Each check is one line with what to do, within `[collector].account_deadline_seconds`.
"""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import Awaitable, Callable
from typing import Any

from heartbeat_tui.aws.access import AwsAccess
from heartbeat_tui.aws.errors import describe_error, error_code
from heartbeat_tui.cluster.leases import KEY
from heartbeat_tui.cluster.parts import LAYOUT
from heartbeat_tui.config import Config
from heartbeat_tui.doctor import Check

_CONDITION_FAILED = "ConditionalCheckFailedException"
_PROBE_KEY = {KEY: {"S": "doctor#probe"}}  # never written: every probe's condition is false
_NEVER = f"attribute_exists({KEY}) AND attribute_not_exists({KEY})"
_POLICY = 'the policy in README "Several replicas"'
_SETTLING = ("CREATING", "UPDATING")  # usable once ACTIVE: wait, do nothing


class _Failed(Exception):
    """A probe's FAIL (or WARN) line, raised to end the check it belongs to."""

    def __init__(self, status: str, detail: str) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail


class _ConditionFailed(_Failed):
    """DynamoDB refused a write for its condition: the permission was granted."""


def _late(deadline: float) -> str:
    return f"no answer within {deadline:g} s ([collector].account_deadline_seconds)"


async def _call(what: str, call: Callable[[], Awaitable[Any]], deadline: float, fix: str) -> Any:
    """One AWS call within `deadline`; a failure ends the check with `what`, the reason and `fix`."""

    try:
        return await asyncio.wait_for(call(), deadline)
    except asyncio.TimeoutError:
        raise _Failed("FAIL", f"{what}: {_late(deadline)}") from None
    except Exception as exc:  # every failure is a line
        if error_code(exc) == _CONDITION_FAILED:
            raise _ConditionFailed("OK", what) from None
        raise _Failed("FAIL", f"{what}: {describe_error(exc)} ({fix})") from None


async def _check(name: str, steps: Callable[[], Awaitable[str]]) -> Check:
    try:
        return Check("OK", name, await steps())
    except _Failed as failed:
        return Check(failed.status, name, failed.detail)


def _key_schema(described: dict[str, Any]) -> str | None:
    """Why the table's key is not the one `heartbeat init` creates (None: it is)."""

    keys = [(k.get("AttributeName"), k.get("KeyType")) for k in described.get("KeySchema", ())]
    types = {a.get("AttributeName"): a.get("AttributeType") for a in described.get("AttributeDefinitions", ())}
    if keys == [(KEY, "HASH")] and types.get(KEY) == "S":
        return None
    found = ", ".join(f"{name} ({kind}, {types.get(name, '?')})" for name, kind in keys) or "none"
    return f"its key is {found}, not {KEY} (HASH, S) alone"


async def _lease_table(dynamodb: Any, table: str, deadline: float) -> str:
    """The table is there, has `heartbeat init`'s key, and is ACTIVE."""

    try:
        answer = await asyncio.wait_for(dynamodb.describe_table(TableName=table), deadline)
    except asyncio.TimeoutError:
        raise _Failed("FAIL", f"{table}: {_late(deadline)}") from None
    except Exception as exc:  # every failure is a line
        if error_code(exc) == "ResourceNotFoundException":
            raise _Failed("FAIL", f"{table} does not exist (run `heartbeat init`)") from None
        raise _Failed("FAIL", f"{table}: {describe_error(exc)} (grant dynamodb:DescribeTable on it)") from None
    description = answer["Table"]
    wrong = _key_schema(description)
    if wrong is not None:
        raise _Failed(
            "FAIL",
            f"{table}: {wrong}: not a HeartBeat lease table"
            " (set [cluster].lease_table to a new name and run `heartbeat init`)",
        )
    status = str(description.get("TableStatus", "?"))
    if status in _SETTLING:
        raise _Failed("WARN", f"{table} is {status}: replicas can use it once it is ACTIVE")
    if status != "ACTIVE":
        raise _Failed("FAIL", f"{table} is {status}, not ACTIVE: replicas cannot use it (see the DynamoDB console)")
    return f"{table} is ACTIVE, key {KEY} (string)"


async def _lease_access(dynamodb: Any, table: str, deadline: float) -> str:
    """Scan, and the two conditional writes the leases make, each allowed."""

    def fix(action: str) -> str:
        return f"grant dynamodb:{action} on {table}: {_POLICY}"

    await _call("Scan", lambda: dynamodb.scan(TableName=table, Limit=1, ConsistentRead=True), deadline, fix("Scan"))
    writes: dict[str, Callable[[], Awaitable[Any]]] = {
        "PutItem": lambda: dynamodb.put_item(TableName=table, Item=_PROBE_KEY, ConditionExpression=_NEVER),
        "UpdateItem": lambda: dynamodb.update_item(
            TableName=table,
            Key=_PROBE_KEY,
            UpdateExpression="SET probe = :probe",
            ConditionExpression=_NEVER,
            ExpressionAttributeValues={":probe": {"S": "never written"}},
        ),
    }
    for action, write in writes.items():
        try:
            await _call(action, write, deadline, fix(action))
        except _ConditionFailed:
            continue  # allowed, and nothing written
        # The condition cannot hold: an endpoint that applied the write is not DynamoDB as HeartBeat knows it.
        raise _Failed("FAIL", f"{action} with a false condition was applied to {table}")
    return f"{table}: Scan, conditional PutItem and UpdateItem allowed (nothing written)"


async def _bucket(s3: Any, bucket: str, deadline: float) -> str:
    """The bucket is there and these credentials may list it."""

    try:
        await asyncio.wait_for(s3.head_bucket(Bucket=bucket), deadline)
    except asyncio.TimeoutError:
        raise _Failed("FAIL", f"{bucket}: {_late(deadline)}") from None
    except Exception as exc:  # every failure is a line
        code = error_code(exc)
        if code in ("404", "NoSuchBucket"):  # HeadBucket has no body: the status is the code
            raise _Failed("FAIL", f"{bucket}: no such bucket (create it, or fix [cluster].bucket)") from None
        if code == "403":
            raise _Failed("FAIL", f"{bucket}: access denied (grant s3:ListBucket on it: {_POLICY})") from None
        raise _Failed("FAIL", f"{bucket}: {describe_error(exc)}") from None
    return f"{bucket} exists"


async def _bucket_access(s3: Any, bucket: str, prefix: str, deadline: float) -> str:
    """A probe object under the prefix put, read back and deleted."""

    key = f"{prefix}/{LAYOUT}/doctor/{secrets.token_hex(8)}.probe"
    body = secrets.token_bytes(32)
    where = f"on {bucket}/{prefix}/*: {_POLICY}"

    async def put() -> Any:
        return await s3.put_object(Bucket=bucket, Key=key, Body=body)

    async def get() -> bytes:
        answer = await s3.get_object(Bucket=bucket, Key=key)
        async with answer["Body"] as stream:
            return bytes(await stream.read())

    async def delete() -> Any:
        return await s3.delete_object(Bucket=bucket, Key=key)

    await _call(f"PutObject {key}", put, deadline, f"grant s3:PutObject {where}")
    failure: _Failed | None = None
    try:
        if await _call(f"GetObject {key}", get, deadline, f"grant s3:GetObject {where}") != body:
            failure = _Failed("FAIL", f"GetObject {key}: not the bytes put there")
    except _Failed as failed:
        failure = failed
    try:
        await _call(f"DeleteObject {key}", delete, deadline, "replicas never delete: only doctor's probe needs it")
    except _Failed as refused:
        # A refusal costs one stray object, not a working cluster: a WARN (a FAIL before it stays the line).
        failure = failure or _Failed("WARN", f"put and get work; {refused.detail}; delete {key} by hand")
    if failure is not None:
        raise failure
    return f"{bucket}: put, get and delete under {prefix}/ work"


async def cluster_checks(access: AwsAccess, config: Config) -> list[Check]:
    """The lease table's and the bucket's lines (none without `[cluster]`); a
    table or bucket that fails its first line is not probed further."""

    cluster = config.file.cluster
    if cluster.lease_table is None or cluster.bucket is None:
        return []
    table, bucket, prefix = cluster.lease_table, cluster.bucket, cluster.prefix
    aws = config.file.aws
    deadline = config.file.collector.account_deadline_seconds

    async def client(service: str) -> Any:
        # The replicas' own clients (cluster/source.py): their retries, their timeouts.
        return await access.bounded_client(
            service,
            attempts=min(aws.max_attempts, 3),
            connect_timeout=aws.connect_timeout_seconds,
            read_timeout=aws.read_timeout_seconds,
        )

    try:
        dynamodb, s3 = await client("dynamodb"), await client("s3")
    except Exception as exc:  # every failure is a FAIL line
        reason = describe_error(exc)
        return [
            Check("FAIL", "lease table", f"{table}: {reason}"),
            Check("FAIL", "parts bucket", f"{bucket}: {reason}"),
        ]

    async def pair(name: str, first: Callable[[], Awaitable[str]], then: Callable[[], Awaitable[str]]) -> list[Check]:
        found = await _check(name, first)
        return [found, await _check(f"{name} access", then)] if found.status == "OK" else [found]

    lines = await asyncio.gather(
        pair(
            "lease table",
            lambda: _lease_table(dynamodb, table, deadline),
            lambda: _lease_access(dynamodb, table, deadline),
        ),
        pair(
            "parts bucket", lambda: _bucket(s3, bucket, deadline), lambda: _bucket_access(s3, bucket, prefix, deadline)
        ),
    )
    return [check for found in lines for check in found]
