"""The `<users table>-auth` items: `revoked#<jti>` for logged-out sessions and
`audit#<time>#<id>` audit records, both kept until their TTL (`expires_at`)."""

from __future__ import annotations

import functools
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from heartbeat_tui.auth.store_dynamo import TTL_ATTRIBUTE, DynamoStore
from heartbeat_tui.auth.store_items import num_value, str_value

REVOKED_PREFIX = "revoked#"
AUDIT_PREFIX = "audit#"


class AuthTableItems:
    """The revoked-sessions and audit part of `UserStore`, over the deployment's `DynamoStore`."""

    def __init__(self, db: DynamoStore) -> None:
        self._db = db

    async def revoke(self, jti: str, username: str, expires_at: float) -> None:
        item = {
            "pk": str_value(REVOKED_PREFIX + jti),
            "username": str_value(username),
            TTL_ATTRIBUTE: num_value(int(expires_at) + 1),
        }
        await self._db.call(
            self._db.auth_table, "PutItem", lambda: self._db.client.put_item(TableName=self._db.auth_table, Item=item)
        )

    async def is_revoked(self, jti: str) -> bool:
        response = await self._db.call(
            self._db.auth_table,
            "GetItem",
            lambda: self._db.client.get_item(
                TableName=self._db.auth_table,
                Key={"pk": str_value(REVOKED_PREFIX + jti)},
                ConsistentRead=True,
                ProjectionExpression="pk",
            ),
        )
        return bool(response.get("Item"))

    async def put_audit(self, key: str, fields: Mapping[str, str | float], expires_at: float) -> None:
        item: dict[str, Any] = {"pk": str_value(AUDIT_PREFIX + key), TTL_ATTRIBUTE: num_value(int(expires_at))}
        for name, value in fields.items():
            item[name] = str_value(value) if isinstance(value, str) else num_value(value)
        await self._db.call(
            self._db.auth_table,
            "PutItem",
            lambda: self._db.client.put_item(
                TableName=self._db.auth_table, Item=item, ConditionExpression="attribute_not_exists(pk)"
            ),
        )

    async def audit_records(self, limit: int = 1000) -> list[dict[str, Any]]:
        """Audit items, newest first (a scan: for tests and small deployments)."""

        records: list[dict[str, Any]] = []
        start: dict[str, Any] | None = None
        while True:
            kwargs: dict[str, Any] = {
                "TableName": self._db.auth_table,
                "ConsistentRead": True,
                "FilterExpression": "begins_with(pk, :p)",
                "ExpressionAttributeValues": {":p": str_value(AUDIT_PREFIX)},
            }
            if start:
                kwargs["ExclusiveStartKey"] = start
            response = await self._db.call(
                self._db.auth_table, "Scan", functools.partial(self._db.client.scan, **kwargs)
            )
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
