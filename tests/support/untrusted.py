"""Untrusted text for tests: what an attacker could put in any field AWS, the
configuration or a user supplies, and a fleet with all of it in place."""

from __future__ import annotations

from datetime import timedelta

from hypothesis import strategies as st

from heartbeat_tui.models import (
    AccountStatus,
    Container,
    ContainerDefinition,
    FleetSnapshot,
    LogConfiguration,
    ScalingActivity,
    ScalingPolicy,
    ServiceDetail,
    ServiceEvent,
    Task,
    TaskDefinition,
)
from tests.support.factory import FIXED_NOW, make_snapshot
from tests.support.terminal_capture import INJECTED_SEQUENCES

#: What an attacker writes: clipboard (OSC 52) and title (OSC 0) sequences,
#: colours, a device-status request, bidi overrides, C1 controls, DEL, and
#: Textual/Rich markup (a link that does not close, actions). Lone surrogates
#: are in tests/test_untrusted.py (xdist cannot carry them in a report).
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
        task_definition=TaskDefinition(
            arn="arn:aws:ecs:us-east-1:210987654321:task-definition/x:1",
            family=t["task_definition"],
            revision=1,
            network_mode=t["status"],
            containers=(
                ContainerDefinition(
                    name=t["zone"],
                    image=t["task_definition"],
                    log=LogConfiguration(driver=t["status"], options=(("awslogs-group", t["reason"]),)),
                ),
                ContainerDefinition(
                    name=t["service"],
                    image=t["event"],
                    log=LogConfiguration(driver="awslogs", options=(("awslogs-group", t["reason"]),)),
                ),
            ),
        ),
        errors=(t["detail_error"],),
    )
