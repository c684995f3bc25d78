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

`UserStore` composes item stores over one `DynamoStore` (store_dynamo.py: the
client, its retries, failures as one line and the bounded call):
store_users.py (user CRUD), store_lockout.py (lockout counters and login
stamps) and store_auth_table.py (revoked sessions and audit items);
store_items.py holds attribute values and `UserRecord`.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Mapping, Sequence
from typing import Any

from heartbeat_tui.auth.errors import StoreError
from heartbeat_tui.auth.store_auth_table import AUDIT_PREFIX, REVOKED_PREFIX, AuthTableItems
from heartbeat_tui.auth.store_dynamo import (
    AUTH_TABLE_SUFFIX,
    DEFAULT_CALL_SECONDS,
    TTL_ATTRIBUTE,
    UNREACHABLE,
    ConditionFailed,
    DynamoStore,
    RetryPlan,
    auth_table_name,
    is_unavailable,
    store_client,
    store_failure,
)
from heartbeat_tui.auth.store_items import UserRecord
from heartbeat_tui.auth.store_legacy import LegacyItems, LegacyUpgrade
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
    "LegacyUpgrade",
    "RetryPlan",
    "UserRecord",
    "UserStore",
    "auth_table_name",
    "is_unavailable",
    "store_client",
    "store_failure",
]

_TABLE_WAIT_SECONDS = 120.0


class UserStore:
    """The tables of one deployment, through one aiobotocore DynamoDB client
    (`client`): the users' items, their lockout and the auth table's items,
    each an item store of its own over the shared `DynamoStore`."""

    def __init__(self, client: Any, users_table: str, *, call_seconds: float = DEFAULT_CALL_SECONDS) -> None:
        self._db = DynamoStore(client, users_table, call_seconds=call_seconds)
        self._users = UserItems(self._db)
        self._lockout = LockoutItems(self._db)
        self._auth_items = AuthTableItems(self._db)
        self._legacy = LegacyItems(self._db)

    @property
    def client(self) -> Any:
        """The DynamoDB client (tests read and write raw items with it)."""

        return self._db.client

    @property
    def users_table(self) -> str:
        return self._db.users_table

    @property
    def auth_table(self) -> str:
        return self._db.auth_table

    @property
    def call_seconds(self) -> float:
        return self._db.call_seconds

    # -- users ---------------------------------------------------------------

    async def get(self, username: str) -> UserRecord | None:
        return await self._users.get(username)

    async def create(self, record: UserRecord) -> None:
        await self._users.create(record)

    def pages(self, page_size: int = 100) -> AsyncIterator[list[UserRecord]]:
        return self._users.pages(page_size)

    async def all(self) -> list[UserRecord]:
        return await self._users.all()

    async def update(
        self,
        username: str,
        expected_version: int,
        set_values: Mapping[str, Any],
        remove: Sequence[str] = (),
        *,
        while_admin: str | None = None,
    ) -> None:
        """See `UserItems.update`."""

        await self._users.update(username, expected_version, set_values, remove, while_admin=while_admin)

    # -- the original HeartBeat's items --------------------------------------

    async def upgrade_legacy_login(
        self, record: UserRecord, now: float, new_hash: str, fields: LegacyUpgrade
    ) -> UserRecord | None:
        """See `LegacyItems.upgrade_login`: the upgraded record, or None (changed meanwhile)."""

        item = await self._legacy.upgrade_login(record, now, new_hash, fields)
        return UserRecord.from_item(item) if item is not None else None

    async def upgrade_legacy_fields(self, record: UserRecord, now: float, fields: LegacyUpgrade) -> UserRecord | None:
        """See `LegacyItems.upgrade_fields`: the upgraded record, or None (changed meanwhile)."""

        item = await self._legacy.upgrade_fields(record, now, fields)
        return UserRecord.from_item(item) if item is not None else None

    # -- lockout -------------------------------------------------------------

    async def record_failure(
        self, username: str, now: float, *, stale_before: float, threshold: int, lock_until: float
    ) -> tuple[int, bool]:
        """See `LockoutItems.record_failure`."""

        return await self._lockout.record_failure(
            username, now, stale_before=stale_before, threshold=threshold, lock_until=lock_until
        )

    async def record_success(self, username: str, now: float, password_hash: str) -> bool:
        return await self._lockout.record_success(username, now, password_hash)

    async def replace_hash(self, username: str, old_hash: str, new_hash: str) -> bool:
        return await self._lockout.replace_hash(username, old_hash, new_hash)

    async def unlock(self, username: str) -> bool:
        return await self._lockout.unlock(username)

    # -- revoked sessions, audit ---------------------------------------------

    async def revoke(self, jti: str, username: str, expires_at: float) -> None:
        await self._auth_items.revoke(jti, username, expires_at)

    async def is_revoked(self, jti: str) -> bool:
        return await self._auth_items.is_revoked(jti)

    async def put_audit(self, key: str, fields: Mapping[str, str | float], expires_at: float) -> None:
        await self._auth_items.put_audit(key, fields, expires_at)

    async def audit_records(self, limit: int = 1000) -> list[dict[str, Any]]:
        return await self._auth_items.audit_records(limit)

    # -- tables --------------------------------------------------------------

    async def ensure_tables(self) -> list[str]:
        """Create what is missing and enable TTL; idempotent. Returns what it did."""

        done: list[str] = []
        for table, key in ((self._db.users_table, "username"), (self._db.auth_table, "pk")):
            if await self._create_table(table, key):
                done.append(f"created table {table}")
        for table in (self._db.users_table, self._db.auth_table):
            await self._wait_active(table)
        if await self._enable_ttl(self._db.auth_table):
            done.append(f"enabled TTL ({TTL_ATTRIBUTE}) on {self._db.auth_table}")
        return done

    async def _create_table(self, table: str, key: str) -> bool:
        try:
            await self._db.client.create_table(
                TableName=table,
                KeySchema=[{"AttributeName": key, "KeyType": "HASH"}],
                AttributeDefinitions=[{"AttributeName": key, "AttributeType": "S"}],
                BillingMode="PAY_PER_REQUEST",
            )
        except Exception as exc:
            if error_code(exc) == "ResourceInUseException":
                return False  # already there (or being created by another process)
            raise store_failure(table, "CreateTable", exc) from None
        return True

    async def _wait_active(self, table: str) -> None:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + _TABLE_WAIT_SECONDS
        while True:
            described = await self._db.call(
                table, "DescribeTable", lambda: self._db.client.describe_table(TableName=table)
            )
            if described["Table"].get("TableStatus") == "ACTIVE":
                return
            if loop.time() > deadline:
                raise StoreError(f"DynamoDB table {table} is not ACTIVE after {_TABLE_WAIT_SECONDS:.0f} s")
            await asyncio.sleep(1.0)

    async def _enable_ttl(self, table: str) -> bool:
        described = await self._db.call(
            table, "DescribeTimeToLive", lambda: self._db.client.describe_time_to_live(TableName=table)
        )
        status = described.get("TimeToLiveDescription", {})
        if status.get("TimeToLiveStatus") in ("ENABLED", "ENABLING"):
            return False
        await self._db.call(
            table,
            "UpdateTimeToLive",
            lambda: self._db.client.update_time_to_live(
                TableName=table, TimeToLiveSpecification={"Enabled": True, "AttributeName": TTL_ATTRIBUTE}
            ),
        )
        return True
