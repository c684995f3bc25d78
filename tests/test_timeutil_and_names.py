"""Small parsing helpers that every AWS answer goes through."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from heartbeat_tui.aws import identity
from heartbeat_tui.timeutil import to_datetime, to_epoch

UTC = timezone.utc


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (1764331200, datetime(2025, 11, 28, 12, 0, tzinfo=UTC)),
        (1764331200.5, datetime(2025, 11, 28, 12, 0, 0, 500000, tzinfo=UTC)),
        ("2025-11-28T12:00:00Z", datetime(2025, 11, 28, 12, 0, tzinfo=UTC)),
        ("2025-11-28T12:00:00.1Z", datetime(2025, 11, 28, 12, 0, 0, 100000, tzinfo=UTC)),
        ("2025-11-28T12:00:00.12345Z", datetime(2025, 11, 28, 12, 0, 0, 123450, tzinfo=UTC)),
        ("2025-11-28T12:00:00.123456789+00:00", datetime(2025, 11, 28, 12, 0, 0, 123456, tzinfo=UTC)),
        ("2025-11-28T12:00:00", datetime(2025, 11, 28, 12, 0, tzinfo=UTC)),
        ("1764331200", datetime(2025, 11, 28, 12, 0, tzinfo=UTC)),
    ],
)
def test_timestamps_in_every_shape_aws_sends(raw: object, expected: datetime) -> None:
    assert to_datetime(raw) == expected


@pytest.mark.parametrize("raw", [None, "", "yesterday", "inf", float("inf"), 1e300, [], {}])
def test_garbage_timestamps_are_none_not_a_crash(raw: object) -> None:
    assert to_datetime(raw) is None


def test_epoch() -> None:
    assert to_epoch("2025-11-28T12:00:00Z") == 1764331200
    assert to_epoch(1764331200.9) == 1764331200
    assert to_epoch("nope") is None


@pytest.mark.parametrize("user", ["jürgen", "ops user", "a/b:c", "x" * 100])
def test_role_session_name_is_always_valid_for_sts(monkeypatch: pytest.MonkeyPatch, user: str) -> None:
    import re

    monkeypatch.setattr(identity.getpass, "getuser", lambda: user)
    name = identity.role_session_name()
    assert re.fullmatch(r"[A-Za-z0-9_+=,.@-]{2,64}", name), name
    assert name.startswith("heartbeat-")
