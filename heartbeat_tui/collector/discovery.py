"""Organizations discovery (`[discovery]`): the organization's ACTIVE accounts,
filtered, become accounts to poll beside the `[[accounts]]` of the file.

The fewest calls that answer the filters: ListAccounts (20 per page) when no
OU filter is set; with one, the OU tree instead (ListRoots, then per OU
ListOrganizationalUnitsForParent and ListAccountsForParent), which also gives
each account its OU path; ListTagsForResource only with a tag filter, and
only for accounts the other filters keep. Calls are counted into the poll
that made them.

A refresh runs at the first poll and then every `refresh_minutes`; an account
that joins or leaves appears or disappears then. A failed refresh keeps the
last list, says so (`report.error`), and is tried again within five minutes.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from fnmatch import fnmatchcase
from typing import Any

from pydantic import ValidationError

from heartbeat_tui.aws.access import AwsAccess
from heartbeat_tui.aws.errors import BadResponse, describe_error
from heartbeat_tui.aws.services import ORGANIZATIONS
from heartbeat_tui.collector.limits import MAX_PAGES, ORGANIZATIONS_PAGE_SIZE
from heartbeat_tui.config import AccountConfig, Config, DiscoverySection
from heartbeat_tui.partitions import partition_of_region

log = logging.getLogger(__name__)

#: A failed refresh is tried again after this long at most (sooner when refresh_minutes is shorter).
RETRY_AFTER = timedelta(minutes=5)
#: ListTagsForResource calls in flight at once (Organizations allows a few per second).
TAG_CALLS_IN_FLIGHT = 4


@dataclass(frozen=True)
class FoundAccount:
    """One account the organization listed, and whether HeartBeat polls it."""

    id: str
    name: str
    status: str
    ou_path: str | None = None  # None: not read (no OU filter)
    tags: Mapping[str, str] | None = None  # None: not read (no tag filter, or filtered out before)
    skipped: str | None = None  # why it is not polled; None: polled

    @property
    def kept(self) -> bool:
        return self.skipped is None


@dataclass(frozen=True)
class DiscoveryReport:
    """What the last successful refresh found, and the last failure since."""

    found: tuple[FoundAccount, ...] = ()
    listed_at: datetime | None = None
    error: str | None = None
    explicit: frozenset[str] = field(default_factory=frozenset)

    @property
    def kept(self) -> tuple[FoundAccount, ...]:
        return tuple(a for a in self.found if a.kept)

    def summary(self) -> str:
        """One line: how many accounts were listed and kept, or why there is no list."""

        if self.listed_at is None:
            return "no list yet: only the [[accounts]] of the file are polled"
        kept = self.kept
        added = sum(1 for a in kept if a.id not in self.explicit)
        return (
            f"{len(self.found)} account(s) listed at {self.listed_at:%Y-%m-%d %H:%M} UTC, {len(kept)} kept"
            f" ({added} added to the [[accounts]] of the file)"
        )

    def failure(self) -> str | None:
        """The failure line ("keeps the last list"), or None when the last refresh worked."""

        if self.error is None:
            return None
        kept = (
            f"keeping the {len(self.kept)} account(s) listed at {self.listed_at:%Y-%m-%d %H:%M} UTC"
            if self.listed_at is not None
            else "no list yet: only the [[accounts]] of the file are polled"
        )
        return f"{self.error} ({kept})"


def _ou_matches(path: str, pattern: str) -> bool:
    """A pattern names an OU and everything below it: "Workloads" matches "Workloads/Prod"."""

    parts = path.split("/") if path else []
    return any(fnmatchcase("/".join(parts[:n]), pattern) for n in range(1, len(parts) + 1))


def _tag_matches(tags: Mapping[str, str], patterns: Mapping[str, str]) -> str | None:
    for key, pattern in patterns.items():
        if key in tags and fnmatchcase(tags[key], pattern):
            return f"{key}={tags[key]}"
    return None


def skip_reason(section: DiscoverySection, account: FoundAccount) -> str | None:
    """Why the filters leave the account out (None: kept). Tags are checked
    only once read (`account.tags` set)."""

    if account.status != "ACTIVE":
        return account.status or "no status"
    if section.include_names and not any(fnmatchcase(account.name, p) for p in section.include_names):
        return "not in include_names"
    for pattern in section.exclude_names:
        if fnmatchcase(account.name, pattern):
            return f"exclude_names {pattern!r}"
    if account.ou_path is not None:
        if section.include_ous and not any(_ou_matches(account.ou_path, p) for p in section.include_ous):
            return "not in include_ous"
        for pattern in section.exclude_ous:
            if _ou_matches(account.ou_path, pattern):
                return f"exclude_ous {pattern!r}"
    if account.tags is not None:
        if section.include_tags and _tag_matches(account.tags, section.include_tags) is None:
            return "not in include_tags"
        excluded = _tag_matches(account.tags, section.exclude_tags)
        if excluded is not None:
            return f"exclude_tags {excluded}"
    return None


class Discovery:
    """Lists the organization for a `Collector` (and `heartbeat doctor`)."""

    def __init__(self, config: Config, access: AwsAccess) -> None:
        assert config.discovery is not None
        self._config = config
        self._section: DiscoverySection = config.discovery
        self._access = access
        self._explicit = {a.id for a in config.accounts}
        self._report = DiscoveryReport(explicit=frozenset(self._explicit))
        self._accounts: tuple[AccountConfig, ...] = ()
        self._next_at: datetime | None = None

    @property
    def report(self) -> DiscoveryReport:
        return self._report

    def accounts(self) -> tuple[AccountConfig, ...]:
        """The `[[accounts]]` of the file, then the discovered ones it does not name."""

        return (*self._config.accounts, *self._accounts)

    async def refresh_if_due(self, now: datetime) -> None:
        if self._next_at is None or now >= self._next_at:
            await self.refresh(now)

    async def refresh(self, now: datetime) -> DiscoveryReport:
        """List the organization now. A failure is kept in the report, never raised."""

        refresh = timedelta(minutes=self._section.refresh_minutes)
        try:
            found = await self._list()
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # every failure keeps the last list
            log.warning("organizations discovery failed: %s", describe_error(exc))
            self._report = DiscoveryReport(
                found=self._report.found,
                listed_at=self._report.listed_at,
                error=f"Organizations {getattr(exc, 'operation_name', None) or 'discovery'}: {describe_error(exc)}",
                explicit=self._report.explicit,
            )
            self._next_at = now + min(refresh, RETRY_AFTER)
            return self._report
        self._report = DiscoveryReport(found=found, listed_at=now, explicit=self._report.explicit)
        self._accounts = self._configs(found)
        self._next_at = now + refresh
        return self._report

    # -- turning the list into accounts ------------------------------------------------------------

    def _configs(self, found: tuple[FoundAccount, ...]) -> tuple[AccountConfig, ...]:
        partition = partition_of_region(self._config.region) or "aws"
        out = []
        for account in found:
            if not account.kept or account.id in self._explicit:
                continue
            out.append(
                AccountConfig(
                    id=account.id,
                    role_arn=f"arn:{partition}:iam::{account.id}:role/{self._section.role_name}",
                    external_id=self._section.external_id,
                    regions=self._section.regions,
                    alias=account.name[:63] or None,
                )
            )
        return tuple(out)

    # -- the calls ---------------------------------------------------------------------------------

    async def _list(self) -> tuple[FoundAccount, ...]:
        org = await self._access.client(self._section.management_account, ORGANIZATIONS, self._config.region)
        if self._section.include_ous or self._section.exclude_ous:
            listed = await self._walk(org)
        else:
            listed = [self._found(item, None) async for item in _items(org.list_accounts, "Accounts")]
        listed = [_with_skip(self._section, a) for a in listed]
        if self._section.include_tags or self._section.exclude_tags:
            listed = await self._read_tags(org, listed)
        return tuple(sorted(listed, key=lambda a: (a.name, a.id)))

    async def _walk(self, org: Any) -> list[FoundAccount]:
        """The OU tree, a level at a time: every account with its OU path."""

        roots = [item async for item in _items(org.list_roots, "Roots")]
        level = [(str(root["Id"]), "") for root in roots]
        found: list[FoundAccount] = []
        while level:

            async def visit(parent: str, path: str) -> tuple[list[FoundAccount], list[tuple[str, str]]]:
                accounts = [
                    self._found(item, path)
                    async for item in _items(org.list_accounts_for_parent, "Accounts", ParentId=parent)
                ]
                children = [
                    (str(ou["Id"]), f"{path}/{ou.get('Name') or ou['Id']}".lstrip("/"))
                    async for ou in _items(
                        org.list_organizational_units_for_parent, "OrganizationalUnits", ParentId=parent
                    )
                ]
                return accounts, children

            results = await asyncio.gather(*(visit(parent, path) for parent, path in level))
            level = []
            for accounts, children in results:
                found += accounts
                level += children
        return found

    async def _read_tags(self, org: Any, listed: list[FoundAccount]) -> list[FoundAccount]:
        bound = asyncio.Semaphore(TAG_CALLS_IN_FLIGHT)

        async def tags_of(account: FoundAccount) -> FoundAccount:
            if not account.kept or account.id in self._explicit:
                return account  # explicit entries win: their tags decide nothing
            async with bound:
                items = [
                    item
                    async for item in _items(org.list_tags_for_resource, "Tags", sized=False, ResourceId=account.id)
                ]
            tags = {str(t.get("Key")): str(t.get("Value") or "") for t in items}
            tagged = FoundAccount(account.id, account.name, account.status, account.ou_path, tags)
            return _with_skip(self._section, tagged)

        return list(await asyncio.gather(*(tags_of(a) for a in listed)))

    @staticmethod
    def _found(item: Mapping[str, Any], ou_path: str | None) -> FoundAccount:
        account_id = str(item.get("Id") or "")
        try:
            AccountConfig(id=account_id)
        except ValidationError:
            raise BadResponse(
                f"Organizations listed an account id that is not 12 digits ({account_id[:20]!r})"
            ) from None
        return FoundAccount(
            id=account_id,
            name=str(item.get("Name") or ""),
            # AWS is replacing Status with State; either says ACTIVE or SUSPENDED.
            status=str(item.get("State") or item.get("Status") or ""),
            ou_path=ou_path,
        )


def _with_skip(section: DiscoverySection, account: FoundAccount) -> FoundAccount:
    reason = skip_reason(section, account)
    if reason == account.skipped:
        return account
    return FoundAccount(account.id, account.name, account.status, account.ou_path, account.tags, reason)


async def _items(
    method: Callable[..., Awaitable[dict[str, Any]]], key: str, *, sized: bool = True, **kwargs: Any
) -> AsyncIterator[dict[str, Any]]:
    """Every item of a paged Organizations call (NextToken; `sized`: it takes
    MaxResults), with a guard against an endpoint that pages for ever."""

    if sized:
        kwargs["MaxResults"] = ORGANIZATIONS_PAGE_SIZE
    token: str | None = None
    seen: set[str] = set()
    for _ in range(MAX_PAGES):
        page = await method(**kwargs, **({"NextToken": token} if token else {}))
        for item in page.get(key) or ():
            if isinstance(item, dict):
                yield item
        token = page.get("NextToken")
        if not token:
            return
        if token in seen:
            raise BadResponse("the same NextToken came back twice")
        seen.add(token)
    raise BadResponse(f"more than {MAX_PAGES} pages: gave up")


__all__ = ["Discovery", "DiscoveryReport", "FoundAccount", "skip_reason"]
