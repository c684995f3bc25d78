"""CloudWatch Logs of a service or a task, read from the embedded AWS over real
HTTP: where the task definition's awslogs settings say, only on demand, and
said plainly when a container's driver is not awslogs."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from heartbeat_tui.collector import Collector
from heartbeat_tui.collector.cloudwatch_logs import UnknownContainer
from heartbeat_tui.logtail import LogFollower
from heartbeat_tui.models import FleetSnapshot, LogQuery, Service, utcnow
from tests.support.configs import PAYMENTS, make_config


def query_for(region: str, service: Service, **kw: Any) -> LogQuery:
    return LogQuery(
        account_id=kw.pop("account_id", PAYMENTS),
        region=region,
        cluster_arn=service.cluster_arn,
        service_name=service.name,
        start=kw.pop("start", utcnow() - timedelta(minutes=30)),
        **kw,
    )


def running(snapshot: FleetSnapshot, account_id: str = PAYMENTS) -> list[tuple[str, Service]]:
    account = snapshot.account(account_id)
    assert account is not None
    return [(r.region, s) for r, _, s in account.services() if s.running_count > 0 and s.rollout_state != "FAILED"]


async def test_a_service_reads_its_tasks_streams_oldest_first(clean_aws: Any) -> None:
    async with Collector(make_config(clean_aws)) as collector:
        snapshot = await collector.poll()
        for region, service in running(snapshot):
            batch = await collector.fetch_logs(query_for(region, service))
            if batch.lines and not batch.notes:
                break
        else:
            pytest.fail("no service of payments-prod has log lines")
        detail = await collector.fetch_service_detail(PAYMENTS, region, service.cluster_arn, service.name)
        again = await collector.poll()
    assert not batch.errors and batch.task_definition == service.task_definition
    stamps = [line.timestamp for line in batch.lines]
    assert stamps == sorted(stamps)
    assert {line.task_id for line in batch.lines} <= {task.id for task in detail.tasks}
    assert {line.container for line in batch.lines} <= set(batch.containers)
    assert service.name in {line.container for line in batch.lines}
    # Counted in the read itself (ListTasks for the streams, one FilterLogEvents), never in a poll.
    assert batch.stats.calls_of("FilterLogEvents") >= 1 and batch.stats.calls_of("ListTasks") == 2
    assert batch.stats.calls_of("DescribeServices") == 0  # the task definition was known from the poll
    assert again.stats.calls_of("FilterLogEvents") == 0


async def test_one_task_and_one_container(clean_aws: Any) -> None:
    async with Collector(make_config(clean_aws)) as collector:
        snapshot = await collector.poll()
        found = None
        for region, service in running(snapshot):
            whole = await collector.fetch_logs(query_for(region, service))
            if len(whole.containers) > 1 and len({line.task_id for line in whole.lines}) > 1:
                found = region, service, whole
                break
        assert found, "a service with a sidecar and several tasks"
        region, service, whole = found
        task_id = whole.lines[-1].task_id
        one_task = await collector.fetch_logs(query_for(region, service, task_id=task_id))
        sidecar = whole.containers[1]
        side = await collector.fetch_logs(query_for(region, service, container=sidecar))
        with pytest.raises(UnknownContainer, match="has no container 'nope'"):
            await collector.fetch_logs(query_for(region, service, container="nope"))
    assert one_task.lines and {line.task_id for line in one_task.lines} == {task_id}
    assert one_task.stats.calls_of("ListTasks") == 0  # a task's streams are named by its id
    assert [line for line in whole.lines if line.task_id == task_id] == list(one_task.lines)
    assert {line.container for line in side.lines} <= {sidecar}
    assert [line for line in whole.lines if line.container == sidecar] == list(side.lines)


async def test_a_failing_service_logs_an_error_burst(clean_aws: Any) -> None:
    async with Collector(make_config(clean_aws)) as collector:
        snapshot = await collector.poll()
        failing = [
            (account.id, region.region, service)
            for account in snapshot.accounts
            for region, _, service in account.services()
            if service.rollout_state == "FAILED"
        ]
        messages: list[str] = []
        for account_id, region, service in failing:
            batch = await collector.fetch_logs(query_for(region, service, account_id=account_id))
            messages += [line.message for line in batch.lines]
    assert any(m.startswith("ERROR") for m in messages)
    assert any("exiting with code 1" in m for m in messages)


async def test_a_driver_other_than_awslogs_is_named_and_nothing_is_read(clean_aws: Any) -> None:
    async with Collector(make_config(clean_aws)) as collector:
        snapshot = await collector.poll()
        found = None
        for account in snapshot.accounts:
            for region, _, service in account.services():
                if not service.task_definition:
                    continue
                definition = await collector.task_definition(account.id, region.region, service.task_definition)
                if definition.containers[0].log and definition.containers[0].log.driver != "awslogs":
                    found = account.id, region.region, service
                    break
            if found:
                break
        assert found, "the demo fleet has a service logging through fluentd"
        account_id, region, service = found
        batch = await collector.fetch_logs(query_for(region, service, account_id=account_id))
    assert batch.lines == () and not batch.errors
    assert len(batch.notes) == len(batch.containers)
    assert "log driver fluentd" in batch.notes[0] and "not to CloudWatch Logs" in batch.notes[0]
    assert batch.stats.calls_of("FilterLogEvents") == 0 and batch.stats.calls_of("ListTasks") == 0


async def test_follow_reads_give_each_line_once(clean_aws: Any) -> None:
    async with Collector(make_config(clean_aws)) as collector:
        snapshot = await collector.poll()
        region, service = running(snapshot)[0]
        follower = LogFollower(utcnow() - timedelta(minutes=30))
        first = await collector.fetch_logs(query_for(region, service, start=follower.next_start))
        shown = follower.new_lines(first.lines)
        second = await collector.fetch_logs(query_for(region, service, start=follower.next_start))
    assert shown == list(first.lines)
    assert follower.new_lines(second.lines) == []  # the overlap re-reads, nothing is shown twice
    if shown:
        assert second.query.start == max(line.timestamp for line in shown) - timedelta(seconds=30)
