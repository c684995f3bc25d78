"""The collector: one poll turns the configured fleet into one immutable snapshot.

Per account-region, with the APIs' own batching so the call count stays at the
minimum the APIs allow:

* ECS ListClusters (paged) -> DescribeClusters (100 per call); ListServices
  (paged, maxResults 100) only for clusters with active services, and on
  later polls only when the clusters' counts cannot prove the last poll's
  list complete (`Inventory`); DescribeServices (10 per call, concurrently).
* CloudWatch GetMetricData: four series per service (CPU and memory, Average
  and Maximum, 60 s), up to 500 queries per call across clusters. The first
  poll loads the history window; later polls ask only for the minutes since
  the newest datapoint and merge into a bounded history.
* Application Auto Scaling DescribeScalableTargets and DescribeScalingActivities
  (paged), concurrently with ECS; activities are read newest first and the
  walk stops at the first one already known or older than the window.
* IAM ListAccountAliases once per account when no alias is configured.
* STS GetCallerIdentity for an account read through a `profile`, once per set
  of credentials botocore gives it (`AwsAccess.ensure_credentials`).
* With `[discovery]`, Organizations' List* calls at the first poll and every
  `refresh_minutes` (`discovery.py`).

Account-regions run concurrently; each account has a bound on calls in flight.
Faults are isolated: a failing account, region or kind of data keeps its last
good data, marked stale, and says what failed; nothing else is affected.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Collection, Iterable
from datetime import datetime
from typing import Any, TypeVar

from heartbeat_tui.aws.access import AwsAccess
from heartbeat_tui.aws.counting import CallCounter, counting, stop_counting
from heartbeat_tui.aws.errors import BadResponse, describe_error
from heartbeat_tui.aws.services import AUTOSCALING, CLOUDWATCH, ECS, IAM, STS
from heartbeat_tui.collector.cloudwatch_logs import LogReader, pick_sources
from heartbeat_tui.collector.context import PollContext
from heartbeat_tui.collector.discovery import Discovery
from heartbeat_tui.collector.ecs import DESCRIBE_SERVICES, EcsReader
from heartbeat_tui.collector.limits import (
    ALIAS_RETRY_POLLS,
    DESCRIBE_TASKS_BATCH,
    LIST_PAGE_SIZE,
)
from heartbeat_tui.collector.merging import (
    same_objects,
    task_order,
)
from heartbeat_tui.collector.metrics import MetricReader
from heartbeat_tui.collector.parse import (
    name_from_arn,
    parse_scaling_policy,
    parse_service,
    parse_task,
    parse_task_definition,
)
from heartbeat_tui.collector.scaling import ScalingReader
from heartbeat_tui.collector.state import AccountState, RegionState
from heartbeat_tui.collector.steps import (
    ASSUME_ROLE_STEP,
    Lane,
    Step,
    StepFailed,
    chunks,
    gather_all,
    guard,
    raise_failures,
    settle,
)
from heartbeat_tui.config import AccountConfig, Config
from heartbeat_tui.errors import UsageError
from heartbeat_tui.models import (
    EMPTY_METRICS,
    AccountSnapshot,
    AccountStatus,
    Cluster,
    FleetSnapshot,
    LogBatch,
    LogQuery,
    PollStats,
    RegionSnapshot,
    ScalingPolicy,
    Service,
    ServiceDetail,
    StaleKind,
    Task,
    TaskDefinition,
    utcnow,
)
from heartbeat_tui.reasons import join_reasons

log = logging.getLogger(__name__)
_T = TypeVar("_T")

GET_CALLER_IDENTITY = Step(Lane.STS, "GetCallerIdentity")
#: The row that says a discovery failed (as "base-credentials" says the base credentials did).
DISCOVERY_ROW = "organizations"
LIST_ACCOUNT_ALIASES = Step(Lane.IAM, "ListAccountAliases")
LIST_TASKS = Step(Lane.ECS, "ListTasks")
DESCRIBE_TASKS = Step(Lane.ECS, "DescribeTasks")
DESCRIBE_TASK_DEFINITION = Step(Lane.ECS, "DescribeTaskDefinition")
# Task definitions are immutable: one read per ARN, kept for the session (a few KB each).
TASK_DEFINITIONS_KEPT = 512


class Collector:
    """Polls the fleet. Use as an async context manager; polls never overlap.

    Composed of a reader per AWS service (`EcsReader`, `MetricReader`,
    `ScalingReader`) that share one `PollContext`: the access, the configuration
    and the bounded calls."""

    def __init__(
        self,
        config: Config,
        *,
        access: AwsAccess | None = None,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self._config = config
        self._access = access or AwsAccess(config)
        self._ctx = PollContext(config, self._access)
        self._metrics = MetricReader(self._ctx)
        self._ecs = EcsReader(self._ctx, self._metrics)
        self._scaling = ScalingReader(self._ctx)
        self._logs = LogReader(self._ctx)
        self._owns_access = access is None
        self._clock = clock
        self._states: dict[str, AccountState] = {}
        self._poll_lock = asyncio.Lock()
        self._poll_number = 0
        self._implicit_account: AccountConfig | None = None
        self.discovery = Discovery(config, self._access) if config.discovery is not None else None
        self._base_account_id: str | None = None
        # A relist asked for by another thread (the UI): only it writes the count,
        # a poll compares it with the last one it saw, so no request is lost.
        self._relists_asked = 0
        self._relists_seen = 0
        self._task_definitions: OrderedDict[str, TaskDefinition] = OrderedDict()
        self.last_snapshot: FleetSnapshot | None = None

    async def __aenter__(self) -> Collector:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        if self._owns_access:
            await self._access.close()

    async def prepare(self) -> None:
        """Create every client a poll will use, before the first poll needs them.

        No AWS call is made: this loads the service models, builds the clients
        and their TLS context and sets up each account's assumed-role session
        (0.2 to 0.35 s of CPU for 3 accounts in 2 regions), work the first poll
        would otherwise do on its critical path. The dashboard calls it while
        the login screen waits for a person. Optional: a poll creates whatever
        is missing; failures here are left for the poll to report.
        """

        # With no account configured, the base credentials' own, in the default region.
        targets: list[tuple[AccountConfig | None, tuple[str, ...], bool]] = [
            (account, self._config.regions_for(account), account.alias is None) for account in self._config.accounts
        ] or [(None, (self._config.region,), True)]
        try:
            await self._access.base_client(STS)
            for account, regions, needs_alias in targets:
                for region in regions:
                    for service in (ECS, CLOUDWATCH, AUTOSCALING):
                        await self._access.client(account, service, region)
                if needs_alias:
                    await self._access.client(account, IAM, self._config.region)
        except Exception:  # the poll reports what is wrong, per account
            log.debug("preparing the AWS clients failed; the poll will create them", exc_info=True)

    @property
    def history_seconds(self) -> int:
        return self._ctx.history_seconds

    # -- accounts -------------------------------------------------------------

    async def accounts(self) -> tuple[AccountConfig, ...]:
        """The configured accounts and the discovered ones (as of the last
        refresh); with none of either, the base credentials' own."""

        if self.discovery is not None:
            return self.discovery.accounts()
        if self._config.accounts:
            return self._config.accounts
        if self._implicit_account is None:
            account_id = await self._access.caller_account_id()
            self._implicit_account = AccountConfig(id=account_id)
        return (self._implicit_account,)

    def _state(self, account: AccountConfig) -> AccountState:
        state = self._states.get(account.id)
        if state is None:
            state = AccountState(
                config=account,
                max_in_flight=self._config.file.collector.max_in_flight_per_account,
                alias=account.alias,
                alias_known=account.alias is not None,
            )
            self._states[account.id] = state
        return state

    async def forget(self, account_ids: Collection[str]) -> None:
        """Drop what is kept between polls for these accounts (their clusters and
        services, metric histories, inventories, alias, and their AWS clients and
        sessions, `AwsAccess.forget`): a `[cluster]` replica
        whose leases on them went to another replica would keep it for good.
        Polled again, an account starts afresh, as at its first poll."""

        for account_id in account_ids:
            self._states.pop(account_id, None)
            await self._ctx.access.forget(account_id)

    # -- the poll -------------------------------------------------------------

    async def poll(self, only: Collection[str] | None = None) -> FleetSnapshot:
        """Poll every account (or the ids in `only`) and return the new snapshot."""

        async with self._poll_lock:
            asked = self._relists_asked
            self._ctx.relisting, self._relists_seen = asked != self._relists_seen, asked
            return await self._poll_locked(only)

    def relist_next_poll(self) -> None:
        """Make the next poll read every cluster's service list whole (ListServices)
        rather than trust the last poll's list and the clusters' counts: what an
        operator's manual refresh asks for. Safe to call from any thread."""

        self._relists_asked += 1

    async def _poll_locked(self, only: Collection[str] | None) -> FleetSnapshot:
        counter = CallCounter()
        token = counting(counter)
        started = time.perf_counter()
        try:
            now = self._clock()
            discovered: tuple[AccountSnapshot, ...] = ()
            if self.discovery is not None:
                await self.discovery.refresh_if_due(now)
                failure = self.discovery.report.failure()
                if failure is not None and only is None:
                    # Said where every account's error is said; the last list is polled.
                    discovered = (AccountSnapshot(id=DISCOVERY_ROW, status=AccountStatus.ERROR, error=failure),)
            try:
                accounts = await self.accounts()
            except Exception as exc:  # reported, never raised
                accounts_snap: tuple[AccountSnapshot, ...] = (
                    AccountSnapshot(
                        id="base-credentials",
                        status=AccountStatus.ERROR,
                        error=f"{GET_CALLER_IDENTITY}: {describe_error(exc)}",
                    ),
                )
            else:
                selected = [a for a in accounts if only is None or a.id in only]
                polled = await asyncio.gather(*(self._poll_account_isolated(a, now) for a in selected))
                accounts_snap = (*polled, *discovered)
        finally:
            stop_counting(token)
        self._poll_number += 1
        snapshot = FleetSnapshot(
            generated_at=now,
            poll_number=self._poll_number,
            accounts=accounts_snap,
            stats=PollStats(
                calls=tuple(sorted(counter.calls.items())),
                http_requests=counter.http_requests,
                duration_seconds=time.perf_counter() - started,
            ),
        )
        self.last_snapshot = snapshot
        return snapshot

    async def _poll_account_isolated(self, account: AccountConfig, now: datetime) -> AccountSnapshot:
        """Poll one account; whatever goes wrong stays inside this account."""

        deadline = self._config.file.collector.account_deadline_seconds
        try:
            # One slow account must not hold back every other account's fresh data.
            return await asyncio.wait_for(self._poll_account(account, now), timeout=deadline)
        except asyncio.CancelledError:
            raise
        except asyncio.TimeoutError:
            log.warning("poll of account %s passed its %s s deadline", account.id, deadline)
            reason = f"not answered within {deadline:g} s (the last good data is shown)"
            return self._account_snapshot(self._state(account), now, [reason], [])
        except Exception as exc:  # a bug or a malformed response
            log.exception("poll of account %s failed unexpectedly", account.id)
            state = self._state(account)
            return self._account_snapshot(state, now, [f"unexpected failure: {describe_error(exc)}"], [])

    async def _poll_account(self, account: AccountConfig, now: datetime) -> AccountSnapshot:
        state = self._state(account)
        try:
            if account.role_arn:
                await self._ctx.call(state, ASSUME_ROLE_STEP, lambda: self._access.ensure_credentials(account))
            elif account.profile:
                await self._ctx.call(state, GET_CALLER_IDENTITY, lambda: self._access.ensure_credentials(account))
            else:
                await self._check_base_account(state)
        except StepFailed as failure:
            return self._account_snapshot(state, now, [str(failure)], [])

        alias_task = None
        if not state.alias_known and self._poll_number + 1 >= state.alias_retry_poll:
            alias_task = asyncio.ensure_future(self._fetch_alias(state))
        warnings: list[str] = []
        try:
            polled = await gather_all(
                *(self._poll_region(state, region, now) for region in self._config.regions_for(account))
            )
            if alias_task is not None:
                try:
                    await alias_task
                except StepFailed as failure:
                    state.alias_retry_poll = self._poll_number + 1 + ALIAS_RETRY_POLLS
                    warnings.append(f"{failure} (set alias in the configuration to skip this call)")
        finally:
            if alias_task is not None:
                await settle(alias_task)
        failures = [failure for _, region_failures in polled for failure in region_failures]
        role_failure = self._access.role_failure(account)
        if failures and role_failure is not None:
            # The role could not be assumed again mid-poll: said once, first,
            # whichever calls found its credentials due (a STS AssumeRole failure
            # in each region); the regions still say what each could not fetch.
            others = [f for f in failures if f.step != ASSUME_ROLE_STEP]
            failures = [StepFailed(ASSUME_ROLE_STEP, role_failure), *others]
        if not failures:
            state.last_success_at = now
        errors = [str(failure) for failure in failures]
        return self._account_snapshot(state, now, errors, warnings, regions=[snapshot for snapshot, _ in polled])

    async def _check_base_account(self, state: AccountState) -> None:
        """An account without a role is read with the base credentials: make sure
        they belong to it, or its data would be another account's."""

        if self._base_account_id is None:
            self._base_account_id = await self._ctx.call(
                state, GET_CALLER_IDENTITY, lambda: self._access.caller_account_id()
            )
        if self._base_account_id != state.config.id:
            raise StepFailed(
                GET_CALLER_IDENTITY,
                ValueError(
                    f"they belong to account {self._base_account_id}, not {state.config.id}"
                    " (set role_arn for this account)"
                ),
                where="base credentials",
            )

    def _account_snapshot(
        self,
        state: AccountState,
        now: datetime,
        errors: list[str],
        warnings: list[str],
        *,
        regions: Iterable[RegionSnapshot] | None = None,
    ) -> AccountSnapshot:
        if regions is None:
            # The account failed: show the last good data of every region, stale
            # but for a kind this very poll fetched before the account failed
            # (later polls read metrics without waiting for the inventory).
            regions = [
                RegionSnapshot(
                    region=name,
                    clusters=self._attach(r, r.clusters),
                    fetched_at=r.ecs_fetched_at,
                    metrics_fetched_at=r.metrics_fetched_at,
                    scaling_fetched_at=r.scaling_fetched_at,
                    errors=(f"{name} not polled: the account failed",),
                    stale=tuple(
                        kind
                        for kind, fetched_at in (
                            ("ecs", r.ecs_fetched_at),
                            ("metrics", r.metrics_fetched_at),
                            ("scaling", r.scaling_fetched_at),
                        )
                        if fetched_at != now
                    ),
                )
                for name, r in state.regions.items()
            ]
        return AccountSnapshot(
            id=state.config.id,
            alias=state.alias,
            status=AccountStatus.ERROR if errors else AccountStatus.OK,
            error=join_reasons(errors) if errors else None,
            warnings=tuple(warnings),
            last_success_at=state.last_success_at,
            regions=tuple(regions),
        )

    async def _fetch_alias(self, state: AccountState) -> None:
        iam = await self._access.client(state.config, IAM, self._config.region)
        response = await self._ctx.call(state, LIST_ACCOUNT_ALIASES, lambda: iam.list_account_aliases())
        aliases = response.get("AccountAliases") or []
        state.alias = str(aliases[0]) if aliases else None
        state.alias_known = True

    async def _poll_region(
        self, state: AccountState, region: str, now: datetime
    ) -> tuple[RegionSnapshot, list[StepFailed]]:
        """The region's snapshot, and what failed in it (each failure located in it)."""

        rstate = state.regions.setdefault(region, RegionState())
        failures: list[StepFailed] = []
        stale: list[StaleKind] = []

        scaling = asyncio.ensure_future(guard(Lane.AUTOSCALING, self._scaling.fetch(state, rstate, region, now)))
        try:
            for kind, failure in await self._ecs.poll(state, rstate, region, now):
                located = failure.at(region)
                if all(str(located) != str(seen) for seen in failures):  # one failure can stale two kinds of data
                    failures.append(located)
                stale.append(kind)
            try:
                await scaling
            except StepFailed as failure:
                failures.append(failure.at(region))
                stale.append("scaling")
        finally:
            await settle(scaling)

        return RegionSnapshot(
            region=region,
            clusters=self._attach(rstate, rstate.clusters),
            fetched_at=rstate.ecs_fetched_at,
            metrics_fetched_at=rstate.metrics_fetched_at,
            scaling_fetched_at=rstate.scaling_fetched_at,
            errors=tuple(str(failure) for failure in failures),
            stale=tuple(dict.fromkeys(stale)),
        ), failures

    def _attach(self, rstate: RegionState, clusters: tuple[Cluster, ...]) -> tuple[Cluster, ...]:
        """Clusters with each service's metrics and scaling data attached.

        What did not change is the very object of the previous snapshot, so a
        consumer can skip it with an identity check (`old is new`).

        Each service is held once, with its attachments: the attached object
        takes the parsed one's place in the parse cache (`RegionState.parsed`)
        and in `rstate.clusters`, so an unchanged item is, next poll, the last
        snapshot's service itself, and a service whose attachments did not
        change either is not copied at all. (Holding both was 0.6 KB a service.)
        """

        previous = rstate.attached
        parsed = rstate.parsed
        attached: dict[str, tuple[tuple[Any, ...], Any]] = {}
        out = []
        for cluster in clusters:
            services = []
            for service in cluster.services:
                resource = service.autoscaling_resource_id
                metrics = rstate.metrics.get(service.arn, EMPTY_METRICS)
                target = rstate.targets.get(resource)
                activities = rstate.activities.get(resource, ())
                if (
                    service.metrics is metrics
                    and service.scalable_target is target
                    and service.scaling_activities is activities
                ):
                    done = service
                else:
                    done = service.model_copy(
                        update={"metrics": metrics, "scalable_target": target, "scaling_activities": activities}
                    )
                    cached = parsed.get(service.arn)
                    if cached is not None and cached[1] is service:
                        parsed[service.arn] = (cached[0], done)
                services.append(done)
            cluster_parts = (cluster, *services)
            before = previous.get(cluster.arn)
            if before is not None and same_objects(before[0], cluster_parts):
                done_cluster = before[1]
            else:
                done_cluster = cluster.model_copy(update={"services": tuple(services)})
            attached[cluster.arn] = ((done_cluster, *services), done_cluster)
            out.append(done_cluster)
        rstate.attached = attached
        rstate.clusters = result = tuple(out)
        return result

    # -- on demand: one service's tasks, policies and task definition ---------------

    async def _account_config(self, account_id: str) -> AccountConfig:
        account = next((a for a in await self.accounts() if a.id == account_id), None)
        if account is None:
            raise KeyError(f"account {account_id} is not configured")
        return account

    async def task_definition(self, account_id: str, region: str, arn: str) -> TaskDefinition:
        """A task definition, read once per ARN (ECS DescribeTaskDefinition): a
        registered revision never changes, so it is kept, not read again."""

        cached = self._task_definitions.get(arn)
        if cached is not None:
            self._task_definitions.move_to_end(arn)
            return cached
        account = await self._account_config(account_id)
        state = self._state(account)
        ecs = await self._access.client(account, ECS, region)
        response = await self._ctx.call(
            state, DESCRIBE_TASK_DEFINITION, lambda: ecs.describe_task_definition(taskDefinition=arn)
        )
        item = response.get("taskDefinition")
        if not isinstance(item, dict):
            raise StepFailed(DESCRIBE_TASK_DEFINITION, BadResponse("an answer without taskDefinition"))
        definition = parse_task_definition(item)
        self._task_definitions[arn] = definition
        while len(self._task_definitions) > TASK_DEFINITIONS_KEPT:
            self._task_definitions.popitem(last=False)
        return definition

    def _known_task_definition(self, account_id: str, region: str, cluster_arn: str, name: str) -> str | None:
        """The service's task definition as the last poll described it (no call)."""

        state = self._states.get(account_id)
        rstate = state.regions.get(region) if state is not None else None
        for cluster in rstate.clusters if rstate is not None else ():
            if cluster.arn == cluster_arn:
                return next((s.task_definition for s in cluster.services if s.name == name), None)
        return None

    async def fetch_service_detail(
        self, account_id: str, region: str, cluster_arn: str, service_name: str
    ) -> ServiceDetail:
        """Running and recently stopped tasks, the scaling policies and the task
        definition of one service. Its calls are counted in the detail's `stats`,
        never in a poll's."""

        detail, stats = await _counted(self._fetch_service_detail(account_id, region, cluster_arn, service_name))
        return detail.model_copy(update={"stats": stats})

    async def _task_arns(self, state: AccountState, ecs: Any, cluster_arn: str, service_name: str) -> list[str]:
        """A service's tasks, running and recently stopped (ListTasks, paged, both at once)."""

        async def listed(desired: str) -> list[str]:
            arns: list[str] = []
            async for page in self._ctx.pages(
                state,
                LIST_TASKS,
                ecs.list_tasks,
                cluster=cluster_arn,
                serviceName=service_name,
                desiredStatus=desired,
                maxResults=LIST_PAGE_SIZE,
            ):
                arns += page.get("taskArns") or []
            return arns

        running, stopped = await gather_all(listed("RUNNING"), listed("STOPPED"))
        return list(dict.fromkeys(running + stopped))

    async def _fetch_service_detail(
        self, account_id: str, region: str, cluster_arn: str, service_name: str
    ) -> ServiceDetail:
        account = await self._account_config(account_id)
        state = self._state(account)
        errors: list[str] = []
        ecs = await self._access.client(account, ECS, region)
        aas = await self._access.client(account, AUTOSCALING, region)
        cluster_name = name_from_arn(cluster_arn)

        async def tasks() -> list[Task]:
            arns = await self._task_arns(state, ecs, cluster_arn, service_name)

            async def describe(batch: list[str]) -> list[Task]:
                response = await self._ctx.call(
                    state, DESCRIBE_TASKS, lambda: ecs.describe_tasks(cluster=cluster_arn, tasks=batch)
                )
                raise_failures(DESCRIBE_TASKS, response)
                return [parse_task(t) for t in response.get("tasks") or []]

            described = await gather_all(*(describe(b) for b in chunks(arns, DESCRIBE_TASKS_BATCH)))
            found = [t for batch in described for t in batch]
            found.sort(key=task_order)
            return found

        async def policies() -> list[ScalingPolicy]:
            found: list[ScalingPolicy] = []
            async for page in self._scaling.pages(
                state,
                "DescribeScalingPolicies",
                aas.describe_scaling_policies,
                ResourceId=f"service/{cluster_name}/{service_name}",
            ):
                found += [parse_scaling_policy(p) for p in page.get("ScalingPolicies") or []]
            return found

        async def definition(arn: str | None) -> TaskDefinition | None:
            return None if arn is None else await self.task_definition(account_id, region, arn)

        known = self._known_task_definition(account_id, region, cluster_arn, service_name)
        task_result: list[Task] | BaseException
        policy_result: list[ScalingPolicy] | BaseException
        definition_result: TaskDefinition | BaseException | None
        task_result, policy_result, definition_result = await asyncio.gather(
            guard(Lane.ECS, tasks()),
            guard(Lane.AUTOSCALING, policies()),
            guard(Lane.ECS, definition(known)),
            return_exceptions=True,
        )
        if known is None and isinstance(task_result, list) and task_result:
            # Not polled yet (or just created): the newest task's definition.
            (definition_result,) = await asyncio.gather(
                guard(Lane.ECS, definition(task_result[0].task_definition)), return_exceptions=True
            )
        for outcome in (task_result, policy_result, definition_result):
            if isinstance(outcome, StepFailed):
                errors.append(str(outcome))
            elif isinstance(outcome, BaseException):
                raise outcome
        return ServiceDetail(
            account_id=account_id,
            region=region,
            cluster_arn=cluster_arn,
            service_name=service_name,
            fetched_at=self._clock(),
            tasks=() if isinstance(task_result, BaseException) else tuple(task_result),
            policies=() if isinstance(policy_result, BaseException) else tuple(policy_result),
            task_definition=None if isinstance(definition_result, BaseException) else definition_result,
            errors=tuple(errors),
        )

    # -- on demand: CloudWatch Logs --------------------------------------------------

    async def account_alias(self, account_id: str) -> str | None:
        """The account's alias: configured, or read with IAM ListAccountAliases once (None
        when it has none or cannot be read)."""

        state = self._state(await self._account_config(account_id))
        if not state.alias_known:
            try:
                if state.config.role_arn:
                    await self._ctx.call(state, ASSUME_ROLE_STEP, lambda: self._access.ensure_credentials(state.config))
                await self._fetch_alias(state)
            except StepFailed:
                log.info("alias of account %s not readable", account_id)
        return state.alias

    async def locate_service(self, account_id: str, cluster: str, service_name: str) -> tuple[str, Service]:
        """(region, service) of a service named by its cluster's and its own name:
        DescribeServices in each of the account's regions at once (the CLI knows no region)."""

        account = await self._account_config(account_id)
        state = self._state(account)
        regions = self._config.regions_for(account)

        async def look(region: str) -> Service | None:
            ecs = await self._access.client(account, ECS, region)
            try:
                response = await self._ctx.call(
                    state, DESCRIBE_SERVICES, lambda: ecs.describe_services(cluster=cluster, services=[service_name])
                )
            except StepFailed as failure:
                code = getattr(failure.cause, "response", {}).get("Error", {}).get("Code")
                if code == "ClusterNotFoundException":
                    return None
                raise failure.at(region) from failure
            items = [i for i in response.get("services") or () if isinstance(i, dict)]
            max_events = self._config.file.collector.events_per_service
            found = [parse_service(i, cluster_arn=str(i.get("clusterArn") or ""), max_events=max_events) for i in items]
            return next((s for s in found if s.status != "INACTIVE"), None)

        found = await gather_all(*(look(region) for region in regions))
        for region, service in zip(regions, found):
            if service is not None:
                return region, service
        raise UsageError(
            f"no service {service_name!r} in a cluster {cluster!r} of account {account_id} ({', '.join(regions)})"
        )

    async def fetch_logs(self, query: LogQuery) -> LogBatch:
        """The CloudWatch Logs lines of a service's tasks (or one task), from its task
        definition's awslogs settings. Calls are counted in the batch's `stats`."""

        batch, stats = await _counted(self._fetch_logs(query))
        return batch.model_copy(update={"stats": stats})

    async def _fetch_logs(self, query: LogQuery) -> LogBatch:
        account = await self._account_config(query.account_id)
        state = self._state(account)
        ecs = await self._access.client(account, ECS, query.region)
        arn = query.task_definition or self._known_task_definition(
            query.account_id, query.region, query.cluster_arn, query.service_name
        )
        if arn is None:
            response = await self._ctx.call(
                state,
                DESCRIBE_SERVICES,
                lambda: ecs.describe_services(cluster=query.cluster_arn, services=[query.service_name]),
            )
            arn = next(
                (str(i.get("taskDefinition")) for i in response.get("services") or () if i.get("taskDefinition")), None
            )
            if arn is None:
                raise UsageError(f"service {query.service_name} has no task definition to read its log settings from")
        definition = await self.task_definition(query.account_id, query.region, arn)
        sources = pick_sources(definition, query.container)
        notes = tuple(s.why_unreadable() for s in sources if not s.readable)
        if query.task_id is not None:
            task_ids = [query.task_id]
        elif any(s.readable for s in sources):
            task_ids = [
                name_from_arn(a) for a in await self._task_arns(state, ecs, query.cluster_arn, query.service_name)
            ]
        else:
            task_ids = []
        lines, errors, truncated = await self._logs.read(
            state, account, query.region, sources, task_ids, query.start, query.end
        )
        return LogBatch(
            query=query,
            lines=tuple(lines),
            task_definition=definition.arn,
            containers=tuple(c.name for c in definition.containers),
            sources=sources,
            notes=notes,
            errors=tuple(errors),
            truncated=truncated,
        )


async def _counted(work: Awaitable[_T]) -> tuple[_T, PollStats]:
    """What `work` returns, and the AWS calls it made (counted apart from any poll's)."""

    counter = CallCounter()
    token = counting(counter)
    started = time.perf_counter()
    try:
        result = await work
    finally:
        stop_counting(token)
    stats = PollStats(
        calls=tuple(sorted(counter.calls.items())),
        http_requests=counter.http_requests,
        duration_seconds=time.perf_counter() - started,
    )
    return result, stats
