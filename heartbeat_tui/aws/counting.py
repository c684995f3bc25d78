"""Counting AWS calls: each poll counts the calls (by `service.Operation`) and
HTTP attempts (retries included) made by its tasks, through botocore's
`before-call` and `before-send` events that every client registers, and
through `count_call` / `on_send` for the calls `aws/lean.py` makes without them."""

from __future__ import annotations

import contextvars
from collections import Counter
from dataclasses import dataclass, field
from typing import Any


@dataclass
class CallCounter:
    """API calls by `service.Operation` and HTTP attempts (retries included)."""

    calls: Counter[str] = field(default_factory=Counter)
    http_requests: int = 0

    def merge(self, other: CallCounter) -> None:
        self.calls.update(other.calls)
        self.http_requests += other.http_requests


_current_counter: contextvars.ContextVar[CallCounter | None] = contextvars.ContextVar(
    "heartbeat_call_counter", default=None
)


def counting(counter: CallCounter) -> contextvars.Token[CallCounter | None]:
    """Count the AWS calls made by this task (and the tasks it creates) into `counter`."""

    return _current_counter.set(counter)


def stop_counting(token: contextvars.Token[CallCounter | None]) -> None:
    _current_counter.reset(token)


def on_call(model: Any = None, **_: Any) -> None:
    counter = _current_counter.get()
    if counter is not None and model is not None:
        counter.calls[f"{model.service_model.service_name}.{model.name}"] += 1


def count_call(name: str, n: int = 1) -> None:
    """`n` calls of `service.Operation` (calls answered without botocore's events)."""

    counter = _current_counter.get()
    if counter is not None:
        counter.calls[name] += n


def on_send(**_: Any) -> None:
    counter = _current_counter.get()
    if counter is not None:
        counter.http_requests += 1


__all__ = ["CallCounter", "count_call", "counting", "on_call", "on_send", "stop_counting"]
