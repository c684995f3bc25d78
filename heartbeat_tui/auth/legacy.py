"""The original HeartBeat's users table, read as it was written.

Teams moving from the original web version keep their users in the same
DynamoDB table (`ecs-heartbeat-users`). Its items hold `username`, `id`,
`role`, `is_active`, `created_at` and `last_login` (ISO 8601 text),
`encrypted_password` and `encrypted_email`:

* `encrypted_password` is ``SALT:HEX``: PBKDF2-HMAC-SHA256 of the password's
  UTF-8 bytes, 100,000 iterations, the salt being the 32 hex characters' own
  bytes (not what they encode);
* `encrypted_email` is URL-safe base64 of a Fernet token whose key is
  PBKDF2-HMAC-SHA256 (100,000 iterations, salt ``b'your_salt'``, 32 bytes) of
  the original `ENCRYPTION_KEY` passphrase, given to HeartBeat as
  `HEARTBEAT_LEGACY_ENCRYPTION_KEY` (any length: it only ever decrypts).

HeartBeat never writes these formats: a legacy user's first login upgrades
the record in place (store_legacy.py), and `heartbeat users migrate` upgrades
what needs no password. No I/O here.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import re
from datetime import datetime, timezone

from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.pbkdf2 import PBKDF2HMAC

from heartbeat_tui.auth.crypto import DecryptError

LEGACY_ITERATIONS = 100_000
LEGACY_KEY_SALT = b"your_salt"
LEGACY_KEY_ENV = "HEARTBEAT_LEGACY_ENCRYPTION_KEY"
#: The original's attributes; an item holding any of them is (partly) legacy.
LEGACY_PASSWORD = "encrypted_password"
LEGACY_EMAIL = "encrypted_email"
LEGACY_ACTIVE = "is_active"
LEGACY_LAST_LOGIN = "last_login"
LEGACY_FULL_NAME = "full_name"  # plain text, when an original deployment added it
_LEGACY_HASH = re.compile(r"([0-9a-f]{32}):([0-9a-f]{64})")


def legacy_digest(password: str, salt_hex: str) -> bytes:
    """The original's hash: the password's bytes as typed (it never normalised them)."""

    return hashlib.pbkdf2_hmac(
        "sha256", password.encode("utf-8", "surrogatepass"), salt_hex.encode(), LEGACY_ITERATIONS
    )


def verify_legacy(password: str, stored: str) -> bool:
    """True when `password` matches a ``SALT:HEX`` hash (constant-time)."""

    matched = _LEGACY_HASH.fullmatch(stored)
    if matched is None:
        return False
    salt, digest = matched.groups()
    return hmac.compare_digest(legacy_digest(password, salt), bytes.fromhex(digest))


def legacy_fernet_key(passphrase: str) -> bytes:
    kdf = PBKDF2HMAC(algorithm=hashes.SHA256(), length=32, salt=LEGACY_KEY_SALT, iterations=LEGACY_ITERATIONS)
    return base64.urlsafe_b64encode(kdf.derive(passphrase.encode("utf-8")))


class LegacyCipher:
    """Opens the original's `encrypted_email` values; never encrypts anything new."""

    def __init__(self, passphrase: str) -> None:
        if not passphrase:
            raise ValueError(f"{LEGACY_KEY_ENV} is empty")
        self._fernet = Fernet(legacy_fernet_key(passphrase))

    def __repr__(self) -> str:
        return "LegacyCipher()"

    def decrypt(self, value: str) -> str:
        try:
            token = base64.urlsafe_b64decode(value.encode("ascii"))
            return self._fernet.decrypt(token).decode("utf-8")
        except (InvalidToken, UnicodeError, ValueError, binascii.Error):
            raise DecryptError(f"{LEGACY_KEY_ENV} does not open this value") from None


def parse_legacy_time(value: str | None) -> float | None:
    """The original's ISO 8601 times (``datetime.utcnow().isoformat()``: naive means UTC)."""

    if not value:
        return None
    try:
        moment = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.timestamp()
