"""Reasons (why something failed) as one line: kept whole, within a bound, and
fitted into a narrow space only by display code, keeping what an operator acts
on. No dependencies: the CLI's last line of defence uses it too."""

from __future__ import annotations

import re

#: The most of a reason kept (characters, one line): the whole of any AWS error
#: message (an AccessDenied names two ARNs, 200 to 400 characters), but not a
#: giant body (an HTML error page, a proxy's dump) in every snapshot and log line.
MAX_REASON = 4000
ELLIPSIS = "…"
_ARN = re.compile(r"arn:aws[\w-]*:[\w-]*:[\w-]*:\d*:[^\s,;()\[\]{}\"'<>]+")


def one_line(text: str, limit: int = MAX_REASON) -> str:
    """`text` on one line (runs of whitespace, newlines included, become one
    space), at most `limit` characters: the whole of it unless it is huge."""

    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + ELLIPSIS


def fit_reason(text: str, width: int) -> str:
    """`text` in at most `width` characters, for a cell or a line that cannot
    grow. What it keeps: the start (where and what failed) and, when the text
    names an ARN, the last one whole (the resource: the role that refused, the
    service that is missing), cut in the middle with an ellipsis. Without an
    ARN, the start. Only display code calls this: snapshots, exports and logs
    keep the whole reason."""

    text = one_line(text)
    if width <= 0:
        return ""
    if len(text) <= width:
        return text
    if width == 1:
        return ELLIPSIS
    arns = list(_ARN.finditer(text))
    if arns:
        arn = arns[-1]
        rest = text[arn.end() :]
        # A closing parenthesis or full stop is kept; anything longer is elided.
        tail = arn.group() + (rest if len(rest) <= 2 else ELLIPSIS)
        head_room = width - len(tail) - 1  # one for the ellipsis before the ARN
        if arn.start() <= head_room:  # the whole start, then the ARN
            return text[: arn.start()] + tail
        if head_room >= min(12, arn.start()):
            return _head(text, head_room) + ELLIPSIS + tail
        # Narrower: the start, then the ARN's resource (`role/HeartbeatReader`:
        # the account is known from where the reason is shown) ...
        resource = tail[len(arn.group()) - len(arn.group().split(":", 5)[-1]) :]
        head_room = width - len(resource) - 1
        if head_room >= min(12, arn.start()):
            return _head(text, head_room) + ELLIPSIS + resource
        # ... and narrower still, the resource's end (the name) wins.
        return ELLIPSIS + resource[-(width - 1) :]
    return _cut(text, width)


def _head(text: str, width: int) -> str:
    """The first `width` characters at most, ending at a word when one ends in
    the second half (not "access den")."""

    head = text[:width]
    if len(text) > width and not text[width].isspace():
        space = head.rfind(" ")
        if space >= width // 2:
            head = head[:space]
    return head.rstrip()


def _cut(text: str, width: int) -> str:
    return _head(text, width - 1) + ELLIPSIS
