"""Leases on accounts in a DynamoDB table, as the Kinesis Client Library keeps them.

One item per account (`lease_key = "account#<id>"`): its `owner` (the replica
id, "" for nobody), a `lease_counter` that every write bumps, `expires_at`
(epoch seconds), `poll_started`/`poller` (when its last poll began, and in
which process: the replica id and a nonce) and `checkpoint` (the time of its
last published part). One item per replica (`"replica#<id>"`, `expires_at`
only) says who is alive, so a replica that holds nothing yet still counts
when the others size their share. A restarted replica (an explicit
`replica_id`) takes back the leases under its name at once.

Every write is conditional on the owner and counter the writer last saw, so of
two replicas racing for one lease exactly one wins, and a replica whose lease
was taken finds out at its next write (a renewal, a poll's claim, a publish)
and drops it at once. Expiry is by the wall clock: the replicas' clocks must
agree to well within a lease time (NTP does).

The timing, for an interval I: a heartbeat every I/4 renews each lease for
0.7 I, and a replica only starts polling an account one whole interval after
whoever polled it last started (`poll_started` is written, conditionally,
before each poll). Hence no account is polled by two replicas within one
interval, and a replica that stops is covered within two: its leases expire
0.7 I after its last heartbeat, another replica takes them at its next
heartbeat (<= I/4 later) and polls them at its next poll.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import math
import secrets
from collections import Counter
from collections.abc import Awaitable, Callable, Collection
from dataclasses import dataclass, replace
from typing import Any, TypeVar

from botocore.exceptions import BotoCoreError, ClientError

from heartbeat_tui.aws.errors import describe_error, error_code
from heartbeat_tui.errors import EXIT_UNAVAILABLE, EXIT_USAGE, HeartbeatError

log = logging.getLogger(__name__)
T = TypeVar("T")
R = TypeVar("R")

LEASE_FRACTION = 0.7  # a lease lasts this much of an interval past its last renewal
HEARTBEAT_FRACTION = 0.25  # heartbeats (renewals and rebalancing) this often
KEY = "lease_key"
ACCOUNT = "account#"
REPLICA = "replica#"
_CONDITION_FAILED = "ConditionalCheckFailedException"
_CONCURRENT_WRITES = 16


class ClusterError(HeartbeatError):
    """The lease table or the parts bucket cannot be used now (one line, for the hub's status)."""

    exit_code = EXIT_UNAVAILABLE


class ClusterMisconfigured(ClusterError):
    """The bucket is missing or not usable with these credentials: the configuration is wrong."""

    exit_code = EXIT_USAGE


@dataclass(frozen=True)
class Lease:
    """One account's lease as last read or written."""

    account_id: str
    owner: str = ""
    counter: int = 0
    expires_at: float = 0.0
    poll_started: float = 0.0
    poller: str = ""
    checkpoint: str = ""

    def expired(self, now: float) -> bool:
        return not self.owner or self.expires_at <= now


def _lease(item: dict[str, Any]) -> Lease:
    return Lease(
        account_id=item[KEY]["S"].removeprefix(ACCOUNT),
        owner=item.get("owner", {}).get("S", ""),
        counter=int(item.get("lease_counter", {}).get("N", "0")),
        expires_at=float(item.get("expires_at", {}).get("N", "0")),
        poll_started=float(item.get("poll_started", {}).get("N", "0")),
        poller=item.get("poller", {}).get("S", ""),
        checkpoint=item.get("checkpoint", {}).get("S", ""),
    )


class LeaseTable:
    """The DynamoDB calls, each one line on failure (`ClusterError`)."""

    def __init__(self, client: Any, table: str) -> None:
        self.client = client
        self.table = table

    def failure(self, exc: BaseException) -> ClusterError:
        """The one line a failed call becomes (a missing table is the configuration's fault: exit 2)."""

        if error_code(exc) == "ResourceNotFoundException":
            return ClusterMisconfigured(f"[cluster] lease table {self.table} does not exist: run `heartbeat init`")
        return ClusterError(f"lease table {self.table}: {describe_error(exc)}")

    async def ensure(self) -> bool:
        """Create the table if it is missing (on-demand billing); True when it was created."""

        try:
            await self.client.describe_table(TableName=self.table)
            return False
        except (ClientError, BotoCoreError) as exc:
            if error_code(exc) != "ResourceNotFoundException":
                raise self.failure(exc) from None
        try:
            await self.client.create_table(
                TableName=self.table,
                KeySchema=[{"AttributeName": KEY, "KeyType": "HASH"}],
                AttributeDefinitions=[{"AttributeName": KEY, "AttributeType": "S"}],
                BillingMode="PAY_PER_REQUEST",
            )
            await self.client.get_waiter("table_exists").wait(TableName=self.table)
        except (ClientError, BotoCoreError) as exc:
            if error_code(exc) == "ResourceInUseException":  # another replica's init got there first
                return False
            raise ClusterError(f"lease table {self.table}: cannot create it: {describe_error(exc)}") from None
        return True

    async def scan(self) -> tuple[dict[str, Lease], dict[str, float]]:
        """Every lease by account id, and every replica's expiry."""

        leases: dict[str, Lease] = {}
        replicas: dict[str, float] = {}
        request: dict[str, Any] = {"TableName": self.table, "ConsistentRead": True}
        while True:
            try:
                page = await self.client.scan(**request)
            except (ClientError, BotoCoreError) as exc:
                raise self.failure(exc) from None
            for item in page.get("Items", ()):
                key = item[KEY]["S"]
                if key.startswith(ACCOUNT):
                    lease = _lease(item)
                    leases[lease.account_id] = lease
                elif key.startswith(REPLICA):
                    replicas[key.removeprefix(REPLICA)] = float(item.get("expires_at", {}).get("N", "0"))
            if "LastEvaluatedKey" not in page:
                return leases, replicas
            request["ExclusiveStartKey"] = page["LastEvaluatedKey"]

    async def announce(self, replica_id: str, expires_at: float) -> None:
        try:
            await self.client.put_item(
                TableName=self.table,
                Item={KEY: {"S": REPLICA + replica_id}, "expires_at": {"N": repr(expires_at)}},
            )
        except (ClientError, BotoCoreError) as exc:
            raise self.failure(exc) from None

    async def create(self, account_id: str) -> Lease | None:
        """A new account's lease, owned by nobody; None when another replica created it first."""

        lease = Lease(account_id)
        try:
            await self.client.put_item(
                TableName=self.table,
                Item={KEY: {"S": ACCOUNT + account_id}, "owner": {"S": ""}, "lease_counter": {"N": "0"}},
                ConditionExpression=f"attribute_not_exists({KEY})",
            )
        except (ClientError, BotoCoreError) as exc:
            if error_code(exc) == _CONDITION_FAILED:
                return None
            raise self.failure(exc) from None
        return lease

    async def write(self, seen: Lease, new: Lease) -> bool:
        """`new` replaces `seen` if the item still has `seen`'s owner and counter."""

        values: dict[str, Any] = {
            ":owner": {"S": new.owner},
            ":counter": {"N": str(new.counter)},
            ":expires": {"N": repr(new.expires_at)},
            ":started": {"N": repr(new.poll_started)},
            ":poller": {"S": new.poller},
            ":checkpoint": {"S": new.checkpoint},
            ":seen_owner": {"S": seen.owner},
            ":seen_counter": {"N": str(seen.counter)},
        }
        try:
            await self.client.update_item(
                TableName=self.table,
                Key={KEY: {"S": ACCOUNT + seen.account_id}},
                UpdateExpression=(
                    "SET #owner = :owner, lease_counter = :counter, expires_at = :expires,"
                    " poll_started = :started, poller = :poller, #checkpoint = :checkpoint"
                ),
                ConditionExpression="#owner = :seen_owner AND lease_counter = :seen_counter",
                ExpressionAttributeNames={"#owner": "owner", "#checkpoint": "checkpoint"},
                ExpressionAttributeValues=values,
            )
        except (ClientError, BotoCoreError) as exc:
            if error_code(exc) == _CONDITION_FAILED:
                return False
            raise self.failure(exc) from None
        return True


def _spread(replica_id: str, account_id: str) -> str:
    """An order of accounts that differs between replicas: two replicas that both
    want expired leases mostly try different ones rather than race for the same."""

    return hashlib.sha256(f"{replica_id}/{account_id}".encode()).hexdigest()


class LeaseManager:
    """This replica's leases: heartbeats (renew, take expired ones, steal one for
    balance), a poll's claims and the fence each published part passes."""

    def __init__(self, table: LeaseTable, replica_id: str, interval_seconds: float, clock: Callable[[], float]) -> None:
        self.table = table
        self.replica_id = replica_id
        # Who polls, in `poller`: this process, not its name (a restart under the same replica_id
        # still waits an interval after the last poll of the process before it).
        self.instance = f"{replica_id}#{secrets.token_hex(4)}"
        self.interval = float(interval_seconds)
        self.lease_seconds = LEASE_FRACTION * self.interval
        self.heartbeat_seconds = HEARTBEAT_FRACTION * self.interval
        self.clock = clock
        self.held: dict[str, Lease] = {}
        self.replicas = 1  # live replicas at the last heartbeat
        self.target = 0  # this replica's fair share at the last heartbeat
        self._lock = asyncio.Lock()  # one of this replica's writes to a lease at a time: counters stay in step

    # -- writes that keep a held lease ----------------------------------------------

    async def _keep(self, lease: Lease, new: Lease) -> bool:
        """Write `new` over the held `lease`; a refusal (taken, or expired and taken) drops it."""

        try:
            ok = await self.table.write(lease, new)
        except ClusterError as exc:
            # Unreachable: kept only while it certainly has not expired, but not polled (no claim).
            if lease.expires_at <= self.clock():
                self._drop(lease.account_id, str(exc))
            return False
        if ok:
            self.held[lease.account_id] = new
        else:
            self._drop(lease.account_id, "taken by another replica")
        return ok

    def _drop(self, account_id: str, why: str) -> None:
        if self.held.pop(account_id, None) is not None:
            log.info("lease on %s lost (%s): no longer polled here", account_id, why)

    async def _each(self, items: Collection[T], write: Callable[[T], Awaitable[R]]) -> list[R]:
        """`write` each of `items`, a few at a time (a big fleet's leases renew in parallel)."""

        gate = asyncio.Semaphore(_CONCURRENT_WRITES)

        async def one(item: T) -> R:
            async with gate:
                return await write(item)

        return list(await asyncio.gather(*(one(item) for item in items)))

    def _renewed(self, lease: Lease, now: float, **changes: Any) -> Lease:
        return replace(lease, counter=lease.counter + 1, expires_at=now + self.lease_seconds, **changes)

    # -- the heartbeat ----------------------------------------------------------------

    async def heartbeat(self, accounts: Collection[str]) -> None:
        """Renew what is held, then take a fair share of `accounts` (see the module docstring)."""

        async with self._lock:
            now = self.clock()
            wanted = set(accounts)
            for account_id in [a for a in self.held if a not in wanted]:
                self._drop(account_id, "no longer configured")
            await self.table.announce(self.replica_id, now + self.lease_seconds)
            await self._each(list(self.held.values()), lambda lease: self._keep(lease, self._renewed(lease, now)))
            leases, replicas = await self.table.scan()
            for account_id in sorted(wanted - leases.keys()):
                created = await self.table.create(account_id)
                if created is not None:
                    leases[account_id] = created
            for account_id, lease in list(self.held.items()):
                seen = leases.get(account_id)
                if seen is not None and (seen.owner, seen.counter) != (lease.owner, lease.counter):
                    self._drop(account_id, "taken by another replica")
            await self._rebalance(now, {a: lease for a, lease in leases.items() if a in wanted}, replicas)

    async def _rebalance(self, now: float, leases: dict[str, Lease], replicas: dict[str, float]) -> None:
        live = {r for r, expires in replicas.items() if expires > now}
        live |= {lease.owner for lease in leases.values() if not lease.expired(now)}
        live.add(self.replica_id)
        self.replicas = len(live)
        self.target = math.ceil(len(leases) / len(live)) if leases else 0
        needed = self.target - len(self.held)
        if needed <= 0:
            return
        # Expired leases, and this replica id's from before a restart (an explicit replica_id outlives a process).
        expired = sorted(
            (
                lease
                for lease in leases.values()
                if (lease.expired(now) or lease.owner == self.replica_id) and lease.account_id not in self.held
            ),
            key=lambda lease: _spread(self.replica_id, lease.account_id),
        )
        if expired:
            await self._each(expired[:needed], lambda lease: self._take(lease, now))
            return
        # Nothing free: steal one lease from the most loaded replica, if that evens things out.
        load = Counter(lease.owner for lease in leases.values() if lease.owner != self.replica_id)
        if not load:
            return
        most, count = max(load.items(), key=lambda item: (item[1], item[0]))
        if count > self.target or (count == self.target and needed > 1):
            victim = min(
                (lease for lease in leases.values() if lease.owner == most),
                key=lambda lease: _spread(self.replica_id, lease.account_id),
            )
            if await self._take(victim, now):
                log.info("took the lease on %s from %s to even the load", victim.account_id, most)

    async def _take(self, lease: Lease, now: float) -> bool:
        new = self._renewed(lease, now, owner=self.replica_id)
        if not await self.table.write(lease, new):
            return False  # another replica was quicker, or the owner renewed
        self.held[lease.account_id] = new
        return True

    # -- a poll -----------------------------------------------------------------------

    async def claim(self) -> list[str]:
        """The accounts to poll now: each held lease whose last poll (by whoever)
        began at least one interval ago, or in this process, is renewed with this
        poll's start; a refused write drops the lease and it is not polled."""

        async with self._lock:
            now = self.clock()

            async def claim(lease: Lease) -> str | None:
                if lease.poller not in ("", self.instance) and lease.poll_started + self.interval > now:
                    await self._keep(lease, self._renewed(lease, now))  # not yet: the last owner's poll is recent
                    return None
                new = self._renewed(lease, now, poll_started=now, poller=self.instance)
                return lease.account_id if await self._keep(lease, new) else None

            return sorted(a for a in await self._each(list(self.held.values()), claim) if a is not None)

    async def fence(self, account_ids: Collection[str], checkpoint: str) -> list[str]:
        """Of `account_ids` (just polled), the ones this replica still holds, checked
        against the table (owner and counter) and checkpointed: only their parts may
        be published."""

        async with self._lock:
            now = self.clock()

            async def fence(account_id: str) -> str | None:
                lease = self.held.get(account_id)
                if lease is None:
                    return None
                ok = await self._keep(lease, self._renewed(lease, now, checkpoint=checkpoint))
                return account_id if ok else None

            return sorted(a for a in await self._each(list(account_ids), fence) if a is not None)

    async def release(self) -> None:
        """Give every lease up (a clean shutdown): the others take them at their next
        heartbeat, and still wait out the interval since this replica's last poll."""

        async with self._lock:
            now = self.clock()

            def given_up(lease: Lease) -> Lease:
                return replace(lease, owner="", counter=lease.counter + 1, expires_at=0.0)

            await self._each(list(self.held.values()), lambda lease: self.table.write(lease, given_up(lease)))
            self.held.clear()
            await self.table.announce(self.replica_id, now)
