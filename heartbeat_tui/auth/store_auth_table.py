"""The `<users table>-auth` items: `revoked#<jti>` for logged-out sessions and
`audit#<time>#<id>` audit records, both kept until their TTL (`expires_at`)."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from heartbeat_tui.auth.store_dynamo import TTL_ATTRIBUTE, DynamoStore
from heartbeat_tui.auth.store_items import _n, _s

REVOKED_PREFIX = "revoked#"
AUDIT_PREFIX = "audit#"


class AuthTableItems(DynamoStore):
    """The revoked-sessions and audit part of `UserStore`."""

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
