"""PBKDF2 hashing: the real parameters, the stored format, constant-time verification."""

from __future__ import annotations

import hashlib
import time

import pytest

from heartbeat_tui.auth.passwords import MIN_ITERATIONS, PasswordHash, PasswordHasher
from heartbeat_tui.config import AuthSection


def test_real_parameters() -> None:
    hasher = PasswordHasher()
    assert hasher.iterations == MIN_ITERATIONS == 600_000 == AuthSection().pbkdf2_iterations
    started = time.perf_counter()
    stored = hasher.hash("a long enough password")
    elapsed = time.perf_counter() - started
    algorithm, iterations, _salt, _digest = stored.split("$")
    parsed = PasswordHash.parse(stored)
    assert (algorithm, iterations) == ("pbkdf2_sha256", "600000")
    assert len(parsed.salt) == 16 and len(parsed.digest) == 32
    expected = hashlib.pbkdf2_hmac("sha256", b"a long enough password", parsed.salt, 600_000)
    assert parsed.digest == expected
    assert hasher.verify("a long enough password", stored)
    assert not hasher.needs_upgrade(stored)
    assert elapsed > 0.05  # really 600,000 iterations, not a shortcut


def test_config_refuses_fewer_iterations() -> None:
    with pytest.raises(ValueError):
        AuthSection(pbkdf2_iterations=599_999)


def test_salted_and_self_describing() -> None:
    hasher = PasswordHasher(1000)
    first, second = hasher.hash("same password!!"), hasher.hash("same password!!")
    assert first != second
    assert hasher.verify("same password!!", first) and hasher.verify("same password!!", second)
    assert not hasher.verify("same password!?", first)
    # A hash made at another cost still verifies (the cost is in the string) and asks for an upgrade.
    stronger = PasswordHasher(2000)
    assert stronger.verify("same password!!", first)
    assert stronger.needs_upgrade(first) and not stronger.needs_upgrade(stronger.hash("x" * 12))


def test_unicode_is_normalised() -> None:
    hasher = PasswordHasher(1000)
    stored = hasher.hash("caf\u00e9 password 1")
    assert hasher.verify("cafe\u0301 password 1", stored)  # the same text, decomposed


@pytest.mark.parametrize(
    "stored",
    [None, "", "garbage", "md5$1$abc$def", "pbkdf2_sha256$0$AAAA$AAAA", "pbkdf2_sha256$x$AAAA$AAAA", "a$b$c$d$e"],
)
def test_junk_hashes_never_match_and_never_raise(stored: str | None) -> None:
    hasher = PasswordHasher(1000)
    assert hasher.verify("anything at all", stored) is False
    if stored is not None:
        assert hasher.needs_upgrade(stored)


def test_compare_is_constant_time(monkeypatch: pytest.MonkeyPatch) -> None:
    import heartbeat_tui.auth.passwords as passwords

    calls = []
    real = passwords.hmac.compare_digest

    def spy(a: bytes, b: bytes) -> bool:
        calls.append((len(a), len(b)))
        return real(a, b)

    monkeypatch.setattr(passwords.hmac, "compare_digest", spy)
    hasher = PasswordHasher(1000)
    stored = hasher.hash("a long enough password")
    hasher.verify("a long enough password", stored)
    hasher.verify("wrong", stored)
    hasher.verify("wrong", None)  # the dummy hash: the same comparison
    assert calls == [(32, 32)] * 3
