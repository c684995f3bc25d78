"""The collector against the embedded AWS, over real HTTP (aiobotocore is not mocked)."""

from __future__ import annotations

import gc
from collections import Counter
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest

from heartbeat_tui.collector import Collector
from heartbeat_tui.collector.cost import minimum_poll_calls
from heartbeat_tui.collector.limits import METRIC_MAX_LOOKBACK_SECONDS, METRIC_REREAD_SECONDS
from heartbeat_tui.embedded.fleet import FleetSpec
from heartbeat_tui.embedded.shape import client_in, read_fleet_shape
from heartbeat_tui.models import AccountStatus, FleetSnapshot, Service
from tests.support.aws_profiles import assumed_keys, write_aws_files
from tests.support.configs import DENIED_ACCOUNT, HUB, PAYMENTS, deleted_services, make_config

FLEET = FleetSpec.demo()
MEMBERS = [a for a in FLEET.accounts if not a.deny_assume_role]


async def poll_once(config: Any, polls: int = 1, *, prepare: bool = False, aws: Any = None) -> FleetSnapshot:
    async with Collector(config) as collector:
        if prepare:
            await collector.prepare()
            if aws is not None:
                assert aws.stats() == []  # preparing makes no AWS call
        snapshot = None
        for _ in range(polls):
            snapshot = await collector.poll()
        assert snapshot is not None
        return snapshot


async def test_full_fleet_and_isolation_of_the_denied_account(clean_aws: Any) -> None:
    snapshot = await poll_once(make_config(clean_aws))
    by_id = {a.id: a for a in snapshot.accounts}
    assert set(by_id) == {a.id for a in FLEET.accounts}

    denied = by_id[DENIED_ACCOUNT]
    assert denied.status is AccountStatus.ERROR
    assert "AssumeRole" in (denied.error or "") and "access denied" in (denied.error or "")
    assert denied.regions == () and denied.last_success_at is None

    deleted = deleted_services(clean_aws)
    for spec in MEMBERS:
        account = by_id[spec.id]
        assert account.status is AccountStatus.OK, account.error
        assert account.alias == spec.alias  # read with ListAccountAliases
        assert [r.region for r in account.regions] == [r.region for r in spec.regions]
        for region_spec, region in zip(spec.regions, account.regions):
            expected = {
                c.name: {s for s in c.services if (spec.id, region.region, c.name, s) not in deleted}
                for c in region_spec.clusters
            }
            got = {c.name: {s.name for s in c.services} for c in region.clusters}
            assert got == expected
    assert snapshot.service_count >= 150


async def test_cluster_with_more_than_100_services_comes_back_complete(clean_aws: Any) -> None:
    snapshot = await poll_once(make_config(clean_aws))
    payments = snapshot.account(PAYMENTS)
    assert payments is not None
    clusters = {c.name: c for r in payments.regions for c in r.clusters}
    big = clusters["payments-core"]
    # 130 seeded; one is being deleted (DRAINING), which ECS no longer lists.
    draining = {name for _, _, cluster, name in deleted_services(clean_aws) if cluster == "payments-core"}
    assert len(draining) == 1
    assert len(big.services) == 129
    assert len({s.arn for s in big.services}) == 129
    assert big.active_services_count == sum(1 for s in big.services if s.status == "ACTIVE")
    # Every described service carries real state, not placeholders.
    assert all(s.status == "ACTIVE" for s in big.services)
    assert all(s.deployments for s in big.services)
    assert all(s.arn.startswith("arn:aws:ecs:us-east-1:210987654321:service/payments-core/") for s in big.services)


@pytest.mark.parametrize("prepared", [False, True], ids=["cold", "prepared"])
async def test_calls_of_one_poll_equal_the_minimum(clean_aws: Any, prepared: bool) -> None:
    config = make_config(clean_aws)
    aliases = frozenset(a["id"] for a in clean_aws.config_dict()["accounts"] if a.get("alias"))
    shape = read_fleet_shape(
        clean_aws, FLEET, history=timedelta(minutes=config.file.collector.history_minutes), configured_aliases=aliases
    )
    expected = minimum_poll_calls(shape)
    clean_aws.reset_stats()
    snapshot = await poll_once(config, prepare=prepared, aws=clean_aws)
    calls = Counter(dict(snapshot.stats.calls))
    assert calls == expected
    # No retries were needed, and the server saw exactly these requests.
    assert snapshot.stats.http_requests == sum(expected.values())
    served = Counter()
    for row in clean_aws.stats():
        served[row["operation"]] += row["count"]
    for name, count in expected.items():
        assert served[name.split(".", 1)[1]] == count, name


async def test_calls_with_a_profile_account_equal_the_minimum(clean_aws: Any) -> None:
    """An account read through an AWS profile costs one GetCallerIdentity more
    (its credentials prove their account) and no AssumeRole."""

    write_aws_files({"payments-keys": {"region": "us-east-1"}}, {"payments-keys": assumed_keys(clean_aws, PAYMENTS)})
    accounts = clean_aws.config_dict()["accounts"]
    for entry in accounts:
        if entry["id"] == PAYMENTS:
            del entry["role_arn"]
            entry["profile"] = "payments-keys"
    config = make_config(clean_aws, accounts=accounts)
    aliases = frozenset(a["id"] for a in accounts if a.get("alias"))
    shape = read_fleet_shape(
        clean_aws,
        FLEET,
        history=timedelta(minutes=config.file.collector.history_minutes),
        configured_aliases=aliases,
        profiles=frozenset({PAYMENTS}),
    )
    expected = minimum_poll_calls(shape)
    assert expected["sts.GetCallerIdentity"] == 2  # the hub's base credentials, and the profile's
    clean_aws.reset_stats()
    snapshot = await poll_once(config)
    assert Counter(dict(snapshot.stats.calls)) == expected
    assert snapshot.stats.http_requests == sum(expected.values())
    payments = snapshot.account(PAYMENTS)
    assert payments is not None and payments.status is AccountStatus.OK, payments


async def test_metrics_are_incremental_after_the_first_poll(clean_aws: Any) -> None:
    config = make_config(clean_aws)
    starts: list[float] = []
    windows: list[float] = []

    def record(params: dict[str, Any], **_: Any) -> None:
        starts.append(params["StartTime"].timestamp())
        windows.append((params["EndTime"] - params["StartTime"]).total_seconds())

    async with Collector(config) as collector:
        first = await collector.poll()
        original = collector._access.call  # test hook: every call of a read, with its parameters

        async def recording(method: Any, **params: Any) -> Any:
            if getattr(method, "__name__", "") == "get_metric_data":
                record(params)
            return await original(method, **params)

        collector._access.call = recording  # type: ignore[method-assign]
        second = await collector.poll()

    # The first poll loaded the whole window.
    payments = first.account(PAYMENTS)
    assert payments is not None
    with_points = [s for _, _, s in payments.services() if s.metrics.cpu_average.timestamps]
    assert with_points, "the seeded fleet has CPU history"
    span = max(s.metrics.cpu_average.timestamps[-1] - s.metrics.cpu_average.timestamps[0] for s in with_points)
    assert span >= (config.file.collector.history_minutes - 5) * 60
    # The second asked only for recent minutes, with the same number of calls ...
    assert windows and max(windows) <= METRIC_MAX_LOOKBACK_SECONDS + 60
    assert second.stats.calls_of("GetMetricData") == first.stats.calls_of("GetMetricData")
    # ... starting before the newest datapoint held, so points CloudWatch publishes
    # late (after their minute) are still fetched instead of leaving holes.
    newest = min(s.metrics.newest_timestamp for _, _, s in payments.services() if s.metrics.newest_timestamp)
    assert min(starts) <= newest - METRIC_REREAD_SECONDS
    # ... and the merged history is the same length, not doubled.
    again = second.account(PAYMENTS)
    assert again is not None
    before = {s.arn: len(s.metrics.cpu_average.timestamps) for _, _, s in payments.services()}
    after = {s.arn: len(s.metrics.cpu_average.timestamps) for _, _, s in again.services()}
    assert all(abs(after[arn] - before[arn]) <= 2 for arn in before)
    assert all(n <= config.file.collector.history_minutes + 1 for n in after.values())


async def test_latest_values_match_the_embedded_aws(clean_aws: Any) -> None:
    snapshot = await poll_once(make_config(clean_aws))
    payments = snapshot.account(PAYMENTS)
    assert payments is not None
    region, cluster, service = next(
        (r, c, s) for r, c, s in payments.services() if s.running_count > 0 and s.metrics.cpu_average.timestamps
    )
    # Ground truth, read independently with boto3.
    cw = client_in(clean_aws, FLEET, "cloudwatch", PAYMENTS, region.region)
    newest = service.metrics.cpu_average.latest_timestamp
    answer = cw.get_metric_data(
        MetricDataQueries=[
            {
                "Id": "cpu",
                "MetricStat": {
                    "Metric": {
                        "Namespace": "AWS/ECS",
                        "MetricName": "CPUUtilization",
                        "Dimensions": [
                            {"Name": "ClusterName", "Value": cluster.name},
                            {"Name": "ServiceName", "Value": service.name},
                        ],
                    },
                    "Period": 60,
                    "Stat": "Average",
                },
            }
        ],
        StartTime=datetime.fromtimestamp(newest - 3600, tz=timezone.utc),
        EndTime=datetime.fromtimestamp(newest + 60, tz=timezone.utc),
        ScanBy="TimestampDescending",
    )["MetricDataResults"][0]
    assert answer["Timestamps"][0].timestamp() == newest  # "latest" is the newest point ...
    assert service.metrics.cpu_average.current(newest) == pytest.approx(answer["Values"][0])  # ... with its value
    peak = service.metrics.cpu_maximum.max_since(newest - 3600)
    assert peak is not None and peak >= max(answer["Values"])  # Maximum >= every Average


async def test_a_throttled_account_leaves_the_others_whole(clean_aws: Any) -> None:
    config = make_config(clean_aws, aws={"max_attempts": 2})
    async with Collector(config) as collector:
        good = await collector.poll()
        clean_aws.add_fault("throttle", account=PAYMENTS, service="ecs", rate=1.0)
        throttled = await collector.poll()
        clean_aws.clear_faults()
        recovered = await collector.poll()

    payments_before = good.account(PAYMENTS)
    payments = throttled.account(PAYMENTS)
    assert payments is not None and payments_before is not None
    assert payments.status is AccountStatus.ERROR
    assert "throttled" in (payments.error or "")
    # Its last good data is kept, marked stale, and nothing was blanked.
    assert [s.arn for _, _, s in payments.services()] == [s.arn for _, _, s in payments_before.services()]
    assert all("ecs" in r.stale for r in payments.regions)
    assert payments.stale_seconds(throttled.generated_at) is not None
    assert payments.last_success_at == payments_before.last_success_at
    # Every other account is unaffected.
    for account in throttled.accounts:
        if account.id not in (PAYMENTS, DENIED_ACCOUNT):
            assert account.status is AccountStatus.OK, account.error
    recovered_payments = recovered.account(PAYMENTS)
    assert recovered_payments is not None and recovered_payments.status is AccountStatus.OK


async def test_partial_failure_says_what_is_missing_and_keeps_old_metrics(clean_aws: Any) -> None:
    config = make_config(clean_aws, aws={"max_attempts": 1})
    async with Collector(config) as collector:
        good = await collector.poll()
        clean_aws.add_fault("error", account=PAYMENTS, service="monitoring", rate=1.0)
        partial = await collector.poll()

    before = good.account(PAYMENTS)
    after = partial.account(PAYMENTS)
    assert before is not None and after is not None
    assert after.status is AccountStatus.ERROR
    assert "GetMetricData" in (after.error or "")
    for region in after.regions:
        assert region.stale == ("metrics",)
        assert any("GetMetricData" in e for e in region.errors)
    old = {s.arn: s.metrics for _, _, s in before.services()}
    # ECS data is fresh; metrics are the last good ones, not blanked.
    assert all(s.metrics == old[s.arn] for _, _, s in after.services())


async def test_a_timing_out_account_is_isolated(clean_aws: Any) -> None:
    config = make_config(clean_aws, aws={"read_timeout_seconds": 0.5, "max_attempts": 1})
    clean_aws.add_fault("timeout", account=PAYMENTS, service="ecs", seconds=2.0)
    snapshot = await poll_once(config)
    payments = snapshot.account(PAYMENTS)
    assert payments is not None and payments.status is AccountStatus.ERROR
    assert "timed out" in (payments.error or "")
    others = [a for a in snapshot.accounts if a.id not in (PAYMENTS, DENIED_ACCOUNT)]
    assert others and all(a.status is AccountStatus.OK for a in others)


async def test_assume_role_denied_mid_session_keeps_the_last_good_data(clean_aws: Any) -> None:
    config = make_config(clean_aws, aws={"max_attempts": 1})
    async with Collector(config) as collector:
        good = await collector.poll()
        clean_aws.add_fault("expire_credentials", account=PAYMENTS)
        clean_aws.add_fault("deny_assume_role", account=PAYMENTS)
        denied = await collector.poll()
    before = good.account(PAYMENTS)
    after = denied.account(PAYMENTS)
    assert before is not None and after is not None
    assert after.status is AccountStatus.ERROR
    assert [s.arn for _, _, s in after.services()] == [s.arn for _, _, s in before.services()]
    assert all(set(r.stale) >= {"ecs"} for r in after.regions)


async def test_service_detail_has_tasks_with_stopped_reasons(clean_aws: Any) -> None:
    config = make_config(clean_aws)
    async with Collector(config) as collector:
        snapshot = await collector.poll()
        failing = [
            (account, region, service)
            for account in snapshot.accounts
            for region, _, service in account.services()
            if service.rollout_state == "FAILED"
        ]
        assert failing, "the demo fleet has a failing deployment"
        account, region, service = failing[0]
        detail = await collector.fetch_service_detail(account.id, region.region, service.cluster_arn, service.name)
        running = [s for _, _, s in snapshot.accounts[1].services() if s.running_count > 0]
        steady = running[0]
        steady_region = next(r for r, _, s in snapshot.accounts[1].services() if s is steady)
        steady_detail = await collector.fetch_service_detail(
            snapshot.accounts[1].id, steady_region.region, steady.cluster_arn, steady.name
        )
    assert not detail.errors
    stopped = [t for t in detail.tasks if t.last_status == "STOPPED"]
    assert stopped and all(t.stopped_reason for t in stopped)
    assert any(c.exit_code not in (None, 0) or c.reason for t in stopped for c in t.containers)
    assert not steady_detail.errors
    assert sum(1 for t in steady_detail.tasks if t.last_status == "RUNNING") == steady.running_count


def assume_role_calls(aws: Any, account: str) -> int:
    return sum(row["count"] for row in aws.stats() if row["operation"] == "AssumeRole" and row["account"] == account)


async def test_assumed_credentials_refresh_themselves_before_they_expire(clean_aws: Any) -> None:
    config = make_config(clean_aws)
    async with Collector(config) as collector:
        await collector.poll()
        assert assume_role_calls(clean_aws, PAYMENTS) == 1
        await collector.poll()
        assert assume_role_calls(clean_aws, PAYMENTS) == 1  # reused, not assumed per poll
        # Fast-forward: the credentials now expire in 5 minutes (inside botocore's
        # mandatory refresh window). Old keys are refused from now on.
        credentials = collector._access._credentials[PAYMENTS]  # test hook
        credentials._expiry_time = credentials._time_fetcher() + timedelta(minutes=5)
        clean_aws.add_fault("expire_credentials", account=PAYMENTS)
        snapshot = await collector.poll()
    payments = snapshot.account(PAYMENTS)
    assert payments is not None and payments.status is AccountStatus.OK, payments.error
    assert assume_role_calls(clean_aws, PAYMENTS) == 2


async def test_credentials_revoked_early_are_assumed_again(clean_aws: Any) -> None:
    config = make_config(clean_aws)
    async with Collector(config) as collector:
        await collector.poll()
        clean_aws.add_fault("expire_credentials", account=PAYMENTS)
        snapshot = await collector.poll()
    payments = snapshot.account(PAYMENTS)
    assert payments is not None and payments.status is AccountStatus.OK, payments.error
    # One extra AssumeRole for the whole account, not one per failed call.
    assert assume_role_calls(clean_aws, PAYMENTS) == 2


@pytest.mark.parametrize(
    ("service", "field", "stale"),
    [("ecs", "serviceArn", "ecs"), ("ecs", "clusterArn", "ecs"), ("monitoring", "Values", "metrics")],
)
async def test_malformed_responses_stay_inside_their_account(
    clean_aws: Any, service: str, field: str, stale: str
) -> None:
    config = make_config(clean_aws)
    async with Collector(config) as collector:
        good = await collector.poll()
        clean_aws.add_fault("malformed", account=PAYMENTS, service=service, code=field)
        broken = await collector.poll()
    payments = broken.account(PAYMENTS)
    before = good.account(PAYMENTS)
    assert payments is not None and before is not None
    # The poll completed; the account says what went wrong; nothing good was blanked.
    assert payments.status is AccountStatus.ERROR
    assert "unexpected response" in (payments.error or "")
    assert all(stale in r.stale for r in payments.regions)
    assert [s.arn for _, _, s in payments.services()] == [s.arn for _, _, s in before.services()]
    if stale == "metrics":
        assert [s.metrics for _, _, s in payments.services()] == [s.metrics for _, _, s in before.services()]
    for account in broken.accounts:
        if account.id not in (PAYMENTS, DENIED_ACCOUNT):
            assert account.status is AccountStatus.OK, account.error


async def test_calls_in_flight_per_account_are_bounded_per_service(clean_aws: Any) -> None:
    cap = 3
    config = make_config(clean_aws, collector={"max_in_flight_per_account": cap})
    clean_aws.add_fault("latency", seconds=0.05)
    in_flight: Counter[tuple[str, str]] = Counter()
    peak: Counter[tuple[str, str]] = Counter()
    overall: Counter[str] = Counter()
    peak_overall: Counter[str] = Counter()

    def started(lane: tuple[str, str]) -> None:
        in_flight[lane] += 1
        overall[lane[0]] += 1
        peak[lane] = max(peak[lane], in_flight[lane])
        peak_overall[lane[0]] = max(peak_overall[lane[0]], overall[lane[0]])

    def finished(lane: tuple[str, str]) -> None:
        in_flight[lane] -= 1
        overall[lane[0]] -= 1

    lanes: dict[int, tuple[str, str]] = {}
    async with Collector(config) as collector:
        original = collector._access.client  # test hook: the lane of each client
        original_call = collector._access.call  # test hook: the readers' calls, in flight

        async def tagged(account: Any, service: str, region: str) -> Any:
            client = await original(account, service, region)
            # STS is the hub's client but calls AssumeRole on behalf of each account.
            if service != "sts":
                lanes[id(client)] = (account.id if account else HUB, service)
            return client

        async def counted(method: Any, **params: Any) -> Any:
            lane = lanes.get(id(getattr(method, "__self__", None)))
            if lane is None:
                return await original_call(method, **params)
            started(lane)
            try:
                return await original_call(method, **params)
            finally:
                finished(lane)

        collector._access.call = counted  # type: ignore[method-assign]
        collector._access.client = tagged  # type: ignore[method-assign]
        snapshot = await collector.poll()
    assert snapshot.account(PAYMENTS).status is AccountStatus.OK  # type: ignore[union-attr]
    # payments-prod has 15 DescribeServices batches in us-east-1 alone: ECS's cap
    # is reached, never passed; every service's calls are bounded on their own.
    assert peak[(PAYMENTS, "ecs")] == cap
    assert max(peak.values()) <= cap
    # CloudWatch and Application Auto Scaling ran beside ECS, not in its slots.
    assert peak_overall[PAYMENTS] > cap


@pytest.mark.parametrize("prepared", [False, True], ids=["cold", "prepared"])
async def test_without_accounts_the_base_credentials_account_is_watched(clean_aws: Any, prepared: bool) -> None:
    config = make_config(clean_aws, accounts=[])
    snapshot = await poll_once(config, prepare=prepared)
    assert [a.id for a in snapshot.accounts] == [HUB]
    hub = snapshot.accounts[0]
    assert hub.status is AccountStatus.OK, hub.error
    assert hub.alias == "shared-services"
    expected = {c.name for a in FLEET.accounts if a.id == HUB for r in a.regions for c in r.clusters}
    assert {c.name for r in hub.regions for c in r.clusters} == expected


async def test_unchanged_services_keep_their_objects_across_polls(clean_aws: Any) -> None:
    config = make_config(clean_aws)
    async with Collector(config) as collector:
        first = await collector.poll()
        second = await collector.poll()
    before = {s.arn: s for a in first.accounts for _, _, s in a.services()}
    after = {s.arn: s for a in second.accounts for _, _, s in a.services()}
    assert before.keys() == after.keys()
    same_inputs = [arn for arn in after if after[arn].metrics is before[arn].metrics]
    # Services scaled to zero have no datapoints: their inputs cannot change here.
    assert any(s.desired_count == 0 for s in after.values())
    assert same_inputs
    # The simulator is paused: whatever has the same metrics is the very same object,
    # so a consumer (the dashboard) can skip it with an identity check.
    assert all(after[arn] is before[arn] for arn in same_inputs)


async def test_a_service_changed_and_changed_back_is_read_each_time(clean_aws: Any) -> None:
    """An answer whose bytes are the last poll's is recognised without decoding
    it: one that differs (a service changed, then changed back) is read, each
    time, and its neighbours in the same answer keep their objects."""

    config = make_config(clean_aws)
    async with Collector(config) as collector:
        first = await collector.poll()
        payments = first.account(PAYMENTS)
        assert payments is not None
        region, cluster, service = next(iter(payments.services()))
        neighbours = [s for c in region.clusters if c.arn == cluster.arn for s in c.services if s.arn != service.arn]
        assert neighbours  # one DescribeServices answer holds them with the changed one
        ecs = client_in(clean_aws, FLEET, "ecs", PAYMENTS, region.region)
        counts = []
        try:
            for desired in (service.desired_count + 1, service.desired_count, service.desired_count):
                ecs.update_service(cluster=cluster.arn, service=service.name, desiredCount=desired)
                snapshot = await collector.poll()
                account = snapshot.account(PAYMENTS)
                assert account is not None
                now = {s.arn: s for _, _, s in account.services()}
                counts.append(now[service.arn].desired_count)
                assert all(now[s.arn] is s for s in neighbours if now[s.arn].metrics is s.metrics)
        finally:  # the fleet is shared by the suite
            ecs.update_service(cluster=cluster.arn, service=service.name, desiredCount=service.desired_count)
    assert counts == [service.desired_count + 1, service.desired_count, service.desired_count]


async def test_each_service_is_held_once(clean_aws: Any) -> None:
    """A poll keeps one object per service, the snapshot's, not also the one parsed
    before its metrics were attached (at 40,000 services, 0.6 KB a service)."""

    def live_services() -> int:
        gc.collect()
        return sum(1 for o in gc.get_objects() if type(o) is Service)

    config = make_config(clean_aws)
    baseline = live_services()
    async with Collector(config) as collector:
        await collector.poll()
        snapshot = await collector.poll()
        assert snapshot.service_count > 100
        assert live_services() - baseline == snapshot.service_count


async def test_a_slow_account_cannot_hold_back_the_others(clean_aws: Any) -> None:
    config = make_config(clean_aws, collector={"account_deadline_seconds": 5})
    async with Collector(config) as collector:
        good = await collector.poll()
        # Every ECS call of payments-prod now takes 6 s: its poll cannot end within 5 s.
        clean_aws.add_fault("latency", account=PAYMENTS, service="ecs", seconds=6.0)
        slow = await collector.poll()
    assert slow.stats.duration_seconds < 15
    payments = slow.account(PAYMENTS)
    assert payments is not None and payments.status is AccountStatus.ERROR
    assert "not answered within 5 s" in (payments.error or "")
    before = good.account(PAYMENTS)
    assert before is not None
    assert [s.arn for _, _, s in payments.services()] == [s.arn for _, _, s in before.services()]
    for account in slow.accounts:
        if account.id not in (PAYMENTS, DENIED_ACCOUNT):
            assert account.status is AccountStatus.OK, account.error


async def test_an_account_without_a_role_must_be_the_base_credentials_account(clean_aws: Any) -> None:
    accounts = [*clean_aws.config_dict()["accounts"], {"id": "111122223333", "regions": ["us-west-2"]}]
    config = make_config(clean_aws, accounts=accounts)
    snapshot = await poll_once(config)
    wrong = snapshot.account("111122223333")
    assert wrong is not None and wrong.status is AccountStatus.ERROR
    assert "belong to account 123456789012" in (wrong.error or "")
    assert wrong.regions == ()  # never shows another account's fleet under its id
    hub = snapshot.account(HUB)
    assert hub is not None and hub.status is AccountStatus.OK


async def test_a_poll_leaves_what_its_caller_froze_frozen(clean_aws: Any) -> None:
    # The garbage collector has one owner (heartbeat_tui.heap, used by the caller):
    # the collector used to unfreeze everything at the end of each poll.
    async with Collector(make_config(clean_aws)) as collector:
        gc.freeze()
        try:
            thresholds = gc.get_threshold()
            await collector.poll()
            assert gc.get_freeze_count() > 0 and gc.get_threshold() == thresholds
        finally:
            gc.unfreeze()
