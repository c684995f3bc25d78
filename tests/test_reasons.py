"""Reasons are kept whole (one line, bounded) and cut only for display, keeping
the ARN an operator needs."""

from __future__ import annotations

import re

import pytest
from botocore.exceptions import ClientError
from hypothesis import given
from hypothesis import strategies as st

from heartbeat_tui.aws.errors import AssumeRoleFailed, describe_error
from heartbeat_tui.reasons import (
    ELLIPSIS,
    MAX_JOINED_REASON,
    MAX_REASON,
    MIN_REASON_START,
    fit_reason,
    join_reasons,
    one_line,
)

ROLE = "arn:aws:iam::345678901234:role/platform/HeartbeatReadOnlyCrossAccountAccess"
DENIED = (
    "STS AssumeRole: access denied (AccessDenied: User: arn:aws:sts::123456789012:assumed-role/"
    f"HeartbeatHub/heartbeat is not authorized to perform: sts:AssumeRole on resource: {ROLE})"
)


def client_error(code: str, message: str, status: int = 403) -> ClientError:
    return ClientError(
        {"Error": {"Code": code, "Message": message}, "ResponseMetadata": {"HTTPStatusCode": status}}, "AssumeRole"
    )


def test_an_access_denied_reason_is_kept_whole() -> None:
    message = (
        "User: arn:aws:sts::123456789012:assumed-role/HeartbeatHub/heartbeat"
        f" is not authorized to perform: sts:AssumeRole on resource: {ROLE}"
    )
    assert len(message) > 160
    reason = describe_error(client_error("AccessDenied", message))
    assert reason == f"access denied (AccessDenied: {message})"


def test_a_giant_body_is_bounded_and_on_one_line() -> None:
    body = "line one\nline two\t" + "x" * 50_000
    reason = describe_error(client_error("InternalFailure", body, 500))
    assert "\n" not in reason and "\t" not in reason
    assert reason.startswith("InternalFailure: line one line two xxx")
    assert len(reason) <= MAX_REASON + len("InternalFailure: ") and reason.endswith(ELLIPSIS)
    assert one_line("a\n\n b ") == "a b"


def test_assume_role_failures_name_the_role_once() -> None:
    denied = AssumeRoleFailed(ROLE, client_error("AccessDenied", f"not authorized on resource: {ROLE}"))
    assert describe_error(denied) == f"access denied (AccessDenied: not authorized on resource: {ROLE})"
    throttled = AssumeRoleFailed(ROLE, client_error("Throttling", "Rate exceeded", 400))
    assert describe_error(throttled) == f"throttled by AWS (Throttling) (role {ROLE})"


def test_fitting_keeps_the_start_and_the_last_arn_whole() -> None:
    for width in (200, 150, 120, 100, 90):
        fitted = fit_reason(DENIED, width)
        assert len(fitted) <= width, width
        assert fitted.startswith("STS AssumeRole: access" if width >= 100 else "STS Assume"), fitted
        assert fitted.endswith(f"{ROLE})"), fitted
        assert ELLIPSIS in fitted
    assert fit_reason(DENIED, len(DENIED)) == DENIED  # fits: untouched


def test_fitting_too_narrow_for_the_whole_arn_keeps_its_resource() -> None:
    # A narrow pane: the start, then the role (the account is shown beside it).
    fitted = fit_reason(DENIED, 76)
    assert fitted == f"STS AssumeRole: access{ELLIPSIS}role/platform/HeartbeatReadOnlyCrossAccountAccess)"
    # Narrower still: the end of the role's name.
    fitted = fit_reason(DENIED, 40)
    assert len(fitted) == 40 and fitted.startswith(ELLIPSIS)
    assert fitted.endswith("HeartbeatReadOnlyCrossAccountAccess)")


def test_fitting_elides_what_follows_the_arn() -> None:
    text = f"ECS DescribeServices: ServiceNotFoundException: {ROLE} was not found in this region at all, sorry"
    fitted = fit_reason(text, 100)
    assert len(fitted) <= 100
    assert f"{ROLE}{ELLIPSIS}" in fitted and fitted.startswith("ECS DescribeServices")


@pytest.mark.parametrize("width", [0, 1, 2, 10, 33])
def test_fitting_without_an_arn_keeps_the_start(width: int) -> None:
    text = "eu-west-1 CloudWatch GetMetricData: throttled by AWS after 5 attempts (Throttling)"
    fitted = fit_reason(text, width)
    assert len(fitted) <= width
    if width >= 2:
        assert fitted.endswith(ELLIPSIS) and text.startswith(fitted[:-1])
    assert fit_reason(text, 33) == "eu-west-1 CloudWatch…"  # cut at a word


# -- several reasons joined (an account's error: one per failing region and step) ----------------

NOTE = re.compile(r" \[([\d,]+) characters cut from (\d+) of (\d+) reasons(?:, (\d+) of them left out)?\]$")
REGIONS = [
    f"{area}-{n}" for area in ("us-east", "us-west", "eu-west", "eu-central", "ap-south", "sa-east") for n in (1, 2, 3)
]


def region_denied(region: str, padding: int = 0) -> str:
    return f"{region} {DENIED}" + " and more" * padding


def split_joined(joined: str) -> tuple[list[str], tuple[int, int, int, int]]:
    """The kept parts and the note's numbers (characters, cut, count, left out)."""

    note = NOTE.search(joined)
    assert note is not None, joined[-200:]
    characters, cut, count, left_out = note.groups()
    numbers = (int(characters.replace(",", "")), int(cut), int(count), int(left_out or 0))
    return joined[: note.start()].split("; "), numbers


def test_joined_reasons_within_the_bound_are_the_plain_join() -> None:
    reasons = [region_denied(region) for region in REGIONS]
    assert len("; ".join(reasons)) < MAX_JOINED_REASON
    assert join_reasons(reasons) == "; ".join(reasons)
    assert join_reasons(["only one"]) == "only one"
    assert join_reasons([]) == ""
    exact = ["x" * 150, "y" * 148]  # 300 characters with the separator
    assert join_reasons(exact, limit=300) == "; ".join(exact)
    # One character over: both are longer than an even share, so both keep the same start.
    expected = f"{'x' * 117}{ELLIPSIS}; {'y' * 117}{ELLIPSIS} [64 characters cut from 2 of 2 reasons]"
    assert join_reasons(exact, limit=299) == expected


def test_many_long_reasons_keep_every_region_start_and_say_what_was_cut() -> None:
    reasons = [region_denied(region, padding=400) for region in REGIONS]  # about 3,900 characters each
    plain = "; ".join(reasons)
    assert len(plain) > 8 * MAX_JOINED_REASON
    joined = join_reasons(reasons)
    assert MAX_JOINED_REASON - 100 < len(joined) <= MAX_JOINED_REASON
    parts, (characters, cut, count, left_out) = split_joined(joined)
    assert (cut, count, left_out) == (len(REGIONS), len(REGIONS), 0)
    assert len(parts) == len(REGIONS)
    for region, reason, part in zip(REGIONS, reasons, parts):
        assert part.startswith(f"{region} STS AssumeRole: access denied (AccessDenied: User: arn:aws:sts::"), part
        assert part.endswith(ELLIPSIS) and reason.startswith(part[:-1])
    assert characters == sum(len(r) for r in reasons) - sum(len(p) - 1 for p in parts)


def test_short_reasons_are_kept_whole_beside_giant_ones() -> None:
    giant = "us-east-1 ECS ListClusters: InternalFailure: " + "<html> " * 2000
    short = [region_denied(region) for region in REGIONS[1:6]]
    joined = join_reasons([giant, *short, giant.replace("us-east-1", "eu-west-9")])
    assert len(joined) <= MAX_JOINED_REASON
    parts, (_, cut, count, left_out) = split_joined(joined)
    assert parts[1:6] == short  # each whole
    assert parts[0].startswith("us-east-1 ECS ListClusters: InternalFailure: <html>") and parts[0].endswith(ELLIPSIS)
    assert parts[6].startswith("eu-west-9 ECS ListClusters") and parts[6].endswith(ELLIPSIS)
    assert (cut, count, left_out) == (2, 7, 0)
    # The room the short ones leave goes to the giants, shared evenly.
    assert abs(len(parts[0]) - len(parts[6])) <= 8 and len(parts[0]) > 2_000


def test_more_reasons_than_fit_keep_the_first_and_count_the_rest() -> None:
    reasons = [
        f"region-{n:03d} ECS DescribeServices: throttled by AWS after 5 attempts (Throttling)" for n in range(300)
    ]
    joined = join_reasons(reasons, limit=2_000)
    assert len(joined) <= 2_000
    parts, (characters, cut, count, left_out) = split_joined(joined)
    kept = len(parts)
    assert 2_000 // (MIN_REASON_START + 2) - 2 <= kept < 300
    assert [p.partition(" ")[0] for p in parts] == [f"region-{n:03d}" for n in range(kept)]
    assert (count, left_out, cut) == (300, 300 - kept, 300)
    assert characters == sum(len(r) for r in reasons) - sum(len(p) - 1 for p in parts)


def test_a_limit_too_small_to_join_is_refused() -> None:
    with pytest.raises(ValueError, match="too small"):
        join_reasons(["a" * 100, "b" * 100], limit=80)


@given(
    reasons=st.lists(st.text(alphabet="abc xyz-:()", min_size=0, max_size=400), min_size=1, max_size=40),
    limit=st.integers(min_value=150, max_value=3_000),
)
def test_joining_is_bounded_and_keeps_starts(reasons: list[str], limit: int) -> None:
    joined = join_reasons(reasons, limit=limit)
    assert len(joined) <= limit
    plain = "; ".join(reasons)
    if len(plain) <= limit:
        assert joined == plain
        return
    parts, (characters, cut, count, left_out) = split_joined(joined)
    assert count == len(reasons) and len(parts) == count - left_out >= 1
    kept_characters = 0
    cut_parts = 0
    for reason, part in zip(reasons, parts):
        if part == reason:
            kept_characters += len(reason)
            continue
        assert part.endswith(ELLIPSIS) and reason.startswith(part[:-1]), (reason, part)
        # A start: at least half a share (a cut ends at a word in the share's second half).
        assert len(part) - 1 >= min(len(reason.rstrip()), MIN_REASON_START // 2 - 1), (reason, part)
        kept_characters += len(part) - 1
        cut_parts += 1
    assert cut == cut_parts + left_out
    assert characters == sum(len(r) for r in reasons) - kept_characters
