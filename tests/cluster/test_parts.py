"""Reading parts: a changed part (a new poll) is decoded against its account's last one, over the embedded S3."""

from __future__ import annotations

import gzip
from datetime import datetime, timedelta, timezone

import orjson

from heartbeat_tui.aws.access import AwsAccess
from heartbeat_tui.cluster.parts import Part, PartStore, Unreadable
from heartbeat_tui.collector import Collector
from heartbeat_tui.fleetwire import encode_fleet
from heartbeat_tui.models import AccountSnapshot, AccountStatus, FleetSnapshot, Service

from .conftest import Cluster, s3_client

T0 = datetime(2027, 1, 15, 12, 0, tzinfo=timezone.utc)


def _services(account: AccountSnapshot) -> list[Service]:
    return [service for _, _, service in account.services()]


def _changed(account: AccountSnapshot, arn: str, running: int) -> AccountSnapshot:
    regions = tuple(
        r.model_copy(
            update={
                "clusters": tuple(
                    c.model_copy(
                        update={
                            "services": tuple(
                                s.model_copy(update={"running_count": running}) if s.arn == arn else s
                                for s in c.services
                            )
                        }
                    )
                    for c in r.clusters
                )
            }
        )
        for r in account.regions
    )
    return account.model_copy(update={"regions": regions})


def _held(held: dict[str, Part | Unreadable], account_id: str) -> Part:
    part = held[account_id]
    assert isinstance(part, Part), part
    return part


async def test_a_changed_part_reuses_what_did_not_change(cluster: Cluster) -> None:
    config = cluster.config("writer")
    async with Collector(config) as collector:
        polled = await collector.poll()
    account = max((a for a in polled.accounts if a.status is AccountStatus.OK), key=lambda a: len(_services(a)))
    assert len(_services(account)) > 3
    access = AwsAccess(config)
    try:
        client = await access.bounded_client("s3", attempts=2, connect_timeout=5, read_timeout=10)
        writer = PartStore(client, cluster.bucket, "heartbeat")
        reader = PartStore(client, cluster.bucket, "heartbeat")

        await writer.put(account, T0, "writer")
        first = _held(await reader.read(), account.id).account
        assert first == account

        target = _services(account)[1]
        changed = _changed(account, target.arn, target.running_count + 5)
        await writer.put(changed, T0 + timedelta(seconds=30), "writer")
        second = _held(await reader.read(), account.id).account
        assert second == changed  # the new value is honoured
        kept = [old is new for old, new in zip(_services(first), _services(second), strict=True)]
        assert kept.count(False) == 1 and not kept[1]  # only the changed service is a new object

        # A damaged service in the next part is still that account's one-line error, checked strictly.
        document = orjson.loads(
            encode_fleet(FleetSnapshot(generated_at=T0 + timedelta(seconds=60), accounts=(changed,)))
        )
        document["fleet"]["accounts"][0]["regions"][0]["clusters"][0]["services"][0]["desired_count"] = "many"
        key = f"heartbeat/v1/parts/{account.id}.json.gz"
        s3_client(cluster.aws, config).put_object(
            Bucket=cluster.bucket, Key=key, Body=gzip.compress(orjson.dumps(document))
        )
        broken = (await reader.read())[account.id]
        assert isinstance(broken, Unreadable) and "desired_count" in broken.reason and "\n" not in broken.reason

        # The failed read took nothing from what the next one reuses.
        await writer.put(changed, T0 + timedelta(seconds=90), "writer")
        third = _held(await reader.read(), account.id).account
        assert third == changed
        assert all(old is new for old, new in zip(_services(second), _services(third), strict=True))
    finally:
        await access.close()
