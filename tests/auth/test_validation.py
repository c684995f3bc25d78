from __future__ import annotations

import pytest

from heartbeat_tui.auth import Role, ValidationFailed
from heartbeat_tui.auth.validation import (
    parse_accounts,
    validate_email,
    validate_full_name,
    validate_password,
    validate_role,
    validate_username,
)


@pytest.mark.parametrize("name", ["abc", "a.b-c_d", "x" * 64, "007", "ops.admin-2"])
def test_good_usernames(name: str) -> None:
    assert validate_username(name) == name


@pytest.mark.parametrize("name", ["", "ab", "x" * 65, "Alice", "a b", "a/b", "é" * 3, "abc\n", "a@b", None, 123])
def test_bad_usernames(name: object) -> None:
    with pytest.raises(ValidationFailed) as caught:
        validate_username(name)
    assert list(caught.value.errors) == ["username"]


def test_passwords() -> None:
    assert validate_password("twelve chars", "bob") == "twelve chars"
    for bad, message in [
        ("eleven char", "at least 12"),
        ("", "is required"),
        ("x" * 1025, "at most 1024"),
        ("with\nnewline!!", "control characters"),
        ("longusername", "must not be the username"),
        ("LongUserName", "must not be the username"),
    ]:
        with pytest.raises(ValidationFailed, match=message):
            validate_password(bad, "longusername")


def test_roles_accounts_email_name() -> None:
    assert validate_role(" Admin ") is Role.ADMIN
    with pytest.raises(ValidationFailed, match="must be one of admin, monitor, user"):
        validate_role("root")
    assert parse_accounts("210987654321, 123456789012,210987654321,") == ("210987654321", "123456789012")
    with pytest.raises(ValidationFailed, match="12-digit"):
        parse_accounts("21098765432")
    assert validate_email(" a@example.com ") == "a@example.com" and validate_email("") is None
    with pytest.raises(ValidationFailed):
        validate_email("a@b")
    assert validate_full_name("  Ada   Lovelace ") == "Ada Lovelace"
    with pytest.raises(ValidationFailed):
        validate_full_name("x" * 129)
