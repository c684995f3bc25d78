"""Shared fixtures. Every test runs with a private HOME-like set of folders and
no AWS or HeartBeat variables from the developer's shell, so nothing a developer
has configured leaks in and nothing a test writes leaks out."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

_LEAKY_PREFIXES = ("AWS_", "HEARTBEAT_", "MOTO_")
_LEAKY_NAMES = {"DYNAMODB_USERS_TABLE", "ENCRYPTION_KEY", "JWT_SECRET", "JWT_ALGORITHM"}


@pytest.fixture(autouse=True)
def isolated_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    for name in list(os.environ):
        if name.startswith(_LEAKY_PREFIXES) or name in _LEAKY_NAMES:
            monkeypatch.delenv(name, raising=False)
    home = tmp_path / "home"
    for sub in ("config", "state", "cache", "data"):
        (home / sub).mkdir(parents=True)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home / "config"))
    monkeypatch.setenv("XDG_STATE_HOME", str(home / "state"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(home / "cache"))
    monkeypatch.setenv("XDG_DATA_HOME", str(home / "data"))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(home / "aws-config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(home / "aws-credentials"))
    # No instance metadata lookups from a test: they would wait for a timeout.
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)  # no stray .env from the developer's folder
    return home


@pytest.fixture(scope="session")
def fleet_aws():
    """One embedded AWS (the demo fleet) per test process, simulator paused.

    Tests that add faults clear them when they finish (`clean_aws`), so tests
    can share it; pytest-xdist gives each worker its own.
    """

    from heartbeat_tui.embedded import EmbeddedAWS
    from heartbeat_tui.embedded.fleet import FleetSpec

    aws = EmbeddedAWS(FleetSpec.demo(), paused=True)
    aws.start()
    try:
        yield aws
    finally:
        aws.stop()


@pytest.fixture
def clean_aws(fleet_aws):
    fleet_aws.clear_faults()
    fleet_aws.reset_stats()
    yield fleet_aws
    fleet_aws.clear_faults()
