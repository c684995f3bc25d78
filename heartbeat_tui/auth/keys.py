"""The two secrets auth needs: `JWT_SECRET` (session signing) and `ENCRYPTION_KEY`.

Outside demo mode both must be set and at least 32 bytes long, or start-up
stops with one clear line (exit code 2). Demo mode makes both at random, in
memory: demo sessions die with the process. The values never reach a log, the
screen or a repr.
"""

from __future__ import annotations

import secrets as _random
from dataclasses import dataclass, field

from heartbeat_tui.auth.crypto import FieldCipher, InvalidKeySetting
from heartbeat_tui.auth.errors import SecretsError
from heartbeat_tui.auth.legacy import LegacyCipher
from heartbeat_tui.config import Config

ALGORITHMS = ("HS256", "HS384", "HS512")
# RFC 7518 3.2: an HMAC key at least as long as the hash output.
MIN_JWT_SECRET_BYTES = {"HS256": 32, "HS384": 48, "HS512": 64}


@dataclass(frozen=True)
class AuthSecrets:
    jwt_secret: bytes = field(repr=False)
    jwt_algorithm: str
    cipher: FieldCipher
    demo: bool = False
    # The original HeartBeat's passphrase (HEARTBEAT_LEGACY_ENCRYPTION_KEY): it only
    # decrypts the emails of records that original wrote (legacy.py).
    legacy_cipher: LegacyCipher | None = None

    @classmethod
    def from_config(cls, config: Config) -> AuthSecrets:
        env = config.env
        algorithm = (env.jwt_algorithm or "HS256").strip().upper()
        if algorithm not in ALGORITHMS:
            raise SecretsError(
                f"environment: JWT_ALGORITHM: must be one of {', '.join(ALGORITHMS)} (got {env.jwt_algorithm[:20]!r})"
            )
        if env.jwt_secret is None or not env.jwt_secret.get_secret_value():
            raise SecretsError(
                "environment: JWT_SECRET is not set: set a random secret of at least 32 bytes"
                " (`heartbeat keys generate`) in the environment or .env (see SECURITY.md)"
            )
        secret = env.jwt_secret.get_secret_value().encode("utf-8")
        needed = MIN_JWT_SECRET_BYTES[algorithm]
        if len(secret) < needed:
            raise SecretsError(
                f"environment: JWT_SECRET is too short: {len(secret)} bytes, at least {needed} needed for {algorithm}"
            )
        if env.encryption_key is None or not env.encryption_key.get_secret_value().strip():
            raise SecretsError(
                "environment: ENCRYPTION_KEY is not set: set a Fernet key (`heartbeat keys generate`)"
                " in the environment or .env (see SECURITY.md)"
            )
        try:
            cipher = FieldCipher.from_setting(env.encryption_key.get_secret_value())
        except InvalidKeySetting as exc:
            raise SecretsError(f"environment: ENCRYPTION_KEY: {exc}") from None
        legacy = env.heartbeat_legacy_encryption_key
        legacy_cipher = LegacyCipher(legacy.get_secret_value()) if legacy and legacy.get_secret_value() else None
        return cls(jwt_secret=secret, jwt_algorithm=algorithm, cipher=cipher, legacy_cipher=legacy_cipher)

    @classmethod
    def generate(cls) -> AuthSecrets:
        """Random secrets for demo mode, kept in memory only."""

        return cls(jwt_secret=_random.token_bytes(48), jwt_algorithm="HS256", cipher=FieldCipher.generate(), demo=True)
