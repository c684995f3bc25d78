"""Property: whatever is typed after `/`, `parse_filter` gives a filter that can be
applied to any row without raising, or one `FilterError` line for the operator.
The `--account/--cluster/--service` globs of `heartbeat snapshot` take any text too."""

from __future__ import annotations

import fnmatch

from hypothesis import given, settings
from hypothesis import strategies as st

from heartbeat_tui.export import Filters
from heartbeat_tui.filters import FIELDS, FilterError, parse_filter
from tests.support.factory import filter_row as row

FIELD_WORDS = [*FIELDS, "acct", "memory", "colour", ""]
OPERATORS = ["", ":", ":=", ":>", ":>=", ":<", ":<=", ":!=", "::", ":>>"]
VALUES = st.one_of(
    st.text(max_size=12),
    st.sampled_from(["80", "-1", "1e309", "nan", "inf", "-inf", "0x10", "80%", "1_000", "ACTIVE", '"', "'", "\\"]),
    st.floats(allow_nan=True).map(str),
)
TERMS = st.builds(
    lambda neg, field, op, value: f"{neg}{field}{op}{value}",
    st.sampled_from(["", "-", "--"]),
    st.sampled_from(FIELD_WORDS),
    st.sampled_from(OPERATORS),
    VALUES,
)
FILTER_TEXT = st.one_of(
    st.text(max_size=40),
    st.lists(TERMS, max_size=5).map(" ".join),
    st.lists(st.one_of(TERMS, st.sampled_from(['"', "'", '"a b"', "\t", "\n", "\x00"])), max_size=6).map("".join),
)
ROWS = st.builds(
    row,
    cpu=st.one_of(st.none(), st.floats(allow_nan=True)),
    mem=st.one_of(st.none(), st.floats(min_value=0, max_value=100)),
    running=st.integers(0, 10_000),
    status=st.text(max_size=10),
    rollout=st.one_of(st.none(), st.sampled_from(["COMPLETED", "FAILED", "IN_PROGRESS"])),
)


@given(text=FILTER_TEXT, target=ROWS)
@settings(max_examples=400, deadline=None, derandomize=True)
def test_any_text_gives_a_filter_or_one_line(text: str, target: object) -> None:
    try:
        compiled = parse_filter(text)
    except FilterError as exc:
        message = str(exc)
        assert message and "\n" not in message and "Traceback" not in message
        assert len(message) < 300
        return
    assert isinstance(compiled.matches(target), bool)
    # A negated term is the exact opposite of the term, on every row.
    words = text.split()
    if len(words) == 1 and not words[0].startswith("-") and '"' not in text and "'" not in text:
        try:
            negated = parse_filter("-" + words[0])
        except FilterError:
            return
        assert negated.matches(target) is not compiled.matches(target)


@given(pattern=st.one_of(st.text(max_size=20), st.sampled_from(["[", "[!", "[]", "*[", "\\", "**", "?"])))
@settings(max_examples=200, deadline=None, derandomize=True)
def test_snapshot_globs_take_any_text(pattern: str) -> None:
    from tests.support.factory import make_snapshot

    snapshot = make_snapshot(accounts=2, clusters=1, services=2)
    filters = Filters(account=pattern, cluster=pattern, service=pattern)
    for account in snapshot.accounts:
        expected = any(v is not None and fnmatch.fnmatchcase(v, pattern) for v in (account.id, account.alias))
        assert filters.account_matches(account) is expected
        for region in account.regions:
            for cluster in region.clusters:
                assert isinstance(filters.cluster_matches(cluster), bool)
                for service in cluster.services:
                    assert isinstance(filters.service_matches(service), bool)
