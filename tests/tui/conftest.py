"""Fixtures for the TUI tests: apps fed with deterministic snapshots."""

from __future__ import annotations

import pytest

from tests.support.pilot import make_app


@pytest.fixture
def aws(clean_aws):  # the shared embedded AWS, faults cleared (as in tests/collector)
    return clean_aws


@pytest.fixture
def app_factory():
    return make_app
