"""Pure view functions: snapshot -> rows, sparklines, sorting, notifications."""

from __future__ import annotations

from array import array
from datetime import timedelta
from typing import Any

from heartbeat_tui.models import AccountStatus, MetricSeries
from heartbeat_tui.tui.view import (
    SPARK_BLOCKS,
    Thresholds,
    age_text,
    build_view,
    changes,
    sort_rows,
    sparkline,
)
from tests.support.factory import FIXED_NOW, make_snapshot


def test_sparkline_buckets_the_last_hour_on_a_fixed_scale() -> None:
    end = 10_000
    stamps = array("I", range(end - 3600 + 60, end + 1, 60))
    values = array("d", [0.0] * 30 + [100.0] * 30)
    line = sparkline(MetricSeries(stamps, values), end, 4)
    assert line == SPARK_BLOCKS[0] * 2 + SPARK_BLOCKS[7] * 2
    assert sparkline(MetricSeries(), end, 5) == " " * 5
    # Older than an hour: not shown; a gap is a space.
    old = MetricSeries(array("I", [end - 7200]), array("d", [50.0]))
    assert sparkline(old, end, 3) == "   "


def test_thresholds() -> None:
    t = Thresholds(70, 90)
    assert [t.level(v) for v in (None, 10, 70, 89.9, 90, 130)] == [
        "ok",
        "ok",
        "warning",
        "warning",
        "critical",
        "critical",
    ]


def test_age_text() -> None:
    assert [age_text(s) for s in (None, 5, 65, 7200, 200000)] == ["never", "5s", "1m", "2h", "2d"]


def test_build_view_rows_accounts_and_clusters() -> None:
    view = build_view(make_snapshot(accounts=2, clusters=2, services=5, errors={1: "STS AssumeRole: AccessDenied"}))
    assert len(view.services) == 20
    assert len(view.by_cluster) == 4
    ok, failed = view.accounts.values()
    assert ok.badge == "ok" and ok.services == 10 and ok.stale_seconds is None
    assert failed.badge == "error" and failed.reason.startswith("STS") and failed.stale_seconds == 3600
    stale_rows = [r for r in view.services.values() if r.account_id == failed.key]
    assert stale_rows and all(r.stale for r in stale_rows)
    assert view.error_accounts == [failed]


def test_unchanged_services_keep_their_signature() -> None:
    a = build_view(make_snapshot())
    b = build_view(make_snapshot(bump={0: 30.0}))
    changed = [k for k, row in b.services.items() if row.signature != a.services[k].signature]
    assert changed == [next(iter(a.services))]


def test_sort_rows_hottest_first() -> None:
    view = build_view(make_snapshot())
    keys = sort_rows(view.services.values(), "cpu", reverse=False)
    cpus = [view.services[k].cpu for k in keys]
    assert cpus == sorted(cpus, reverse=True)
    names = [view.services[k].name for k in sort_rows(view.services.values(), "name", reverse=True)]
    assert names == sorted(names, reverse=True)


def test_changes_between_snapshots() -> None:
    before = make_snapshot(accounts=2)
    assert changes(None, before) == []
    assert changes(before, before) == []
    after = make_snapshot(accounts=2, errors={1: "timeout"}, now=FIXED_NOW + timedelta(minutes=1))
    texts = [c.text for c in changes(before, after)]
    assert any("went to error: timeout" in t for t in texts)
    recovered = changes(after, before)
    assert any("recovered" in c.text for c in recovered)

    account = before.accounts[0]
    region = account.regions[0]
    cluster = region.clusters[0]
    service = cluster.services[0]
    deployment = service.deployments[0].model_copy(update={"rollout_state": "FAILED"})
    changed_service = service.model_copy(
        update={"deployments": (deployment,), "desired_count": service.desired_count + 2}
    )
    changed = before.model_copy(
        update={
            "accounts": (
                account.model_copy(
                    update={
                        "regions": (
                            region.model_copy(
                                update={
                                    "clusters": (
                                        cluster.model_copy(
                                            update={"services": (changed_service, *cluster.services[1:])}
                                        ),
                                        *region.clusters[1:],
                                    )
                                }
                            ),
                        )
                    }
                ),
                *before.accounts[1:],
            )
        }
    )
    found = changes(before, changed)
    where = f"{account.display_name}: deployment failed: {cluster.name}/{service.name}"
    assert any(c.severity == "error" and c.text == where for c in found)
    scaled = f"{account.display_name}: scaled: {cluster.name}/{service.name} "
    assert any(c.text.startswith(scaled) and "→" in c.text for c in found)
    assert account.status is AccountStatus.OK


def test_a_burst_of_scaling_in_one_account_is_one_line_naming_it() -> None:
    before = make_snapshot(accounts=2)
    account = before.accounts[0]

    def scaled_up(cluster: Any) -> Any:
        services = tuple(s.model_copy(update={"desired_count": s.desired_count + 1}) for s in cluster.services)
        return cluster.model_copy(update={"services": services})

    regions = tuple(r.model_copy(update={"clusters": tuple(map(scaled_up, r.clusters))}) for r in account.regions)
    after = before.model_copy(
        update={"accounts": (account.model_copy(update={"regions": regions}), *before.accounts[1:])}
    )
    count = sum(1 for _ in account.services())
    assert count > 4
    found = changes(before, after, limit=4)
    assert [c.text.split(": ")[:2] for c in found] == [[account.display_name, f"{count} services scaled"]]
    assert found[0].text.endswith(", …")
    assert found[0].text.count("→") == 4


def test_badges_ok_stale_error() -> None:
    from heartbeat_tui.tui.view import account_badge

    snapshot = make_snapshot(accounts=1)
    account = snapshot.accounts[0]
    assert account_badge(account) == "ok"
    metrics_failed = account.model_copy(
        update={
            "status": AccountStatus.ERROR,
            "error": "us-east-1 CloudWatch GetMetricData: Throttling",
            "regions": tuple(r.model_copy(update={"stale": ("metrics",)}) for r in account.regions),
        }
    )
    assert account_badge(metrics_failed) == "stale"
    ecs_failed = metrics_failed.model_copy(
        update={"regions": tuple(r.model_copy(update={"stale": ("ecs", "metrics")}) for r in account.regions)}
    )
    assert account_badge(ecs_failed) == "error"
    never = ecs_failed.model_copy(update={"regions": ()})
    assert account_badge(never) == "error"


def test_scaling_in_many_accounts_at_once_is_one_line() -> None:
    before = make_snapshot(accounts=7, clusters=1, services=3)

    def scaled(account: Any, how_many: int) -> Any:
        def up(cluster: Any) -> Any:
            services = tuple(
                s.model_copy(update={"desired_count": s.desired_count + 1}) if i < how_many else s
                for i, s in enumerate(cluster.services)
            )
            return cluster.model_copy(update={"services": services})

        regions = tuple(r.model_copy(update={"clusters": tuple(map(up, r.clusters))}) for r in account.regions)
        return account.model_copy(update={"regions": regions})

    after = before.model_copy(
        update={"accounts": tuple(scaled(a, 3 if i == 5 else 1) for i, a in enumerate(before.accounts))}
    )
    found = changes(before, after, limit=4)
    busiest = before.accounts[5].display_name
    assert [c.text for c in found] == [found[0].text]
    assert found[0].severity == "information"
    assert found[0].text.startswith(f"9 services scaled in 7 accounts: {busiest} (3), ")
    assert found[0].text.endswith(", …") and found[0].text.count("(1)") == 3
    # Up to `limit` accounts keep their own lines.
    assert len(changes(before, after, limit=7)) == 7
