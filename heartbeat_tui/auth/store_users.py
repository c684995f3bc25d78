"""User items: read, create, list and the conditional, versioned update."""

from __future__ import annotations

import functools
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from typing import Any

from heartbeat_tui.auth.errors import UserExists
from heartbeat_tui.auth.legacy import LEGACY_ACTIVE, LEGACY_EMAIL, LEGACY_FULL_NAME, LEGACY_PASSWORD
from heartbeat_tui.auth.roles import Role
from heartbeat_tui.auth.store_dynamo import ConditionFailed, DynamoStore
from heartbeat_tui.auth.store_items import UserRecord, bool_value, list_value, num_value, str_value

# Attributes an admin edit may set (the update builder accepts nothing else).
_EDITABLE: dict[str, Callable[[Any], dict[str, Any]]] = {
    "role": str_value,
    "active": bool_value,
    "password_hash": str_value,
    "accounts": list_value,
    "email_enc": str_value,
    "full_name_enc": str_value,
    "sessions_valid_after": num_value,
    "failed_attempts": num_value,
    "updated_at": num_value,
    "updated_by": str_value,
}
_REMOVABLE = {"email_enc", "full_name_enc", "locked_until", "last_failure_at"}
# The original HeartBeat's attribute each of ours replaces (legacy.py): writing or
# removing ours removes it, so an older value never shows through again.
SUPERSEDES = {
    "active": LEGACY_ACTIVE,
    "password_hash": LEGACY_PASSWORD,
    "email_enc": LEGACY_EMAIL,
    "full_name_enc": LEGACY_FULL_NAME,
}


class UserItems:
    """The users-table CRUD part of `UserStore`, over the deployment's `DynamoStore`."""

    def __init__(self, db: DynamoStore) -> None:
        self._db = db

    async def get(self, username: str) -> UserRecord | None:
        response = await self._db.call(
            self._db.users_table,
            "GetItem",
            lambda: self._db.client.get_item(
                TableName=self._db.users_table, Key={"username": str_value(username)}, ConsistentRead=True
            ),
        )
        item = response.get("Item")
        return UserRecord.from_item(item) if item else None

    async def create(self, record: UserRecord) -> None:
        """Write a new user; `UserExists` (nothing changed) if the name is taken."""

        try:
            await self._db.call(
                self._db.users_table,
                "PutItem",
                lambda: self._db.client.put_item(
                    TableName=self._db.users_table,
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
            kwargs: dict[str, Any] = {"TableName": self._db.users_table, "ConsistentRead": True, "Limit": page_size}
            if start:
                kwargs["ExclusiveStartKey"] = start
            response = await self._db.call(
                self._db.users_table, "Scan", functools.partial(self._db.client.scan, **kwargs)
            )
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
        """Set/remove attributes and bump `version`, only if `version` is still `expected_version`
        (0: an item without one, as the original HeartBeat wrote them).

        With `while_admin`, only if that other user is at the same moment an active
        admin: one transaction (an update and a condition check), so two admins
        demoting or disabling each other at once can never leave no active admin
        (DynamoDB serializes transactions; one of the two is cancelled).

        Raises `ConditionFailed` (nothing written) when the user changed or vanished,
        or `while_admin` is no longer an active admin.
        """

        names: dict[str, str] = {"#version": "version", "#username": "username"}
        values: dict[str, Any] = {":next": num_value(expected_version + 1)}
        if expected_version == 0:
            version_condition = "attribute_not_exists(#version)"
        else:
            version_condition = "#version = :expected"
            values[":expected"] = num_value(expected_version)
        sets = ["#version = :next"]
        for i, (name, value) in enumerate(set_values.items()):
            encoder = _EDITABLE[name]  # KeyError on a programming mistake, never on input
            names[f"#a{i}"] = name
            values[f":v{i}"] = encoder(value)
            sets.append(f"#a{i} = :v{i}")
        expression = "SET " + ", ".join(sets)
        for name in remove:
            if name not in _REMOVABLE:
                raise ValueError(f"{name} cannot be removed")
        superseded = [SUPERSEDES[name] for name in (*set_values, *remove) if name in SUPERSEDES]
        removals = []
        for j, name in enumerate(dict.fromkeys([*remove, *superseded])):
            names[f"#r{j}"] = name
            removals.append(f"#r{j}")
        if removals:
            expression += " REMOVE " + ", ".join(removals)
        update = {
            "TableName": self._db.users_table,
            "Key": {"username": str_value(username)},
            "UpdateExpression": expression,
            "ConditionExpression": f"attribute_exists(#username) AND {version_condition}",
            "ExpressionAttributeNames": names,
            "ExpressionAttributeValues": values,
        }
        if while_admin is None:
            await self._db.call(self._db.users_table, "UpdateItem", lambda: self._db.client.update_item(**update))
            return
        keeper = {
            "TableName": self._db.users_table,
            "Key": {"username": str_value(while_admin)},
            # An admin as the original HeartBeat wrote it is active by its `is_active`.
            "ConditionExpression": (
                "attribute_exists(#u) AND #r = :admin AND (#a = :true OR (attribute_not_exists(#a) AND #ia = :true))"
            ),
            "ExpressionAttributeNames": {"#u": "username", "#a": "active", "#ia": LEGACY_ACTIVE, "#r": "role"},
            "ExpressionAttributeValues": {":true": bool_value(True), ":admin": str_value(Role.ADMIN.value)},
        }
        await self._db.call(
            self._db.users_table,
            "TransactWriteItems",
            lambda: self._db.client.transact_write_items(
                TransactItems=[{"Update": update}, {"ConditionCheck": keeper}]
            ),
        )
