"""Encryption of personal fields (email, full name) with Fernet / MultiFernet.

`ENCRYPTION_KEY` holds one or more keys separated by commas, newest first.
The newest encrypts; every key decrypts, so records written with an older key
stay readable until `heartbeat keys rotate` has re-encrypted them.

Each key is either

* a Fernet key: 32 random bytes in (urlsafe or standard) base64, 44 characters,
  e.g. ``python -c "from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())"``,
  ``heartbeat keys generate`` or ``openssl rand -base64 32``; or
* any other secret of at least 32 bytes, from which a Fernet key is derived
  with HKDF-SHA256 (give it the entropy of a random key: it is not stretched).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
from collections.abc import Sequence

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

MIN_KEY_BYTES = 32
_BASE64_KEY = re.compile(r"[A-Za-z0-9+/_-]{43}=")
_HKDF_SALT = b"heartbeat field encryption"
_HKDF_INFO = b"fernet key v1"


class InvalidKeySetting(ValueError):
    """A bad ENCRYPTION_KEY; the message never contains key material."""


class DecryptError(Exception):
    """No configured key opens this value."""


def _fernet_key(text: str, position: int, count: int) -> bytes:
    where = f"key {position} of {count}" if count > 1 else "the key"
    raw = text.encode("utf-8")
    if _BASE64_KEY.fullmatch(text):
        try:
            decoded = base64.b64decode(text.replace("-", "+").replace("_", "/"), validate=True)
        except binascii.Error:
            decoded = b""
        if len(decoded) == 32:
            return base64.urlsafe_b64encode(decoded)
    if len(raw) < MIN_KEY_BYTES:
        raise InvalidKeySetting(f"{where} is too short: {len(raw)} bytes, at least {MIN_KEY_BYTES} needed")
    derived = HKDF(algorithm=hashes.SHA256(), length=32, salt=_HKDF_SALT, info=_HKDF_INFO).derive(raw)
    return base64.urlsafe_b64encode(derived)


def parse_keys(value: str) -> list[bytes]:
    """`ENCRYPTION_KEY` -> Fernet keys, newest first. Raises `InvalidKeySetting` with a safe message."""

    parts = [part.strip() for part in value.split(",")]
    parts = [part for part in parts if part]
    if not parts:
        raise InvalidKeySetting("is empty")
    keys = [_fernet_key(part, i + 1, len(parts)) for i, part in enumerate(parts)]
    if len(set(keys)) != len(keys):
        raise InvalidKeySetting("lists the same key twice")
    return keys


def key_id(key: bytes) -> str:
    """A short, non-secret fingerprint of a key (for rotation reports)."""

    return hashlib.sha256(b"heartbeat key id\0" + key).hexdigest()[:10]


class FieldCipher:
    """Encrypts with the newest key, decrypts with any."""

    def __init__(self, keys: Sequence[bytes]) -> None:
        if not keys:
            raise InvalidKeySetting("no key")
        self._keys = list(keys)
        self._primary = Fernet(self._keys[0])
        self._multi = MultiFernet([Fernet(k) for k in self._keys])

    @classmethod
    def from_setting(cls, value: str) -> FieldCipher:
        return cls(parse_keys(value))

    @classmethod
    def generate(cls) -> FieldCipher:
        return cls([Fernet.generate_key()])

    @property
    def primary_key_id(self) -> str:
        return key_id(self._keys[0])

    @property
    def key_count(self) -> int:
        return len(self._keys)

    def __repr__(self) -> str:
        return f"FieldCipher(keys={len(self._keys)}, primary={self.primary_key_id})"

    def encrypt(self, text: str) -> str:
        return self._primary.encrypt(text.encode("utf-8")).decode("ascii")

    def decrypt(self, token: str) -> str:
        try:
            return self._multi.decrypt(token.encode("ascii")).decode("utf-8")
        except (InvalidToken, UnicodeError, ValueError):
            raise DecryptError("no configured ENCRYPTION_KEY opens this value") from None

    def is_current(self, token: str) -> bool:
        """True when the newest key alone opens `token` (nothing left to rotate)."""

        try:
            self._primary.decrypt(token.encode("ascii"))
        except (InvalidToken, UnicodeError, ValueError):
            return False
        return True

    def rotate(self, token: str) -> str:
        """Re-encrypt with the newest key. Raises `DecryptError` if no key opens it."""

        try:
            return self._multi.rotate(token.encode("ascii")).decode("ascii")
        except (InvalidToken, UnicodeError, ValueError):
            raise DecryptError("no configured ENCRYPTION_KEY opens this value") from None
