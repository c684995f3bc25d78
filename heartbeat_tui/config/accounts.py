"""`[[accounts]]` and `[discovery]`: which accounts are polled, through which role
or profile, in which regions. Discovery shares the account's checks (role ARN,
external id, regions), so both live here."""

from __future__ import annotations

import re
from typing import Any

from pydantic import Field, field_validator, model_validator

from heartbeat_tui.config.base import AccountId, Region, _Section

_ROLE_ARN = re.compile(r"^arn:aws(-[a-z]+)*:iam::(\d{12}):role/[\w+=,.@/-]{1,512}$")
_EXTERNAL_ID = re.compile(r"^[\w+=,.@:/-]{2,1224}$")
_ROLE_NAME = re.compile(r"^[\w+=,.@-]{1,64}$", re.ASCII)
# A profile name as the AWS config files spell it in `[profile NAME]` (no brackets, no spaces).
_PROFILE = re.compile(r"^[\w+=,.@:/-]{1,128}$", re.ASCII)
_GLOB = re.compile(r"^[^\x00-\x1f\x7f]{1,256}$")


class AccountConfig(_Section):
    id: AccountId
    role_arn: str | None = None
    # Instead of role_arn: a profile of the AWS config files (SSO, credential_process,
    # static keys, a role chain with source_profile), resolved by botocore itself.
    profile: str | None = None
    external_id: str | None = None
    regions: tuple[Region, ...] | None = None
    alias: str | None = Field(default=None, min_length=1, max_length=63)

    @field_validator("regions", mode="before")
    @classmethod
    def _regions_list(cls, value: Any) -> Any:
        # TOML arrays arrive as lists; strict mode wants the tuple spelled out.
        return tuple(value) if isinstance(value, list) else value

    @field_validator("regions")
    @classmethod
    def _regions_non_empty(cls, value: tuple[str, ...] | None) -> tuple[str, ...] | None:
        if value is not None:
            if not value:
                raise ValueError("must list at least one region (or be omitted)")
            if len(set(value)) != len(value):
                raise ValueError("lists a region twice")
        return value

    @field_validator("role_arn")
    @classmethod
    def _role_arn(cls, value: str | None) -> str | None:
        if value is not None and not _ROLE_ARN.match(value):
            raise ValueError(
                f"must be an IAM role ARN such as 'arn:aws:iam::210987654321:role/HeartbeatReader' (got {value!r})"
            )
        return value

    @field_validator("external_id")
    @classmethod
    def _external_id(cls, value: str | None) -> str | None:
        if value is not None and not _EXTERNAL_ID.match(value):
            raise ValueError("must be 2-1224 characters of letters, digits and +=,.@:/-")
        return value

    @field_validator("profile")
    @classmethod
    def _profile(cls, value: str | None) -> str | None:
        if value is not None and not _PROFILE.match(value):
            raise ValueError(f"must be an AWS profile name such as 'payments-prod' (got {value[:40]!r})")
        return value

    @model_validator(mode="after")
    def _consistent(self) -> AccountConfig:
        if self.role_arn is not None and self.profile is not None:
            raise ValueError("set role_arn or profile, not both")
        if self.role_arn is not None:
            match = _ROLE_ARN.match(self.role_arn)
            assert match is not None  # checked by the field validator
            if match.group(2) != self.id:
                raise ValueError(f"role_arn is in account {match.group(2)}, not in account {self.id}")
        if self.external_id is not None and self.role_arn is None:
            raise ValueError("external_id needs a role_arn")
        return self


def _globs(value: Any) -> Any:
    return tuple(value) if isinstance(value, list) else value


class DiscoverySection(_Section):
    """`[discovery]`: the accounts of an AWS Organization, listed by HeartBeat.

    Each ACTIVE account that passes the filters is read through `role_name` in
    it (and `external_id`), in `regions`, with its account name as alias. The
    filters are globs: an account is kept when it matches one include of each
    kind given (names, OU paths, tags) and no exclude. `role_arn` reaches the
    management or delegated-administrator account; without it the base
    credentials list the organization."""

    organizations: bool = False
    role_name: str | None = None
    external_id: str | None = None
    role_arn: str | None = None
    regions: tuple[Region, ...] | None = None
    refresh_minutes: int = Field(default=60, ge=1, le=7 * 24 * 60)
    include_names: tuple[str, ...] = ()
    exclude_names: tuple[str, ...] = ()
    # OU paths from the root, by name: "Workloads/Production" (a pattern also matches the OUs below).
    include_ous: tuple[str, ...] = ()
    exclude_ous: tuple[str, ...] = ()
    # Tag key = value glob: { env = "prod" }.
    include_tags: dict[str, str] = Field(default_factory=dict)
    exclude_tags: dict[str, str] = Field(default_factory=dict)

    _as_tuples = field_validator(
        "regions", "include_names", "exclude_names", "include_ous", "exclude_ous", mode="before"
    )(_globs)

    @field_validator("include_names", "exclude_names", "include_ous", "exclude_ous")
    @classmethod
    def _patterns(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for pattern in value:
            if not _GLOB.match(pattern):
                raise ValueError(f"{pattern[:40]!r} is not a pattern (1-256 printable characters)")
        return value

    @field_validator("include_tags", "exclude_tags")
    @classmethod
    def _tags(cls, value: dict[str, str]) -> dict[str, str]:
        for key, pattern in value.items():
            if not _GLOB.match(key) or not _GLOB.match(pattern):
                raise ValueError(f"{key[:40]!r} = {pattern[:40]!r} is not a tag key and value pattern")
        return value

    @field_validator("regions")
    @classmethod
    def _regions_non_empty(cls, value: tuple[str, ...] | None) -> tuple[str, ...] | None:
        return AccountConfig._regions_non_empty(value)

    @field_validator("role_name")
    @classmethod
    def _role_name(cls, value: str | None) -> str | None:
        if value is not None and not _ROLE_NAME.match(value):
            raise ValueError(f"must be an IAM role name such as 'HeartbeatReader' (got {value[:40]!r})")
        return value

    @field_validator("external_id")
    @classmethod
    def _external_id(cls, value: str | None) -> str | None:
        return AccountConfig._external_id(value)

    @field_validator("role_arn")
    @classmethod
    def _role_arn(cls, value: str | None) -> str | None:
        return AccountConfig._role_arn(value)

    @model_validator(mode="after")
    def _needs_role_name(self) -> DiscoverySection:
        if self.organizations and self.role_name is None:
            raise ValueError("organizations = true needs role_name (the role HeartBeat assumes in each account)")
        return self

    @property
    def management_account(self) -> AccountConfig | None:
        """The account `role_arn` reaches to list the organization (None: the base credentials')."""

        if self.role_arn is None:
            return None
        match = _ROLE_ARN.match(self.role_arn)
        assert match is not None  # checked by the field validator
        return AccountConfig(id=match.group(2), role_arn=self.role_arn)
