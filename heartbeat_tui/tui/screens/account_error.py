"""`e` on the dashboard: the selected account's whole reason, wrapped, with
what failed in each region and what is shown from an earlier poll. Nothing is
cut here (the panes fit reasons to their width; an operator needs all of an
AccessDenied, the role ARN above all)."""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import BindingType
from textual.widgets import Static

from heartbeat_tui.models import AccountSnapshot
from heartbeat_tui.tui.screens.modal import PanelModal, panel_bindings
from heartbeat_tui.tui.text import content, plain, visible
from heartbeat_tui.tui.view import AccountRow, age_text


class AccountErrorScreen(PanelModal):
    BINDINGS: ClassVar[list[BindingType]] = panel_bindings("account_error", "escape,q,e", "Close")

    DEFAULT_CSS = """
    AccountErrorScreen > VerticalScroll { width: 100; border: round $error; }
    AccountErrorScreen .account-error-section { margin-top: 1; }
    """

    def __init__(self, row: AccountRow, account: AccountSnapshot | None) -> None:
        super().__init__(id="account-error")
        self.row = row
        self.account = account

    def compose(self) -> ComposeResult:
        row = self.row
        age = (
            ""
            if row.badge == "ok"
            else " · never fetched"
            if row.stale_seconds is None
            else f" · last good data {age_text(row.stale_seconds)} old"
        )
        # Everything below but the badge is someone else's text: an alias, AWS errors.
        with self.panel(content(f"{row.name} · {row.key}")):
            yield Static(Text(f"{row.badge}{age}", style="bold"), id="account-error-status")
            yield Static(plain(row.reason or "no error", overflow="fold"), id="account-error-reason")
            regions = Text()
            for region in self.account.regions if self.account is not None else ():
                if not region.errors and not region.stale:
                    continue
                if regions:
                    regions.append("\n")
                stale = f" (shown from an earlier poll: {', '.join(region.stale)})" if region.stale else ""
                regions.append(visible(f"{region.region}{stale}"), style="bold")
                # Each once, and not the account's own reason again.
                for error in dict.fromkeys(e for e in region.errors if e != row.reason):
                    regions.append(f"\n  {visible(error)}")
            if regions:
                yield Static(regions, id="account-error-regions", classes="account-error-section")
            if row.warnings:
                warnings = Text("\n".join(visible(w) for w in row.warnings), style="dim")
                yield Static(warnings, id="account-error-warnings", classes="account-error-section")
