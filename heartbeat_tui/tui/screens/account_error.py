"""`e` on the dashboard: the selected account's whole reason, wrapped, with
what failed in each region and what is shown from an earlier poll. Nothing is
cut here (the panes fit reasons to their width; an operator needs all of an
AccessDenied, the role ARN above all)."""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

from heartbeat_tui.models import AccountSnapshot
from heartbeat_tui.tui.view import AccountRow, age_text


class AccountErrorScreen(ModalScreen[None]):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,q,e", "dismiss", "Close", id="account_error.close"),
        Binding("j,down", "scroll('down')", "Scroll down", id="account_error.down", show=False),
        Binding("k,up", "scroll('up')", "Scroll up", id="account_error.up", show=False),
    ]

    DEFAULT_CSS = """
    AccountErrorScreen { align: center middle; }
    AccountErrorScreen > VerticalScroll {
        width: 100; max-width: 100%; height: auto; max-height: 100%;
        border: round $error; background: $surface; padding: 0 1;
    }
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
        with VerticalScroll() as scroll:
            scroll.border_title = f"{row.name} · {row.key}"
            scroll.border_subtitle = "Esc closes"
            yield Static(Text(f"{row.badge}{age}", style="bold"), id="account-error-status")
            yield Static(Text(row.reason or "no error", overflow="fold"), id="account-error-reason")
            regions = Text()
            for region in self.account.regions if self.account is not None else ():
                if not region.errors and not region.stale:
                    continue
                if regions:
                    regions.append("\n")
                stale = f" (shown from an earlier poll: {', '.join(region.stale)})" if region.stale else ""
                regions.append(f"{region.region}{stale}", style="bold")
                # Each once, and not the account's own reason again.
                for error in dict.fromkeys(e for e in region.errors if e != row.reason):
                    regions.append(f"\n  {error}")
            if regions:
                yield Static(regions, id="account-error-regions", classes="account-error-section")
            if row.warnings:
                warnings = Text("\n".join(row.warnings), style="dim")
                yield Static(warnings, id="account-error-warnings", classes="account-error-section")

    def action_scroll(self, direction: str) -> None:
        scroll = self.query_one(VerticalScroll)
        if direction == "down":
            scroll.scroll_down(animate=False)
        else:
            scroll.scroll_up(animate=False)

    def action_dismiss(self) -> None:  # type: ignore[override]
        self.dismiss(None)
