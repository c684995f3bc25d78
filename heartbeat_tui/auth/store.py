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

The parts: store_dynamo.py (the client, its retries, failures as one line and
the bounded call), store_items.py (attribute values and `UserRecord`),
store_users.py (user CRUD), store_lockout.py (lockout counters and login
stamps) and store_auth_table.py (revoked sessions and audit items).
"""

from __future__ import annotations

import asyncio

from heartbeat_tui.auth.errors import StoreError
from heartbeat_tui.auth.store_auth_table import AUDIT_PREFIX, REVOKED_PREFIX, AuthTableItems
from heartbeat_tui.auth.store_dynamo import (
    AUTH_TABLE_SUFFIX,
    DEFAULT_CALL_SECONDS,
    TTL_ATTRIBUTE,
    UNREACHABLE,
    ConditionFailed,
    RetryPlan,
    auth_table_name,
    is_unavailable,
    store_client,
    store_failure,
)
from heartbeat_tui.auth.store_items import UserRecord
from heartbeat_tui.auth.store_lockout import LockoutItems
from heartbeat_tui.auth.store_users import UserItems
from heartbeat_tui.aws.errors import error_code

__all__ = [
    "AUDIT_PREFIX",
    "AUTH_TABLE_SUFFIX",
    "DEFAULT_CALL_SECONDS",
    "REVOKED_PREFIX",
    "TTL_ATTRIBUTE",
    "UNREACHABLE",
    "ConditionFailed",
    "RetryPlan",
    "UserRecord",
    "UserStore",
    "auth_table_name",
    "is_unavailable",
    "store_client",
    "store_failure",
]

_TABLE_WAIT_SECONDS = 120.0


class UserStore(UserItems, LockoutItems, AuthTableItems):
    """The tables of one deployment, through one aiobotocore DynamoDB client."""

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
