"""Reasons are kept whole (one line, bounded) and cut only for display, keeping
the ARN an operator needs."""

from __future__ import annotations

import pytest
from botocore.exceptions import ClientError

from heartbeat_tui.aws.errors import AssumeRoleFailed, describe_error
from heartbeat_tui.reasons import ELLIPSIS, MAX_REASON, fit_reason, one_line

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
