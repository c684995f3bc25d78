"""The embedded AWS's accounts in moto: IAM roles and aliases, the organization, the hub's key.

Seeding calls moto's backends in-process (``moto.backends.get_backend``), not
over HTTP: the child must report ready within ~2 s. Everything here reaches
into moto's models, so it is kept in one place.
"""

from __future__ import annotations

import json
from typing import Any

from heartbeat_tui.embedded.fleet import DEFAULT_HUB_ACCOUNT, FleetSpec


class MotoSeeder:
    """Thin wrapper over moto's in-process backends."""

    def __init__(self) -> None:
        from moto.backends import get_backend

        self.ecs = get_backend("ecs")
        self.autoscaling = get_backend("applicationautoscaling")
        self.iam = get_backend("iam")

    def iam_backend(self, account: str) -> Any:
        return self.iam[account]["aws"]

    def seed_account_iam(self, spec: FleetSpec, account_id: str, alias: str, role_name: str | None) -> None:
        iam = self.iam_backend(account_id)
        iam.create_account_alias(alias)
        if role_name is not None:
            trust = {
                "Version": "2012-10-17",
                "Statement": [
                    {
                        "Effect": "Allow",
                        "Principal": {"AWS": f"arn:aws:iam::{spec.hub_account}:root"},
                        "Action": "sts:AssumeRole",
                    }
                ],
            }
            iam.create_role(
                role_name=role_name,
                assume_role_policy_document=json.dumps(trust),
                path="/",
                permissions_boundary=None,
                description="Read-only access for the HeartBeat dashboard",
                tags=[],
                max_session_duration=None,
            )

    def seed_organization(self, spec: FleetSpec) -> None:
        """The hub manages an organization of every account of the fleet, each
        in its OU (created as needed) with its tags, named by its alias.

        moto's CreateAccount draws a random account id: the fleet's own is set
        on the account, and in moto's map of member to management account."""
        from moto.organizations.models import organizations_backends

        org = organizations_backends[spec.hub_account]["aws"]
        org.create_organization(region="us-east-1", FeatureSet="ALL")
        root_id = org.list_roots()["Roots"][0]["Id"]
        ous: dict[str, str] = {"": root_id}

        def ou_id(path: str) -> str:
            if path not in ous:
                parent, _, name = path.rpartition("/")
                created = org.create_organizational_unit(ParentId=ou_id(parent), Name=name)
                ous[path] = created["OrganizationalUnit"]["Id"]
            return ous[path]

        for account in spec.accounts:
            if account.id == spec.hub_account:
                member = org.get_account_by_id(spec.hub_account)
            else:
                org.create_account(AccountName=account.alias, Email=f"{account.alias}@example.com")
                member = org.accounts[-1]
                organizations_backends.master_accounts.pop(member.id, None)
                member.id = account.id
                organizations_backends.master_accounts[account.id] = (spec.hub_account, "aws")
            member.name = account.alias
            member.parent_id = ou_id(account.ou)
            member.tags = dict(account.tags)

    def hub_credentials(self, spec: FleetSpec) -> tuple[str, str]:
        """Base credentials acting in the hub.  moto maps unknown keys to its default
        account, so "testing" works when the hub is 123456789012; otherwise we
        create an IAM user with a key in the hub account."""
        if spec.hub_account == DEFAULT_HUB_ACCOUNT:
            return "testing", "testing"
        iam = self.iam_backend(spec.hub_account)
        iam.create_user(region_name="us-east-1", user_name="heartbeat-hub")
        key = iam.create_access_key("heartbeat-hub")
        return key.access_key_id, key.secret_access_key
