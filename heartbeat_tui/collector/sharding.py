"""Sharding accounts across worker processes, and merging their parts back.

Pure functions, no processes: which worker owns an account, the worker's
configuration (no secret but the AWS credentials), and the merge that keeps the
last snapshot's objects wherever a part is equal to them, so the dashboard's
identity-based diffing (`old is new`) works across processes as it does in one.
"""

from __future__ import annotations

from collections.abc import Iterable

from heartbeat_tui.config import AccountConfig, Config, DiscoverySection
from heartbeat_tui.envfile import NO_DOTENV
from heartbeat_tui.models import AccountSnapshot, AccountStatus, Cluster, RegionSnapshot

#: What a dead worker's accounts say until their new worker has polled them.
WORKER_RESTARTING = "worker restarting (the last good data is shown)"


def assign(account_ids: Iterable[str], workers: int) -> dict[str, int]:
    """Account id -> worker index: a round robin over the sorted ids.

    Balanced, and stable while the set of accounts is: an account keeps its
    worker, and so its warm inventory and metric history, poll after poll."""

    return {account_id: i % workers for i, account_id in enumerate(sorted(set(account_ids)))}


def worker_config(config: Config, accounts: tuple[AccountConfig, ...]) -> Config:
    """The configuration a worker polls `accounts` with.

    The session secrets (JWT_SECRET, ENCRYPTION_KEY) and the `.env` values stay
    in the parent; the AWS credentials are the parent's, as its environment
    would give them. Discovery is the parent's job: a worker polls the accounts
    it is sent."""

    env = config.env.model_copy(update={"encryption_key": None, "jwt_secret": None})
    file = config.file.model_copy(update={"accounts": accounts, "discovery": DiscoverySection()})
    return config.model_copy(update={"env": env, "file": file, "dotenv": NO_DOTENV})


def _merge_cluster(new: Cluster, old: Cluster | None) -> Cluster:
    if old is None:
        return new
    before = {service.arn: service for service in old.services}
    services = []
    for service in new.services:
        previous = before.get(service.arn)
        services.append(previous if previous is not None and previous == service else service)
    if all(a is b for a, b in zip(services, new.services)):
        return new
    return new.model_copy(update={"services": tuple(services)})


def _merge_region(new: RegionSnapshot, old: RegionSnapshot | None) -> RegionSnapshot:
    if old is None:
        return new
    if new == old:
        return old
    before = {c.arn: c for c in old.clusters}
    clusters = []
    for cluster in new.clusters:
        previous = before.get(cluster.arn)
        clusters.append(previous if previous is not None and previous == cluster else _merge_cluster(cluster, previous))
    return new.model_copy(update={"clusters": tuple(clusters)})


def merge_account(new: AccountSnapshot, old: AccountSnapshot | None) -> AccountSnapshot:
    """`new` with every region, cluster and service equal to `old`'s replaced by `old`'s object."""

    if old is None:
        return new
    if new == old:
        return old
    before = {r.region: r for r in old.regions}
    regions = tuple(_merge_region(region, before.get(region.region)) for region in new.regions)
    return new.model_copy(update={"regions": regions})


def restarting(
    account: AccountConfig | AccountSnapshot, last: AccountSnapshot | None, reason: str = WORKER_RESTARTING
) -> AccountSnapshot:
    """The account while its worker restarts: an error, with its last data, stale.

    Its clusters stay the very objects of the last snapshot; each region says
    it was not polled, as a failed account's regions do."""

    if last is None:
        return AccountSnapshot(id=account.id, alias=account.alias, status=AccountStatus.ERROR, error=reason)
    regions = tuple(
        region.model_copy(
            update={
                "errors": (f"{region.region} not polled: {reason}",),
                "stale": ("ecs", "metrics", "scaling"),
            }
        )
        for region in last.regions
    )
    return last.model_copy(update={"status": AccountStatus.ERROR, "error": reason, "regions": regions})
