"""Untrusted text (issue 11): whatever AWS, the configuration or a user puts in
a name, a reason or an error, what reaches the terminal holds no control
sequence of theirs, nothing is parsed as markup, and the dashboard keeps
polling. Checked on the bytes the app writes to its terminal."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from heartbeat_tui.models import (
    AccountStatus,
    Container,
    FleetSnapshot,
    ScalingActivity,
    ScalingPolicy,
    ServiceDetail,
    ServiceEvent,
    Task,
)
from heartbeat_tui.tui.screens.account_error import AccountErrorScreen
from heartbeat_tui.tui.screens.detail import ServiceDetailScreen
from heartbeat_tui.tui.screens.fleet import FleetServicesScreen
from tests.tui.conftest import make_app, wait_until
from tests.tui.factory import FIXED_NOW, ScriptedSource, make_snapshot
from tests.tui.screen_text import screen_text
from tests.tui.terminal_capture import INJECTED_SEQUENCES, recording_driver, unsafe_in_terminal_output

#: What an attacker writes: clipboard (OSC 52) and title (OSC 0) sequences,
#: colours, a device-status request, bidi overrides, C1 controls, DEL, and
#: Textual/Rich markup (a link that does not close, actions). Lone surrogates
#: are in tests/unit/test_untrusted.py (xdist cannot carry them in a report).
PIECES = (
    "\x1b]52;c;SGVhcnRCZWF0\x07",
    "\x1b]0;pwned\x07",
    "\x1b]8;;http://x\x1b\\",
    "\x1b[31;7m",
    "\x9b31m",
    "\x1b",
    "\x07",
    "\x00",
    "\x7f",
    "\x85",
    "\r",
    "\n",
    "\t",
    "\u202e",
    "\u2066",
    "\u200f",
    "\u061c",
    "\u2028",
    "[link='x]",
    "[@click=app.quit]",
    "[reverse]",
    "[/]",
    "[b",
    "$x",
    *INJECTED_SEQUENCES,
)
untrusted = st.lists(st.one_of(st.sampled_from(PIECES), st.text(max_size=6)), min_size=1, max_size=5).map("".join)
FIELDS = (
    "alias",
    "error",
    "warning",
    "region_error",
    "cluster",
    "service",
    "status",
    "rollout",
    "reason",
    "task_definition",
    "event",
    "activity",
    "cause",
    "status_code",
    "status_message",
    "policy",
    "stopped_reason",
    "stop_code",
    "task_status",
    "zone",
    "detail_error",
    "poll_error",
)
texts = st.fixed_dictionaries({name: untrusted for name in FIELDS})


def poisoned(
    t: dict[str, str], *, failing: bool, desired: int = 0, rollout_failed: bool | None = None
) -> FleetSnapshot:
    """A small fleet with every AWS-supplied field of account 0's first service
    (and of its account) set from `t`; `failing`: account 0 in error."""

    rollout_failed = failing if rollout_failed is None else rollout_failed
    base = make_snapshot(accounts=2, clusters=1, services=2)
    account = base.accounts[0]
    region = account.regions[0]
    cluster = region.clusters[0]
    service = cluster.services[0]
    deployment = service.deployments[0].model_copy(
        update={
            "status": t["status"],
            "rollout_state": "FAILED" if rollout_failed else t["rollout"],
            "rollout_state_reason": t["reason"],
            "task_definition": t["task_definition"],
        }
    )
    service = service.model_copy(
        update={
            "name": t["service"],
            "status": t["status"],
            "desired_count": service.desired_count + desired,
            "task_definition": t["task_definition"],
            "launch_type": t["zone"],
            "deployments": (deployment,),
            "events": (ServiceEvent(id="e1", created_at=FIXED_NOW, message=t["event"]),),
            "scaling_activities": (
                ScalingActivity(
                    activity_id="a1",
                    resource_id="service/x/y",
                    description=t["activity"],
                    cause=t["cause"],
                    status_code=t["status_code"],
                    status_message=t["status_message"],
                    start_time=FIXED_NOW - timedelta(minutes=5),
                ),
            ),
        }
    )
    cluster = cluster.model_copy(update={"name": t["cluster"], "services": (service, *cluster.services[1:])})
    region = region.model_copy(
        update={
            "clusters": (cluster,),
            "errors": (t["region_error"],) if failing else (),
            "stale": ("ecs", "metrics") if failing else (),
            "fetched_at": FIXED_NOW - timedelta(hours=1) if failing else FIXED_NOW,
        }
    )
    account = account.model_copy(
        update={
            "alias": t["alias"],
            "status": AccountStatus.ERROR if failing else AccountStatus.OK,
            "error": t["error"] if failing else None,
            "warnings": (t["warning"],),
            "last_success_at": FIXED_NOW - timedelta(hours=1) if failing else FIXED_NOW,
            "regions": (region,),
        }
    )
    return base.model_copy(update={"accounts": (account, *base.accounts[1:])})


def poisoned_detail(t: dict[str, str]) -> ServiceDetail:
    return ServiceDetail(
        account_id="210987654321",
        region="us-east-1",
        cluster_arn="arn:aws:ecs:us-east-1:210987654321:cluster/x",
        service_name=t["service"],
        fetched_at=FIXED_NOW,
        tasks=(
            Task(
                arn="arn:aws:ecs:us-east-1:210987654321:task/x/0123456789abcdef",
                id=t["task_status"] + "0123456789abcdef",
                last_status=t["task_status"],
                desired_status=t["task_status"],
                health_status=t["task_status"],
                availability_zone=t["zone"],
                stop_code=t["stop_code"],
                stopped_reason=t["stopped_reason"],
                containers=(Container(name=t["zone"], reason=t["stopped_reason"]),),
            ),
        ),
        policies=(ScalingPolicy(name=t["policy"], policy_type=t["status_code"], resource_id="service/x/y"),),
        errors=(t["detail_error"],),
    )


class PoisonedSource(ScriptedSource):
    """Scripted polls, then a failing one whose error is untrusted text."""

    def __init__(self, *snapshots: FleetSnapshot, fail_with: str, **kwargs: Any) -> None:
        super().__init__(*snapshots, **kwargs)
        self.fail_with = fail_with
        self.fail_next = False

    async def poll(self, only=None) -> FleetSnapshot:  # noqa: ANN001
        if self.fail_next:
            self.fail_next = False
            raise RuntimeError(self.fail_with)
        return await super().poll(only)


async def tour(t: dict[str, str]) -> tuple[str, Any]:
    """Every screen shows the poisoned fleet; returns what reached the terminal."""

    sink: list[str] = []
    source = PoisonedSource(
        poisoned(t, failing=False),
        poisoned(t, failing=True, desired=2),
        fail_with=t["poll_error"],
        detail=poisoned_detail(t),
    )
    app = make_app(source)
    app.driver_class = recording_driver(sink)
    async with app.run_test(headless=False, size=(120, 40), notifications=True) as pilot:
        await wait_until(pilot, lambda: app.polls_applied == 1, timeout=30)
        # The second poll: account 0 in error, its service failed and scaled (three toasts).
        app.start_poll()
        await wait_until(pilot, lambda: app.polls_applied == 2 and not app.polling, timeout=30)
        await pilot.press("j", "k")  # the accounts pane: account 0's info and banner
        await pilot.pause()
        app.push_screen(
            AccountErrorScreen(app.view.accounts[app.view.snapshot.accounts[0].id], app.view.snapshot.accounts[0])
        )
        await pilot.pause()
        await pilot.press("escape")
        app.push_screen(FleetServicesScreen())
        await pilot.pause()
        await pilot.press("slash", *"[link", "enter")  # the operator's own filter text, echoed
        await pilot.pause()
        await pilot.press("escape", "escape")
        service_arn = app.view.snapshot.accounts[0].regions[0].clusters[0].services[0].arn
        app.push_screen(ServiceDetailScreen(service_arn))
        await wait_until(
            pilot, lambda: isinstance(app.screen, ServiceDetailScreen) and app.screen.detail is not None, timeout=30
        )
        await pilot.press("end")
        await pilot.pause()
        # A poll that fails with untrusted text: a toast and the header.
        source.fail_next = True
        app.start_poll()
        await wait_until(pilot, lambda: app.last_poll_error is not None and not app.polling, timeout=30)
        app.pop_screen()
        await pilot.pause()
        # And polling goes on.
        app.start_poll()
        await wait_until(pilot, lambda: app.polls_applied == 3 and not app.polling, timeout=30)
        await pilot.pause(0.1)
        assert app.is_running and app.crash_reason is None
    return "".join(sink), app


@settings(max_examples=4, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(texts)
def test_no_untrusted_control_sequence_reaches_the_terminal(t: dict[str, str]) -> None:
    output, app = asyncio.run(tour(t))
    assert output, "the recording driver saw nothing"
    assert app.crash_reason is None
    assert unsafe_in_terminal_output(output) == []


def test_a_stopped_reason_is_shown_with_visible_escapes() -> None:
    """The issue's case, readable: the operator sees that something odd is
    there, and the terminal gets neither OSC 52 (clipboard) nor OSC 0 (title)."""

    t = dict.fromkeys(FIELDS, "plain")
    t["stopped_reason"] = "Essential container exited \x1b]52;c;SGVhcnRCZWF0\x07\x1b]0;pwned\x07\u202eevil"
    output, _ = asyncio.run(tour(t))
    assert "\x1b]52" not in output and "\x1b]0;" not in output
    assert "\\x1b]52;c;SGVhcnRCZWF0\\x07\\x1b]0;pwned\\x07\\u202eevil" in output.replace("\x1b[0m", "")


async def test_markup_in_names_and_errors_is_shown_literally_and_does_not_crash() -> None:
    """A toast built from names and AWS errors once made the app exit with
    MarkupError on the next poll; markup in cells was silently interpreted."""

    t = dict.fromkeys(FIELDS, "plain")
    t.update(alias="[link='x]acct", error="[link='x]denied", service="[@click=app.quit]svc", cluster="[reverse]c0")
    source = ScriptedSource(
        poisoned(t, failing=False),
        poisoned(t, failing=False, desired=1, rollout_failed=True),
        poisoned(t, failing=True, desired=1),
    )
    app = make_app(source)
    async with app.run_test(size=(120, 40), notifications=True) as pilot:
        await wait_until(pilot, lambda: app.polls_applied == 1, timeout=30)
        app.start_poll()
        await wait_until(pilot, lambda: app.polls_applied == 2 and not app.polling, timeout=30)
        await pilot.pause(0.1)
        # Toasts and panes show the text as it is (not eaten as an action, not used as a style).
        text = screen_text(app)
        assert "deployment failed: [@click=app.quit]svc ([link='x]acct)" in text
        assert "scaled: [@click=app.quit]svc" in text
        assert "[reverse]c0" in text
        app.start_poll()
        await wait_until(pilot, lambda: app.polls_applied == 3 and not app.polling, timeout=30)
        await pilot.pause(0.1)
        assert "[link='x]acct went to error: [link='x]denied" in screen_text(app)
        assert app.is_running and app.crash_reason is None
