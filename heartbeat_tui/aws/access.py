"""AWS access: one base session, one assumed-role session per account, and
clients created once and reused for the collector's whole life.

* Base credentials come from the standard chain (environment, `.env`, profile,
  SSO, instance or task role), or from the explicit variables in the settings.
* Each account with a `role_arn` is reached by STS AssumeRole through one
  long-lived STS client; an answer for another account or partition than the
  configured one is refused (`check_assumed_role`). Its credentials are botocore refreshable credentials:
  they renew themselves before they expire, under a lock, so concurrent calls
  never stampede STS.
* Every client uses adaptive retries and explicit timeouts, and counts its
  calls (per operation) and HTTP attempts into the counter of the task that
  made them, so a poll can report exactly what it cost.
"""

from __future__ import annotations

import asyncio
import contextvars
import getpass
import re
import socket
import threading
import time
from collections import Counter
from collections.abc import Callable
from contextlib import AsyncExitStack
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, ClassVar

import orjson
from aiobotocore.config import AioConfig
from aiobotocore.credentials import AioDeferredRefreshableCredentials
from aiobotocore.httpsession import AIOHTTPSession
from aiobotocore.session import AioSession, get_session
from botocore.context import get_context
from botocore.serialize import JSONSerializer

from heartbeat_tui import __version__
from heartbeat_tui.aws import ratelimit
from heartbeat_tui.aws.errors import AssumeRoleFailed, BadResponse, WrongAccount
from heartbeat_tui.botodata import use_orjson
from heartbeat_tui.config import AccountConfig, Config
from heartbeat_tui.errors import ConfigError
from heartbeat_tui.partitions import partition_of_arn
from heartbeat_tui.timeutil import to_datetime

# Services the collector talks to; IAM and STS are global.
ECS = "ecs"
CLOUDWATCH = "cloudwatch"
AUTOSCALING = "application-autoscaling"
IAM = "iam"
STS = "sts"

ASSUME_ROLE_SECONDS = 3600
FORCED_REFRESH_DEBOUNCE_SECONDS = 5.0


@dataclass
class CallCounter:
    """API calls by `service.Operation` and HTTP attempts (retries included)."""

    calls: Counter[str] = field(default_factory=Counter)
    http_requests: int = 0

    def merge(self, other: CallCounter) -> None:
        self.calls.update(other.calls)
        self.http_requests += other.http_requests


_current_counter: contextvars.ContextVar[CallCounter | None] = contextvars.ContextVar(
    "heartbeat_call_counter", default=None
)


def counting(counter: CallCounter) -> contextvars.Token[CallCounter | None]:
    """Count the AWS calls made by this task (and the tasks it creates) into `counter`."""

    return _current_counter.set(counter)


def stop_counting(token: contextvars.Token[CallCounter | None]) -> None:
    _current_counter.reset(token)


def _on_call(model: Any = None, **_: Any) -> None:
    counter = _current_counter.get()
    if counter is not None and model is not None:
        counter.calls[f"{model.service_model.service_name}.{model.name}"] += 1


def _on_send(**_: Any) -> None:
    counter = _current_counter.get()
    if counter is not None:
        counter.http_requests += 1


def _raw_timestamp(value: Any) -> Any:
    return value


def _fast_timestamps(session: AioSession) -> AioSession:
    """Leave timestamps as the wire sends them (epoch numbers for JSON services).

    botocore turns every timestamp into a datetime; for GetMetricData that is
    90,000 of them per call and it dominated a cold poll (1.27 s against 0.11 s
    to parse one 500-query, 3-hour response here). The collector converts the
    few timestamps it keeps itself (`collector.parse.to_datetime`).
    """

    session.get_component("response_parser_factory").set_parser_defaults(timestamp_parser=_raw_timestamp)
    return session


# Read operations the collector calls often, with large answers, on services
# whose JSON wire format is exactly botocore's parsed shape (no renamed members,
# no blobs; timestamps stay epoch numbers, as with `_fast_timestamps`).
FAST_JSON_OPERATIONS: dict[str, tuple[str, ...]] = {
    CLOUDWATCH: ("GetMetricData",),
    ECS: (
        "ListClusters",
        "DescribeClusters",
        "ListServices",
        "DescribeServices",
        "ListTasks",
        "DescribeTasks",
    ),
    AUTOSCALING: ("DescribeScalableTargets", "DescribeScalingActivities", "DescribeScalingPolicies"),
}


def _fast_json(response_dict: dict[str, Any], customized_response_dict: dict[str, Any], **_: Any) -> None:
    """Decode a successful JSON response with one `orjson.loads`.

    botocore's shape walker costs about a microsecond per value, and one poll
    of a large fleet moves millions (a 500-query GetMetricData answer alone has
    180,000 numbers). The result has the same keys and values as botocore's
    parse. Anything else (an error, another wire format, a body that is not
    a JSON object) is left to botocore untouched.
    """

    body = response_dict.get("body")
    if response_dict.get("status_code") != 200 or not isinstance(body, bytes) or not body.startswith(b"{"):
        return
    try:
        data = orjson.loads(body)
    except orjson.JSONDecodeError:
        return
    if not isinstance(data, dict):
        return
    customized_response_dict.update(data)
    response_dict["body"] = b"{}"


# Request parameters sent as they are: one large list per operation, whose items
# the collector builds in wire form (the names botocore would send, only strings,
# numbers, lists and structures). 24 GetMetricData requests of 500 queries each
# per poll: botocore's shape walk took about 4 ms per request to encode them.
SPLICED_LISTS: dict[str, dict[str, str]] = {
    CLOUDWATCH: {"GetMetricData": "MetricDataQueries"},
}
_PLAIN_TYPES = frozenset({"string", "integer", "long", "boolean", "double", "float"})


def _plain_shape(shape: Any, depth: int = 0) -> bool:
    """True when botocore's JSON serializer would send values of this shape
    unchanged: no renamed members, no timestamps, blobs or documents."""

    if depth > 20:
        return False
    kind = shape.type_name
    if kind in _PLAIN_TYPES:
        return True
    if kind == "list":
        return _plain_shape(shape.member, depth + 1)
    if kind == "structure":
        if getattr(shape, "is_document_type", False):
            return False
        return all(
            "name" not in member.serialization and _plain_shape(member, depth + 1) for member in shape.members.values()
        )
    return False


class SplicingSerializer:
    """botocore's JSON serializer, with one large list parameter of an operation
    encoded by orjson instead of botocore's walk over every value.

    botocore still serializes everything else (headers, target, timestamps, the
    query-compatible header) from the same parameters with the list empty; the
    list is then put in place. The request on the wire is the same JSON. Used
    only when the operation's model shows the list's items go on the wire as
    they are; otherwise, and for every other operation, botocore does it all.
    """

    def __init__(self, inner: Any, lists: dict[str, str]) -> None:
        self._inner = inner
        self._lists = lists
        self._plain: dict[str, bool] = {}

    def _splices(self, operation_model: Any, key: str) -> bool:
        plain = self._plain.get(operation_model.name)
        if plain is None:
            members = operation_model.input_shape.members if operation_model.input_shape is not None else {}
            member = members.get(key)
            plain = (
                type(self._inner) is JSONSerializer  # awsJson (not REST-JSON, CBOR or query)
                and member is not None
                and "name" not in member.serialization
                and member.type_name == "list"
                and _plain_shape(member)
            )
            self._plain[operation_model.name] = plain
        return plain

    def serialize_to_request(self, parameters: dict[str, Any], operation_model: Any) -> dict[str, Any]:
        key = self._lists.get(operation_model.name)
        items = parameters.get(key) if key is not None else None
        if key is None or not isinstance(items, list) or not self._splices(operation_model, key):
            plain: dict[str, Any] = self._inner.serialize_to_request(parameters, operation_model)
            return plain
        serialized: dict[str, Any] = self._inner.serialize_to_request({**parameters, key: []}, operation_model)
        body = orjson.loads(serialized["body"])
        body[key] = items
        serialized["body"] = orjson.dumps(body)
        return serialized

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)


def _cache_user_agent(client: Any) -> None:
    """Build the User-Agent header once per set of feature ids, not per request.

    botocore builds it from a dozen components twice per request (about 5 % of
    a poll's CPU); only the feature ids of the current call vary.
    """

    creator = getattr(client, "_user_agent_creator", None)
    build = getattr(creator, "to_string", None)
    if creator is None or build is None:
        return
    built: dict[frozenset[str], str] = {}

    def to_string() -> str:
        context = get_context()
        features = frozenset(context.features) if context is not None else frozenset()
        features |= frozenset(getattr(creator, "_client_features", None) or ())
        text = built.get(features)
        if text is None:
            text = built[features] = build()
        return text

    creator.to_string = to_string


class SharedTLSSession(AIOHTTPSession):  # type: ignore[misc]  # aiobotocore is untyped
    """aiobotocore's HTTP session, with one TLS context for all clients.

    Each client builds its own SSL context and loads the whole CA bundle into
    it: about 80 ms of CPU per client, two seconds of a cold poll over a few
    accounts and regions. A context is safe to share, so clients with the same
    verification settings (and no client certificate or proxy, which customise
    the context) share one.
    """

    _contexts: ClassVar[dict[Any, Any]] = {}
    _lock: ClassVar[threading.Lock] = threading.Lock()

    def _build_ssl_contexts(self, proxy_url: Any) -> Any:
        if self._cert_file or proxy_url:
            return super()._build_ssl_contexts(proxy_url)
        with self._lock:  # built in worker threads, possibly several at once
            context = self._contexts.get(self._verify)
            if context is None:
                context = self._contexts[self._verify] = self._build_verify_context()
        return context, None


def _utc_now() -> datetime:
    return datetime.now(timezone.utc)


def role_session_name() -> str:
    """`heartbeat-<user>@<host>`: recognisable in CloudTrail, within STS's rules."""

    try:
        user = getpass.getuser()
    except Exception:  # no passwd entry in some containers
        user = "unknown"
    host = socket.gethostname().split(".")[0]
    # STS allows [\w+=,.@-] in the ASCII sense only: "jürgen" would fail every AssumeRole.
    name = re.sub(r"[^\w+=,.@-]", "-", f"heartbeat-{user}@{host}", flags=re.ASCII)
    return name[:64]


_ASSUMED_ROLE_ARN = re.compile(r"^arn:([a-z][a-z0-9-]{0,62}):sts::(\d{12}):assumed-role/")


def check_assumed_role(account: AccountConfig, response: dict[str, Any]) -> None:
    """The role AssumeRole answered for is in the configured account and partition.

    The assumed role's ARN (`AssumedRoleUser.Arn`, part of every AssumeRole
    answer: no call is added) says where the credentials act. Credentials that
    act in another account (an endpoint answering for another one) would show
    that account's data under the configured, allow-listed id, so they are
    refused before any call uses them: the account is in error instead.
    """

    assert account.role_arn is not None
    arn = str((response.get("AssumedRoleUser") or {}).get("Arn") or "")
    match = _ASSUMED_ROLE_ARN.match(arn)
    if match is None:
        raise BadResponse("STS AssumeRole answered without an assumed-role ARN to check the account against")
    partition, account_id = match.groups()
    if account_id != account.id:
        raise WrongAccount(f"assumed role is in account {account_id}, not the configured {account.id}")
    expected = partition_of_arn(account.role_arn)
    if partition != expected:
        raise WrongAccount(f"assumed role is in partition {partition}, not {expected} (the configured role_arn's)")


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
        )
        self._stack = AsyncExitStack()
        self._base = self._make_base_session()
        self._sessions: dict[str, AioSession] = {}
        self._credentials: dict[str, AioDeferredRefreshableCredentials] = {}
        self._clients: dict[tuple[str, str, str], Any] = {}
        self._refresh_locks: dict[str, asyncio.Lock] = {}
        self._client_locks: dict[tuple[str, str, str], asyncio.Lock] = {}
        self._forced_at: dict[str, float] = {}
        self._role_failures: dict[str, AssumeRoleFailed] = {}
        self._session_name = role_session_name()

    @property
    def config(self) -> Config:
        """The configuration this access was made from (read-only)."""
        return self._config

    def _make_base_session(self) -> AioSession:
        env = self._config.env
        session = _fast_timestamps(get_session())
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

    async def __aenter__(self) -> AwsAccess:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    async def close(self) -> None:
        self._clients.clear()
        await self._stack.aclose()

    # -- clients --------------------------------------------------------------

    async def _create_client(
        self, session: AioSession, service: str, region: str, config: AioConfig | None = None
    ) -> Any:
        client = await self._stack.enter_async_context(
            session.create_client(
                service,
                region_name=region,
                endpoint_url=self._config.endpoint_url,
                config=config or self._client_config,
            )
        )
        client.meta.events.register("before-call", _on_call)
        client.meta.events.register("before-send", _on_send)
        lists = SPLICED_LISTS.get(service)
        if lists:
            client._serializer = SplicingSerializer(client._serializer, lists)
        _cache_user_agent(client)
        service_id = client.meta.service_model.service_id.hyphenize()
        for operation in FAST_JSON_OPERATIONS.get(service, ()):
            client.meta.events.register(f"before-parse.{service_id}.{operation}", _fast_json)
        return client

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

        if service in (IAM, STS):
            region = self._config.region
        key = (account.id if account and account.role_arn else "", service, region)
        client = self._clients.get(key)
        if client is None:
            # One creation per key, even when many tasks ask at once (the first poll).
            async with self._client_locks.setdefault(key, asyncio.Lock()):
                client = self._clients.get(key)
                if client is None:
                    session = self._session_for(account) if account and account.role_arn else self._base
                    client = await self._create_client(session, service, region)
                    self._clients[key] = client
        return client

    # -- credentials ----------------------------------------------------------

    def _session_for(self, account: AccountConfig) -> AioSession:
        session = self._sessions.get(account.id)
        if session is None:
            session = _fast_timestamps(AioSession())
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
            self._credentials[account.id] = credentials
            self._sessions[account.id] = session
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
            credentials = self._credentials.get(account.id)
            # Only a failure that stops calls counts; botocore shrugs off an
            # early (advisory) refresh that fails and keeps the keys in hand.
            if credentials is None or credentials.refresh_needed(credentials._mandatory_refresh_timeout):
                self._role_failures[account.id] = failure
            raise failure from exc
        self._role_failures.pop(account.id, None)
        return refreshed

    def role_failure(self, account: AccountConfig) -> AssumeRoleFailed | None:
        """The AssumeRole failure that left the account without usable
        credentials since its last `ensure_credentials` (None when none did)."""

        return self._role_failures.get(account.id)

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

        if not account.role_arn:
            return
        self._session_for(account)
        self._role_failures.pop(account.id, None)  # a new poll: what fails now is its own
        await self._credentials[account.id].get_frozen_credentials()

    async def force_refresh(self, account: AccountConfig) -> bool:
        """Assume the account's role again now (its credentials were rejected as
        expired before botocore's own refresh window). Concurrent callers share
        one refresh. Returns False when the account has no role to assume."""

        credentials = self._credentials.get(account.id)
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
