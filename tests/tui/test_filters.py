"""The `/` filter language (heartbeat_tui.filters): pure, no Textual."""

from __future__ import annotations

import pytest

from heartbeat_tui.filters import FilterError, parse_filter
from tests.support.factory import filter_row as row


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", True),
        ("payments", True),
        ("PAYMENTS", True),
        ("ledger", False),
        ("status:FAILED", False),
        ("status:active", True),
        ("status:=ACTIVE", True),
        ("status:=ACT", False),
        ("cpu:>40", True),
        ("cpu:>80", False),
        ("cpu:>=42.4", True),
        ("mem:>=70", True),
        ("memory:<70", False),
        ("cpu:42", True),  # bare number: the whole percent shown
        ("cpu:!=42", False),
        ("account:payments-prod", True),
        ("account:210987654321", True),
        ("acct:checkout", False),
        ("region:us-east", True),
        ("cluster:core cpu:>40", True),
        ("cluster:core cpu:>50", False),
        ("-status:ACTIVE", False),
        ("-ledger", True),
        ('"payments api"', False),
        ("running:<3", False),
        ("desired:3", True),
        ("launch:fargate", True),
        ("cpu:>80%", False),
    ],
)
def test_filter_matches(text: str, expected: bool) -> None:
    assert parse_filter(text).matches(row()) is expected


def test_status_matches_the_rollout_state_too() -> None:
    assert parse_filter("status:FAILED").matches(row(rollout="FAILED"))


def test_missing_metric_never_matches_a_comparison() -> None:
    assert not parse_filter("cpu:<10").matches(row(cpu=None))
    assert parse_filter("-cpu:<10").matches(row(cpu=None))


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("colour:red", "unknown field 'colour'"),
        ("cpu:>high", "cpu needs a number"),
        ("status:", "a value is needed"),
        ('"unclosed', "cannot read the filter"),
        ("mem:>>5", "mem needs a number"),
    ],
)
def test_bad_filters_raise_one_line_errors(text: str, fragment: str) -> None:
    with pytest.raises(FilterError) as caught:
        parse_filter(text)
    assert fragment in str(caught.value)
    assert "\n" not in str(caught.value)
