"""Upgrading the original HeartBeat's items in place (legacy.py has the formats).

Two writes, each one conditional UpdateItem on what was read, so two processes
upgrading the same user at once (two first logins, a login and a migration)
cannot corrupt it: one writes, the other finds the item changed and reads it
again.

* `upgrade_login`: after a legacy user's password was verified, the current
  hash replaces ``SALT:HEX``, and every other field is upgraded with it; only
  while ``encrypted_password`` is still the value verified.
* `upgrade_fields`: what needs no password (`heartbeat users migrate`): the
  email re-encrypted, `active`, `version`, `accounts`, the times as numbers.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from heartbeat_tui.auth.legacy import LEGACY_ACTIVE, LEGACY_EMAIL, LEGACY_FULL_NAME, LEGACY_LAST_LOGIN, LEGACY_PASSWORD
from heartbeat_tui.auth.store_dynamo import ConditionFailed, DynamoStore
from heartbeat_tui.auth.store_items import UserRecord, bool_value, list_value, num_value, str_value

UPGRADED_BY = "legacy upgrade"


@dataclass(frozen=True)
class LegacyUpgrade:
    """What an upgrade writes besides the password: the personal fields encrypted
    with the current key (None: leave the original's value where it is)."""

    email_enc: str | None = None
    full_name_enc: str | None = None


class LegacyItems:
    """The legacy upgrades of `UserStore`, over the deployment's `DynamoStore`."""

    def __init__(self, db: DynamoStore) -> None:
        self._db = db

    async def upgrade_login(
        self, record: UserRecord, now: float, new_hash: str, fields: LegacyUpgrade
    ) -> dict[str, Any] | None:
        """The login's upgrade and its stamp, in one write: the item as it is now,
        or None when it changed since `record` was read (nothing written)."""

        writer = _Writer(record, now, fields)
        writer.set("password_hash", str_value(new_hash))
        writer.set("failed_attempts", num_value(0))
        writer.set("last_login_at", num_value(now))
        writer.remove(LEGACY_PASSWORD, LEGACY_LAST_LOGIN, "last_failure_at")
        writer.condition("#encrypted_password = :old_hash", encrypted_password=LEGACY_PASSWORD)
        writer.values[":old_hash"] = str_value(record.password_hash)
        writer.condition("attribute_not_exists(#password_hash)", password_hash="password_hash")
        writer.condition(
            "(#active = :true OR (attribute_not_exists(#active) AND #is_active = :true))",
            active="active",
            is_active=LEGACY_ACTIVE,
        )
        writer.condition("(attribute_not_exists(#locked) OR #locked <= :now)", locked="locked_until")
        writer.values[":true"] = bool_value(True)
        writer.values[":now"] = num_value(now)
        writer.set("active", bool_value(True))
        return await writer.write(self._db)

    async def upgrade_fields(self, record: UserRecord, now: float, fields: LegacyUpgrade) -> dict[str, Any] | None:
        """Everything but the password, on the version read: the item as it is now,
        or None when it changed meanwhile (nothing written)."""

        writer = _Writer(record, now, fields)
        if record.version == 0:
            writer.condition("attribute_not_exists(#version)")
        else:
            writer.condition("#version = :expected")
            writer.values[":expected"] = num_value(record.version)
        writer.set("active", bool_value(record.active))
        if record.last_login_at is not None:
            writer.set("last_login_at", num_value(record.last_login_at))
        writer.remove(LEGACY_LAST_LOGIN)
        return await writer.write(self._db)


class _Writer:
    """One UpdateItem's expression, built attribute by attribute (a later `set`
    of the same attribute replaces the earlier: DynamoDB refuses two)."""

    def __init__(self, record: UserRecord, now: float, fields: LegacyUpgrade) -> None:
        self.record = record
        self.sets: dict[str, dict[str, Any]] = {}
        self.removes: dict[str, None] = {}
        self.conditions = ["attribute_exists(#username)"]
        self.names: dict[str, str] = {"#username": "username", "#version": "version"}
        self.values: dict[str, Any] = {":zero": num_value(0), ":one": num_value(1)}
        # Both upgrades: HeartBeat's fields where missing, the original's removed.
        self.set("accounts", list_value(record.accounts))
        self.set("failed_attempts", num_value(record.failed_attempts))
        self.set("updated_at", num_value(now))
        self.set("updated_by", str_value(UPGRADED_BY))
        self.remove(LEGACY_ACTIVE)
        if "created_at" in record.legacy_attributes and record.created_at is not None:
            self.set("created_at", num_value(record.created_at))  # the original's text, as a number
        if fields.email_enc is not None:
            self.set("email_enc", str_value(fields.email_enc))
            self.remove(LEGACY_EMAIL)
            # The value re-encrypted is the one on the item, still.
            self.condition("#legacy_email = :legacy_email", legacy_email=LEGACY_EMAIL)
            self.values[":legacy_email"] = str_value(record.legacy_email_enc or "")
        if fields.full_name_enc is not None:
            self.set("full_name_enc", str_value(fields.full_name_enc))
            self.remove(LEGACY_FULL_NAME)
            self.condition("#legacy_name = :legacy_name", legacy_name=LEGACY_FULL_NAME)
            self.values[":legacy_name"] = str_value(record.legacy_full_name or "")

    def set(self, name: str, value: dict[str, Any]) -> None:
        self.sets[name] = value

    def remove(self, *names: str) -> None:
        self.removes.update(dict.fromkeys(names))

    def condition(self, text: str, **names: str) -> None:
        self.conditions.append(text)
        self.names.update({f"#{alias}": name for alias, name in names.items()})

    def expression(self) -> str:
        # The item's next version, whether or not it had one.
        parts = ["#version = if_not_exists(#version, :zero) + :one"]
        for i, (name, value) in enumerate(self.sets.items()):
            self.names[f"#s{i}"] = name
            self.values[f":s{i}"] = value
            parts.append(f"#s{i} = :s{i}")
        text = "SET " + ", ".join(parts)
        removed = []
        for j, name in enumerate(self.removes):
            self.names[f"#r{j}"] = name
            removed.append(f"#r{j}")
        return text + (" REMOVE " + ", ".join(removed) if removed else "")

    async def write(self, db: DynamoStore) -> dict[str, Any] | None:
        expression = self.expression()
        try:
            response = await db.call(
                db.users_table,
                "UpdateItem",
                lambda: db.client.update_item(
                    TableName=db.users_table,
                    Key={"username": str_value(self.record.username)},
                    UpdateExpression=expression,
                    ConditionExpression=" AND ".join(self.conditions),
                    ExpressionAttributeNames=self.names,
                    ExpressionAttributeValues=self.values,
                    ReturnValues="ALL_NEW",
                ),
            )
        except ConditionFailed:
            return None
        attributes: dict[str, Any] = response.get("Attributes", {})
        return attributes
