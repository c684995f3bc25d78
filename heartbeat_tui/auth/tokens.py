"""Session tokens: JWT (pyjwt), HMAC-signed with `JWT_SECRET`.

Claims: `sub` (username), `role`, `iat`, `nbf`, `exp`, `jti`, `iss`, `aud`.
Decoding accepts only the configured algorithm, requires every claim and
checks issuer and audience. The audience names the users table, so a token of
another HeartBeat deployment that happens to share the secret is refused too.

This module only proves a token is authentic and current; whether its user
still exists, is active, has the same role and has not logged out is checked
against the store by `AuthService.check`.
"""

from __future__ import annotations

import math
import uuid
from dataclasses import dataclass
from typing import Any

import jwt

from heartbeat_tui.auth.errors import SessionInvalid
from heartbeat_tui.auth.roles import Role
from heartbeat_tui.auth.validation import is_valid_username

ISSUER = "heartbeat"
REQUIRED_CLAIMS = ("sub", "role", "iat", "nbf", "exp", "jti", "iss", "aud")
MAX_TOKEN_CHARS = 4096
# Clock skew tolerated between the machine that issued a token and the one checking it.
LEEWAY_SECONDS = 30

INVALID = "the session token is invalid (tampered with, or signed with another secret); log in again"
EXPIRED = "the session has expired; log in again"
NOT_YET = "the session token is not valid yet (check this machine's clock); log in again"
FOREIGN = "the session token belongs to another HeartBeat deployment; log in again"


def audience_for(users_table: str) -> str:
    return f"heartbeat:{users_table}"


@dataclass(frozen=True)
class Claims:
    sub: str
    role: Role
    iat: float
    nbf: float
    exp: float
    jti: str


class TokenCodec:
    def __init__(self, secret: bytes, algorithm: str, audience: str, issuer: str = ISSUER) -> None:
        self._secret = secret
        self.algorithm = algorithm
        self.audience = audience
        self.issuer = issuer

    def __repr__(self) -> str:
        return f"TokenCodec(algorithm={self.algorithm!r}, audience={self.audience!r})"

    def issue(self, username: str, role: Role, now: float, lifetime_seconds: float) -> tuple[str, Claims]:
        # iat keeps milliseconds: a password reset invalidates sessions issued
        # before it, and a login in the same second after it must still count.
        iat = math.floor(now * 1000) / 1000
        claims = Claims(
            sub=username,
            role=role,
            iat=iat,
            nbf=math.floor(now),
            exp=math.floor(now + lifetime_seconds),
            jti=uuid.uuid4().hex,
        )
        payload: dict[str, Any] = {
            "sub": claims.sub,
            "role": claims.role.value,
            "iat": claims.iat,
            "nbf": claims.nbf,
            "exp": claims.exp,
            "jti": claims.jti,
            "iss": self.issuer,
            "aud": self.audience,
        }
        token = jwt.encode(payload, self._secret, algorithm=self.algorithm, headers={"typ": "JWT"})
        return token, claims

    def decode(self, token: str) -> Claims:
        """The verified claims, or `SessionInvalid` with a reason an operator can act on."""

        if not isinstance(token, str) or not token or len(token) > MAX_TOKEN_CHARS or not token.isascii():
            raise SessionInvalid(INVALID)
        try:
            payload = jwt.decode(
                token.strip(),
                self._secret,
                algorithms=[self.algorithm],
                audience=self.audience,
                issuer=self.issuer,
                leeway=LEEWAY_SECONDS,
                options={
                    "require": list(REQUIRED_CLAIMS),
                    "verify_signature": True,
                    "verify_exp": True,
                    "verify_nbf": True,
                    "verify_iat": True,
                    "verify_aud": True,
                    "verify_iss": True,
                },
            )
        except jwt.ExpiredSignatureError:
            raise SessionInvalid(EXPIRED) from None
        except jwt.ImmatureSignatureError:
            raise SessionInvalid(NOT_YET) from None
        except (jwt.InvalidAudienceError, jwt.InvalidIssuerError):
            raise SessionInvalid(FOREIGN) from None
        except (jwt.InvalidTokenError, ValueError, TypeError):
            raise SessionInvalid(INVALID) from None
        return _claims(payload)


def _number(value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise SessionInvalid(INVALID)
    return float(value)


def _claims(payload: dict[str, Any]) -> Claims:
    sub, role, jti = payload.get("sub"), payload.get("role"), payload.get("jti")
    if not is_valid_username(sub) or not isinstance(jti, str) or not 8 <= len(jti) <= 64:
        raise SessionInvalid(INVALID)
    try:
        parsed_role = Role(role)
    except ValueError:
        raise SessionInvalid(INVALID) from None
    iat, nbf, exp = _number(payload["iat"]), _number(payload["nbf"]), _number(payload["exp"])
    if not nbf <= exp or not iat <= exp:
        raise SessionInvalid(INVALID)
    return Claims(sub=sub, role=parsed_role, iat=iat, nbf=nbf, exp=exp, jti=jti)
