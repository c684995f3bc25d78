"""The dashboard: accounts -> clusters -> services, all visible together."""

from __future__ import annotations

from typing import ClassVar

from rich.style import Style
from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.widgets import DataTable

from heartbeat_tui.tui.screens.base import CopyTarget, ServicesScreen, set_border_title
from heartbeat_tui.tui.styles import Status, badge_status, level_status, severity_status, tasks_status
from heartbeat_tui.tui.text import content, plain, visible
from heartbeat_tui.tui.view import (
    CLUSTER_TABLE_COLUMNS,
    SEVERITY,
    AccountRow,
    ClusterRow,
    FleetView,
    age_text,
    percent_text,
    short_region,
)
from heartbeat_tui.tui.widgets.filter_bar import FilterBar
from heartbeat_tui.tui.widgets.fitted import FittedLines
from heartbeat_tui.tui.widgets.flash_bar import FlashBar
from heartbeat_tui.tui.widgets.footer import Footer
from heartbeat_tui.tui.widgets.header import HeaderBar
from heartbeat_tui.tui.widgets.pane_table import PaneTable
from heartbeat_tui.tui.widgets.service_table import ServiceTable

PANES = ("accounts", "clusters", "services")
DIM = Style(dim=True)


class DashboardScreen(ServicesScreen):
    help_title = "Dashboard"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("f", "fleet", "Fleet-wide", id="dashboard.fleet"),
        Binding("e", "account_error", "Account error", id="dashboard.account_error"),
        Binding("l", "pane(1)", "Next pane", id="dashboard.right", show=False),
        Binding("h", "pane(-1)", "Previous pane", id="dashboard.left", show=False),
        Binding("escape", "back", "Back", id="dashboard.back", show=False),
    ]

    def __init__(self) -> None:
        super().__init__(id="dashboard")
        self.selected_account: str | None = None
        self.selected_cluster: str | None = None
        self._services_cluster: str | None = None
        self._account_error_shown: bool | None = None  # `e` as the footer last drew it

    def compose(self) -> ComposeResult:
        yield HeaderBar()
        with Horizontal(id="top"):
            with Vertical(id="accounts-pane"):
                yield PaneTable(
                    [
                        ("name", "ACCOUNT", 17),
                        ("status", "STATUS", 10),
                        ("services", "SVCS", 5),
                        ("problems", "PROBS", 6),
                    ],
                    id="accounts",
                )
                yield FittedLines(id="account-info")
            yield PaneTable(
                [
                    ("name", "CLUSTER", 16),
                    ("tasks", "RUN/DES", 9),
                    ("cpu", "CPU", 5),
                    ("mem", "MEM", 5),
                    ("services", "SVCS", 6),
                    ("region", "REGION", 14),
                ],
                # 80 columns: no SVCS (the services pane counts them), regions as "use1".
                narrow=[
                    ("name", "CLUSTER", 12),
                    ("tasks", "RUN/DES", 8),
                    ("cpu", "CPU", 5),
                    ("mem", "MEM", 5),
                    ("region_short", "REGION", 6),
                ],
                sort_columns=("name", "region", "region_short"),
                id="clusters",
            )
        yield FittedLines(id="stale-banner")
        yield ServiceTable(
            CLUSTER_TABLE_COLUMNS,
            sort=(SEVERITY, False),
            thresholds=self.hb.thresholds,
            empty_text="no services in this cluster",
            id="services",
        )
        yield FilterBar()
        yield FlashBar()
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#accounts").border_title = "Accounts"
        self.query_one("#clusters").border_title = "Clusters"
        self.update_titles()
        self.query_one("#accounts", PaneTable).focus()
        if self.hb.state.view is not None:
            self.show_view(self.hb.state.view)

    # -- applying a view -------------------------------------------------------------

    def apply_view(self, view: FleetView) -> None:
        accounts = self.query_one("#accounts", PaneTable)
        problems_only = self.hb.state.problems_only
        shown = {key: row for key, row in view.accounts.items() if row.trouble or not problems_only}
        accounts.sync({key: self._account_cells(row) for key, row in shown.items()}, force=True)
        accounts.border_title = "Accounts · problems only" if problems_only else "Accounts"
        if self.selected_account not in shown:
            self.selected_account = next(iter(shown), None)
            self.selected_cluster = None
            if self.selected_account is not None:
                accounts.move_to_key(self.selected_account)
        self.show_problems_only()
        self._show_account(view)

    def _account_cells(self, row: AccountRow) -> dict[str, str | Text]:
        name, status, services, problems = row.cells
        badge = Text(status, style=self.hb.status_style(badge_status(row.badge)))
        name_text: str | Text = name
        if row.badge != "ok":
            # Last-good data is dimmed; an account never read has none: it is an error, not faded.
            never = row.stale_seconds is None
            name_text = plain(name, style=self.hb.status_style(Status.CRITICAL if never else Status.STALE))
        problems_text: str | Text = ""
        if problems:
            # Coloured as its worst service (severity.py); the line under the pane names it.
            problems_text = Text(problems, style=self.hb.status_style(severity_status(row.worst_severity) or Status.OK))
        return {"name": name_text, "status": badge, "services": services, "problems": problems_text}

    def _shown_clusters(self, view: FleetView, account: str | None) -> dict[str, ClusterRow]:
        """The account's clusters in the pane's order (problems only: those with one)."""

        clusters = view.clusters.get(account or "", {})
        row = view.accounts.get(account or "")
        keep_all = not self.hb.state.problems_only or (row is not None and row.badge != "ok")
        ordered = sorted(clusters.items(), key=lambda item: (item[1].name, item[1].region))
        return {key: c for key, c in ordered if keep_all or c.problems}

    def _show_account(self, view: FleetView) -> None:
        account = view.accounts.get(self.selected_account or "")
        clusters = self._shown_clusters(view, self.selected_account)
        table = self.query_one("#clusters", PaneTable)
        thresholds = self.hb.thresholds
        # The clusters of an account in error or stale are last-good data: dimmed, as in every pane.
        stale = account is not None and account.badge != "ok"
        rows = {}
        for key, row in clusters.items():
            name, region, services, tasks, cpu, mem = row.cells
            cells: dict[str, str | Text] = {
                "name": name,
                "tasks": tasks,
                "cpu": cpu,
                "mem": mem,
                "services": services,
                "region": region,
                "region_short": short_region(region),
            }
            for column, value in (("cpu", row.cpu), ("mem", row.mem)):
                level = thresholds.level(value)
                if level != "ok":
                    cells[column] = Text(percent_text(value), style=self.hb.status_style(level_status(level)))
            tasks_level = tasks_status(row.running, row.desired)
            if tasks_level is not None:
                cells["tasks"] = Text(tasks, style=self.hb.status_style(tasks_level))
            if stale:
                cells = {column: self._dimmed(cell) for column, cell in cells.items()}
            rows[key] = cells
        table.sync(rows, force=True)
        if self.selected_cluster not in clusters:
            self.selected_cluster = table.cursor_key if table.cursor_key in clusters else next(iter(rows), None)
            if self.selected_cluster is not None:
                table.move_to_key(self.selected_cluster)
        title = f"Clusters · {account.name}" if account else "Clusters"
        table.border_title = content(title + (" · problems only" if self.hb.state.problems_only else ""))
        self._show_account_info(account)
        self._show_services(view)

    def _dimmed(self, cell: str | Text) -> Text:
        if isinstance(cell, Text):
            out = cell.copy()
            out.stylize(DIM)
            return out
        return plain(cell, style=self.hb.status_style(Status.STALE) + DIM)

    def _show_account_info(self, account: AccountRow | None) -> None:
        info = self.query_one("#account-info", FittedLines)
        banner = self.query_one("#stale-banner", FittedLines)
        self._refresh_account_error_binding()
        if account is None:
            info.set_lines([])
            banner.display = False
            return
        if account.badge == "ok":
            text = Text(f"{account.key} · ok · {account.services} services", style=self.hb.status_style(Status.OK))
            if account.problems:
                worst = severity_status(account.worst_severity) or Status.WARNING
                text.append(f" · {account.problems} with problems", style=self.hb.status_style(Status.WARNING))
                text.append(" · worst: ")
                text.append(visible(account.worst or ""), style=self.hb.status_style(worst))
            for warning in account.warnings:
                text.append(f"\n{visible(warning)}", style="dim")
            info.set_lines(text.split())
            banner.display = False
            return
        age = (
            "never fetched"
            if account.stale_seconds is None
            else f"last good data {age_text(account.stale_seconds)} old"
        )
        style = self.hb.status_style(badge_status(account.badge))
        # Both cut the reason to their width (keeping its start and the ARN it
        # names); `e` shows it whole.
        reason = account.reason or ""
        info.set_lines([Text(f"{account.key} · {account.badge} · {age}", style=style), ("", reason, style)])
        banner.set_lines([(f" {account.name}: {account.badge}, {age}: ", reason, style)])
        banner.display = True

    def _show_services(self, view: FleetView) -> None:
        table = self.query_one("#services", ServiceTable)
        rows = view.by_cluster.get(self.selected_cluster or "", {})
        if self.selected_cluster != self._services_cluster:
            self._services_cluster = self.selected_cluster
            table.set_rows({})
        table.set_rows(rows)
        self.update_titles()

    def update_titles(self) -> None:
        table = self.query_one("#services", ServiceTable)
        view = self.shown_view
        cluster = None
        if view is not None and self.selected_account:
            cluster = view.clusters.get(self.selected_account, {}).get(self.selected_cluster or "")
        name = f"Services · {cluster.name}" if cluster else "Services"
        set_border_title(table, self.table_title(name, table))

    # -- the operator's moves ----------------------------------------------------------

    @on(DataTable.RowHighlighted, "#accounts")
    def _account_highlighted(self, event: DataTable.RowHighlighted) -> None:
        key = event.row_key.value
        if key == self.selected_account or self.shown_view is None:
            return
        self.selected_account = key
        self.selected_cluster = None
        clusters = self.query_one("#clusters", PaneTable)
        self._show_account(self.shown_view)
        first = next(iter(self._shown_clusters(self.shown_view, key).values()), None)
        if first is not None:
            self.selected_cluster = first.key
            clusters.move_to_key(first.key)
            self._show_services(self.shown_view)

    @on(DataTable.RowHighlighted, "#clusters")
    def _cluster_highlighted(self, event: DataTable.RowHighlighted) -> None:
        key = event.row_key.value
        if key == self.selected_cluster or self.shown_view is None:
            return
        self.selected_cluster = key
        self._show_services(self.shown_view)

    @on(DataTable.RowSelected, "#accounts")
    def _account_selected(self) -> None:
        self.query_one("#clusters").focus()

    @on(DataTable.RowSelected, "#clusters")
    def _cluster_selected(self) -> None:
        self.query_one("#services").focus()

    def _pane_index(self) -> int:
        focused = self.focused
        return PANES.index(focused.id) if focused is not None and focused.id in PANES else 0

    def action_pane(self, step: int) -> None:
        index = max(0, min(len(PANES) - 1, self._pane_index() + step))
        self.query_one(f"#{PANES[index]}").focus()

    def action_back(self) -> None:
        if self.focused is not None and self.focused.id == "services" and self.clear_filter():
            return
        self.action_pane(-1)

    def copy_target(self) -> CopyTarget | None:
        """The selection of the focused pane: its account, cluster or service."""

        view = self.shown_view
        pane = PANES[self._pane_index()]
        if pane == "services" or view is None:
            return super().copy_target()
        if pane == "clusters":
            row = view.clusters.get(self.selected_account or "", {}).get(self.selected_cluster or "")
            return None if row is None else CopyTarget.cluster(row.name, row.key)
        account = view.accounts.get(self.selected_account or "")
        return None if account is None else CopyTarget("account", account.name, account.key)

    def _refresh_account_error_binding(self) -> None:
        """`e` is dimmed for an account without a reason: redraw the footer only when that flips.

        Every `refresh_bindings` makes Textual's Footer recompose, and each recompose leaves
        its old keys behind (their data binding to `Footer.compact` stays registered on the
        footer): refreshed on every poll, a session grew by a footer's worth of widgets a poll.
        """

        enabled = self.check_action("account_error", ()) is True
        if enabled != self._account_error_shown:
            self._account_error_shown = enabled
            self.refresh_bindings()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "account_error":
            row = self.shown_view.accounts.get(self.selected_account or "") if self.shown_view else None
            return None if row is None or (row.reason is None and not row.warnings) else True
        return super().check_action(action, parameters)

    def action_account_error(self) -> None:
        from heartbeat_tui.tui.screens.account_error import AccountErrorScreen

        view = self.shown_view
        row = view.accounts.get(self.selected_account or "") if view is not None else None
        if view is None or row is None:
            return
        self.app.push_screen(AccountErrorScreen(row, view.account_snapshots.get(row.key)))

    def action_fleet(self) -> None:
        from heartbeat_tui.tui.screens.fleet import FleetServicesScreen

        self.app.push_screen(FleetServicesScreen())
