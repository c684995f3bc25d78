"""Refused tokens: every way a session token can be forged, stale or foreign."""

from __future__ import annotations

import base64
import json
import time
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from heartbeat_tui.auth import Role, SessionInvalid
from heartbeat_tui.auth.service import AuthService, Session, open_auth
from heartbeat_tui.auth.tokens import EXPIRED, FOREIGN, INVALID, NOT_YET, REQUIRED_CLAIMS
from tests.support.auth import ADMIN, FAST_ITERATIONS, PASSWORD, auth_config


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def secret_of(service: AuthService) -> bytes:
    return service.secrets.jwt_secret


def claims(service: AuthService, **overrides: Any) -> dict[str, Any]:
    now = time.time()
    payload = {
        "sub": ADMIN,
        "role": "admin",
        "iat": now,
        "nbf": int(now),
        "exp": int(now) + 3600,
        "jti": "0123456789abcdef0123456789abcdef",
        "iss": "heartbeat",
        "aud": f"heartbeat:{service.store.users_table}",
    }
    payload.update(overrides)
    return {k: v for k, v in payload.items() if v is not None}


def signed(service: AuthService, algorithm: str = "HS256", key: Any = None, **overrides: Any) -> str:
    return jwt.encode(claims(service, **overrides), key if key is not None else secret_of(service), algorithm=algorithm)


async def refused(service: AuthService, token: str, reason: str) -> None:
    with pytest.raises(SessionInvalid) as caught:
        await service.check(token)
    assert caught.value.reason == reason
    assert caught.value.exit_code == 3


async def test_a_well_formed_token_is_accepted(service: AuthService, admin: Session) -> None:
    # The baseline for the forgeries below: the same claims, properly signed, pass.
    token = signed(service)
    assert (await service.check(token)).role is Role.ADMIN
    header = jwt.get_unverified_header(admin.token)
    assert header["alg"] == "HS256"
    assert set(jwt.decode(admin.token, options={"verify_signature": False})) == set(REQUIRED_CLAIMS)


async def test_alg_none(service: AuthService, admin: Session) -> None:
    for alg in ("none", "None", "NONE"):
        header = b64(json.dumps({"alg": alg, "typ": "JWT"}).encode())
        body = b64(json.dumps(claims(service)).encode())
        await refused(service, f"{header}.{body}.", INVALID)
        await refused(service, f"{header}.{body}", INVALID)


async def test_algorithm_confusion(service: AuthService, admin: Session) -> None:
    private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    public_pem = private.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    # A token signed with an asymmetric algorithm is refused outright...
    await refused(service, signed(service, "RS256", private), INVALID)
    await refused(service, signed(service, "ES256", ec.generate_private_key(ec.SECP256R1())), INVALID)
    # ...and the classic confusion (HS256 "signed" with a public key) is just a wrong secret.
    header = b64(json.dumps({"alg": "HS256", "typ": "JWT"}).encode())
    body = b64(json.dumps(claims(service)).encode())
    import hashlib
    import hmac

    signature = b64(hmac.new(public_pem, f"{header}.{body}".encode(), hashlib.sha256).digest())
    await refused(service, f"{header}.{body}.{signature}", INVALID)
    # Only the configured HMAC algorithm: HS512 with the right secret is refused under HS256.
    await refused(service, signed(service, "HS512", secret_of(service) * 2), INVALID)


async def test_only_the_configured_algorithm(fleet_aws: Any) -> None:
    config = auth_config(fleet_aws, jwt_secret="s" * 64)
    env = config.env.model_copy(update={"jwt_algorithm": "HS512"})
    config = config.model_copy(update={"env": env})
    async with open_auth(config, iterations=FAST_ITERATIONS) as auth:
        await auth.store.ensure_tables()
        await auth.bootstrap_admin(ADMIN, "correct horse battery")
        session = await auth.login(ADMIN, "correct horse battery")
        assert jwt.get_unverified_header(session.token)["alg"] == "HS512"
        assert (await auth.check(session.token)).username == ADMIN
        await refused(auth, signed(auth, "HS256"), INVALID)


async def test_wrong_secret(service: AuthService, admin: Session) -> None:
    await refused(service, signed(service, key=b"another secret of enough length!!"), INVALID)


async def test_expired(service: AuthService, admin: Session) -> None:
    now = int(time.time())
    await refused(service, signed(service, iat=now - 7200, nbf=now - 7200, exp=now - 3600), EXPIRED)


async def test_future_nbf_and_iat(service: AuthService, admin: Session) -> None:
    now = int(time.time())
    await refused(service, signed(service, nbf=now + 3600, exp=now + 7200), NOT_YET)
    await refused(service, signed(service, iat=now + 3600, exp=now + 7200), NOT_YET)


async def test_edited_role_without_the_secret(service: AuthService, admin: Session) -> None:
    await service.create_user(admin, username="bob", password=PASSWORD, role="user")
    token = (await service.login("bob", PASSWORD)).token
    header, body, signature = token.split(".")
    payload = json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
    payload["role"] = "admin"
    forged = f"{header}.{b64(json.dumps(payload).encode())}.{signature}"
    await refused(service, forged, INVALID)


async def test_edited_role_with_the_secret_is_still_caught(service: AuthService, admin: Session) -> None:
    # Whoever holds the secret can sign anything; the store still knows bob's role.
    await service.create_user(admin, username="bob", password=PASSWORD, role="user")
    await refused(service, signed(service, sub="bob", role="admin"), "the session's role has changed; log in again")


async def test_revoked(service: AuthService, admin: Session) -> None:
    await service.logout(admin.token)
    await refused(service, admin.token, "the session was ended (logged out); log in again")


async def test_deleted_and_disabled_user(service: AuthService, admin: Session, tables: Any) -> None:
    await service.create_user(admin, username="bob", password=PASSWORD, role="user")
    await service.create_user(admin, username="carol", password=PASSWORD, role="user")
    bob = await service.login("bob", PASSWORD)
    carol = await service.login("carol", PASSWORD)
    tables.delete_item(TableName=service.store.users_table, Key={"username": {"S": "bob"}})
    await refused(service, bob.token, "the session's user no longer exists; log in again")
    await service.set_active(admin, "carol", False)
    await refused(service, carol.token, "the session's user is disabled")


async def test_wrong_issuer_audience_and_foreign_deployment(
    fleet_aws: Any, service: AuthService, admin: Session
) -> None:
    await refused(service, signed(service, iss="someone-else"), FOREIGN)
    await refused(service, signed(service, aud="heartbeat:other-table"), FOREIGN)
    await refused(service, signed(service, aud=None), INVALID)
    # Another deployment sharing the secret (different users table): refused.
    other = auth_config(fleet_aws, jwt_secret=secret_of(service).decode())
    async with open_auth(other, iterations=FAST_ITERATIONS) as auth:
        await auth.store.ensure_tables()
        await auth.bootstrap_admin(ADMIN, "correct horse battery")
        foreign = await auth.login(ADMIN, "correct horse battery")
    await refused(service, foreign.token, FOREIGN)


async def test_missing_or_bad_claims(service: AuthService, admin: Session) -> None:
    for claim in REQUIRED_CLAIMS:
        if claim in ("iss", "aud"):
            continue  # covered above
        await refused(service, signed(service, **{claim: None}), INVALID)
    await refused(service, signed(service, role="root"), INVALID)
    await refused(service, signed(service, sub="Not A User"), INVALID)
    await refused(service, signed(service, jti="short"), INVALID)
    await refused(service, signed(service, exp="tomorrow"), INVALID)


@pytest.mark.parametrize(
    "junk",
    ["", " ", "abc", "a.b", "a.b.c", "é.é.é", "x" * 10_000, "eyJhbGciOiJIUzI1NiJ9..", "\x00.\x00.\x00"],
)
async def test_garbage(service: AuthService, junk: str) -> None:
    await refused(service, junk, INVALID)
