"""The dashboard behind a login: `HeartbeatApp` plus sessions and roles.

* Nothing of the fleet before a login: the app starts on the login screen and
  shows nothing of the fleet; a stored session (`heartbeat login`,
  `HEARTBEAT_TOKEN`) that still checks out skips the prompt. On the real fleet
  nothing is polled before a login either. The demo (`prefetch=True`: an
  embedded AWS, no real account) polls while its login form is up, so the
  first data is painted the moment the demo admin logs in; what it fetched is
  shown only inside a session, cut to that session's accounts.
* After a login the collector is asked only for the session's accounts
  (`ScopedSource`), and a snapshot holding any other account is dropped: the
  controller is given a `SessionPolicy` (auth_gate.py), which owns that rule.
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
from textual.timer import Timer

from heartbeat_tui.auth import (
    LoginFailed,
    PermissionDenied,
    Session,
    SessionInvalid,
    StoreError,
)
from heartbeat_tui.auth.errors import LOGIN_FAILED
from heartbeat_tui.controller import FleetSource, Refused
from heartbeat_tui.errors import HeartbeatError
from heartbeat_tui.tui.app import HeartbeatApp
from heartbeat_tui.tui.auth_gate import AuthGate, SessionPolicy
from heartbeat_tui.tui.messages import AdminCall, AdminRequested, LoginRequested, LogoutRequested
from heartbeat_tui.tui.screens.admin import AdminScreen, Handled
from heartbeat_tui.tui.screens.dashboard import DashboardScreen
from heartbeat_tui.tui.screens.login import LockedScreen, LoginScreen

log = logging.getLogger(__name__)
T = TypeVar("T")

STORE_RETRY_SECONDS = 15.0
LOGGED_OUT = "Logged out."


def unverified_message(username: str, reason: str, retry_seconds: float) -> str:
    return (
        f"Session of {username} not verified: {reason}. Nothing of the fleet is shown until it is;"
        f" retrying every {retry_seconds:g} s (or log in again)."
    )


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
        self._check_timer: Timer | None = None
        # A session whose check could not reach the store: not shown, re-checked until it can be.
        self.store_retry_seconds = STORE_RETRY_SECONDS
        self._unverified: Session | None = None
        self._unverified_timer: Timer | None = None

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
        except Exception as exc:  # noqa: BLE001 - shown on the login screen, logged
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
        except Exception as exc:  # noqa: BLE001 - shown on the login screen, logged
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
        except Exception as exc:  # noqa: BLE001
            log.exception("login failed unexpectedly")
            self._login_screen().ready(f"login failed: {type(exc).__name__}")
        else:
            await self.start_session(session)

    # -- sessions ---------------------------------------------------------------------

    async def start_session(self, session: Session) -> None:
        self._forget_unverified()
        self.policy.session = session
        self.state = replace(self.state, user=f"{session.username} ({session.role})")
        # A new dashboard for every session: nothing carried over from the last one.
        await self._reset_screens()
        await self.push_screen(DashboardScreen())
        if self._check_timer is not None:
            self._check_timer.stop()
        self._check_timer = self.set_interval(self.gate.check_seconds, self.check_session, name="session-check")
        log.info("session of %s (%s) started", session.username, session.role)
        self.refresh_bindings()
        self.controller.begin()  # the session's accounts, unpaused, polling

    async def end_session(self, reason: str, *, busy: bool = False) -> None:
        """Back to the login screen with `reason`; every screen that showed the fleet is gone."""

        if self.session is not None:
            log.info("session of %s ended: %s", self.session.username, reason)
        self._forget_unverified()
        self.policy.session = None
        if self._check_timer is not None:
            self._check_timer.stop()
            self._check_timer = None
        self._forget_fleet()
        await self._reset_screens()
        await self.push_screen(LoginScreen(reason, notice=self.notice, busy=busy))
        self.refresh_bindings()

    def _forget_fleet(self) -> None:
        self.controller.forget()
        self.state = replace(self.state, snapshot=None, view=None, user=None)

    async def _reset_screens(self) -> None:
        """Back to the blank base screen: every other screen (and its widgets) is removed."""

        while len(self.screen_stack) > 1:
            await self.pop_screen()

    @work(exclusive=True, group="session-check", exit_on_error=False)
    async def check_session(self) -> None:
        """Check the session with the users store now (also every `[auth].session_check_seconds`)."""

        session = self.session
        if session is None:
            return
        try:
            fresh = await self.gate.check(session)
        except SessionInvalid as exc:
            if self.session is session:
                await self.end_session(exc.reason)
            return
        except Exception as exc:  # noqa: BLE001 - unverifiable: fail closed, retry soon
            if self.session is session:
                await self._suspend_session(session, exc)
            return
        if self.session is not session:
            return
        if fresh.account_scope != session.account_scope:
            # The allow-list changed: forget what was shown and poll the new scope.
            await self.end_session("Applying the new account allow-list…", busy=True)
            await self.start_session(fresh)
        else:
            self.policy.session = fresh

    async def _suspend_session(self, session: Session, exc: BaseException) -> None:
        """Fail closed: a session that cannot be verified shows nothing of the fleet."""

        reason = str(exc) if isinstance(exc, HeartbeatError) else f"session check failed ({type(exc).__name__})"
        log.warning("session of %s not verified, fleet hidden: %s", session.username, reason)
        await self.end_session(unverified_message(session.username, reason, self.store_retry_seconds))
        self._unverified = session
        self._unverified_timer = self.set_timer(self.store_retry_seconds, self._recheck_unverified)

    def _forget_unverified(self) -> None:
        self._unverified = None
        if self._unverified_timer is not None:
            self._unverified_timer.stop()
            self._unverified_timer = None

    @work(exclusive=True, group="session-check", exit_on_error=False)
    async def _recheck_unverified(self) -> None:
        session = self._unverified
        if session is None or self.session is not None:
            return
        try:
            fresh = await self.gate.check(session)
        except SessionInvalid as exc:
            if self._unverified is session:
                self._forget_unverified()
                self._login_screen().ready(exc.reason)
            return
        except Exception as exc:  # noqa: BLE001 - still unreachable: keep the fleet hidden, try again
            if self._unverified is session:
                log.info("session of %s still not verified: %s", session.username, exc)
                self._unverified_timer = self.set_timer(self.store_retry_seconds, self._recheck_unverified)
            return
        if self._unverified is session and self.session is None:
            log.info("session of %s verified again: dashboard back", session.username)
            await self.start_session(fresh)

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

    def action_logout(self) -> None:
        self.post_message(LogoutRequested())

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
        except Exception as exc:  # noqa: BLE001 - the screen that asked deals with it (or it was Handled)
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
