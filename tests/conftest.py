"""Shared fixtures. Every test runs with a private HOME-like set of folders and
no AWS or HeartBeat variables from the developer's shell, so nothing a developer
has configured leaks in and nothing a test writes leaks out."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from hypothesis import settings

# Hypothesis, set deliberately: each test names its own example count (a Pilot
# tour costs seconds an example, a parser microseconds); the profile sets what
# holds for all. No per-example deadline: on a loaded 2-core runner a deadline
# fails on the machine, not the code (pytest-timeout guards hangs). A failure
# prints its reproduce blob, so an example seen once in CI can be replayed.
settings.register_profile("suite", deadline=None, print_blob=True)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "suite"))


# The longest tests in a full `-n 2` run (`--durations=30`), longest first. They
# are CPU-bound in the worker (Pilot apps over many polls, hypothesis tours,
# PBKDF2, full garbage collections over the worker's heap, which is smallest
# early on). A test missing here is only scheduled later, never skipped.
LONGEST = (
    "tests/tui/test_widget_count.py::test_widgets_stay_bounded_over_many_polls",
    "tests/tui/test_untrusted_text.py::test_no_untrusted_control_sequence_reaches_the_terminal",
    "tests/auth/test_properties.py::test_users_create_on_the_command_line",
    "tests/test_series.py::test_a_fleet_of_series_costs_about_four_bytes_a_point_and_a_new_minute_a_tail",
    "tests/test_fieldsets.py::test_a_service_with_its_deployments_and_events_costs_no_set_of_its_own",
    "tests/tui/test_narrow.py::test_eighty_columns_show_every_column_of_both_panes",
    "tests/auth/test_tui.py::test_create_user_form_with_any_input",
    "tests/collector/test_throttling.py::test_half_the_calls_throttled_for_a_stretch",
    "tests/auth/test_cli.py::test_user_administration",
    "tests/auth/test_properties.py::test_login_form_inputs",
    "tests/auth/test_tui.py::test_admin_manages_users_from_the_keyboard",
    "tests/auth/test_tui.py::test_login_form_with_any_input",
    "tests/auth/test_cli_fuzz.py::test_any_command_line_of_any_subcommand",
    "tests/auth/test_properties.py::test_create_user_in_the_core",
    "tests/tui/test_logs.py::test_hostile_log_lines_never_reach_the_terminal",
    "tests/auth/test_no_secret_leaks.py::test_nothing_secret_in_logs_session_file_audit_or_output",
    "tests/test_heap.py::test_a_poll_window_leaves_the_garbage_collector_as_it_found_it",
    "tests/serve/test_sessions.py::test_clients_sharing_a_token_cost_the_store_one_check",
    "tests/auth/test_properties.py::test_any_command_line",
)


def pytest_configure(config: pytest.Config) -> None:
    """The package compiled once, before any test starts a process of its own.

    With PYTHONDONTWRITEBYTECODE set (as on the CI machines) nothing writes
    bytecode, so every `heartbeat` subprocess, embedded AWS, worker and pty
    demo the suite starts compiled the modules it imports again; explicit
    compilation writes it all the same (`__pycache__`, gitignored), once."""

    import compileall

    compileall.compile_dir(Path(__file__).resolve().parents[1] / "heartbeat_tui", quiet=2, workers=1)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """The longest tests first, then those marked `slow` (real processes, a real
    browser), then the rest, each in collected order. xdist hands tests out in
    this order (`--dist loadgroup`), so the long ones run on both workers from
    the start instead of one worker ending the run alone with them."""

    first = {nodeid: rank for rank, nodeid in enumerate(LONGEST)}

    def rank(item: pytest.Item) -> int:
        nodeid = item.nodeid.split("[", 1)[0]
        if nodeid in first:
            return first[nodeid]
        return len(first) + (item.get_closest_marker("slow") is None)

    items.sort(key=rank)


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
