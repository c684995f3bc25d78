"""`heartbeat doctor`: check configuration, credentials, each account and region,
the users table and, with `[cluster]`, the lease table and bucket
(cluster/doctor.py); one line per check with OK, WARN or FAIL and the reason.

The two tables are read as the users store reads them: its client (retries and
timeouts cut to fit `[auth].store_timeout_seconds`) and its deadline per call,
so a DynamoDB that is down or never answers is a FAIL line within that time,
with the words a login would get, not a wait through the fleet's retries."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any

from heartbeat_tui.auth.crypto import InvalidKeySetting, parse_keys
from heartbeat_tui.auth.keys import ALGORITHMS, MIN_JWT_SECRET_BYTES
from heartbeat_tui.auth.store import auth_table_name, store_client, store_failure
from heartbeat_tui.aws.access import AwsAccess
from heartbeat_tui.aws.errors import describe_error, error_code
from heartbeat_tui.aws.services import AUTOSCALING, CLOUDWATCH, ECS, STS
from heartbeat_tui.collector.discovery import Discovery, DiscoveryReport
from heartbeat_tui.config import AccountConfig, Config
from heartbeat_tui.errors import ConfigError


@dataclass(frozen=True)
class Check:
    status: str  # OK | WARN | FAIL
    name: str
    detail: str

    def line(self) -> str:
        return f"{self.status:<4}  {self.name}: {self.detail}"


async def _then(client: Awaitable[Any], call: Callable[[Any], Awaitable[Any]]) -> Any:
    return await call(await client)


async def _probe(name: str, call: Callable[[], Awaitable[Any]], ok: Callable[[Any], str], deadline: float) -> Check:
    """One AWS check, within `deadline` seconds (retries included): an endpoint
    that never answers is a FAIL line in that time, as a poll would give up on
    the account, not a wait through every attempt's read timeout."""

    try:
        result = await asyncio.wait_for(call(), deadline)
    except asyncio.TimeoutError:
        return Check("FAIL", name, f"no answer within {deadline:g} s ([collector].account_deadline_seconds)")
    except Exception as exc:  # every failure is a FAIL line
        return Check("FAIL", name, describe_error(exc))
    return Check("OK", name, ok(result))


_NOT_SET = "not set (needed to log in; set it in the environment or .env)"


def _jwt_checks(config: Config) -> list[Check]:
    """JWT_ALGORITHM is one HeartBeat accepts, and JWT_SECRET is at least as long as
    that algorithm's hash output (RFC 7518 3.2: 32, 48, 64 bytes)."""

    env = config.env
    algorithm = (env.jwt_algorithm or "HS256").strip().upper()
    checks = []
    if algorithm in ALGORITHMS:
        checks.append(Check("OK", "JWT_ALGORITHM", algorithm))
    else:
        checks.append(
            Check("FAIL", "JWT_ALGORITHM", f"must be one of {', '.join(ALGORITHMS)} (got {algorithm[:20]!r})")
        )
    if env.jwt_secret is None or not env.jwt_secret.get_secret_value():
        checks.append(Check("FAIL", "JWT_SECRET", _NOT_SET))
        return checks
    size = len(env.jwt_secret.get_secret_value().encode())
    needed = MIN_JWT_SECRET_BYTES.get(algorithm, max(MIN_JWT_SECRET_BYTES.values()))
    if size < needed:
        checks.append(Check("FAIL", "JWT_SECRET", f"too short: {size} bytes, at least {needed} needed for {algorithm}"))
    else:
        checks.append(Check("OK", "JWT_SECRET", f"set ({size} bytes, enough for {algorithm})"))
    return checks


def _encryption_key_check(config: Config) -> Check:
    """ENCRYPTION_KEY parses as HeartBeat reads it: Fernet keys (or long passphrases), newest first."""

    value = config.env.encryption_key
    if value is None or not value.get_secret_value().strip():
        return Check("FAIL", "ENCRYPTION_KEY", _NOT_SET)
    try:
        keys = parse_keys(value.get_secret_value())
    except InvalidKeySetting as exc:  # a safe message: it never quotes the key
        return Check("FAIL", "ENCRYPTION_KEY", str(exc))
    if len(keys) == 1:
        return Check("OK", "ENCRYPTION_KEY", "1 key")
    return Check(
        "OK",
        "ENCRYPTION_KEY",
        f"{len(keys)} keys (the first encrypts; finish `heartbeat keys rotate`, then drop the others)",
    )


def _secret_checks(config: Config) -> list[Check]:
    return [*_jwt_checks(config), _encryption_key_check(config)]


async def _table_check(dynamodb: Any, name: str, table: str, purpose: str, deadline: float) -> Check:
    try:
        described = await asyncio.wait_for(dynamodb.describe_table(TableName=table), deadline)
    except Exception as exc:
        if error_code(exc) == "ResourceNotFoundException":
            return Check("FAIL", name, f"{table} does not exist (run `heartbeat init`)")
        # The store's own line: "user store unreachable (DynamoDB <table>: DescribeTable: <reason>); ..."
        return Check("FAIL", name, str(store_failure(table, "DescribeTable", exc, deadline=deadline)))
    status = described["Table"].get("TableStatus", "?")
    return Check("OK" if status == "ACTIVE" else "WARN", name, f"{table} is {status} ({purpose})")


async def _account_checks(access: AwsAccess, config: Config, account: AccountConfig) -> list[Check]:
    label = f"account {account.id}" + (f" ({account.alias})" if account.alias else "")
    deadline = config.file.collector.account_deadline_seconds
    checks: list[Check] = []
    if account.role_arn or account.profile:
        check = await _probe(
            f"{label} {'sts:AssumeRole' if account.role_arn else 'sts:GetCallerIdentity'}",
            lambda: access.ensure_credentials(account),
            lambda _: account.role_arn or f"profile {account.profile}, account {account.id}",
            deadline,
        )
        checks.append(check)
        if check.status == "FAIL":
            return checks
    now = datetime.now(timezone.utc)

    async def region_checks(region: str) -> list[Check]:
        async def ecs() -> Any:
            return await access.client(account, ECS, region)

        async def cw() -> Any:
            return await access.client(account, CLOUDWATCH, region)

        async def aas() -> Any:
            return await access.client(account, AUTOSCALING, region)

        return list(
            await asyncio.gather(
                _probe(
                    f"{label} {region} ecs:ListClusters",
                    lambda: _then(ecs(), lambda c: c.list_clusters(maxResults=1)),
                    lambda r: "readable",
                    deadline,
                ),
                _probe(
                    f"{label} {region} cloudwatch:GetMetricData",
                    lambda: _then(
                        cw(),
                        lambda c: c.get_metric_data(
                            MetricDataQueries=[
                                {
                                    "Id": "probe",
                                    "MetricStat": {
                                        "Metric": {"Namespace": "AWS/ECS", "MetricName": "CPUUtilization"},
                                        "Period": 60,
                                        "Stat": "Average",
                                    },
                                }
                            ],
                            StartTime=now - timedelta(minutes=5),
                            EndTime=now,
                        ),
                    ),
                    lambda r: "readable",
                    deadline,
                ),
                _probe(
                    f"{label} {region} application-autoscaling:DescribeScalableTargets",
                    lambda: _then(aas(), lambda c: c.describe_scalable_targets(ServiceNamespace="ecs", MaxResults=1)),
                    lambda r: "readable",
                    deadline,
                ),
            )
        )

    for result in await asyncio.gather(*(region_checks(r) for r in config.regions_for(account))):
        checks.extend(result)
    return checks


def _discovery_checks(report: DiscoveryReport) -> list[Check]:
    """What `[discovery]` found: a summary, then one line per account listed."""

    failure = report.failure()
    checks = [Check("FAIL", "discovery", failure) if failure else Check("OK", "discovery", report.summary())]
    for found in report.found:
        where = f", OU {found.ou_path or '(root)'}" if found.ou_path is not None else ""
        tags = ", tags " + ",".join(f"{k}={v}" for k, v in sorted(found.tags.items())) if found.tags else ""
        if found.id in report.explicit:
            state = "in [[accounts]] (the file's entry wins)"
        elif found.kept:
            state = "polled"
        else:
            state = f"skipped ({found.skipped})"
        checks.append(Check("OK", f"discovered {found.id} ({found.name})", f"{found.status}{where}{tags}: {state}"))
    return checks


def _dotenv_check(config: Config) -> list[Check]:
    """Which `.env` the secrets and settings came from: one planted or ignored shows."""

    dotenv = config.dotenv
    if dotenv.state == "read":
        return [Check("OK", ".env", f"read {dotenv.path}")]
    if dotenv.state == "ignored":
        return [Check("WARN", ".env", f"ignored {dotenv.path}: {dotenv.reason}")]
    if dotenv.state == "missing":
        return [Check("OK", ".env", f"no .env ({dotenv.path} does not exist)")]
    return []  # not looked for (a configuration built in code)


async def run_doctor(config: Config) -> list[Check]:
    checks = [
        Check(
            "OK",
            "configuration",
            f"{config.source}: {len(config.accounts) or 'no'} account(s), default region {config.region}"
            + (f", endpoint {config.endpoint_url}" if config.endpoint_url else ""),
        ),
        *_dotenv_check(config),
    ]
    try:
        access = AwsAccess(config)
    except ConfigError as exc:
        checks.append(Check("FAIL", "base credentials", str(exc)))
        return checks + _secret_checks(config)
    async with access:
        identity: dict[str, Any] = {}

        async def caller() -> Any:
            identity.update(await (await access.base_client(STS)).get_caller_identity())
            return identity

        base = await _probe(
            "base credentials", caller, lambda r: str(r.get("Arn")), config.file.collector.account_deadline_seconds
        )
        checks.append(base)
        if base.status == "OK":
            accounts = config.accounts or (AccountConfig(id=str(identity["Account"])),)
            if config.discovery is not None:
                discovery = Discovery(config, access)
                checks.extend(_discovery_checks(await discovery.refresh(datetime.now(timezone.utc))))
                accounts = discovery.accounts()
            for account in accounts:
                if not account.role_arn and not account.profile and account.id != identity["Account"]:
                    checks.append(
                        Check(
                            "FAIL",
                            f"account {account.id}",
                            f"no role_arn, and the base credentials belong to account {identity['Account']}",
                        )
                    )
            for result in await asyncio.gather(*(_account_checks(access, config, a) for a in accounts)):
                checks.extend(result)
        tables = {
            "users table": (config.users_table, "users"),
            "auth table": (auth_table_name(config.users_table), "revoked sessions, audit"),
        }
        deadline = config.file.auth.store_timeout_seconds
        try:
            dynamodb = await store_client(access, deadline)
        except Exception as exc:  # every failure is a FAIL line
            checks.extend(Check("FAIL", name, f"{table}: {describe_error(exc)}") for name, (table, _) in tables.items())
        else:
            checks.extend(
                await asyncio.gather(*(_table_check(dynamodb, name, *spec, deadline) for name, spec in tables.items()))
            )
        if config.file.cluster.enabled:
            from heartbeat_tui.cluster.doctor import cluster_checks  # it builds on these lines' `Check`

            checks.extend(await cluster_checks(access, config))
    checks.extend(_secret_checks(config))
    return checks
