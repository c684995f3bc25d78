"""Reasons (why something failed) as one line: kept whole, within a bound, and
fitted into a narrow space only by display code, keeping what an operator acts
on. No dependencies: the CLI's last line of defence uses it too."""

from __future__ import annotations

import re
from collections.abc import Sequence

#: The most of a reason kept (characters, one line): the whole of any AWS error
#: message (an AccessDenied names two ARNs, 200 to 400 characters), but not a
#: giant body (an HTML error page, a proxy's dump) in every snapshot and log line.
MAX_REASON = 4000
ELLIPSIS = "…"
#: The most of several reasons joined into one (an account's error, one reason per
#: failing region and step, each "<region> <step>: " and a reason): two whole
#: reasons with their prefixes, or the start of each of many.
MAX_JOINED_REASON = 2 * (MAX_REASON + 100)
#: What `join_reasons` keeps of each reason at least: "<region> <step>: " and the
#: start of why ("eu-central-1 ECS DescribeServices: access denied (AccessDen…").
MIN_REASON_START = 60
JOIN_SEPARATOR = "; "
_ARN = re.compile(r"arn:aws[\w-]*:[\w-]*:[\w-]*:\d*:[^\s,;()\[\]{}\"'<>]+")


def one_line(text: str, limit: int = MAX_REASON) -> str:
    """`text` on one line (runs of whitespace, newlines included, become one
    space), at most `limit` characters: the whole of it unless it is huge."""

    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + ELLIPSIS


def join_reasons(reasons: Sequence[str], limit: int = MAX_JOINED_REASON, separator: str = JOIN_SEPARATOR) -> str:
    """`reasons` joined with `separator`, at most `limit` characters.

    Within the limit this is exactly `separator.join(reasons)`. Beyond it, the
    room is shared fairly: a reason shorter than its share is kept whole, a
    longer one keeps its start (where and what failed), cut at a word with an
    ellipsis. Each share is at least `MIN_REASON_START` characters, so every
    reason's start is kept unless there are more reasons than fit at that size
    (then the first ones are kept and the rest left out). A note at the end says
    how many characters were cut from how many reasons, and how many were left
    out. An account's error is such a join: each region's own errors keep its
    reasons whole."""

    whole = separator.join(reasons)
    if len(whole) <= limit:
        return whole
    count = len(reasons)
    # Room for the note at its longest: the numbers it will hold are at most these.
    budget = limit - len(_cut_note(len(whole), count, count, count))
    if budget < MIN_REASON_START:
        raise ValueError(f"limit {limit} is too small to join reasons (at least {limit - budget + MIN_REASON_START})")
    kept = min(count, (budget + len(separator)) // (MIN_REASON_START + len(separator)))
    shares = _fair_shares([len(r) for r in reasons[:kept]], budget - (kept - 1) * len(separator))
    parts, cut_characters, cut_reasons = [], sum(len(r) for r in reasons[kept:]), 0
    for reason, share in zip(reasons[:kept], shares):
        if len(reason) <= share:
            parts.append(reason)
            continue
        part = _cut(reason, share)
        parts.append(part)
        cut_characters += len(reason) - (len(part) - len(ELLIPSIS))
        cut_reasons += 1
    return separator.join(parts) + _cut_note(cut_characters, cut_reasons, count, count - kept)


def _fair_shares(lengths: Sequence[int], room: int) -> list[int]:
    """Each length's share of `room`: the shortest get what they need, the
    others split what is left evenly."""

    left, waiting = room, len(lengths)
    for length in sorted(lengths):
        even = left // waiting
        if length > even:
            return [min(each, even) for each in lengths]
        left -= length
        waiting -= 1
    return list(lengths)


def _cut_note(characters: int, cut: int, count: int, left_out: int) -> str:
    note = f" [{characters:,} characters cut from {cut + left_out} of {count} reasons"
    if left_out:
        note += f", {left_out} of them left out"
    return note + "]"


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
