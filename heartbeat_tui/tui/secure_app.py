"""The dashboard behind a login: `HeartbeatApp` plus sessions and roles.

The rules live below the shell: `SessionPolicy` (what a session may see and
do) and `SessionKeeper` (starting, checking, suspending, ending sessions), both
in controller/sessions.py; this app is their view (login and dashboard screens).

* Nothing of the fleet before a login: the app starts on the login screen and
  shows nothing of the fleet; a stored session (`heartbeat login`,
  `HEARTBEAT_TOKEN`) that still checks out skips the prompt. On the real fleet
  nothing is polled before a login either. The demo (`prefetch=True`: an
  embedded AWS, no real account) polls while its login form is up, so the
  first data is painted the moment the demo admin logs in; what it fetched is
  shown only inside a session, cut to that session's accounts.
* After a login the collector is asked only for the session's accounts
  (`ScopedSource`), and a snapshot holding any other account is dropped: the
  controller is given a `SessionPolicy`, which owns that rule.
* The session is checked again every `[auth].session_check_seconds`: a
  disabled user, a changed role, a revoked or expired token ends it at once,
  back to the login screen, with the fleet cleared from every screen.
* A check that cannot reach the users store fails closed: the fleet is
  cleared the same way and nothing is polled; the session is re-checked every
  `store_retry_seconds` and the dashboard comes back by itself once it checks
  out (or the login screen stays, with the reason, if it no longer does).
* `a` opens user administration and `r` forces a refresh, for admins only:
  hidden from others (keys, footer, palette) and refused by the core anyway.
  `L` logs out, everywhere.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import replace
from typing import Any, ClassVar, TypeVar

from textual import work
from textual.binding import Binding, BindingType
from textual.screen import Screen

from heartbeat_tui.auth import (
    LoginFailed,
    PermissionDenied,
    Session,
    SessionInvalid,
    StoreError,
)
from heartbeat_tui.auth.errors import LOGIN_FAILED
from heartbeat_tui.controller import FleetSource, Refused
from heartbeat_tui.controller.sessions import STORE_RETRY_SECONDS, SessionKeeper, SessionPolicy, unverified_message
from heartbeat_tui.errors import HeartbeatError
from heartbeat_tui.tui.app import HeartbeatApp
from heartbeat_tui.tui.auth_gate import AuthGate
from heartbeat_tui.tui.messages import AdminCall, AdminRequested, LoginRequested, LogoutRequested
from heartbeat_tui.tui.screens.admin import AdminScreen, Handled
from heartbeat_tui.tui.screens.dashboard import DashboardScreen
from heartbeat_tui.tui.screens.login import LockedScreen, LoginScreen

log = logging.getLogger(__name__)
T = TypeVar("T")

__all__ = ["LOGGED_OUT", "STORE_RETRY_SECONDS", "SecureApp", "lockout_notice", "unverified_message"]

LOGGED_OUT = "Logged out."


def lockout_notice(threshold: int, minutes: float) -> str:
    return f"{threshold} failed logins in a row lock an account for {minutes:g} minutes; an admin can unlock it."


class SecureApp(HeartbeatApp):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("a", "admin", "Users", id="app.admin"),
        Binding("L", "logout", "Log out", id="app.logout"),
    ]

    def __init__(
        self,
        source: FleetSource,
        *,
        gate: AuthGate,
        lockout: tuple[int, float] = (5, 15.0),
        prefetch: bool = False,
        **kwargs: Any,
    ) -> None:
        self.policy = SessionPolicy(self._authorize_refresh)
        # The controller polls nothing until the policy has a session.
        super().__init__(source, policy=self.policy, **kwargs)
        # Poll while the login form is up (the demo only: see the module's docstring).
        self._prefetch_wanted = prefetch
        self.gate = gate
        self.notice = lockout_notice(*lockout)
        # Starts, checks, suspends and ends sessions (controller/sessions.py); this app is its view.
        self.sessions = SessionKeeper(
            self.policy,
            self.controller,
            gate,
            self,
            self.controller.scheduler,
            check_seconds=gate.check_seconds,
            retry_seconds=STORE_RETRY_SECONDS,
        )

    @property
    def store_retry_seconds(self) -> float:
        """How often a session the store could not verify is checked again."""
        return self.sessions.retry_seconds

    @store_retry_seconds.setter
    def store_retry_seconds(self, seconds: float) -> None:
        self.sessions.retry_seconds = seconds

    # -- start ------------------------------------------------------------------------

    def get_default_screen(self) -> Screen[Any]:
        # The base of the stack shows nothing; a dashboard is pushed per session.
        return LockedScreen()

    def on_mount(self) -> None:
        # HeartbeatApp.on_mount runs too (Textual calls each class's handler); it
        # does not poll: the policy has no session yet.
        if self._prefetch_wanted:
            self.controller.prefetch()
        if self.gate.demo:
            # No stored session to check: the form (and the demo's credentials)
            # is up at once, and the users store is made ready behind it.
            self.push_screen(LoginScreen(notice=f"{self.gate.demo_hint}\n{self.notice}".strip()))
            self._prepare_store()
            return
        self.push_screen(LoginScreen("Checking the session…", notice=self.notice, busy=True))
        self._resume()

    @work(group="store", exit_on_error=False)
    async def _prepare_store(self) -> None:
        # A login typed meanwhile waits for this (AuthGate.service holds a lock).
        try:
            await self.gate.service()
        except Exception as exc:  # shown on the login screen, logged
            log.exception("the users store is not ready")
            if self.session is None:
                self._login_screen().ready(f"cannot reach the users store: {exc}")

    @work(exclusive=True, group="auth", exit_on_error=False)
    async def _resume(self) -> None:
        try:
            session = await self.gate.resume()
        except SessionInvalid as exc:
            self._login_screen().ready(exc.reason)
        except HeartbeatError as exc:
            self._login_screen().ready(str(exc))
        except Exception as exc:  # shown on the login screen, logged
            log.exception("session resume failed")
            self._login_screen().ready(f"cannot reach the users store: {type(exc).__name__}")
        else:
            if session is None:
                self._login_screen().ready("")
            else:
                await self.start_session(session)

    def _login_screen(self) -> LoginScreen:
        for screen in reversed(self.screen_stack):
            if isinstance(screen, LoginScreen):
                return screen
        screen = LoginScreen(notice=self.notice)
        self.push_screen(screen)
        return screen

    @property
    def session(self) -> Session | None:
        """The session shown, if any (held by the access policy)."""
        return self.policy.session

    def on_login_requested(self, message: LoginRequested) -> None:
        message.stop()
        self.attempt_login(message.username, message.password)

    @work(exclusive=True, group="auth", exit_on_error=False)
    async def attempt_login(self, username: str, password: str) -> None:
        try:
            session = await self.gate.login(username, password)
        except LoginFailed:
            self._login_screen().ready(LOGIN_FAILED[0].upper() + LOGIN_FAILED[1:] + ".")
        except HeartbeatError as exc:
            self._login_screen().ready(str(exc))
        except Exception as exc:
            log.exception("login failed unexpectedly")
            self._login_screen().ready(f"login failed: {type(exc).__name__}")
        else:
            await self.start_session(session)

    # -- sessions ---------------------------------------------------------------------

    async def start_session(self, session: Session) -> None:
        await self.sessions.start(session)

    async def end_session(self, reason: str, *, busy: bool = False) -> None:
        """Back to the login screen with `reason`; every screen that showed the fleet is gone."""
        await self.sessions.end(reason, busy=busy)

    def poll_failed(self, error: BaseException, text: str) -> None:
        if isinstance(error, SessionInvalid):  # a server refused the session's poll: checked now, not in minutes
            self.check_session()
            return
        super().poll_failed(error, text)

    def check_session(self) -> None:
        """Check the session with the users store now (it is also checked every `[auth].session_check_seconds`)."""
        self.sessions.check_soon()

    # -- the session keeper's view -----------------------------------------------------

    async def show_session(self, session: Session) -> None:
        self.state = replace(self.state, user=f"{session.username} ({session.role})")
        # A new dashboard for every session: nothing carried over from the last one.
        await self._reset_screens()
        await self.push_screen(DashboardScreen())
        self.refresh_bindings()

    async def show_login(self, reason: str, *, busy: bool) -> None:
        self.state = replace(self.state, snapshot=None, view=None, user=None)
        await self._reset_screens()
        await self.push_screen(LoginScreen(reason, notice=self.notice, busy=busy))
        self.refresh_bindings()

    def login_ready(self, reason: str) -> None:
        self._login_screen().ready(reason)

    def on_unmount(self) -> None:
        self.sessions.close()

    async def _reset_screens(self) -> None:
        """Back to the blank base screen: every other screen (and its widgets) is removed."""

        while len(self.screen_stack) > 1:
            await self.pop_screen()

    # -- intents ----------------------------------------------------------------------

    async def _authorize_refresh(self, session: Session) -> None:
        """The users store's word on a forced refresh (audited there); a refusal is already shown."""

        try:
            await self.admin_call(lambda auth, current: auth.authorize_refresh(current))
        except Handled:
            raise Refused("") from None

    def action_admin(self) -> None:
        self.post_message(AdminRequested())

    def on_admin_requested(self, message: AdminRequested) -> None:
        if not self.policy.permits("admin"):
            self.notify("user administration needs the admin role", severity="error")
            return
        if not isinstance(self.screen, AdminScreen):
            self.push_screen(AdminScreen())

    def key_r(self) -> None:
        """`r` that no binding took: the refresh binding is hidden from a session
        that may not force a poll; say why instead of nothing (Textual calls
        `key_<name>` for a key no binding handled)."""

        if self.session is None or self.policy.permits("refresh"):
            return
        role = self.session.role
        self.notify(
            f"r (poll now) is for admins; as {role} you see a new poll every {self.interval_seconds:g} s",
            severity="warning",
            timeout=4,
        )

    def action_logout(self) -> None:
        """`L` is one shift away from `l` (next pane): asked first."""

        from heartbeat_tui.tui.screens.confirm import ConfirmScreen

        def answered(yes: bool | None) -> None:
            if yes:
                self.post_message(LogoutRequested())

        if not isinstance(self.screen, ConfirmScreen):
            self.push_screen(ConfirmScreen("Log out? The session ends and the login form comes back."), answered)

    def on_logout_requested(self, message: LogoutRequested) -> None:
        self._logout()

    @work(exclusive=True, group="auth", exit_on_error=False)
    async def _logout(self) -> None:
        session = self.session
        await self.end_session(LOGGED_OUT)
        await self.gate.logout(session)

    def on_admin_call(self, message: AdminCall) -> None:
        message.stop()
        self.run_worker(self._admin_call(message), group="admin-call", exit_on_error=False)

    async def _admin_call(self, message: AdminCall) -> None:
        reply = message.reply
        try:
            result = await self.admin_call(message.work)
        except Exception as exc:  # the screen that asked deals with it (or it was Handled)
            if not reply.done():
                reply.set_exception(exc)
        else:
            if not reply.done():
                reply.set_result(result)

    async def admin_call(self, work: Callable[[Any, Session], Awaitable[T]]) -> T:
        """`work(auth, session)` with the current session. A refused, ended or
        unreachable session is dealt with here (notification or login screen)
        and `Handled` is raised; input errors go back to the caller."""

        session = self.session
        if session is None:
            raise Handled
        try:
            auth = await self.gate.service()
            return await work(auth, session)
        except SessionInvalid as exc:
            if self.session is session:
                await self.end_session(exc.reason)
            raise Handled from None
        except PermissionDenied as exc:
            self.notify(str(exc), severity="error")
            raise Handled from None
        except StoreError as exc:
            self.notify(str(exc), severity="error")
            raise Handled from None
