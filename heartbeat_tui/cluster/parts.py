"""Each account's part in the S3 bucket: what its lease holder polled last.

A part is fleetwire's fleet document (heartbeat_tui/fleetwire.py, the format
`heartbeat serve` already sends remote dashboards: exact, schema-checked)
holding one account, gzipped, at `<prefix>/v1/parts/<account id>.json.gz`;
its `generated_at` is when that poll began. The `v1` in the key is the part
layout's version, fleetwire's `"schema"` the document's: replicas of another
version fail with one line per account, never half a snapshot.

Reading is cheap when little changed: one ListObjectsV2 per 1,000 accounts,
and a GetObject only for a part whose ETag differs from the one held. A
part that did change (each poll adds metric minutes) is decoded against the
account's last decode (fleetwire's `FleetMemo`): only what changed is
validated, and what did not is the very object shown before.
"""

from __future__ import annotations

import asyncio
import gzip
import logging
import zlib
from collections.abc import Collection
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from heartbeat_tui.aws.errors import describe_error, error_code
from heartbeat_tui.cluster.leases import ClusterError, ClusterMisconfigured
from heartbeat_tui.fleetwire import FleetMemo, WireFormatError, decode_fleet, encode_fleet
from heartbeat_tui.models import AccountSnapshot, FleetSnapshot

log = logging.getLogger(__name__)

LAYOUT = "v1"
SUFFIX = ".json.gz"
_CONCURRENT_READS = 16


@dataclass(frozen=True)
class Part:
    """One account's latest part: what was polled, when, and the object's ETag."""

    account: AccountSnapshot
    polled_at: datetime
    owner: str
    etag: str


@dataclass(frozen=True)
class Unreadable:
    """A part that is there but cannot be read (another version, damaged): the reason."""

    reason: str
    etag: str


def encode_part(account: AccountSnapshot, polled_at: datetime) -> bytes:
    return gzip.compress(encode_fleet(FleetSnapshot(generated_at=polled_at, accounts=(account,))), 6)


def decode_part(data: bytes, previous: FleetMemo | None = None) -> tuple[AccountSnapshot, datetime]:
    """A part's account and poll time; with `previous`, what is unchanged since its last decode is reused."""

    try:
        raw = gzip.decompress(data)
    except (OSError, EOFError, zlib.error):
        raise WireFormatError("not a gzipped part") from None
    snapshot = decode_fleet(raw, previous)
    if len(snapshot.accounts) != 1:
        raise WireFormatError(f"a part holds one account, this one {len(snapshot.accounts)}")
    return snapshot.accounts[0], snapshot.generated_at


class PartStore:
    """The parts under one prefix of one bucket, and the last of each read."""

    def __init__(self, client: Any, bucket: str, prefix: str) -> None:
        self.client = client
        self.bucket = bucket
        self.root = f"{prefix}/{LAYOUT}/parts/"
        self.held: dict[str, Part | Unreadable] = {}
        self._memos: dict[str, FleetMemo] = {}  # each account's last decode, for the next one to reuse

    def key(self, account_id: str) -> str:
        return f"{self.root}{account_id}{SUFFIX}"

    async def check(self) -> None:
        """The bucket exists and these credentials may use it (`heartbeat init`)."""

        try:
            await self.client.head_bucket(Bucket=self.bucket)
        except (ClientError, BotoCoreError) as exc:
            if error_code(exc) == "404":  # HeadBucket has no body: the status is the code
                raise ClusterMisconfigured(f"[cluster] bucket {self.bucket}: no such bucket (create it)") from None
            if error_code(exc) == "403":
                raise ClusterMisconfigured(f"[cluster] bucket {self.bucket}: access denied") from None
            raise self.failure(exc) from None

    def failure(self, exc: BaseException) -> ClusterError:
        """The one line a failed call becomes (a missing bucket is the configuration's fault: exit 2)."""

        if error_code(exc) == "NoSuchBucket":
            return ClusterMisconfigured(f"[cluster] bucket {self.bucket}: no such bucket (create it)")
        return ClusterError(f"bucket {self.bucket}: {describe_error(exc)}")

    async def put(self, account: AccountSnapshot, polled_at: datetime, owner: str) -> None:
        try:
            answer = await self.client.put_object(
                Bucket=self.bucket,
                Key=self.key(account.id),
                Body=encode_part(account, polled_at),
                ContentType="application/gzip",
                Metadata={"owner": owner},
            )
        except (ClientError, BotoCoreError) as exc:
            raise self.failure(exc) from None
        self.held[account.id] = Part(account, polled_at, owner, answer["ETag"])

    async def read(self, accounts: Collection[str] | None = None) -> dict[str, Part | Unreadable]:
        """The newest part of each of `accounts` (None: of every part listed); a part
        older than one already held is not taken.

        What is held, and each account's last decode, is kept for these accounts only:
        an account that left the fleet (its part stays in the bucket) is forgotten, or a
        long-running replica would keep every account it ever saw. One still wanted
        whose part is gone keeps its last part."""

        listed: dict[str, str] = {}
        request: dict[str, Any] = {"Bucket": self.bucket, "Prefix": self.root}
        try:
            while True:
                page = await self.client.list_objects_v2(**request)
                for item in page.get("Contents", ()):
                    name = item["Key"].removeprefix(self.root)
                    if name.endswith(SUFFIX) and "/" not in name:
                        listed[name.removesuffix(SUFFIX)] = item["ETag"]
                if not page.get("IsTruncated"):
                    break
                request["ContinuationToken"] = page["NextContinuationToken"]
        except (ClientError, BotoCoreError) as exc:
            raise self.failure(exc) from None
        kept = listed.keys() if accounts is None else set(accounts)
        listed = {a: etag for a, etag in listed.items() if a in kept}
        for forgotten in [a for a in self.held if a not in kept]:
            del self.held[forgotten]
        for forgotten in [a for a in self._memos if a not in kept]:
            del self._memos[forgotten]
        changed = [a for a, etag in listed.items() if (held := self.held.get(a)) is None or held.etag != etag]
        gate = asyncio.Semaphore(_CONCURRENT_READS)

        async def fetch(account_id: str) -> None:
            async with gate:
                await self._fetch(account_id, listed[account_id])

        await asyncio.gather(*(fetch(a) for a in changed))
        return dict(self.held)

    async def _fetch(self, account_id: str, etag: str) -> None:
        try:
            answer = await self.client.get_object(Bucket=self.bucket, Key=self.key(account_id))
            async with answer["Body"] as body:
                data = await body.read()
        except (ClientError, BotoCoreError) as exc:
            raise self.failure(exc) from None
        etag = answer.get("ETag", etag)
        try:
            account, polled_at = decode_part(data, self._memos.setdefault(account_id, FleetMemo()))
        except WireFormatError as exc:
            log.warning("the part of %s cannot be read: %s", account_id, exc)
            self.held[account_id] = Unreadable(str(exc), etag)
            return
        held = self.held.get(account_id)
        if isinstance(held, Part) and held.polled_at > polled_at:
            self.held[account_id] = replace(held, etag=etag)  # a late write of an older poll: the newer stays
            return
        self.held[account_id] = Part(account, polled_at, answer.get("Metadata", {}).get("owner", ""), etag)
