"""Reading a service's or a task's CloudWatch Logs, on demand (never in a poll).

The task definition says where each container's lines go: the awslogs driver
writes them to `awslogs-group` in `awslogs-region`, one stream per container
and task, `awslogs-stream-prefix/container/task-id`. So the streams of a
service are known from its tasks (ListTasks, running and recently stopped:
task ids are in the ARNs, no DescribeTasks needed), and one FilterLogEvents
call reads up to 100 of them at once, paged, oldest first. A container with
another driver (fluentd, splunk, ...) has no lines in CloudWatch Logs: that is
said, not shown as an empty log.

Log lines are the most hostile text there is: the models keep them exact, and
every consumer shows them through `heartbeat_tui.untrusted`.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timezone
from typing import Any

from heartbeat_tui.aws.services import LOGS
from heartbeat_tui.collector.context import PollContext
from heartbeat_tui.collector.state import AccountState
from heartbeat_tui.collector.steps import Lane, Step, StepFailed, chunks, gather_all, guard
from heartbeat_tui.config import AccountConfig
from heartbeat_tui.errors import UsageError
from heartbeat_tui.logtail import LOG_LINES_KEPT
from heartbeat_tui.models import LogLine, LogSource, TaskDefinition

FILTER_LOG_EVENTS = Step(Lane.LOGS, "FilterLogEvents")
STREAMS_PER_CALL = 100  # FilterLogEvents' logStreamNames limit
EVENTS_PER_PAGE = 10_000  # FilterLogEvents' limit
PAGES_PER_READ = 50  # a read gives up beyond this (narrow the time range)


class UnknownContainer(UsageError):
    """A container name the task definition does not have."""


def log_sources(definition: TaskDefinition) -> tuple[LogSource, ...]:
    """Each container's log destination, as its task definition declares it."""

    sources = []
    for container in definition.containers:
        log = container.log
        sources.append(
            LogSource(
                container=container.name,
                driver=log.driver if log is not None else None,
                group=log.option("awslogs-group") if log is not None else None,
                region=log.option("awslogs-region") if log is not None else None,
                stream_prefix=log.option("awslogs-stream-prefix") if log is not None else None,
            )
        )
    return tuple(sources)


def pick_sources(definition: TaskDefinition, container: str | None) -> tuple[LogSource, ...]:
    sources = log_sources(definition)
    if container is None:
        return sources
    picked = tuple(s for s in sources if s.container == container)
    if not picked:
        names = ", ".join(s.container for s in sources) or "none"
        where = f"task definition {definition.family}:{definition.revision}"
        raise UnknownContainer(f"{where} has no container {container!r} (it has: {names})")
    return picked


def _millis(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)


class LogReader:
    """FilterLogEvents over the streams of some tasks' containers, newest lines kept."""

    __slots__ = ("_ctx",)

    def __init__(self, ctx: PollContext) -> None:
        self._ctx = ctx

    async def read(
        self,
        state: AccountState,
        account: AccountConfig,
        default_region: str,
        sources: Iterable[LogSource],
        task_ids: Iterable[str],
        start: datetime,
        end: datetime | None,
    ) -> tuple[list[LogLine], list[str], bool]:
        """(lines oldest first, what failed, whether lines were dropped)."""

        ids = list(dict.fromkeys(task_ids))
        # (group, region) -> stream -> (container, task id)
        wanted: dict[tuple[str, str], dict[str, tuple[str, str]]] = {}
        for source in sources:
            if not source.readable or source.group is None:
                continue
            streams = wanted.setdefault((source.group, source.region or default_region), {})
            for task_id in ids:
                streams[source.stream(task_id)] = (source.container, task_id)

        async def one(group: str, region: str, streams: dict[str, tuple[str, str]], names: list[str]) -> Any:
            client = await self._ctx.access.client(account, LOGS, region)
            found: list[LogLine] = []
            pages = 0
            kwargs: dict[str, Any] = {
                "logGroupName": group,
                "logStreamNames": names,
                "startTime": _millis(start),
                "limit": EVENTS_PER_PAGE,
            }
            if end is not None:
                kwargs["endTime"] = _millis(end)
            async for page in self._ctx.pages(state, FILTER_LOG_EVENTS, client.filter_log_events, **kwargs):
                for event in page.get("events") or ():
                    where = streams.get(str(event.get("logStreamName")))
                    stamp = event.get("timestamp")
                    if where is None or not isinstance(stamp, (int, float)):
                        continue  # a stream not asked for, or no time: not this log's line
                    found.append(
                        LogLine(
                            timestamp=datetime.fromtimestamp(stamp / 1000, tz=timezone.utc),
                            container=where[0],
                            task_id=where[1],
                            message=str(event.get("message") or "").rstrip("\n"),
                            event_id=str(event.get("eventId") or f"{event.get('logStreamName')}@{stamp}"),
                        )
                    )
                pages += 1
                if pages >= PAGES_PER_READ:
                    raise StepFailed(
                        FILTER_LOG_EVENTS,
                        ValueError(f"more than {PAGES_PER_READ} pages of lines in {group}: narrow the time range"),
                    )
            return found

        jobs = [
            guard(Lane.LOGS, one(group, region, streams, names))
            for (group, region), streams in wanted.items()
            for names in chunks(list(streams), STREAMS_PER_CALL)
        ]
        lines: list[LogLine] = []
        errors: list[str] = []
        for outcome in await gather_all(*(_settled(job) for job in jobs)):
            if isinstance(outcome, StepFailed):
                errors.append(str(outcome))
            else:
                lines += outcome
        lines.sort(key=lambda line: (line.timestamp, line.event_id))
        truncated = len(lines) > LOG_LINES_KEPT
        return lines[-LOG_LINES_KEPT:], errors, truncated


async def _settled(job: Any) -> Any:
    """A read's outcome: its lines, or its failure (one group failing keeps the others' lines)."""

    try:
        return await job
    except StepFailed as failure:
        return failure


__all__ = ["FILTER_LOG_EVENTS", "LogReader", "UnknownContainer", "log_sources", "pick_sources"]
