"""Lockout and login stamps on the user item: atomic failure counters, the
lock, the successful login's reset, the hash upgrade and the admin's unlock.
Every write is conditional, so failures recorded by any process count."""

from __future__ import annotations

from typing import Any

from heartbeat_tui.auth.store_dynamo import ConditionFailed, DynamoStore
from heartbeat_tui.auth.store_items import bool_value, get_int, num_value, str_value


class LockoutItems:
    """The lockout part of `UserStore`, over the deployment's `DynamoStore`."""

    def __init__(self, db: DynamoStore) -> None:
        self._db = db

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
        key = {"username": str_value(username)}
        # A fresh streak: only when the last failure is old (or there is none).
        response = await self._update_user(
            Key=key,
            UpdateExpression="SET #f = :one, #l = :now",
            ConditionExpression=f"attribute_exists(#u) AND {not_locked} AND (attribute_not_exists(#l) OR #l < :stale)",
            ExpressionAttributeNames=names,
            ExpressionAttributeValues={":one": num_value(1), ":now": num_value(now), ":stale": num_value(stale_before)},
            ReturnValues="ALL_NEW",
        )
        if response is None:
            response = await self._update_user(
                Key=key,
                UpdateExpression="ADD #f :one SET #l = :now",
                ConditionExpression=f"attribute_exists(#u) AND {not_locked}",
                ExpressionAttributeNames=names,
                ExpressionAttributeValues={":one": num_value(1), ":now": num_value(now)},
                ReturnValues="ALL_NEW",
            )
        if response is None:
            return 0, False  # unknown or already locked: nothing to count
        failures = get_int(response.get("Attributes", {}), "failed_attempts")
        if failures < threshold:
            return failures, False
        # Whoever crosses the threshold first locks; the streak starts over afterwards.
        locked = await self._update_user_if(
            Key=key,
            UpdateExpression="SET #k = :until, #f = :zero",
            ConditionExpression=f"attribute_exists(#u) AND #f >= :threshold AND {not_locked}",
            ExpressionAttributeNames={"#u": "username", "#f": "failed_attempts", "#k": "locked_until"},
            ExpressionAttributeValues={
                ":until": num_value(lock_until),
                ":zero": num_value(0),
                ":threshold": num_value(threshold),
                ":now": num_value(now),
            },
        )
        return failures, locked  # False: another process locked it first

    async def _update_user(self, **update: Any) -> dict[str, Any] | None:
        """One conditional UpdateItem on a user: its answer, or None when the
        condition does not hold (nothing was written)."""

        try:
            return await self._db.call(
                self._db.users_table,
                "UpdateItem",
                lambda: self._db.client.update_item(TableName=self._db.users_table, **update),
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
            Key={"username": str_value(username)},
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
                ":zero": num_value(0),
                ":now": num_value(now),
                ":true": bool_value(True),
                ":hash": str_value(password_hash),
            },
        )

    async def replace_hash(self, username: str, old_hash: str, new_hash: str) -> bool:
        """Upgrade a hash to the current cost, unless the password changed meanwhile."""

        return await self._update_user_if(
            Key={"username": str_value(username)},
            UpdateExpression="SET #p = :new",
            ConditionExpression="attribute_exists(#u) AND #p = :old",
            ExpressionAttributeNames={"#u": "username", "#p": "password_hash"},
            ExpressionAttributeValues={":new": str_value(new_hash), ":old": str_value(old_hash)},
        )

    async def unlock(self, username: str) -> bool:
        return await self._update_user_if(
            Key={"username": str_value(username)},
            UpdateExpression="SET #f = :zero REMOVE #k, #l",
            ConditionExpression="attribute_exists(#u)",
            ExpressionAttributeNames={
                "#u": "username",
                "#f": "failed_attempts",
                "#k": "locked_until",
                "#l": "last_failure_at",
            },
            ExpressionAttributeValues={":zero": num_value(0)},
        )
