"""`PrehashedHasher`: the demo admin's hash made ahead of time, used once, only
for that password and only at the hasher's own cost."""

from __future__ import annotations

from concurrent.futures import Future

from heartbeat_tui.auth.passwords import PasswordHash, PasswordHasher, PrehashedHasher

COST = 1_000
SECRET = "correct horse battery"


def made(value: str | None = None, error: BaseException | None = None) -> Future[str]:
    future: Future[str] = Future()
    if error is not None:
        future.set_exception(error)
    else:
        future.set_result(value if value is not None else PasswordHasher(COST).hash(SECRET))
    return future


def test_the_hash_made_ahead_is_used_once() -> None:
    ahead = made()
    hasher = PrehashedHasher(COST, SECRET, ahead)
    first = hasher.hash(SECRET)
    assert first == ahead.result() and hasher.verify(SECRET, first)
    second = hasher.hash(SECRET)  # a new salt: hashed again
    assert second != first and hasher.verify(SECRET, second)


def test_another_password_is_hashed_as_usual() -> None:
    ahead = made()
    hasher = PrehashedHasher(COST, SECRET, ahead)
    other = hasher.hash("another long password")
    assert other != ahead.result()
    assert hasher.verify("another long password", other) and not hasher.verify(SECRET, other)


def test_a_hash_at_another_cost_or_a_failed_one_is_not_used() -> None:
    cheaper = made(PasswordHasher(COST // 2).hash(SECRET))
    result = PrehashedHasher(COST, SECRET, cheaper).hash(SECRET)
    assert result != cheaper.result() and PasswordHash.parse(result).iterations == COST
    failed = PrehashedHasher(COST, SECRET, made(error=RuntimeError("no core to spare")))
    assert failed.verify(SECRET, failed.hash(SECRET))
