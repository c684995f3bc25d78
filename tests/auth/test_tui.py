"""The login and admin screens through Pilot: nothing before a login, role gating
by key, palette and action, sessions that end when the store says so."""

from __future__ import annotations

import asyncio
import dataclasses
import itertools
from typing import Any

import pytest
from textual.widgets import DataTable, Input, Select, SelectionList

from heartbeat_tui.auth import Role
from heartbeat_tui.auth.service import AuthService, Session
from heartbeat_tui.auth.session_file import delete_token, load_token, save_token, token_path
from heartbeat_tui.tui.commands import HeartbeatCommands
from heartbeat_tui.tui.screens.admin import AdminScreen, FormScreen
from heartbeat_tui.tui.screens.confirm import ConfirmScreen
from heartbeat_tui.tui.screens.dashboard import DashboardScreen
from heartbeat_tui.tui.screens.login import LockedScreen, LoginScreen
from heartbeat_tui.tui.secure_app import SecureApp
from tests.support.auth import ADMIN, ADMIN_PASSWORD, PASSWORD
from tests.support.factory import account_id
from tests.support.pilot import Notes, wait_until
from tests.support.screen_text import screen_text

from .tui_support import SIZE, FilteringSource, logged_in, login, make_secure_app

PAYMENTS_ID = account_id(1)


async def test_nothing_before_login(config: Any, service: AuthService, admin: Session) -> None:
    source = FilteringSource()
    app = make_secure_app(config, source)
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: isinstance(app.screen, LoginScreen) and not app.screen.busy_now)
        await pilot.pause(0.1)
        text = screen_text(app)
        assert "Checking" not in text
        assert "log in" in text and "Username" in text and "Password" in text
        assert "5 failed logins in a row lock an account for 15" in text and "an admin can unlock it" in text
        for account in source.snapshot.accounts:
            assert account.alias not in text and account.id not in text
        assert source.polls == [] and app.snapshot is None
        # No way around it: refresh, admin and palette commands are refused without a session.
        for key in ("r", "a", "L"):
            await pilot.press("escape", key)  # escape: out of the input
        await pilot.pause()
        assert source.polls == [] and isinstance(app.screen, LoginScreen)
        assert not await app.run_action("admin") and not await app.run_action("refresh")


async def test_wrong_password_then_login(config: Any, service: AuthService, admin: Session) -> None:
    source = FilteringSource()
    app = make_secure_app(config, source)
    async with app.run_test(size=SIZE) as pilot:
        await login(pilot, app, ADMIN, "wrong password!!", typed=True)
        assert app.session is None and isinstance(app.screen, LoginScreen)
        assert app.screen.error_text == "Invalid username or password."
        assert app.screen.query_one("#password", Input).value == ""
        await login(pilot, app, "nobody", "wrong password!!")
        assert app.screen.error_text == "Invalid username or password."
        assert source.polls == []
        await logged_in(pilot, app)
        assert isinstance(app.screen, DashboardScreen)
        text = screen_text(app)
        assert f"{ADMIN} (admin)" in text and "payments-prod" in text
        assert source.polls[0] is None or set(source.polls[-1] or ()) <= set(source.account_ids)
        stored = load_token()
        assert stored is not None and stored.token == app.session.token
        assert ADMIN_PASSWORD not in token_path().read_text()


async def test_a_user_sees_only_its_accounts(config: Any, service: AuthService, admin: Session) -> None:
    await service.create_user(admin, username="bob", password=PASSWORD, role="user", accounts=[PAYMENTS_ID])
    source = FilteringSource()
    app = make_secure_app(config, source)
    async with app.run_test(size=SIZE) as pilot:
        await logged_in(pilot, app, "bob", PASSWORD)
        assert all(only == (PAYMENTS_ID,) for only in source.polls)
        assert [a.id for a in app.snapshot.accounts] == [PAYMENTS_ID]
        text = screen_text(app)
        assert "payments-prod" in text and "shared-services" not in text and "checkout-staging" not in text
        assert "bob (user)" in text
        # A detail of another account is refused before it reaches the collector.
        with pytest.raises(Exception, match="allow-list"):
            await app.source.fetch_service_detail(account_id(0), "us-east-1", "arn", "svc")
        assert source.details == []


@pytest.mark.parametrize("role", ["monitor", "user"])
async def test_no_admin_screen_by_key_palette_or_action(
    config: Any, service: AuthService, admin: Session, role: str
) -> None:
    await service.create_user(
        admin, username="viewer", password=PASSWORD, role=role, accounts=[PAYMENTS_ID] if role == "user" else None
    )
    source = FilteringSource()
    app = make_secure_app(config, source)
    notes = Notes()
    async with app.run_test(size=SIZE, message_hook=notes) as pilot:
        await logged_in(pilot, app, "viewer", PASSWORD)
        polls = len(source.polls)
        await pilot.press("a")
        await pilot.pause()
        assert not isinstance(app.screen, AdminScreen)
        await pilot.press("r")
        await pilot.pause()
        assert len(source.polls) == polls  # no forced refresh either, and the key says why
        assert notes.said(f"r (poll now) is for admins; as {role} you see a new poll every")
        assert not await app.run_action("admin")
        app.action_admin()  # even called directly: refused
        await pilot.pause()
        assert not isinstance(app.screen, AdminScreen)
        titles = [title async for title in palette_titles(app)]
        assert "Users" not in titles and "Refresh" not in titles and "Log out" in titles
        assert "Users" not in screen_text(app).splitlines()[-1]  # the footer
        # Pushed by hand, the screen gets nothing from the core.
        app.push_screen(AdminScreen())
        await pilot.pause(0.3)
        await wait_until(pilot, lambda: notes.said("needs the admin role"))
        assert app.screen.query_one(DataTable).row_count == 0


async def palette_titles(app: SecureApp):
    """What the command palette offers here (the provider's public `discover`)."""
    provider = HeartbeatCommands(app.screen)
    async for hit in provider.discover():
        yield hit.text


async def test_admin_manages_users_from_the_keyboard(config: Any, service: AuthService, admin: Session) -> None:
    await service.create_user(admin, username="bob", password=PASSWORD, role="user", accounts=[PAYMENTS_ID])
    app = make_secure_app(config)
    notes = Notes()
    async with app.run_test(size=SIZE, message_hook=notes) as pilot:
        await logged_in(pilot, app)
        assert "Users" in screen_text(app).splitlines()[-1]
        await pilot.press("a")
        await wait_until(pilot, lambda: isinstance(app.screen, AdminScreen) and app.screen.users)
        screen = app.screen
        text = screen_text(app)
        for column in ("Username", "Role", "Active", "Locked", "Last login", "Allowed accounts"):
            assert column in text
        assert PAYMENTS_ID in text and f"{ADMIN} (admin)" in text

        # New user: errors per field first, nothing written.
        await pilot.press("n")
        await wait_until(pilot, lambda: isinstance(app.screen, FormScreen))
        form = app.screen
        await pilot.press(*"X", "enter", *"short", "enter", *"short", "ctrl+s")
        await wait_until(pilot, lambda: form.error_of("username") != "")
        assert "3-64" in form.error_of("username") and "at least 12" in form.error_of("password")
        assert await service.store.get("X") is None
        form.query_one("#username", Input).value = "carol"
        form.query_one("#password", Input).value = PASSWORD
        form.query_one("#confirm", Input).value = "something else!!"
        await pilot.press("ctrl+s")
        await wait_until(pilot, lambda: form.error_of("confirm") == "the two passwords differ")
        form.query_one("#confirm", Input).value = PASSWORD
        form.query_one("#role", Select).value = "monitor"
        form.query_one("#email", Input).value = "carol@example.com"
        await pilot.press("ctrl+s")
        await wait_until(pilot, lambda: app.screen is screen and "carol" in screen.users)
        assert (await service.get_user(admin, "carol")).email == "carol@example.com"
        assert screen.users["carol"].role is Role.MONITOR

        # A duplicate: the existing user is untouched.
        await pilot.press("n")
        await wait_until(pilot, lambda: isinstance(app.screen, FormScreen))
        form = app.screen
        for name, value in (("username", "carol"), ("password", "another password!"), ("confirm", "another password!")):
            form.query_one(f"#{name}", Input).value = value
        await pilot.press("ctrl+s")
        await wait_until(pilot, lambda: "already exists" in form.error_of("username"))
        await pilot.press("escape")
        await wait_until(pilot, lambda: app.screen is screen)
        assert (await service.login("carol", PASSWORD)).role is Role.MONITOR

        # Row actions on bob.
        table = screen.query_one(DataTable)
        table.move_cursor(row=table.get_row_index("bob"))
        await pilot.press("e")  # disabling is asked first: `n` keeps bob as he is
        await wait_until(pilot, lambda: isinstance(app.screen, ConfirmScreen))
        assert "Disable bob?" in screen_text(app)
        await pilot.press("n")
        await wait_until(pilot, lambda: app.screen is screen)
        assert screen.users["bob"].active
        await pilot.press("e", "y")
        await wait_until(pilot, lambda: not screen.users["bob"].active)
        await pilot.press("e")
        await wait_until(pilot, lambda: screen.users["bob"].active)
        await pilot.press("o")
        await wait_until(pilot, lambda: isinstance(app.screen, FormScreen))
        app.screen.query_one("#role", Select).value = "monitor"
        await pilot.press("ctrl+s")
        await wait_until(pilot, lambda: screen.users["bob"].role is Role.MONITOR)
        await pilot.press("o")
        await wait_until(pilot, lambda: isinstance(app.screen, FormScreen))
        app.screen.query_one("#role", Select).value = "user"
        await pilot.press("ctrl+s")
        await wait_until(pilot, lambda: screen.users["bob"].role is Role.USER)
        await pilot.press("c")
        await wait_until(pilot, lambda: isinstance(app.screen, FormScreen))
        picks = app.screen.query_one("#accounts", SelectionList)
        picks.deselect_all()
        picks.select(account_id(0))
        picks.select(PAYMENTS_ID)
        await pilot.press("ctrl+s")
        await wait_until(pilot, lambda: screen.users["bob"].accounts == (account_id(0), PAYMENTS_ID))
        for _ in range(5):
            with pytest.raises(Exception):  # noqa: B017
                await service.login("bob", "wrong password!!")
        await pilot.press("u")  # not locked: said so, nothing done
        await wait_until(pilot, lambda: notes.said("bob is not locked"))
        await pilot.press("R")
        await wait_until(pilot, lambda: screen.users["bob"].locked)
        assert "until " in screen_text(app)
        await pilot.press("u")
        await wait_until(pilot, lambda: not screen.users["bob"].locked)
        await pilot.press("p")
        await wait_until(pilot, lambda: isinstance(app.screen, FormScreen))
        await pilot.press(*"a brand new password", "enter", *"a brand new password", "enter")
        await wait_until(pilot, lambda: app.screen is screen)
        assert (await service.login("bob", "a brand new password")).username == "bob"
        # The admin cannot remove the last admin, and says why.
        table.move_cursor(row=table.get_row_index(ADMIN))
        await pilot.press("e", "y")
        await wait_until(pilot, lambda: notes.said("last active admin"))
        await pilot.press("escape")
        assert isinstance(app.screen, DashboardScreen)


async def test_session_checked_while_running(config: Any, service: AuthService, admin: Session) -> None:
    await service.create_user(admin, username="wall", password=PASSWORD, role="monitor")
    source = FilteringSource()
    app = make_secure_app(config, source)
    async with app.run_test(size=SIZE) as pilot:
        await logged_in(pilot, app, "wall", PASSWORD)
        assert "payments-prod" in screen_text(app)
        await service.set_role(admin, "wall", "user")
        app.call_later(app.check_session)
        await wait_until(pilot, lambda: isinstance(app.screen, LoginScreen) and app.session is None)
        assert app.screen.error_text == "the session's role has changed; log in again"
        assert app.snapshot is None and app.view is None
        text = screen_text(app)
        assert "payments-prod" not in text and "shared-services" not in text
        # No screen that showed the fleet is left underneath.
        assert [type(s) for s in app.screen_stack] == [LockedScreen, LoginScreen]


async def test_allow_list_changes_take_effect(config: Any, service: AuthService, admin: Session) -> None:
    await service.create_user(
        admin, username="bob", password=PASSWORD, role="user", accounts=[PAYMENTS_ID, account_id(0)]
    )
    source = FilteringSource()
    app = make_secure_app(config, source)
    async with app.run_test(size=SIZE) as pilot:
        await logged_in(pilot, app, "bob", PASSWORD)
        assert {a.id for a in app.snapshot.accounts} == {PAYMENTS_ID, account_id(0)}
        await service.set_accounts(admin, "bob", [PAYMENTS_ID])
        app.call_later(app.check_session)
        await wait_until(
            pilot, lambda: app.snapshot is not None and [a.id for a in app.snapshot.accounts] == [PAYMENTS_ID]
        )
        assert "shared-services" not in screen_text(app)


async def test_logout_everywhere(config: Any, service: AuthService, admin: Session) -> None:
    app = make_secure_app(config)
    async with app.run_test(size=SIZE) as pilot:
        await logged_in(pilot, app)
        token = app.session.token
        await pilot.press("a")
        await wait_until(pilot, lambda: isinstance(app.screen, AdminScreen))
        await pilot.press("L")  # asked first: `l` (next pane) is one shift away
        await wait_until(pilot, lambda: isinstance(app.screen, ConfirmScreen))
        await pilot.press("escape")
        await wait_until(pilot, lambda: isinstance(app.screen, AdminScreen))
        assert app.session is not None
        await pilot.press("L", "y")
        await wait_until(pilot, lambda: isinstance(app.screen, LoginScreen) and app.session is None)
        assert app.screen.error_text == "Logged out."
        await wait_until(pilot, lambda: not token_path().exists())
    with pytest.raises(Exception, match="logged out"):
        await service.check(token)


async def test_a_new_session_starts_unpaused(config: Any, service: AuthService, admin: Session) -> None:
    """A pause belongs to the session that made it: the next one polls on its timer."""

    app = make_secure_app(config)
    async with app.run_test(size=SIZE) as pilot:
        await logged_in(pilot, app)
        await pilot.press("p")
        assert app.paused
        await pilot.press("L", "enter")
        await wait_until(pilot, lambda: isinstance(app.screen, LoginScreen) and app.session is None)
        await logged_in(pilot, app)
        assert not app.paused
        await wait_until(pilot, lambda: app.next_poll_at is not None or app.polling)


async def test_a_stored_session_skips_the_prompt(config: Any, service: AuthService, admin: Session) -> None:
    save_token(admin.token)
    app = make_secure_app(config)
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: app.session is not None and app.polls_applied >= 1)
        assert app.session.username == ADMIN and isinstance(app.screen, DashboardScreen)


async def test_a_refused_stored_session_says_why(config: Any, service: AuthService, admin: Session) -> None:
    save_token(admin.token[:-4] + "AAAA")
    source = FilteringSource()
    app = make_secure_app(config, source)
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: isinstance(app.screen, LoginScreen) and not app.screen.busy_now)
        assert "session token is invalid" in app.screen.error_text
        assert source.polls == [] and app.session is None


async def test_hashing_keeps_the_screen_answering(config: Any, service: AuthService, admin: Session) -> None:
    """A login's hashing runs in a thread: the app handles keys meanwhile.

    At eight times this app's real cost (600,000 iterations, about 0.2 s here), so
    the hash outlasts any hiccup of a loaded machine: on the loop, it would be one
    gap of most of the wait; in a thread, no gap comes near half of it."""

    from .tui_support import make_gate

    gate = make_gate(config, iterations=8 * 600_000)
    app = make_secure_app(config, gate=gate)
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: isinstance(app.screen, LoginScreen) and not app.screen.busy_now)
        ticks: list[float] = []
        app.set_interval(0.01, lambda: ticks.append(asyncio.get_running_loop().time()))
        await pilot.click("#username")
        # An unknown user: verified against the dummy hash, at the real cost.
        await pilot.press(*"nobody-here", "enter", *"wrong password!!")
        started = asyncio.get_running_loop().time()
        await pilot.press("enter")
        await wait_until(pilot, lambda: not app.screen.busy_now and app.screen.error_text != "Checking…", timeout=20)
        elapsed = asyncio.get_running_loop().time() - started
        during = [t for t in ticks if started <= t]
        assert app.screen.error_text == "Invalid username or password."
        assert elapsed > 0.8  # PBKDF2 at 4,800,000 iterations really ran
        gaps = [b - a for a, b in itertools.pairwise(during)]
        assert gaps and max(gaps) < elapsed / 2  # the loop kept turning meanwhile
        await gate.aclose()


# -- property-based: whatever is typed into the forms ------------------------------------

from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from .strategies import accounts as account_texts  # noqa: E402
from .strategies import emails, full_names, passwords, usernames  # noqa: E402


def without_logins(record: Any) -> Any:
    """A user record without what a login changes (the admin logs in during the test)."""

    return dataclasses.replace(record, last_login_at=None, failed_attempts=0, last_failure_at=None)


FORM_SETTINGS = settings(
    max_examples=8, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow]
)


@FORM_SETTINGS
@given(username=usernames, password=st.one_of(passwords, st.just(ADMIN_PASSWORD)))
def test_login_form_with_any_input(config: Any, username: str, password: str) -> None:
    async def scenario() -> None:
        from heartbeat_tui.auth.service import open_auth

        async with open_auth(config, iterations=1000) as auth:
            await auth.store.ensure_tables()
            if await auth.store.get(ADMIN) is None:
                await auth.bootstrap_admin(ADMIN, ADMIN_PASSWORD)
            before = [without_logins(r) for r in await auth.store.all()]
        delete_token()  # each example starts logged out
        source = FilteringSource()
        app = make_secure_app(config, source)
        async with app.run_test(size=SIZE) as pilot:
            await wait_until(pilot, lambda: isinstance(app.screen, LoginScreen) and not app.screen.busy_now)
            screen = app.screen
            screen.query_one("#username", Input).value = username[:64]
            screen.query_one("#password", Input).value = password
            screen.query_one("#password", Input).focus()
            await pilot.press("enter")
            await wait_until(pilot, lambda: app.session is not None or not screen.busy_now, timeout=10)
            if app.session is not None:
                assert (username.strip(), password) == (ADMIN, ADMIN_PASSWORD)
                return
            assert screen.error_text in ("Invalid username or password.", "Enter a username.", "Enter the password.")
            assert screen.query_one("#password", Input).value == "" and source.polls == []
            assert app.snapshot is None and "payments-prod" not in screen_text(app)
            if len(password.strip()) >= 12 and password not in username:
                assert password not in screen_text(app)  # masked, then cleared
        assert app.return_code in (None, 0) and app.crash_reason is None
        async with open_auth(config, iterations=1000) as auth:  # only the lockout counters may move
            assert [without_logins(r) for r in await auth.store.all()] == before

    asyncio.run(scenario())


@settings(FORM_SETTINGS, max_examples=5)
@given(
    username=usernames,
    password=passwords,
    role=st.sampled_from(["user", "monitor", "admin"]),
    accounts=account_texts,
    email=emails,
    full_name=full_names,
    confirmed=st.booleans() | st.just(True),
)
def test_create_user_form_with_any_input(
    config: Any,
    tables: Any,
    username: str,
    password: str,
    role: str,
    accounts: str | None,
    email: str | None,
    full_name: str | None,
    confirmed: bool,
) -> None:
    async def scenario() -> None:
        from heartbeat_tui.auth.service import open_auth

        async with open_auth(config, iterations=1000) as auth:
            await auth.store.ensure_tables()
            if await auth.store.get(ADMIN) is None:
                await auth.bootstrap_admin(ADMIN, ADMIN_PASSWORD)
            before = await auth.store.all()
        delete_token()  # each example starts logged out
        app = make_secure_app(config)
        async with app.run_test(size=SIZE) as pilot:
            await logged_in(pilot, app)
            await pilot.press("a")
            await wait_until(pilot, lambda: isinstance(app.screen, AdminScreen) and app.screen.users)
            admin_screen = app.screen
            await pilot.press("n")
            await wait_until(pilot, lambda: isinstance(app.screen, FormScreen))
            form = app.screen
            for name, value in (
                ("username", username),
                ("password", password),
                ("confirm", password if confirmed else password + "x"),
                ("email", email or ""),
                ("full_name", full_name or ""),
            ):
                form.query_one(f"#{name}", Input).value = value
            # Allowed accounts are picked from the polled ones: only those can be chosen.
            for ident in (accounts or "").split(","):
                try:
                    form.query_one("#accounts", SelectionList).select(ident.strip())
                except Exception:  # not an account of the fleet: not on the list
                    pass
            form.query_one("#role", Select).value = role
            await pilot.press("ctrl+s")
            await wait_until(
                pilot,
                lambda: (
                    app.screen is admin_screen
                    or any(
                        form.error_of(f)
                        for f in ("username", "password", "confirm", "role", "accounts", "email", "full_name", "form")
                    )
                ),
                timeout=10,
            )
            created = app.screen is admin_screen
        async with open_auth(config, iterations=1000) as auth:
            after = [without_logins(r) for r in await auth.store.all()]
            before = [without_logins(r) for r in before]
            if created:
                assert confirmed
                assert [r.username for r in after if r not in before] == [username.strip()]
                tables.delete_item(TableName=config.users_table, Key={"username": {"S": username}})
            else:
                assert after == before
        assert app.crash_reason is None

    asyncio.run(scenario())


async def test_an_admin_forces_a_refresh(config: Any, service: AuthService, admin: Session) -> None:
    source = FilteringSource()
    app = make_secure_app(config, source)
    async with app.run_test(size=SIZE) as pilot:
        await logged_in(pilot, app)
        polls = len(source.polls)
        await pilot.press("r")
        await wait_until(pilot, lambda: len(source.polls) > polls and app.polls_applied >= 2)
    events = [(r["event"], r["actor"]) for r in await service.store.audit_records()]
    assert ("refresh", ADMIN) in events
