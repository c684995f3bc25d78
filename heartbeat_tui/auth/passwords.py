"""Password hashing: PBKDF2-HMAC-SHA256, 16-byte random salt, self-describing format.

Stored as ``pbkdf2_sha256$<iterations>$<salt base64>$<hash base64>`` so the
cost can be raised later: a hash below the configured cost is re-hashed at the
next successful login (`needs_upgrade`). Comparison is constant-time, and
`verify` against an unknown user runs the same computation on a dummy hash,
so a wrong username costs what a wrong password costs.

These functions are CPU-bound (~0.3-0.5 s at 600,000 iterations): callers on
an event loop run them with `asyncio.to_thread` (`AuthService` does).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import os
from concurrent.futures import Future
from dataclasses import dataclass

from heartbeat_tui.auth.legacy import LEGACY_ITERATIONS, verify_legacy
from heartbeat_tui.auth.validation import normalise_password

ALGORITHM = "pbkdf2_sha256"
MIN_ITERATIONS = 600_000
SALT_BYTES = 16
DIGEST_BYTES = 32
_MAX_STORED_ITERATIONS = 100_000_000


@dataclass(frozen=True)
class PasswordHash:
    iterations: int
    salt: bytes
    digest: bytes
    algorithm: str = ALGORITHM

    def encode(self) -> str:
        salt = base64.b64encode(self.salt).decode("ascii")
        digest = base64.b64encode(self.digest).decode("ascii")
        return f"{self.algorithm}${self.iterations}${salt}${digest}"

    @classmethod
    def parse(cls, stored: str) -> PasswordHash:
        try:
            algorithm, iterations, salt, digest = stored.split("$")
            count = int(iterations)
            salt_bytes = base64.b64decode(salt, validate=True)
            digest_bytes = base64.b64decode(digest, validate=True)
        except (ValueError, binascii.Error, AttributeError):
            raise ValueError("not a stored password hash") from None
        if algorithm != ALGORITHM or not 1 <= count <= _MAX_STORED_ITERATIONS or not salt_bytes or not digest_bytes:
            raise ValueError("not a stored password hash")
        return cls(iterations=count, salt=salt_bytes, digest=digest_bytes, algorithm=algorithm)


def _derive(password: str, salt: bytes, iterations: int, length: int = DIGEST_BYTES) -> bytes:
    secret = normalise_password(password).encode("utf-8", "surrogatepass")
    return hashlib.pbkdf2_hmac("sha256", secret, salt, iterations, dklen=length)


class PasswordHasher:
    """Hashes at `iterations` (600,000 unless a test injects fewer)."""

    def __init__(self, iterations: int = MIN_ITERATIONS) -> None:
        if iterations < 1:
            raise ValueError("iterations must be positive")
        self.iterations = iterations
        # Same cost as a real hash at the current setting; nothing real to match.
        self._dummy = PasswordHash(iterations=iterations, salt=os.urandom(SALT_BYTES), digest=os.urandom(DIGEST_BYTES))

    def hash(self, password: str) -> str:
        salt = os.urandom(SALT_BYTES)
        digest = _derive(password, salt, self.iterations)
        return PasswordHash(iterations=self.iterations, salt=salt, digest=digest).encode()

    def verify(self, password: str, stored: str | None) -> bool:
        """True when `password` matches `stored`. `None` or junk costs the same and is False."""

        parsed: PasswordHash | None = None
        if stored is not None:
            try:
                parsed = PasswordHash.parse(stored)
            except ValueError:
                parsed = None
        target = parsed or self._dummy
        candidate = _derive(password, target.salt, target.iterations, len(target.digest))
        matched = hmac.compare_digest(candidate, target.digest)
        return matched and parsed is not None

    def verify_legacy(self, password: str, stored: str) -> bool:
        """The original HeartBeat's ``SALT:HEX`` (legacy.py), padded to this hasher's
        cost, so a legacy user's login takes what any other login takes."""

        matched = verify_legacy(password, stored)
        if self.iterations > LEGACY_ITERATIONS:
            _derive(password, self._dummy.salt, self.iterations - LEGACY_ITERATIONS)
        return matched

    def needs_upgrade(self, stored: str) -> bool:
        try:
            parsed = PasswordHash.parse(stored)
        except ValueError:
            return True
        return parsed.iterations < self.iterations or len(parsed.salt) < SALT_BYTES or len(parsed.digest) < DIGEST_BYTES


class PrehashedHasher(PasswordHasher):
    """A `PasswordHasher` that holds one hash made ahead of time (the demo hashes
    its admin's password on a spare core while the embedded AWS starts).
    `hash()` of that password returns it, once, when it was made at this
    hasher's cost; anything else is hashed as usual."""

    def __init__(self, iterations: int, password: str, made: Future[str]) -> None:
        super().__init__(iterations)
        self._ahead: tuple[str, Future[str]] | None = (password, made)

    def hash(self, password: str) -> str:
        ahead, self._ahead = self._ahead, None
        if ahead is not None and hmac.compare_digest(ahead[0].encode(), password.encode()):
            try:
                made = ahead[1].result()
                if PasswordHash.parse(made).iterations == self.iterations:
                    return made
            except Exception:  # hashed again below
                pass
        return super().hash(password)
