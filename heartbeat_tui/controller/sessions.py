"""Sessions of the dashboard behind a login: the policy, and the checks that keep it true.

`SessionPolicy` is the access policy the controller is given: nothing without a
session; with one, its accounts and what its role allows. `SessionKeeper`
starts and ends sessions and checks them with the users store every
`[auth].session_check_seconds`: a refused session ends at once; one that cannot
be checked fails closed (nothing of the fleet shown) and is re-checked every
`retry_seconds` until the store answers. Plain asyncio: the app is its view.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import ClassVar, Protocol

from heartbeat_tui.auth import Permission, Session, SessionInvalid
from heartbeat_tui.controller.access import Action, Refused
from heartbeat_tui.controller.dashboard import DashboardController
from heartbeat_tui.controller.scheduler import Cancellable, Scheduler
from heartbeat_tui.errors import HeartbeatError

log = logging.getLogger(__name__)

STORE_RETRY_SECONDS = 15.0


def unverified_message(username: str, reason: str, retry_seconds: float) -> str:
    return (
        f"Session of {username} not verified: {reason}. Nothing of the fleet is shown until it is;"
        f" retrying every {retry_seconds:g} s (or log in again)."
    )


class SessionPolicy:
    """The access policy of the dashboard behind a login (`AccessPolicy`).

    A forced refresh is checked again by the users store (`authorize_refresh`,
    the app's call, which also ends a refused session)."""

    REFUSALS: ClassVar[dict[str, str]] = {
        "refresh": "a forced refresh needs the admin role",
        "admin": "user administration needs the admin role",
        "logout": "no session to log out of",
    }

    def __init__(self, authorize_refresh: Callable[[Session], Awaitable[None]]) -> None:
        self.session: Session | None = None
        self._authorize_refresh = authorize_refresh

    @property
    def active(self) -> bool:
        return self.session is not None

    @property
    def scope(self) -> frozenset[str] | None:
        return frozenset() if self.session is None else self.session.account_scope

    def permits(self, action: Action) -> bool:
        session = self.session
        if session is None:
            return False
        if action == "refresh":
            return session.can(Permission.FORCE_REFRESH)
        if action == "admin":
            return session.can(Permission.MANAGE_USERS)
        return True

    async def authorize(self, action: Action) -> None:
        session = self.session
        if session is None or not self.permits(action):
            raise Refused(self.REFUSALS[action])
        if action == "refresh":
            await self._authorize_refresh(session)


class SessionChecker(Protocol):
    """The users store's word on a session (`AuthGate.check`)."""

    async def check(self, session: Session) -> Session: ...


class SessionView(Protocol):
    """What the keeper asks of the app's screens."""

    async def show_session(self, session: Session) -> None:
        """A fresh dashboard for `session`: nothing carried over from before."""

    async def show_login(self, reason: str, *, busy: bool) -> None:
        """Nothing of the fleet anywhere: the login screen, with `reason`."""

    def login_ready(self, reason: str) -> None:
        """The login screen (up already) takes input again, with `reason`."""


class SessionKeeper:
    """Owns the current session: starts, checks, suspends and ends it."""

    def __init__(
        self,
        policy: SessionPolicy,
        controller: DashboardController,
        checker: SessionChecker,
        view: SessionView,
        scheduler: Scheduler,
        *,
        check_seconds: float,
        retry_seconds: float = STORE_RETRY_SECONDS,
    ) -> None:
        self.policy = policy
        self.controller = controller
        self.checker = checker
        self.view = view
        self.scheduler = scheduler
        self.check_seconds = check_seconds
        self.retry_seconds = retry_seconds
        # A session whose check could not reach the store: not shown, re-checked until it can be.
        self.unverified: Session | None = None
        self._check_timer: Cancellable | None = None
        self._retry_timer: Cancellable | None = None

    @property
    def session(self) -> Session | None:
        return self.policy.session

    async def start(self, session: Session) -> None:
        self._forget_unverified()
        self.policy.session = session
        await self.view.show_session(session)
        self._arm_check()
        log.info("session of %s (%s) started", session.username, session.role)
        self.controller.begin()  # the session's accounts, unpaused, polling

    async def end(self, reason: str, *, busy: bool = False) -> None:
        """Back to the login screen with `reason`; nothing of the fleet is kept."""

        if self.policy.session is not None:
            log.info("session of %s ended: %s", self.policy.session.username, reason)
        self._forget_unverified()
        self.policy.session = None
        self._stop(self._check_timer)
        self._check_timer = None
        self.controller.forget()
        await self.view.show_login(reason, busy=busy)

    def _arm_check(self) -> None:
        self._stop(self._check_timer)
        self._check_timer = self.scheduler.call_later(self.check_seconds, self._check_due)

    def _check_due(self) -> None:
        self._check_timer = None
        self.check_soon()
        if self.policy.session is not None:
            self._arm_check()

    def check_soon(self) -> None:
        """Check the session with the users store now, in the background."""

        self.scheduler.spawn(self.check(), group="session-check")

    async def check(self) -> None:
        session = self.policy.session
        if session is None:
            return
        try:
            fresh = await self.checker.check(session)
        except SessionInvalid as exc:
            if self.policy.session is session:
                await self.end(exc.reason)
            return
        except Exception as exc:  # unverifiable: fail closed, retry soon
            if self.policy.session is session:
                await self._suspend(session, exc)
            return
        if self.policy.session is not session:
            return
        if fresh.account_scope != session.account_scope:
            # The allow-list changed: forget what was shown and poll the new scope.
            await self.end("Applying the new account allow-list…", busy=True)
            await self.start(fresh)
        else:
            self.policy.session = fresh

    async def _suspend(self, session: Session, exc: BaseException) -> None:
        """Fail closed: a session that cannot be verified shows nothing of the fleet."""

        reason = str(exc) if isinstance(exc, HeartbeatError) else f"session check failed ({type(exc).__name__})"
        log.warning("session of %s not verified, fleet hidden: %s", session.username, reason)
        await self.end(unverified_message(session.username, reason, self.retry_seconds))
        self.unverified = session
        self._retry_timer = self.scheduler.call_later(self.retry_seconds, self._retry_due)

    def _retry_due(self) -> None:
        self._retry_timer = None
        self.scheduler.spawn(self._recheck_unverified(), group="session-check")

    def _forget_unverified(self) -> None:
        self.unverified = None
        self._stop(self._retry_timer)
        self._retry_timer = None

    async def _recheck_unverified(self) -> None:
        session = self.unverified
        if session is None or self.policy.session is not None:
            return
        try:
            fresh = await self.checker.check(session)
        except SessionInvalid as exc:
            if self.unverified is session:
                self._forget_unverified()
                self.view.login_ready(exc.reason)
            return
        except Exception as exc:  # still unreachable: keep the fleet hidden, try again
            if self.unverified is session:
                log.info("session of %s still not verified: %s", session.username, exc)
                self._retry_timer = self.scheduler.call_later(self.retry_seconds, self._retry_due)
            return
        if self.unverified is session and self.policy.session is None:
            log.info("session of %s verified again: dashboard back", session.username)
            await self.start(fresh)

    def close(self) -> None:
        """The dashboard is going: no more checks."""

        for timer in (self._check_timer, self._retry_timer):
            self._stop(timer)
        self._check_timer = self._retry_timer = None

    @staticmethod
    def _stop(timer: Cancellable | None) -> None:
        if timer is not None:
            timer.cancel()
