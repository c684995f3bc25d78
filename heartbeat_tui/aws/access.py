"""AWS access: one base session, one assumed-role session per account, and
clients created once and reused for the collector's whole life.

* Base credentials come from the standard chain (environment, `.env`, profile,
  SSO, instance or task role), or from the explicit variables in the settings.
* Each account with a `role_arn` is reached by STS AssumeRole through one
  long-lived STS client; an answer for another account or partition than the
  configured one is refused (`check_assumed_role`). Its credentials are botocore refreshable credentials:
  they renew themselves before they expire, under a lock, so concurrent calls
  never stampede STS.
* Each account with a `profile` has a session of that AWS profile: botocore's
  own credential chain (SSO, credential_process, static keys, a role chain)
  gives and renews its credentials. Whenever they change, STS
  GetCallerIdentity proves they act in the configured account
  (`ensure_credentials`).
* Every client uses adaptive retries and explicit timeouts, and counts its
  calls (per operation) and HTTP attempts into the counter of the task that
  made them, so a poll can report exactly what it cost.

Beside it: `counting.py` (the call counter), `wire.py` (the request and answer
speed-ups over botocore's internals), `lean.py` (the hot read calls sent
without botocore's per-request pipeline), `endpoints.py` (their endpoints,
resolved once per client), `identity.py` (the session name and the
assumed-role check) and `services.py` (the service names).
"""

from __future__ import annotations

import asyncio
import hashlib
import time
from collections.abc import Callable
from contextlib import AsyncExitStack
from datetime import datetime, timezone
from typing import Any

from aiobotocore.config import AioConfig
from aiobotocore.credentials import AioDeferredRefreshableCredentials
from aiobotocore.session import AioSession, get_session
from botocore.exceptions import NoCredentialsError

from heartbeat_tui import __version__
from heartbeat_tui.aws import ratelimit
from heartbeat_tui.aws.counting import on_call, on_send
from heartbeat_tui.aws.endpoints import memo_endpoints
from heartbeat_tui.aws.errors import AssumeRoleFailed, ProfileCredentialsFailed
from heartbeat_tui.aws.identity import check_assumed_role, check_caller_identity, role_session_name
from heartbeat_tui.aws.lean import LeanCalls, Operation
from heartbeat_tui.aws.services import GLOBAL_SERVICES, STS
from heartbeat_tui.aws.wire import (
    FAST_JSON_OPERATIONS,
    SPLICED_LISTS,
    SharedTLSSession,
    SplicingSerializer,
    cache_user_agent,
    fast_json,
    fast_timestamps,
)
from heartbeat_tui.botodata import use_orjson
from heartbeat_tui.config import AccountConfig, Config
from heartbeat_tui.errors import ConfigError
from heartbeat_tui.timeutil import to_datetime

# Services the collector talks to; IAM and STS are global.

ASSUME_ROLE_SECONDS = 3600
FORCED_REFRESH_DEBOUNCE_SECONDS = 5.0


def _utc_now() -> datetime:
    return datetime.now(timezone.utc)


#: aiohttp's idle connections close after aiobotocore's 12 s, so at the default 30 s
#: interval every poll opened each connection again: on AWS a TCP and TLS handshake
#: apiece (over a thousand at 40,000 services), CPU and round trips on every poll.
#: Kept across two intervals instead, within `MAX_KEEPALIVE_SECONDS`; an endpoint
#: that closes an idle connection first is noticed by aiohttp (a connection lost
#: meanwhile is retried by botocore).
MAX_KEEPALIVE_SECONDS = 300


def keepalive_seconds(interval_seconds: float) -> float:
    """How long the clients keep an idle connection: over two polls' interval, at least aiobotocore's 12 s."""

    return float(min(max(12, 2 * interval_seconds + 10), MAX_KEEPALIVE_SECONDS))


class AwsAccess:
    """Owns every aiobotocore session and client. Use as an async context manager."""

    def __init__(self, config: Config, *, clock: Callable[[], datetime] = _utc_now) -> None:
        """`clock` (UTC) decides when assumed-role credentials are due for renewal."""

        self._config = config
        self._clock = clock
        aws = config.file.aws
        ratelimit.install()
        self._client_config = AioConfig(
            # total_max_attempts counts the first attempt (botocore's max_attempts
            # counts retries only). Adaptive: a client-side rate limiter that slows
            # down when AWS throttles (aws/ratelimit.py fixes its cancellation).
            retries={"mode": "adaptive", "total_max_attempts": aws.max_attempts},
            connect_timeout=aws.connect_timeout_seconds,
            read_timeout=aws.read_timeout_seconds,
            max_pool_connections=max(10, config.file.collector.max_in_flight_per_account * 2),
            user_agent_extra=f"heartbeat/{__version__}",
            # The collector builds every request itself; botocore's parameter
            # validation walked each of 2,000 metric queries per poll for nothing.
            parameter_validation=False,
            http_session_cls=SharedTLSSession,
            connector_args={"keepalive_timeout": keepalive_seconds(config.file.refresh.interval_seconds)},
        )
        self._stack = AsyncExitStack()
        # An account's own clients, closed with it (`forget`) or with the rest (`close`).
        self._account_stacks: dict[str, AsyncExitStack] = {}
        self._base = self._make_base_session()
        self._sessions: dict[str, AioSession] = {}
        self._credentials: dict[str, AioDeferredRefreshableCredentials] = {}
        self._clients: dict[tuple[str, str, str], Any] = {}
        # By id: each client with lean calls, and its caller.
        self._lean: dict[int, tuple[Any, LeanCalls]] = {}
        self._refresh_locks: dict[str, asyncio.Lock] = {}
        self._client_locks: dict[tuple[str, str, str], asyncio.Lock] = {}
        self._forced_at: dict[str, float] = {}
        self._role_failures: dict[str, AssumeRoleFailed] = {}
        # Per profile account: a digest of the credentials GetCallerIdentity last proved.
        self._proven: dict[str, str] = {}
        self._session_name = role_session_name()
        self._management = config.file.discovery.management_account
        self._check_profiles()

    @property
    def config(self) -> Config:
        """The configuration this access was made from (read-only)."""
        return self._config

    def _make_base_session(self) -> AioSession:
        env = self._config.env
        session = fast_timestamps(get_session())
        use_orjson(session.get_component("data_loader"))  # shared by every session (_session_for)
        profile = self._config.profile
        if profile:
            if profile not in session.available_profiles:
                key = "[aws].profile" if self._config.file.aws.profile else "AWS_PROFILE"
                source = self._config.source if self._config.file.aws.profile else "environment"
                raise ConfigError(source, key, f"no AWS profile named {profile!r} in the AWS config files")
            session.set_config_variable("profile", profile)
        if env.aws_access_key_id and env.aws_secret_access_key and not self._config.file.aws.profile:
            # Values from `.env` are not in os.environ; hand them over explicitly.
            # An explicit [aws].profile wins over stray keys, as in botocore.
            session.set_credentials(
                env.aws_access_key_id,
                env.aws_secret_access_key.get_secret_value(),
                env.aws_session_token.get_secret_value() if env.aws_session_token else None,
            )
        return session

    def _key(self, account: AccountConfig) -> str:
        """Sessions and clients are per account; the organization's management
        role (`[discovery].role_arn`) has its own, even in a monitored account."""

        return f"organizations:{account.id}" if account == self._management else account.id

    def _check_profiles(self) -> None:
        """Every account's profile is in the AWS config files: a typo is a
        configuration error now, not an account error at every poll."""

        known = set(self._base.available_profiles)
        for i, account in enumerate(self._config.accounts):
            if account.profile is not None and account.profile not in known:
                raise ConfigError(
                    self._config.source,
                    f"accounts[{i}].profile",
                    f"no AWS profile named {account.profile!r} in the AWS config files",
                )

    async def __aenter__(self) -> AwsAccess:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    async def close(self) -> None:
        self._clients.clear()
        self._lean.clear()
        stacks, self._account_stacks = list(self._account_stacks.values()), {}
        try:
            for stack in stacks:
                await stack.aclose()
        finally:
            await self._stack.aclose()

    async def forget(self, account_id: str) -> None:
        """Close the account's own clients and drop its sessions and credentials:
        a `[cluster]` replica whose lease on it went to another replica would
        keep them (connections, about 1 MB a region) for good. Used again, the
        account starts afresh: a new session, a new AssumeRole. Not for an
        account being polled at the time (its calls would lose their clients);
        the organization's management role (discovery's) is kept."""

        for key in [key for key in self._clients if key[0] == account_id]:
            client = self._clients.pop(key)
            self._lean.pop(id(client), None)
            self._client_locks.pop(key, None)
        self._sessions.pop(account_id, None)
        self._credentials.pop(account_id, None)
        self._refresh_locks.pop(account_id, None)
        self._forced_at.pop(account_id, None)
        self._role_failures.pop(account_id, None)
        self._proven.pop(account_id, None)
        stack = self._account_stacks.pop(account_id, None)
        if stack is not None:
            await stack.aclose()

    # -- clients --------------------------------------------------------------

    async def _create_client(
        self,
        session: AioSession,
        service: str,
        region: str,
        config: AioConfig | None = None,
        *,
        owner: str | None = None,
    ) -> Any:
        """A client, closed with `owner`'s clients (`forget`), or with the rest when None."""

        stack = self._stack if owner is None else self._account_stacks.setdefault(owner, AsyncExitStack())
        client = await stack.enter_async_context(
            session.create_client(
                service,
                region_name=region,
                endpoint_url=self._config.endpoint_url,
                config=config or self._client_config,
            )
        )
        client.meta.events.register("before-call", on_call)
        client.meta.events.register("before-send", on_send)
        operations = FAST_JSON_OPERATIONS.get(service, ())
        lists = SPLICED_LISTS.get(service, {})
        serializer = None
        if lists or operations:
            serializer = client._serializer = SplicingSerializer(client._serializer, lists, flat=operations)
        cache_user_agent(client)
        service_id = client.meta.service_model.service_id.hyphenize()
        for operation in operations:
            client.meta.events.register(f"before-parse.{service_id}.{operation}", fast_json)
        if operations:
            memo_endpoints(client, operations)
            # The same credentials object the client signs with (renewed in place).
            credentials = await session.get_credentials()
            lean = LeanCalls(
                client, credentials, operations, serializer=serializer, clock=lambda: self._clock().timestamp()
            )
            self._lean[id(client)] = (client, lean)
        return client

    async def call(
        self, method: Operation, /, *, answer_digest: bool = False, answer_known: int | None = None, **params: Any
    ) -> dict[str, Any]:
        """`method(**params)`, an operation of one of these clients: the
        collector's hot reads are answered by the client's `LeanCalls` without
        botocore's per-call pipeline when they can be (`LeanCalls.call`, which
        also says what `answer_digest` and `answer_known` do)."""

        entry = self._lean.get(id(getattr(method, "__self__", None)))
        if entry is None or entry[0] is not method.__self__:  # type: ignore[attr-defined]
            return await method(**params)
        return await entry[1].call(method, params, digest=answer_digest, known=answer_known)

    async def base_client(self, service: str, region: str | None = None) -> Any:
        return await self.client(None, service, region or self._config.region)

    async def bounded_client(self, service: str, *, attempts: int, connect_timeout: float, read_timeout: float) -> Any:
        """A base-credentials client in the default region with retries and
        timeouts of its own, for calls that must end within a deadline (the
        users store): standard retries (no client-side rate limiter that may
        wait), `attempts` in all, each attempt bounded by the two timeouts."""

        region = self._config.region
        key = (f"bounded:{attempts}:{connect_timeout:g}:{read_timeout:g}", service, region)
        client = self._clients.get(key)
        if client is None:
            async with self._client_locks.setdefault(key, asyncio.Lock()):
                client = self._clients.get(key)
                if client is None:
                    config = self._client_config.merge(
                        AioConfig(
                            retries={"mode": "standard", "total_max_attempts": attempts},
                            connect_timeout=connect_timeout,
                            read_timeout=read_timeout,
                        )
                    )
                    client = await self._create_client(self._base, service, region, config)
                    self._clients[key] = client
        return client

    async def client(self, account: AccountConfig | None, service: str, region: str) -> Any:
        """The client for (account, service, region), created on first use."""

        if service in GLOBAL_SERVICES:
            region = self._config.region
        own = account is not None and (account.role_arn is not None or account.profile is not None)
        key = (self._key(account) if account is not None and own else "", service, region)
        client = self._clients.get(key)
        if client is None:
            # One creation per key, even when many tasks ask at once (the first poll).
            async with self._client_locks.setdefault(key, asyncio.Lock()):
                client = self._clients.get(key)
                if client is None:
                    session = self._session_for(account) if account is not None and own else self._base
                    owner = key[0] if account is not None and own and key[0] == account.id else None
                    client = await self._create_client(session, service, region, owner=owner)
                    self._clients[key] = client
        return client

    # -- credentials ----------------------------------------------------------

    def _session_for(self, account: AccountConfig) -> AioSession:
        key = self._key(account)
        session = self._sessions.get(key)
        if session is None and account.profile is not None:
            # botocore's chain for the profile, refreshed as botocore refreshes it.
            session = fast_timestamps(AioSession(profile=account.profile))
            session.register_component("data_loader", self._base.get_component("data_loader"))
            self._sessions[key] = session
        if session is None:
            session = fast_timestamps(AioSession())
            if self._config.profile:
                # Same endpoint settings (CA bundle, proxies) as the base profile;
                # the credentials are the assumed role's, set below.
                session.set_config_variable("profile", self._config.profile)
            # One loader for every session: botocore caches the (large) service
            # models per loader, and a loader per account cost ~15 MB each.
            session.register_component("data_loader", self._base.get_component("data_loader"))
            credentials = AioDeferredRefreshableCredentials(
                refresh_using=lambda: self._assume_role(account),
                method="assume-role",
                # Asked on every request whether a refresh is due: botocore's
                # default clock is the local time zone through dateutil, about
                # 3 % of a poll's CPU; the expiry is compared in UTC all the same.
                time_fetcher=self._clock,
            )
            # botocore offers no public setter for refreshable credentials.
            session._credentials = credentials
            self._credentials[key] = credentials
            self._sessions[key] = session
        return session

    async def _assume_role(self, account: AccountConfig) -> dict[str, Any]:
        """Called by botocore whenever the account's credentials need renewing:
        before the first call, inside any call that finds them due (lazily), or
        after `force_refresh`. Its failure is an `AssumeRoleFailed`, so the call
        that happened to trigger it does not take the blame."""

        assert account.role_arn is not None
        try:
            refreshed = await self._assume_role_once(account)
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            failure = AssumeRoleFailed(account.role_arn, exc)
            credentials = self._credentials.get(self._key(account))
            # Only a failure that stops calls counts; botocore shrugs off an
            # early (advisory) refresh that fails and keeps the keys in hand.
            if credentials is None or credentials.refresh_needed(credentials._mandatory_refresh_timeout):
                self._role_failures[self._key(account)] = failure
            raise failure from exc
        self._role_failures.pop(self._key(account), None)
        return refreshed

    def role_failure(self, account: AccountConfig) -> AssumeRoleFailed | None:
        """The AssumeRole failure that left the account without usable
        credentials since its last `ensure_credentials` (None when none did)."""

        return self._role_failures.get(self._key(account))

    async def _assume_role_once(self, account: AccountConfig) -> dict[str, Any]:
        assert account.role_arn is not None
        sts = await self.base_client(STS)
        kwargs: dict[str, Any] = {
            "RoleArn": account.role_arn,
            "RoleSessionName": self._session_name,
            "DurationSeconds": ASSUME_ROLE_SECONDS,
        }
        if account.external_id:
            kwargs["ExternalId"] = account.external_id
        response = await sts.assume_role(**kwargs)
        check_assumed_role(account, response)
        credentials = response["Credentials"]
        expiration = to_datetime(credentials["Expiration"])
        if expiration is None:
            raise ValueError("STS AssumeRole returned no usable Expiration")
        return {
            "access_key": credentials["AccessKeyId"],
            "secret_key": credentials["SecretAccessKey"],
            "token": credentials["SessionToken"],
            "expiry_time": expiration.isoformat(),
        }

    async def ensure_credentials(self, account: AccountConfig) -> None:
        """Make sure the account's credentials are usable now (AssumeRole if needed).

        Raises the AssumeRole failure, so a poll can report it once instead of
        failing every call of the account with the same error.
        """

        if account.profile is not None:
            await self._prove_profile(account)
            return
        if not account.role_arn:
            return
        self._session_for(account)
        self._role_failures.pop(self._key(account), None)  # a new poll: what fails now is its own
        await self._credentials[self._key(account)].get_frozen_credentials()

    async def _prove_profile(self, account: AccountConfig) -> None:
        """The profile's credentials, as botocore has them now (renewed if due),
        act in the configured account: STS GetCallerIdentity, once for each set
        of credentials botocore hands out (at the first poll and after every
        refresh), so a profile pointing at another account shows no data."""

        assert account.profile is not None
        session = self._session_for(account)
        try:
            credentials = await session.get_credentials()
            if credentials is None:
                raise NoCredentialsError()
            frozen = await credentials.get_frozen_credentials()
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            self._proven.pop(account.id, None)
            raise ProfileCredentialsFailed(account.profile, exc) from exc
        digest = hashlib.sha256(f"{frozen.access_key}\0{frozen.token or ''}".encode()).hexdigest()
        if self._proven.get(account.id) == digest:
            return
        self._proven.pop(account.id, None)
        sts = await self.client(account, STS, self._config.region)
        check_caller_identity(account, await sts.get_caller_identity())
        self._proven[account.id] = digest

    async def force_refresh(self, account: AccountConfig) -> bool:
        """Assume the account's role again now (its credentials were rejected as
        expired before botocore's own refresh window). Concurrent callers share
        one refresh. Returns False when the account has no role to assume."""

        credentials = self._credentials.get(self._key(account))
        if credentials is None:
            return False
        lock = self._refresh_locks.setdefault(account.id, asyncio.Lock())
        async with lock:
            last = self._forced_at.get(account.id)
            if last is None or time.monotonic() - last > FORCED_REFRESH_DEBOUNCE_SECONDS:
                # botocore has no public "refresh now": marking the credentials as
                # expiring now makes the next use a mandatory refresh, under its lock.
                credentials._expiry_time = credentials._time_fetcher()
                self._forced_at[account.id] = time.monotonic()
            await credentials.get_frozen_credentials()
        return True

    async def caller_account_id(self) -> str:
        sts = await self.base_client(STS)
        identity = await sts.get_caller_identity()
        return str(identity["Account"])
