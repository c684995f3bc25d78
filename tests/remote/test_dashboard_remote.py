"""The dashboard on a real `heartbeat serve` (`--server`): logged in against the
service, the same panes as a local dashboard given the same poll, pushed every
new poll, stale with its age while the server is away and back by itself; and
however many dashboards watch, AWS sees one poller."""

from __future__ import annotations

import asyncio
import re
from datetime import datetime, timedelta, timezone
from typing import Any

from heartbeat_tui.controller import scoped
from heartbeat_tui.remote.client import RemoteClient
from heartbeat_tui.remote.source import RemoteSource
from heartbeat_tui.tui.remote_gate import RemoteGate
from heartbeat_tui.tui.secure_app import SecureApp
from tests.auth.cli_support import CliEnv
from tests.auth.tui_support import SIZE, FilteringSource, login, make_secure_app
from tests.remote.support import ThreadedServer
from tests.support.auth import ADMIN, ADMIN_PASSWORD, PASSWORD
from tests.support.configs import HUB, PAYMENTS
from tests.support.pilot import wait_until
from tests.support.screen_text import screen_lines


class Clock:
    """The dashboards' wall clock: real time plus what the test adds."""

    def __init__(self) -> None:
        self.offset = timedelta()

    def __call__(self) -> datetime:
        return datetime.now(timezone.utc) + self.offset


class Pauses:
    """RemoteSource's sleep between reconnection attempts: recorded, not waited."""

    def __init__(self) -> None:
        self.seconds: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.seconds.append(seconds)
        await asyncio.sleep(0.01)


def remote_app(
    cli: CliEnv, server: ThreadedServer, clock: Any, pauses: Pauses | None = None, check_seconds: float = 3600.0
) -> SecureApp:
    client = RemoteClient(server.url)
    source = RemoteSource(client, wait_seconds=20, sleep=pauses or Pauses())
    gate = RemoteGate(server.url, client, check_seconds=check_seconds)
    return make_secure_app(cli.config, source, gate=gate, clock=clock, interval_seconds=0.05)


def header(app: SecureApp) -> str:
    return screen_lines(app)[0]


async def test_same_panes_as_a_local_dashboard_and_pushed_each_new_poll(cli: CliEnv, server: ThreadedServer) -> None:
    await asyncio.to_thread(cli.create, "uma", "user", PASSWORD, PAYMENTS)
    clock = Clock()
    frozen = clock()
    app = remote_app(cli, server, lambda: frozen)
    async with app.run_test(size=SIZE) as pilot:
        await login(pilot, app, "uma", PASSWORD)
        assert app.session is not None and app.session.role.value == "user"
        await wait_until(pilot, lambda: app.polls_applied >= 1, timeout=20)
        remote_screen = screen_lines(app)
        first = server.hub.snapshot
        assert first is not None
        # Pushed: the server polls, the dashboard shows it, no key pressed.
        applied = app.polls_applied
        await asyncio.to_thread(server.poll)
        await wait_until(pilot, lambda: app.polls_applied > applied, timeout=20)
        assert app.state.snapshot is not None
        assert app.state.snapshot.generated_at == server.hub.snapshot.generated_at != first.generated_at
        assert {a.id for a in app.state.snapshot.accounts} == {PAYMENTS}

    # A local dashboard given the very same poll (cut to uma's accounts) shows the same screen.
    local = make_secure_app(cli.config, FilteringSource(scoped(first, frozenset({PAYMENTS}))), clock=lambda: frozen)
    async with local.run_test(size=SIZE) as pilot:
        await login(pilot, local, "uma", PASSWORD)
        await wait_until(pilot, lambda: local.polls_applied >= 1, timeout=20)
        local_screen = screen_lines(local)
    # Every pane alike; the header differs only in what the poller does next (the remote one is
    # waiting on its server's next poll, the local one on its own timer).
    assert local_screen[1:] == remote_screen[1:]
    # (so the worst thing is cut to the room each header leaves: its start is the same).
    local_header, remote_header = local_screen[0].split(" · "), remote_screen[0].split(" · ")
    assert local_header[:2] == remote_header[:2] and local_header[2][:24] == remote_header[2][:24]
    assert "payments-prod" in "\n".join(remote_screen)


async def test_stale_with_its_age_while_the_server_is_away_then_back(cli: CliEnv, server: ThreadedServer) -> None:
    clock, pauses = Clock(), Pauses()
    # Session checks every 0.2 s: a server away does not end the session (its last poll stays, stale).
    app = remote_app(cli, server, clock, pauses, check_seconds=0.2)
    async with app.run_test(size=SIZE) as pilot:
        await login(pilot, app, ADMIN, ADMIN_PASSWORD)
        await wait_until(pilot, lambda: app.polls_applied >= 1, timeout=20)
        assert "stale" not in header(app)
        server.stop()
        clock.offset = timedelta(minutes=3)  # the data ages while the server is away
        await wait_until(pilot, lambda: re.search(r"\d+ stale \(\d+ ?m", header(app)) is not None, timeout=20)
        await wait_until(pilot, lambda: len(pauses.seconds) >= 3, timeout=20)
        assert pauses.seconds[:3] == [1.0, 2.0, 4.0]  # backing off, by itself
        await pilot.pause(0.5)  # session checks fall due meanwhile
        assert app.session is not None and "stale" in header(app)
        shown = app.state.snapshot
        assert shown is not None and all(f"{server.url} unreachable since" in (a.error or "") for a in shown.accounts)
        server.start()
        await asyncio.to_thread(server.poll)
        # Reconnecting may first fetch the poll from before the outage (fresh, so not stale) while
        # the new one is still on its way: wait for the new one, which must not be stale either.
        newest = server.hub.snapshot.generated_at
        await wait_until(pilot, lambda: shows(app, newest) and "stale" not in header(app), timeout=30)


def shows(app: SecureApp, generated_at: datetime) -> bool:
    return app.state.snapshot is not None and app.state.snapshot.generated_at == generated_at


def aws_calls(aws: Any) -> int:
    return sum(row["count"] for row in aws.stats() if row["service"] != "dynamodb")


async def test_many_dashboards_and_api_clients_cost_aws_one_pollers_calls(cli: CliEnv, server: ThreadedServer) -> None:
    await asyncio.to_thread(server.poll)  # warm: aliases and service lists read once
    cli.aws.reset_stats()
    await asyncio.to_thread(server.poll)
    alone = server.hub.snapshot
    assert alone is not None and aws_calls(cli.aws) == alone.stats.total_calls > 0

    clock = Clock()
    apps = [remote_app(cli, server, clock) for _ in range(3)]
    async with apps[0].run_test(size=SIZE) as p0, apps[1].run_test(size=SIZE) as p1, apps[2].run_test(size=SIZE) as p2:
        pilots = (p0, p1, p2)
        for app, pilot in zip(apps, pilots):
            await login(pilot, app, ADMIN, ADMIN_PASSWORD)
        for app, pilot in zip(apps, pilots):
            await wait_until(pilot, lambda app=app: app.polls_applied >= 1, timeout=20)
        # And two API clients long-polling beside them.
        token = (await asyncio.to_thread(cli.admin_session)).token
        clients = [RemoteClient(server.url, token) for _ in range(2)]
        etags = [(await c.fleet())[1] for c in clients]
        try:
            for _ in range(2):
                cli.aws.reset_stats()
                waits = [asyncio.ensure_future(c.fleet(e, wait=30)) for c, e in zip(clients, etags)]
                await asyncio.sleep(0.2)  # parked on the server
                generation = await asyncio.to_thread(server.poll)
                snapshot = server.hub.snapshot
                assert snapshot is not None
                polled_at = snapshot.generated_at
                for app, pilot in zip(apps, pilots):
                    await wait_until(pilot, lambda app=app, at=polled_at: shows(app, at), timeout=20)
                answers = await asyncio.gather(*waits)
                assert all(got is not None and got.generated_at == polled_at for got, _ in answers)
                etags = [etag for _, etag in answers]
                # Three dashboards and two API clients: one poller's calls.
                assert aws_calls(cli.aws) == snapshot.stats.total_calls
                assert server.hub.generation == generation
        finally:
            for c in clients:
                await c.aclose()


async def test_details_come_through_the_api_and_a_refresh_asks_the_server(cli: CliEnv, server: ThreadedServer) -> None:
    token = (await asyncio.to_thread(cli.admin_session)).token
    source = RemoteSource(RemoteClient(server.url, token))
    try:
        snapshot = await source.poll()
        account = next(a for a in snapshot.accounts if a.id == PAYMENTS)
        region, cluster, service = next(iter(account.services()))
        detail = await source.fetch_service_detail(account.id, region.region, cluster.arn, service.name)
        direct = server.call(
            server.collector.fetch_service_detail(account.id, region.region, cluster.arn, service.name)
        )
        assert detail.tasks and [t.arn for t in detail.tasks] == [t.arn for t in direct.tasks]
        assert detail.model_dump(exclude={"fetched_at", "stats"}) == direct.model_dump(exclude={"fetched_at", "stats"})
        # The direct read came second: the task definition was cached by then, one call fewer.
        assert detail.stats.calls_of("DescribeTaskDefinition") == 1 + direct.stats.calls_of("DescribeTaskDefinition")
        # `r` in the dashboard: the next poll asks the server for one now, and returns it.
        before = server.hub.generation
        source.relist_next_poll()
        refreshed = await asyncio.wait_for(source.poll(), 60)
        assert server.hub.generation == before + 1
        assert refreshed.generated_at == server.hub.snapshot.generated_at != snapshot.generated_at
    finally:
        await source.aclose()


async def test_a_refused_session_is_raised_not_shown_as_stale(cli: CliEnv, server: ThreadedServer) -> None:
    from heartbeat_tui.auth import SessionInvalid

    token = (await asyncio.to_thread(cli.admin_session)).token
    pauses = Pauses()
    source = RemoteSource(RemoteClient(server.url, token), sleep=pauses)
    try:
        await source.poll()
        async with RemoteClient(server.url, token) as other:  # a logout through the server: revoked at once
            await other.json("POST", "/api/v1/auth/logout")
        try:
            await source.poll()
        except SessionInvalid:
            pass
        else:
            raise AssertionError("a revoked token's poll returned data")
        assert source.connected and pauses.seconds == []  # not an outage: no reconnecting
    finally:
        await source.aclose()


async def test_a_dashboard_whose_session_the_server_revokes_returns_to_the_login(
    cli: CliEnv, server: ThreadedServer
) -> None:
    from heartbeat_tui.tui.screens.login import LoginScreen

    app = remote_app(cli, server, Clock())  # session checks only hourly: the refused poll is what ends it
    async with app.run_test(size=SIZE) as pilot:
        await login(pilot, app, ADMIN, ADMIN_PASSWORD)
        await wait_until(pilot, lambda: app.polls_applied >= 1, timeout=20)
        assert app.session is not None
        async with RemoteClient(server.url, app.session.token) as other:
            await other.json("POST", "/api/v1/auth/logout")
        await asyncio.to_thread(server.poll)  # the long-poll answers: refused
        await wait_until(pilot, lambda: app.session is None and isinstance(app.screen, LoginScreen), timeout=20)
        assert app.state.snapshot is None


async def test_logs_come_through_the_api_cut_to_the_session(cli: CliEnv, server: ThreadedServer) -> None:
    from datetime import timedelta

    import pytest

    from heartbeat_tui.models import LogQuery, utcnow
    from heartbeat_tui.remote.client import ServerRefused

    admin = await asyncio.to_thread(cli.admin_session)
    source = RemoteSource(RemoteClient(server.url, admin.token))
    outsider = RemoteClient(server.url, "")
    try:
        snapshot = await source.poll()
        account = next(a for a in snapshot.accounts if a.id == PAYMENTS)
        region, cluster, service = next(
            (r, c, s) for r, c, s in account.services() if s.running_count > 0 and s.rollout_state != "FAILED"
        )
        query = LogQuery(
            account_id=account.id,
            region=region.region,
            cluster_arn=cluster.arn,
            service_name=service.name,
            start=utcnow() - timedelta(minutes=30),
        )
        remote = await source.fetch_logs(query)
        direct = server.call(server.collector.fetch_logs(query))
        assert remote.lines and [line.event_id for line in remote.lines] == [line.event_id for line in direct.lines]
        assert remote.containers == direct.containers and remote.query == query
        # A `user` allowed only the hub account: the payments service reads as absent.
        server.call(server.auth.create_user(admin, username="hubonly", password=PASSWORD, role="user", accounts=[HUB]))
        await outsider.login("hubonly", PASSWORD)
        with pytest.raises(ServerRefused, match="no account"):
            await outsider.logs(query)
    finally:
        await source.aclose()
        await outsider.aclose()
