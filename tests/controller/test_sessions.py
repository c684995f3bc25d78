"""Sessions kept true in plain asyncio: checks on a hand-driven clock, a fake store, no Textual."""

from __future__ import annotations

import dataclasses

import pytest

from heartbeat_tui.auth import Role, Session, SessionInvalid, StoreError
from heartbeat_tui.controller import DashboardController, ManualScheduler, Refused
from heartbeat_tui.controller.sessions import SessionKeeper, SessionPolicy
from tests.support.controller import IDS, FakeSource, Recorder


def session(role: Role = Role.USER, accounts: tuple[str, ...] = (IDS[0],), jti: str = "one") -> Session:
    return Session("ann", role, accounts, jti, 0.0, 3600.0, token="t-" + jti)


class Store:
    """Answers checks with `answer` (a Session, or an exception to raise)."""

    def __init__(self) -> None:
        self.answer: Session | Exception | None = None
        self.checks = 0

    async def check(self, current: Session) -> Session:
        self.checks += 1
        answer = self.answer or current
        if isinstance(answer, Exception):
            raise answer
        return answer


class Screens:
    """The keeper's view: what the operator would see."""

    def __init__(self) -> None:
        self.shown: list[str] = []

    async def show_session(self, current: Session) -> None:
        self.shown.append(f"dashboard of {current.username}")

    async def show_login(self, reason: str, *, busy: bool) -> None:
        self.shown.append(f"login: {reason}")

    def login_ready(self, reason: str) -> None:
        self.shown.append(f"ready: {reason}")


async def refused_by_store(current: Session) -> None:
    raise Refused("")


def keeper() -> tuple[SessionKeeper, FakeSource, Store, Screens, ManualScheduler]:
    source, clock, store, screens = FakeSource(), ManualScheduler(), Store(), Screens()
    policy = SessionPolicy(refused_by_store)
    made = DashboardController(source, Recorder(), clock, monotonic=clock.monotonic, policy=policy, interval_seconds=30)
    kept = SessionKeeper(policy, made, store, screens, clock, check_seconds=300.0, retry_seconds=15.0)
    return kept, source, store, screens, clock


async def test_a_session_polls_its_accounts_and_is_checked_on_the_clock() -> None:
    kept, source, store, screens, clock = keeper()
    assert not kept.policy.active and not kept.policy.permits("refresh")
    await kept.start(session())
    await clock.drain()
    assert screens.shown == ["dashboard of ann"] and source.polls == [(IDS[0],)]
    assert kept.policy.permits("logout") and not kept.policy.permits("admin")
    clock.advance(299.0)
    await clock.drain()
    assert store.checks == 0
    clock.advance(1.0)
    await clock.drain()
    assert store.checks == 1 and kept.session is not None


async def test_a_refused_session_ends_and_polls_nothing_more() -> None:
    kept, source, store, screens, clock = keeper()
    await kept.start(session())
    await clock.drain()
    store.answer = SessionInvalid("the session's role has changed; log in again")
    kept.check_soon()
    await clock.drain()
    assert kept.session is None and screens.shown[-1] == "login: the session's role has changed; log in again"
    polls = len(source.polls)
    clock.advance(3600.0)
    await clock.drain()
    assert len(source.polls) == polls and store.checks == 1  # no poll and no check without a session


async def test_a_changed_allow_list_restarts_the_session_on_the_new_scope() -> None:
    kept, source, store, screens, clock = keeper()
    await kept.start(session())
    await clock.drain()
    store.answer = dataclasses.replace(session(accounts=(IDS[1],)), token="t-one")
    kept.check_soon()
    await clock.drain()
    assert screens.shown[-2:] == ["login: Applying the new account allow-list…", "dashboard of ann"]
    assert source.polls[-1] == (IDS[1],)


async def test_an_unverifiable_session_fails_closed_and_comes_back_by_itself() -> None:
    kept, source, store, screens, clock = keeper()
    await kept.start(session())
    await clock.drain()
    store.answer = StoreError("user store unreachable")
    kept.check_soon()
    await clock.drain()
    assert kept.session is None and kept.unverified is not None
    assert screens.shown[-1].startswith("login: Session of ann not verified: user store unreachable")
    polls = len(source.polls)
    clock.advance(15.0)  # still down: hidden, re-armed
    await clock.drain()
    assert kept.session is None and len(source.polls) == polls and clock.pending == [30.0]
    store.answer = None  # back
    clock.advance(15.0)
    await clock.drain()
    assert kept.session is not None and kept.unverified is None and len(source.polls) == polls + 1


async def test_a_session_revoked_while_unverified_leaves_the_login_ready() -> None:
    kept, _, store, screens, clock = keeper()
    await kept.start(session())
    store.answer = StoreError("down")
    kept.check_soon()
    await clock.drain()
    store.answer = SessionInvalid("logged out")
    clock.advance(15.0)
    await clock.drain()
    assert screens.shown[-1] == "ready: logged out" and kept.unverified is None and clock.pending == []


async def test_refresh_is_refused_to_a_user_and_asked_of_the_store_for_an_admin() -> None:
    kept, source, _, _, clock = keeper()
    await kept.start(session())
    await clock.drain()
    with pytest.raises(Refused, match="a forced refresh needs the admin role"):
        await kept.controller.refresh()
    await kept.end("bye")
    await kept.start(session(Role.ADMIN, ()))
    await clock.drain()
    polls = len(source.polls)
    with pytest.raises(Refused):  # the store says no (refused_by_store)
        await kept.controller.refresh()
    await clock.drain()
    assert len(source.polls) == polls and source.relists == 0
