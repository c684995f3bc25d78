"""Roles and what each may do. The core checks these; screens only mirror them."""

from __future__ import annotations

from enum import Enum


class Role(str, Enum):
    ADMIN = "admin"
    MONITOR = "monitor"
    USER = "user"

    def __str__(self) -> str:
        return self.value


class Permission(Enum):
    VIEW_FLEET = "view the fleet"
    VIEW_ALL_ACCOUNTS = "view every account"
    MANAGE_USERS = "user administration"
    ROTATE_KEYS = "key rotation"
    FORCE_REFRESH = "a forced full refresh"


ROLE_PERMISSIONS: dict[Role, frozenset[Permission]] = {
    Role.ADMIN: frozenset(Permission),
    Role.MONITOR: frozenset({Permission.VIEW_FLEET, Permission.VIEW_ALL_ACCOUNTS}),
    # A user sees only the accounts on their allow-list.
    Role.USER: frozenset({Permission.VIEW_FLEET}),
}


def allows(role: Role, permission: Permission) -> bool:
    return permission in ROLE_PERMISSIONS[role]


def roles_with(permission: Permission) -> tuple[Role, ...]:
    return tuple(role for role in Role if allows(role, permission))
