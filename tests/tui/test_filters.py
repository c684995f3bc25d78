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


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("problem:yes", False),
        ("problem:no", True),
        ("-problem:no", False),
        ("name:payments-*", True),
        ("name:pay*", True),
        ("name:*-api", True),
        ("name:api-*", False),
        ("name:PAYMENTS-?PI", True),
        ("pay*", True),  # a plain word's glob: one of the row's names whole
        ("*core", True),
        ("ledger*", False),
        ("status:FAILED|ACTIVE", True),
        ("status:=DRAINING|INACTIVE", False),
        ("status:=draining|active", True),
        ("ledger|payments", True),
        ("ledger|search", False),
        ("cpu:>90|<50", True),
        ("cpu:>90|<10", False),
        ("account:pay*|check*", True),
    ],
)
def test_problem_field_globs_and_alternatives(text: str, expected: bool) -> None:
    assert parse_filter(text).matches(row()) is expected


def test_problem_yes_matches_a_row_with_a_problem() -> None:
    assert parse_filter("problem:yes").matches(row(problem=True))
    assert parse_filter("problems:true").matches(row(problem=True))
    assert not parse_filter("problem:no").matches(row(problem=True))


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("cpu>80", "'cpu>80': a field needs a colon before the comparison: cpu:>80"),
        ("-memory<=5", "'-memory<=5': a field needs a colon before the comparison: -memory:<=5"),
        ("problem:maybe", "'problem:maybe': problem is yes or no, such as problem:yes"),
        ("status:a||b", "'status:a||b': an empty alternative (write a|b)"),
    ],
)
def test_hints_say_how_to_write_it(text: str, message: str) -> None:
    with pytest.raises(FilterError) as caught:
        parse_filter(text)
    assert str(caught.value) == message


def test_an_unknown_field_lists_every_field_in_full() -> None:
    with pytest.raises(FilterError) as caught:
        parse_filter("foo:1")
    assert str(caught.value).endswith(
        "fields: name, status, rollout, account, region, cluster, launch, cpu, mem, running, desired, pending, problem"
    )


def test_a_word_with_a_comparison_that_names_no_field_is_a_plain_word() -> None:
    assert parse_filter("a>b").matches(row(name="a>b", haystack="a>b"))
