"""Turn any failure of an AWS call into one readable sentence (whole: see
`heartbeat_tui.reasons` for the bound and for fitting it into a narrow space)."""

from __future__ import annotations

import asyncio

from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    ConnectTimeoutError,
    CredentialRetrievalError,
    EndpointConnectionError,
    NoCredentialsError,
    NoRegionError,
    PartialCredentialsError,
    ProfileNotFound,
    ReadTimeoutError,
    SSOError,
    TokenRetrievalError,
)

from heartbeat_tui.reasons import MAX_REASON, one_line

#: The most of an AWS error code kept (real ones are short identifiers).
MAX_CODE = 100

_DENIED = {
    "AccessDenied",
    "AccessDeniedException",
    "UnauthorizedOperation",
    "UnrecognizedClientException",
    "InvalidClientTokenId",
    "SignatureDoesNotMatch",
}
_THROTTLED = {
    "Throttling",
    "ThrottlingException",
    "ThrottledException",
    "RequestLimitExceeded",
    "TooManyRequestsException",
    "RequestThrottled",
    "RequestThrottledException",
    "ProvisionedThroughputExceededException",
}
_EXPIRED = {"ExpiredToken", "ExpiredTokenException"}
_CLOCK = {"RequestExpired", "RequestTimeTooSkewed"}


class AssumeRoleFailed(Exception):
    """STS AssumeRole into an account's role failed, whichever AWS call needed
    the credentials (the first of a poll, or one that refreshed them lazily).
    `describe_error` says so and names the role."""

    def __init__(self, role_arn: str, cause: BaseException) -> None:
        self.role_arn = role_arn
        self.cause = cause
        super().__init__(f"STS AssumeRole {role_arn}: {type(cause).__name__}")


class ProfileCredentialsFailed(Exception):
    """botocore could not give the credentials of an account's AWS profile (an
    SSO token expired or never fetched, a credential_process that failed, a
    source_profile's AssumeRole refused). `describe_error` says what to do."""

    def __init__(self, profile: str, cause: BaseException) -> None:
        self.profile = profile
        self.cause = cause
        super().__init__(f"profile {profile}: {type(cause).__name__}")


class WrongAccount(Exception):
    """AssumeRole succeeded, but the assumed role is not in the configured
    account (or partition): its credentials would read another account's data
    under this one's id, so they are never used. Its text is the reason."""


class BadResponse(ValueError):
    """An answer that is well-formed JSON but not what the API promises (a
    required field missing, fewer items than asked for, pages that never end).
    Its text says what is wrong, for the operator."""


def describe_error(exc: BaseException) -> str:
    """A one-line reason an operator can act on, whole (up to `reasons.MAX_REASON`).
    Never includes credentials."""

    if isinstance(exc, AssumeRoleFailed):
        reason = describe_error(exc.cause)
        # AWS names the role in an AccessDenied; a timeout or throttling does not.
        return reason if exc.role_arn in reason else f"{reason} (role {exc.role_arn})"
    if isinstance(exc, ProfileCredentialsFailed):
        if isinstance(exc.cause, (SSOError, TokenRetrievalError)):
            # botocore's own words name no profile; the operator needs the command.
            return f"SSO session expired or not logged in: run `aws sso login --profile {exc.profile}`"
        if isinstance(exc.cause, CredentialRetrievalError):
            return one_line(str(exc.cause))
        return describe_error(exc.cause)
    if isinstance(exc, ClientError):
        error = exc.response.get("Error", {})
        # An AWS error code is a short identifier; a longer one is cut, so that
        # code and message together stay within the bound of one reason.
        code = one_line(str(error.get("Code") or "Error"), MAX_CODE)
        message = str(error.get("Message") or "")
        if message.lstrip().startswith("<"):
            # An HTML error page, not an AWS error: say so instead of quoting it.
            message = "unexpected non-AWS response"
        message = one_line(message, MAX_REASON - MAX_CODE - 40)
        if code.isdigit():
            code = f"HTTP {code}"
        attempts = exc.response.get("ResponseMetadata", {}).get("RetryAttempts")
        if code in _DENIED:
            return f"access denied ({code}: {message})" if message else f"access denied ({code})"
        if code in _THROTTLED:
            tries = f" after {attempts + 1} attempts" if isinstance(attempts, int) else ""
            return f"throttled by AWS{tries} ({code})"
        if code in _EXPIRED:
            return f"credentials expired ({code})"
        if code in _CLOCK:
            return f"request refused for its time: is this machine's clock right? ({code})"
        return f"{code}: {message}" if message else code
    if isinstance(exc, (BadResponse, WrongAccount)):
        return one_line(str(exc))
    if isinstance(exc, ReadTimeoutError):
        return "timed out waiting for a response"
    if isinstance(exc, ConnectTimeoutError):
        return "timed out connecting to the endpoint"
    if isinstance(exc, EndpointConnectionError):
        return f"cannot reach the endpoint ({one_line(str(exc))})"
    if isinstance(exc, (NoCredentialsError, PartialCredentialsError)):
        return (
            "no usable AWS credentials (set AWS_PROFILE or the AWS_ACCESS_KEY_ID variables,"
            " or run where a role is attached)"
        )
    if isinstance(exc, ProfileNotFound):
        return one_line(str(exc))
    if isinstance(exc, NoRegionError):
        return "no region configured (set [aws].region or AWS_REGION)"
    if isinstance(exc, BotoCoreError):
        return one_line(str(exc))
    if isinstance(exc, asyncio.TimeoutError):
        return "timed out"
    if isinstance(exc, OSError):
        return f"network error ({one_line(exc.strerror or str(exc))})"
    return f"{type(exc).__name__}: {one_line(str(exc))}" if str(exc) else type(exc).__name__


def is_expired_credentials(exc: BaseException) -> bool:
    return error_code(exc) in _EXPIRED


def error_code(exc: BaseException) -> str | None:
    if isinstance(exc, ClientError):
        return str(exc.response.get("Error", {}).get("Code") or "") or None
    return None


__all__ = [
    "AssumeRoleFailed",
    "BadResponse",
    "ProfileCredentialsFailed",
    "WrongAccount",
    "describe_error",
    "error_code",
    "is_expired_credentials",
]
