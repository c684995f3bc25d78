"""Property: whatever is typed into the login form and the new-user form (under
Pilot, the real screens and the real store on the embedded AWS), the screen says
what is wrong in one line, the app keeps running, nothing of the fleet appears
without a session, and the users table changes only by the user a valid form
creates (scan before/after)."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from textual.widgets import Input, Select, Static

from heartbeat_tui.auth.service import open_auth
from heartbeat_tui.auth.session_file import delete_token
from heartbeat_tui.config import Config
from heartbeat_tui.tui.screens.admin import AdminScreen, FormScreen
from heartbeat_tui.tui.screens.login import LoginScreen
from tests.tui.conftest import wait_until
from tests.tui.screen_text import screen_text

from .helpers import ADMIN, ADMIN_PASSWORD, FAST_ITERATIONS, PASSWORD, auth_config
from .test_properties import EXISTING, accounts, emails, full_names, passwords, usernames
from .tui_support import FilteringSource, make_secure_app

SIZE = (120, 40)
LOGIN_ANSWERS = {"Invalid username or password.", "Enter a username.", "Enter the password."}
# A few app runs, several submissions each: Pilot start-up is the expensive part.
FORMS = settings(
    max_examples=3,
    phases=[Phase.explicit, Phase.generate],  # no shrinking: each try is a whole app run
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


@pytest.fixture
def deployment(fleet_aws: Any) -> Config:
    # A high threshold: the fuzzed failures must not lock the admin the test logs in with.
    config = auth_config(fleet_aws, auth={"lockout_threshold": 100})

    async def setup() -> None:
        async with open_auth(config, iterations=FAST_ITERATIONS) as auth:
            await auth.store.ensure_tables()
            await auth.bootstrap_admin(ADMIN, ADMIN_PASSWORD)
            admin = await auth.login(ADMIN, ADMIN_PASSWORD)
            await auth.create_user(admin, username=EXISTING, password=PASSWORD, role="monitor")

    asyncio.run(setup())
    return config


async def users(auth: Any) -> dict[str, Any]:
    """A strongly consistent scan of the users table, by username."""

    return {r.username: r for r in await auth.store.all()}


def ignoring_login_stamps(records: dict[str, Any]) -> dict[str, Any]:
    """Failed logins move the lockout counters; nothing else may change."""

    import dataclasses

    return {
        name: dataclasses.replace(r, failed_attempts=0, last_failure_at=None, last_login_at=None)
        for name, r in records.items()
    }


@FORMS
@given(attempts=st.lists(st.tuples(usernames, passwords), min_size=1, max_size=8))
def test_login_form_takes_anything(deployment: Config, attempts: list[tuple[str, str]]) -> None:
    attempts = [(u, p) for u, p in attempts if (u.strip(), p) not in ((ADMIN, ADMIN_PASSWORD), (EXISTING, PASSWORD))]

    async def run() -> None:
        source = FilteringSource()
        app = make_secure_app(deployment, source)
        async with open_auth(deployment, iterations=FAST_ITERATIONS) as auth, app.run_test(size=SIZE) as pilot:
            before = await users(auth)
            for username, password in attempts:
                await wait_until(pilot, lambda: isinstance(app.screen, LoginScreen) and not app.screen._busy)
                screen = app.screen
                screen.query_one("#username", Input).value = username
                screen.query_one("#password", Input).value = password
                screen.query_one("#password", Input).focus()
                await pilot.press("enter")
                await wait_until(pilot, lambda screen=screen: not screen._busy, timeout=15)
                assert screen.error_text in LOGIN_ANSWERS, (username, password, screen.error_text)
                assert screen.query_one("#password", Input).value == ""  # never kept on the screen
                assert app.session is None and source.polls == [] and app.snapshot is None
                if password:
                    assert password not in screen_text(app) or password in screen.query_one("#username", Input).value
            after = await users(auth)
            assert ignoring_login_stamps(after) == ignoring_login_stamps(before)

    asyncio.run(run())


new_user = st.fixed_dictionaries(
    {
        "username": usernames,
        "password": passwords,
        "confirm_same": st.booleans() | st.just(True),
        "role": st.sampled_from(["user", "monitor", "admin"]),
        "accounts": accounts.map(lambda a: a or ""),
        "email": emails.map(lambda e: e or ""),
        "full_name": full_names.map(lambda n: n or ""),
    }
)


def form_error(form: FormScreen) -> str:
    return " ".join(str(w.render()) for w in form.query(".field-error, #form-error").results(Static)).strip()


@settings(FORMS, max_examples=2)
@given(forms=st.lists(new_user, min_size=2, max_size=5))
def test_new_user_form_takes_anything(deployment: Config, forms: list[dict[str, Any]]) -> None:
    delete_token()  # the last example's login was kept: start from the login screen

    async def run() -> None:
        app = make_secure_app(deployment, FilteringSource())
        async with open_auth(deployment, iterations=FAST_ITERATIONS) as auth, app.run_test(size=SIZE) as pilot:
            await wait_until(pilot, lambda: isinstance(app.screen, LoginScreen) and not app.screen._busy)
            app.screen.query_one("#username", Input).value = ADMIN
            app.screen.query_one("#password", Input).value = ADMIN_PASSWORD
            app.screen.query_one("#password", Input).focus()
            await pilot.press("enter")
            await wait_until(pilot, lambda: app.session is not None, timeout=15)
            await pilot.press("a")
            await wait_until(pilot, lambda: isinstance(app.screen, AdminScreen) and bool(app.screen.users))
            admin_screen = app.screen
            for values in forms:
                before = await users(auth)
                await pilot.press("n")
                await wait_until(pilot, lambda: isinstance(app.screen, FormScreen))
                form = app.screen
                for name in ("username", "password", "accounts", "email", "full_name"):
                    form.query_one(f"#{name}", Input).value = values[name]
                confirm = values["password"] if values["confirm_same"] else values["password"] + "x"
                form.query_one("#confirm", Input).value = confirm
                form.query_one("#role", Select).value = values["role"]
                await pilot.press("ctrl+s")
                await wait_until(
                    pilot,
                    lambda form=form: app.screen is not form or (not form._busy and form_error(form) != ""),
                    timeout=15,
                )
                after = await users(auth)
                if app.screen is form:
                    message = form_error(form)
                    assert "Traceback" not in message
                    assert after == before, values  # an invalid form writes nothing
                    await pilot.press("escape")
                    await wait_until(pilot, lambda: app.screen is admin_screen)
                    continue
                name = values["username"].strip()
                assert set(after) - set(before) == {name} and after[EXISTING] == before[EXISTING]
                assert values["confirm_same"] and after[name].role.value == values["role"]
                await wait_until(pilot, lambda name=name: name in admin_screen.users)
                await auth.store._client.delete_item(TableName=auth.store.users_table, Key={"username": {"S": name}})

    asyncio.run(run())
