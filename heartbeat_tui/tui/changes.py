"""What changed between two polls that an operator must hear about (the flash line and `n`).

Pure, like the view: two snapshots in, a few lines out. Kept apart from the
view because it reads the models' changes, not what the tables show.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from heartbeat_tui.models import AccountStatus, FleetSnapshot


@dataclass(frozen=True)
class Change:
    severity: Literal["information", "warning", "error"]
    text: str


def changes(previous: FleetSnapshot | None, current: FleetSnapshot, *, limit: int = 4) -> list[Change]:
    """What changed between two consecutive snapshots that an operator must hear about.

    Deployments that failed, services that scaled, accounts that went to error
    or recovered. Every line names its account, and each service its cluster; a
    burst in one account is one line ("payments-prod: 3 services scaled: ...",
    at most `limit` named), and scaling in more than `limit` accounts is one line
    naming the busiest, so a busy poll does not bury the one line that matters.
    """

    if previous is None:
        return []
    failed: dict[str, list[str]] = {}
    scaled: dict[str, list[str]] = {}
    went_error: list[Change] = []
    recovered: list[str] = []
    before_accounts = {a.id: a for a in previous.accounts}
    for account in current.accounts:
        before = before_accounts.get(account.id)
        if before is None:
            continue
        if before.status is AccountStatus.OK and account.status is AccountStatus.ERROR:
            went_error.append(Change("error", f"{account.display_name} went to error: {account.error}"))
        elif before.status is AccountStatus.ERROR and account.status is AccountStatus.OK:
            recovered.append(account.display_name)
        if account.status is AccountStatus.ERROR:
            continue  # its services are last-good data: nothing new to say
        before_services = {s.arn: s for _, _, s in before.services()}
        for _, cluster, service in account.services():
            old = before_services.get(service.arn)
            if old is None:
                continue
            where = f"{cluster.name}/{service.name}"
            if service.rollout_state == "FAILED" and old.rollout_state != "FAILED":
                failed.setdefault(account.display_name, []).append(where)
            if service.desired_count != old.desired_count:
                scaled.setdefault(account.display_name, []).append(
                    f"{where} {old.desired_count}→{service.desired_count}"
                )
    out: list[Change] = list(went_error)
    if recovered:
        out.append(Change("information", f"recovered: {', '.join(recovered)}"))
    for account_name, items in failed.items():
        out.append(_summarise("error", account_name, "deployment failed", "deployments failed", items, limit))
    if len(scaled) > limit:
        # Scaling across many accounts at once (a fleet of hundreds): one line, not one per
        # account burying the rest of the flash line and the history (`n`).
        busiest = sorted(scaled.items(), key=lambda item: -len(item[1]))
        total = sum(len(items) for items in scaled.values())
        named = ", ".join(f"{name} ({len(items)})" for name, items in busiest[:limit])
        out.append(Change("information", f"{total} services scaled in {len(scaled)} accounts: {named}, …"))
        return out
    for account_name, items in scaled.items():
        out.append(_summarise("information", account_name, "scaled", "services scaled", items, limit))
    return out


def _summarise(severity: Any, account: str, one: str, many: str, items: list[str], limit: int) -> Change:
    if len(items) == 1:
        return Change(severity, f"{account}: {one}: {items[0]}")
    shown = ", ".join(items[:limit]) + (", …" if len(items) > limit else "")
    return Change(severity, f"{account}: {len(items)} {many}: {shown}")
