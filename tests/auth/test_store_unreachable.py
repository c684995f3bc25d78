"""Matrix item 5: DynamoDB (the users store) unreachable, at login and mid-session.

Faults are switched on in the embedded AWS for the `dynamodb` service of the
account the base credentials belong to (503 ServiceUnavailable, or a read that
never answers in time). What must hold:

* at login: one clear line ("user store unreachable ..."), no crash, no failure
  counted towards a lockout, and the same login works once the store is back;
* mid-session (dashboard): the periodic check fails closed: nothing of the
  fleet stays on any screen, nothing is polled, the reason is shown, and the
  dashboard comes back by itself once the session checks out again (or stays on
  the login screen, with the reason, when it no longer does);
* headless commands: one line on stderr and exit code 75, never a traceback.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest

from heartbeat_tui.auth import LoginFailed, StoreUnavailable
from heartbeat_tui.auth.service import AuthService, open_auth
from heartbeat_tui.auth.store import RetryPlan
from heartbeat_tui.config import Config, dump_toml
from heartbeat_tui.controller import ManualScheduler
from heartbeat_tui.errors import EXIT_UNAVAILABLE
from heartbeat_tui.tui.screens.dashboard import DashboardScreen
from heartbeat_tui.tui.screens.login import LockedScreen, LoginScreen
from tests.support.auth import ADMIN, ADMIN_PASSWORD, FAST_ITERATIONS, auth_config
from tests.support.pilot import wait_until
from tests.support.screen_text import screen_text

from .cli_support import CliEnv, make_cli_env
from .store_support import DOWN, STORE_SECONDS, fast_config, store_down
from .tui_support import FilteringSource, make_secure_app

HANGS = {"kind": "timeout", "seconds": STORE_SECONDS + 1.5}
SIZE = (120, 40)


@pytest.fixture
def shared_config(clean_aws: Any) -> Config:
    return fast_config(clean_aws)


@pytest.fixture
async def down_service(shared_config: Config) -> Any:
    async with open_auth(shared_config, iterations=FAST_ITERATIONS) as auth:
        await auth.store.ensure_tables()
        await auth.bootstrap_admin(ADMIN, ADMIN_PASSWORD)
        yield auth


# -- the service: login -------------------------------------------------------------------------


@pytest.mark.parametrize("fault", [DOWN, HANGS], ids=["503", "timeout"])
async def test_login_says_the_store_is_unreachable_and_counts_nothing(
    clean_aws: Any, down_service: AuthService, fault: dict[str, Any]
) -> None:
    auth = down_service
    store_down(clean_aws, fault)
    for password in ("wrong password!!", ADMIN_PASSWORD):
        started = time.monotonic()
        with pytest.raises(StoreUnavailable) as caught:
            await auth.login(ADMIN, password)
        # Bounded by the store deadline (loosely: 2 cores shared).
        assert time.monotonic() - started < STORE_SECONDS * 4
        message = str(caught.value)
        assert message.startswith("user store unreachable (DynamoDB ") and "\n" not in message
        assert caught.value.exit_code == EXIT_UNAVAILABLE
        assert ADMIN_PASSWORD not in message
    clean_aws.clear_faults()
    record = await auth.store.get(ADMIN)
    assert record is not None and record.failed_attempts == 0 and record.locked_until is None
    # Once it is back: the same login works, and a wrong password counts again.
    assert (await auth.login(ADMIN, ADMIN_PASSWORD)).username == ADMIN
    with pytest.raises(LoginFailed):
        await auth.login(ADMIN, "wrong password!!")
    assert (await auth.store.get(ADMIN)).failed_attempts == 1


@pytest.mark.parametrize(
    ("fault", "answer"),
    [(DOWN, "HTTP 503 ServiceUnavailable"), (HANGS, "timed out waiting for a response")],
    ids=["503", "timeout"],
)
async def test_the_reason_is_what_the_last_attempt_got_inside_the_deadline(
    clean_aws: Any, fault: dict[str, Any], answer: str
) -> None:
    """botocore's retries used to outlast the deadline, so a store answering 503
    read "no answer in time". Now the store's own client retries within the
    deadline and the reason is the last attempt's, with the count of attempts
    the embedded AWS actually received."""

    deadline = 6.0
    config = auth_config(clean_aws, auth={"store_timeout_seconds": deadline})  # [aws].max_attempts: 5
    aws = config.file.aws
    plan = RetryPlan.within(
        deadline,
        max_attempts=aws.max_attempts,
        connect_timeout=aws.connect_timeout_seconds,
        read_timeout=aws.read_timeout_seconds,
    )
    assert plan.attempts >= 2
    async with open_auth(config, iterations=FAST_ITERATIONS) as auth:
        await auth.store.ensure_tables()
        await auth.bootstrap_admin(ADMIN, ADMIN_PASSWORD)
        clean_aws.reset_stats()
        store_down(clean_aws, fault, operation="GetItem")
        started = time.monotonic()
        with pytest.raises(StoreUnavailable) as caught:
            await auth.login(ADMIN, ADMIN_PASSWORD)
        elapsed = time.monotonic() - started
    received = sum(s["count"] for s in clean_aws.stats() if s["service"] == "dynamodb" and s["operation"] == "GetItem")
    assert received == plan.attempts
    message = str(caught.value)
    assert f"GetItem: {answer} after {plan.attempts} attempts" in message, message
    assert "no answer" not in message and "\n" not in message
    assert elapsed < deadline


def test_the_retry_plan_fits_the_deadline() -> None:
    for deadline in (0.5, 1.0, 2.0, 6.0, 10.0, 30.0, 120.0):
        for max_attempts in (1, 2, 3, 5, 10):
            plan = RetryPlan.within(deadline, max_attempts=max_attempts, connect_timeout=5.0, read_timeout=15.0)
            assert 1 <= plan.attempts <= max_attempts
            assert plan.connect_timeout <= plan.read_timeout <= 15.0 and plan.connect_timeout <= 5.0
            # The worst case of botocore's jittered backoff, then every attempt waiting its full read timeout.
            backoff = sum(min(2.0 ** (i - 1), 20.0) for i in range(1, plan.attempts))
            assert backoff <= deadline / 2
            if plan.read_timeout > 0.5:  # above the floor, the attempts share what is left
                assert backoff + plan.attempts * plan.read_timeout <= deadline + 1e-9
    # The default [auth] deadline and [aws] settings: 3 attempts of at most 2.33 s.
    plan = RetryPlan.within(10.0, max_attempts=5, connect_timeout=5.0, read_timeout=15.0)
    assert plan.attempts == 3 and round(plan.read_timeout, 2) == 2.33


async def test_a_write_failing_mid_login_issues_no_session_and_counts_nothing(
    clean_aws: Any, down_service: AuthService
) -> None:
    """GetItem answers, the conditional UpdateItem that records the outcome does not."""

    auth = down_service
    before = await auth.store.get(ADMIN)
    store_down(clean_aws, DOWN, operation="UpdateItem")
    for password in (ADMIN_PASSWORD, "wrong password!!"):
        with pytest.raises(StoreUnavailable):
            await auth.login(ADMIN, password)
    clean_aws.clear_faults()
    after = await auth.store.get(ADMIN)
    assert after == before  # not a byte changed: no failure counted, no login stamped
    assert (await auth.login(ADMIN, ADMIN_PASSWORD)).username == ADMIN


async def test_checks_and_admin_actions_fail_closed(clean_aws: Any, down_service: AuthService) -> None:
    auth = down_service
    session = await auth.login(ADMIN, ADMIN_PASSWORD)
    store_down(clean_aws, DOWN)
    with pytest.raises(StoreUnavailable):
        await auth.check(session.token)
    with pytest.raises(StoreUnavailable):
        await auth.create_user(session, username="carol", password="a long enough password", role="user")
    clean_aws.clear_faults()
    assert await auth.store.get("carol") is None
    assert (await auth.check(session.token)).username == ADMIN


# -- the command line ---------------------------------------------------------------------------


@pytest.fixture
def cli(clean_aws: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: Any) -> CliEnv:
    cli = make_cli_env(clean_aws, tmp_path, monkeypatch, capsys)
    data = clean_aws.config_dict()
    data["aws"]["max_attempts"] = 2
    data["auth"] = {"store_timeout_seconds": STORE_SECONDS}
    cli.config_path.write_text(dump_toml(data))
    return cli


def unavailable(result: Any) -> None:
    assert result.code == EXIT_UNAVAILABLE, (result.code, result.err)
    assert len(result.lines) == 1, result.err
    assert result.lines[0].startswith("heartbeat: ") and "user store unreachable" in result.lines[0]
    assert "Traceback" not in result.out + result.err


def test_headless_commands_exit_75_with_one_line(clean_aws: Any, cli: CliEnv) -> None:
    assert cli.login(ADMIN, ADMIN_PASSWORD).code == 0
    store_down(clean_aws, DOWN)
    unavailable(cli.login(ADMIN, ADMIN_PASSWORD))
    unavailable(cli.run("whoami"))
    unavailable(cli.run("snapshot", "--format", "csv"))
    unavailable(cli.run("users", "list"))
    unavailable(cli.run("users", "disable", ADMIN))
    unavailable(
        cli.run(
            "users", "create", "--username", "carol", "--role", "user", "--password-stdin", stdin="a long password!\n"
        )
    )
    unavailable(cli.run("keys", "rotate"))
    clean_aws.clear_faults()
    store_down(clean_aws, HANGS)
    started = time.monotonic()
    unavailable(cli.run("whoami"))
    assert time.monotonic() - started < STORE_SECONDS * 4
    clean_aws.clear_faults()
    # Back: the session still works (it was never refused), nothing was changed.
    who = cli.run("whoami")
    assert who.code == 0 and ADMIN in who.out
    listing = cli.run("users", "list", "--format", "json")
    assert listing.code == 0 and '"carol"' not in listing.out and '"active": true' in listing.out
    assert cli.login(ADMIN, ADMIN_PASSWORD).code == 0


def test_a_real_process_exits_75(clean_aws: Any, cli: CliEnv) -> None:
    store_down(clean_aws, DOWN)
    result = cli.process("login", "--username", ADMIN, "--password-stdin", stdin=ADMIN_PASSWORD + "\n")
    unavailable(result)


# -- the dashboard ------------------------------------------------------------------------------


def fleet_hidden(app: Any, source: FilteringSource) -> None:
    assert app.session is None and app.snapshot is None and app.view is None
    assert [type(s) for s in app.screen_stack] == [LockedScreen, LoginScreen]
    text = screen_text(app)
    for account in source.snapshot.accounts:
        assert account.alias not in text and account.id not in text


async def test_login_screen_while_the_store_is_down(
    clean_aws: Any, shared_config: Config, down_service: AuthService
) -> None:
    source = FilteringSource()
    app = make_secure_app(shared_config, source)
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: isinstance(app.screen, LoginScreen) and not app.screen.busy_now)
        store_down(clean_aws, DOWN)
        screen = app.screen
        await submit_login(pilot, app)
        await wait_until(pilot, lambda: not screen.busy_now, timeout=15)
        assert screen.error_text.startswith("user store unreachable"), screen.error_text
        assert "user store unreachable" in screen_text(app)
        assert app.session is None and source.polls == []
        clean_aws.clear_faults()
        await submit_login(pilot, app)
        await wait_until(pilot, lambda: app.session is not None and app.polls_applied >= 1, timeout=15)
        assert isinstance(app.screen, DashboardScreen)
    assert (await down_service.store.get(ADMIN)).failed_attempts == 0


async def submit_login(pilot: Any, app: Any) -> None:
    from textual.widgets import Input

    screen = app.screen
    screen.query_one("#username", Input).value = ADMIN
    screen.query_one("#password", Input).value = ADMIN_PASSWORD
    screen.query_one("#password", Input).focus()
    await pilot.press("enter")


async def logged_in_app(pilot: Any, app: Any) -> None:
    await wait_until(pilot, lambda: isinstance(app.screen, LoginScreen) and not app.screen.busy_now)
    await submit_login(pilot, app)
    await wait_until(pilot, lambda: app.session is not None and app.polls_applied >= 1, timeout=15)


async def test_mid_session_the_check_fails_closed_then_the_dashboard_comes_back(
    clean_aws: Any, shared_config: Config, down_service: AuthService
) -> None:
    source = FilteringSource()
    clock = ManualScheduler()  # the retries run on a hand-driven clock
    app = make_secure_app(shared_config, source, scheduler=clock, monotonic=clock.monotonic)
    async with app.run_test(size=SIZE) as pilot:
        await logged_in_app(pilot, app)
        assert "payments-prod" in screen_text(app)
        app.store_retry_seconds = 0.3
        store_down(clean_aws, DOWN)
        app.call_later(app.check_session)
        await wait_until(pilot, lambda: isinstance(app.screen, LoginScreen), timeout=15)
        fleet_hidden(app, source)
        message = app.screen.error_text
        assert message.startswith(f"Session of {ADMIN} not verified: user store unreachable"), message
        assert "Nothing of the fleet is shown" in message and "retrying every 0.3 s" in message
        assert "not verified" in screen_text(app)
        polls = len(source.polls)
        # Retries keep failing while it is down: still nothing shown, nothing polled.
        await wait_until(pilot, lambda: clock.pending == [clock.now + 0.3])
        for _ in range(3):
            clock.advance(0.3)
            await wait_until(pilot, lambda: clock.pending == [clock.now + 0.3], timeout=15)  # failed, re-armed
            fleet_hidden(app, source)
        assert len(source.polls) == polls
        assert not await app.run_action("refresh") or len(source.polls) == polls
        # Back: the same session resumes on its own, on a fresh dashboard.
        clean_aws.clear_faults()
        clock.advance(0.3)
        await wait_until(
            pilot, lambda: isinstance(app.screen, DashboardScreen) and app.snapshot is not None, timeout=15
        )
        assert app.session is not None and app.session.username == ADMIN
        assert "payments-prod" in screen_text(app) and len(source.polls) > polls


async def test_a_session_revoked_while_unverified_stays_on_the_login_screen(
    clean_aws: Any, shared_config: Config, down_service: AuthService
) -> None:
    source = FilteringSource()
    clock = ManualScheduler()
    app = make_secure_app(shared_config, source, scheduler=clock, monotonic=clock.monotonic)
    async with app.run_test(size=SIZE) as pilot:
        await logged_in_app(pilot, app)
        token = app.session.token
        app.store_retry_seconds = 0.3
        store_down(clean_aws, DOWN, operation="GetItem")  # reads fail; the revocation (PutItem) goes through
        app.call_later(app.check_session)
        await wait_until(pilot, lambda: isinstance(app.screen, LoginScreen), timeout=15)
        fleet_hidden(app, source)
        await down_service.logout(token)
        clean_aws.clear_faults()
        await wait_until(pilot, lambda: clock.pending == [clock.now + 0.3])
        clock.advance(0.3)
        await wait_until(pilot, lambda: "logged out" in app.screen.error_text, timeout=15)
        assert clock.pending == []  # nothing more is re-checked
        fleet_hidden(app, source)
        assert app.sessions.unverified is None
        # And a login from that screen works as usual.
        await submit_login(pilot, app)
        await wait_until(pilot, lambda: app.session is not None and app.polls_applied >= 1, timeout=15)
