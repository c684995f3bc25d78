"""What one poll must cost: the fewest API calls the AWS APIs allow for a fleet.

The collector's batching is built to meet exactly this number; the tests and
the benchmark compare a real poll against it. Operation names are counted as
the collector counts them (`service.Operation`, botocore's names).
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass

from heartbeat_tui.collector.limits import (
    AUTOSCALING_PAGE_SIZE,
    DESCRIBE_CLUSTERS_BATCH,
    DESCRIBE_SERVICES_BATCH,
    LIST_PAGE_SIZE,
    METRIC_DATAPOINTS_PER_CALL,
    METRIC_QUERIES_PER_CALL,
    ORGANIZATIONS_PAGE_SIZE,
    SERIES,
)
from heartbeat_tui.config import DEFAULT_HISTORY_MINUTES


@dataclass(frozen=True)
class RegionShape:
    services_per_cluster: tuple[int, ...]
    scalable_targets: int
    activities_in_window: int
    older_activities: bool


@dataclass(frozen=True)
class AccountShape:
    assume_role: bool
    read_alias: bool
    regions: tuple[RegionShape, ...]
    reachable: bool = True  # False: AssumeRole is denied
    profile: bool = False  # read through an AWS profile: GetCallerIdentity proves its credentials


@dataclass(frozen=True)
class DiscoveryShape:
    """An organization as `[discovery]` lists it at a refresh."""

    accounts: int  # every account listed (ListAccounts)
    # With OU filters, the OU tree instead: per parent (the root, then each OU),
    # how many OUs and accounts it holds directly.
    parents: tuple[tuple[int, int], ...] = ()
    tagged: int = 0  # accounts whose tags are read (tag filters: those the other filters keep)
    management_role: bool = False  # reached through [discovery].role_arn


def discovery_calls(shape: DiscoveryShape) -> Counter[str]:
    """The Organizations calls of one refresh (see `collector.discovery`)."""

    calls: Counter[str] = Counter()
    if shape.management_role:
        calls["sts.AssumeRole"] += 1
    if shape.parents:
        calls["organizations.ListRoots"] += 1
        for ous, accounts in shape.parents:
            calls["organizations.ListOrganizationalUnitsForParent"] += _pages(ous, ORGANIZATIONS_PAGE_SIZE)
            calls["organizations.ListAccountsForParent"] += _pages(accounts, ORGANIZATIONS_PAGE_SIZE)
    else:
        calls["organizations.ListAccounts"] += _pages(shape.accounts, ORGANIZATIONS_PAGE_SIZE)
    if shape.tagged:
        calls["organizations.ListTagsForResource"] += shape.tagged
    return calls


def _pages(items: int, page_size: int) -> int:
    """A list call always makes one call, even for an empty list."""

    return max(1, math.ceil(items / page_size))


def metric_calls(services: int, history_minutes: int) -> int:
    """GetMetricData calls for a cold poll of one account-region: batches of 500
    queries, each paged when its datapoints pass CloudWatch's per-call limit."""

    queries = len(SERIES) * services
    calls = 0
    while queries > 0:
        batch = min(queries, METRIC_QUERIES_PER_CALL)
        calls += max(1, math.ceil(batch * history_minutes / METRIC_DATAPOINTS_PER_CALL))
        queries -= batch
    return calls


def minimum_poll_calls(
    accounts: tuple[AccountShape, ...] | list[AccountShape],
    *,
    history_minutes: int = DEFAULT_HISTORY_MINUTES,
    discovery: DiscoveryShape | None = None,
) -> Counter[str]:
    """The minimum calls of a cold poll (the first, with AssumeRole, aliases,
    profile identities and, with `discovery`, the organization's listing)."""

    calls: Counter[str] = discovery_calls(discovery) if discovery is not None else Counter()
    if any(account.reachable and not account.assume_role and not account.profile for account in accounts):
        # Once: the base credentials must belong to the accounts read without a role.
        calls["sts.GetCallerIdentity"] += 1
    for account in accounts:
        if account.assume_role:
            calls["sts.AssumeRole"] += 1
        if account.profile:
            # Once per set of credentials botocore gives the profile (a cold poll: one).
            calls["sts.GetCallerIdentity"] += 1
        if not account.reachable:
            continue
        if account.read_alias:
            calls["iam.ListAccountAliases"] += 1
        for region in account.regions:
            clusters = len(region.services_per_cluster)
            calls["ecs.ListClusters"] += _pages(clusters, LIST_PAGE_SIZE)
            calls["ecs.DescribeClusters"] += math.ceil(clusters / DESCRIBE_CLUSTERS_BATCH)
            for services in region.services_per_cluster:
                if services:  # a cluster without services needs no ListServices
                    calls["ecs.ListServices"] += _pages(services, LIST_PAGE_SIZE)
                    calls["ecs.DescribeServices"] += math.ceil(services / DESCRIBE_SERVICES_BATCH)
            services = sum(region.services_per_cluster)
            if services:
                calls["cloudwatch.GetMetricData"] += metric_calls(services, history_minutes)
            calls["application-autoscaling.DescribeScalableTargets"] += _pages(
                region.scalable_targets, AUTOSCALING_PAGE_SIZE
            )
            # Newest first: every page holding an activity of the window, plus the
            # next one when the window ends exactly on a page boundary.
            pages = _pages(region.activities_in_window, AUTOSCALING_PAGE_SIZE)
            full_last_page = region.activities_in_window and region.activities_in_window % AUTOSCALING_PAGE_SIZE == 0
            if region.older_activities and full_last_page:
                pages += 1
            calls["application-autoscaling.DescribeScalingActivities"] += pages
    return calls
