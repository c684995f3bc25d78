"""Fernet / MultiFernet for personal fields, and the secrets that start-up requires."""

from __future__ import annotations

import base64
import os

import pytest
from cryptography.fernet import Fernet
from pydantic import SecretStr

from heartbeat_tui.auth import AuthSecrets, SecretsError
from heartbeat_tui.auth.crypto import DecryptError, FieldCipher, InvalidKeySetting, parse_keys
from heartbeat_tui.config import EnvSettings, config_from_dict


def key() -> str:
    return Fernet.generate_key().decode()


def test_new_key_encrypts_all_keys_decrypt() -> None:
    old, new = key(), key()
    before = FieldCipher.from_setting(old)
    token = before.encrypt("bob@example.com")
    after = FieldCipher.from_setting(f"{new}, {old}")
    assert after.decrypt(token) == "bob@example.com"
    assert not after.is_current(token)
    rotated = after.rotate(token)
    assert after.is_current(rotated) and after.decrypt(rotated) == "bob@example.com"
    assert FieldCipher.from_setting(new).decrypt(rotated) == "bob@example.com"
    with pytest.raises(DecryptError):
        FieldCipher.from_setting(new).decrypt(token)
    with pytest.raises(DecryptError):
        after.decrypt("not a token")


def test_key_formats() -> None:
    raw = os.urandom(32)
    urlsafe = base64.urlsafe_b64encode(raw).decode()
    standard = base64.b64encode(raw).decode()  # `openssl rand -base64 32`
    assert parse_keys(urlsafe) == parse_keys(standard) == [base64.urlsafe_b64encode(raw)]
    # Any other secret of 32 bytes or more is stretched to a key with HKDF.
    derived = parse_keys("x" * 40)
    assert len(base64.urlsafe_b64decode(derived[0])) == 32
    assert FieldCipher(derived).decrypt(FieldCipher(parse_keys("x" * 40)).encrypt("a")) == "a"


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("", "is empty"),
        (" , ", "is empty"),
        ("k3y!Q", "the key is too short: 5 bytes, at least 32 needed"),
        ("a" * 40 + ",tiny", "key 2 of 2 is too short: 4 bytes"),
        ("a" * 40 + "," + "a" * 40, "lists the same key twice"),
    ],
)
def test_bad_keys_say_why_without_the_key(value: str, message: str) -> None:
    with pytest.raises(InvalidKeySetting) as caught:
        parse_keys(value)
    assert message in str(caught.value)
    for part in value.split(","):
        if part.strip():
            assert part.strip() not in str(caught.value)


def test_repr_shows_no_key() -> None:
    value = key()
    cipher = FieldCipher.from_setting(value)
    assert value not in repr(cipher) and "keys=1" in repr(cipher)


def config(**env: object):
    return config_from_dict({}, env=EnvSettings(_env_file=None, **env))  # type: ignore[call-arg]


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({}, "JWT_SECRET is not set"),
        ({"jwt_secret": SecretStr("x" * 31)}, "JWT_SECRET is too short: 31 bytes, at least 32 needed"),
        ({"jwt_secret": SecretStr("x" * 32)}, "ENCRYPTION_KEY is not set"),
        (
            {"jwt_secret": SecretStr("x" * 32), "encryption_key": SecretStr("k" * 31)},
            "ENCRYPTION_KEY: the key is too short",
        ),
        (
            {"jwt_secret": SecretStr("x" * 32), "encryption_key": SecretStr(""), "jwt_algorithm": "HS256"},
            "ENCRYPTION_KEY is not set",
        ),
        (
            {"jwt_secret": SecretStr("x" * 32), "jwt_algorithm": "RS256"},
            "JWT_ALGORITHM: must be one of HS256, HS384, HS512",
        ),
        ({"jwt_secret": SecretStr("x" * 32), "jwt_algorithm": "none"}, "JWT_ALGORITHM"),
        ({"jwt_secret": SecretStr("x" * 40), "jwt_algorithm": "HS512"}, "at least 64 needed for HS512"),
    ],
)
def test_startup_stops_without_strong_secrets(env: dict[str, object], message: str) -> None:
    with pytest.raises(SecretsError) as caught:
        AuthSecrets.from_config(config(**env))
    assert message in str(caught.value) and caught.value.exit_code == 2
    assert "\n" not in str(caught.value)
    assert "x" * 31 not in str(caught.value) and "k" * 31 not in str(caught.value)


def test_good_secrets_and_demo_secrets() -> None:
    secrets = AuthSecrets.from_config(
        config(jwt_secret=SecretStr("x" * 32), encryption_key=SecretStr(f"{key()},{key()}"))
    )
    assert secrets.cipher.key_count == 2 and secrets.jwt_algorithm == "HS256" and not secrets.demo
    assert "x" * 32 not in repr(secrets)
    demo, other = AuthSecrets.generate(), AuthSecrets.generate()
    assert demo.demo and len(demo.jwt_secret) >= 32 and demo.jwt_secret != other.jwt_secret
