"""User administration, from the keyboard (admins only).

The users table (username, role, active, locked, last login, allowed
accounts) and forms to create a user, reset a password, change a role or an
allow-list, plus disable/enable and unlock on the selected row. Every action
goes through `AuthService` with the caller's session, which checks it again
(signature, revocation, role) before acting: the screen being reachable is a
convenience, not the rule. Form errors are shown under the field they concern.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, ClassVar

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical, VerticalScroll
from textual.screen import ModalScreen, Screen
from textual.widgets import DataTable, Input, Label, Select, SelectionList, Static
from textual.widgets.selection_list import Selection

# Types and errors only: the store is reached through the app (`admin_call`).
from heartbeat_tui.auth.errors import UserExists, ValidationFailed
from heartbeat_tui.auth.models import UserView
from heartbeat_tui.auth.roles import Role
from heartbeat_tui.errors import HeartbeatError
from heartbeat_tui.tui.messages import AdminCall
from heartbeat_tui.tui.screens.confirm import ConfirmScreen
from heartbeat_tui.tui.text import content, plain, plain_lines
from heartbeat_tui.tui.widgets.flash_bar import FlashBar
from heartbeat_tui.tui.widgets.footer import Footer
from heartbeat_tui.tui.widgets.header import HeaderBar

ROLE_CHOICES = [(role.value, role.value) for role in (Role.USER, Role.MONITOR, Role.ADMIN)]
COLUMNS = ("Username", "Role", "Active", "Locked", "Last login", "Allowed accounts")


def _when(timestamp: float | None) -> str:
    if timestamp is None:
        return "never"
    return datetime.fromtimestamp(timestamp, timezone.utc).strftime("%Y-%m-%d %H:%M UTC")


def user_row(view: UserView) -> tuple[Text, ...]:
    """A user's cells: plain Text (a DataTable parses a str cell as markup)."""

    if view.role is Role.USER:
        accounts = ", ".join(view.accounts) or "none"
    else:
        accounts = "all"
    cells = (
        view.username,
        view.role.value,
        "yes" if view.active else "no",
        f"until {_when(view.locked_until)}" if view.locked else "no",
        _when(view.last_login_at),
        accounts,
    )
    return tuple(plain(cell) for cell in cells)


@dataclass(frozen=True)
class Field:
    name: str  # the AuthService field it maps to (errors are keyed by it)
    label: str
    kind: str = "text"  # text | password | role | accounts
    value: str = ""
    placeholder: str = ""
    # kind "accounts": (id, label) of every account to pick from.
    choices: tuple[tuple[str, str], ...] = ()


Submit = Callable[[dict[str, str]], Awaitable[str | None]]


class Handled(Exception):  # a signal, not an error
    """Raised to a screen when the app already dealt with a failure (the session
    ended, the role was refused, the store is unreachable): nothing more to show."""


class FormScreen(ModalScreen[str | None]):
    """A small keyboard form: Enter moves to the next field and submits on the last,
    Ctrl+S submits, Esc cancels. `submit` raises `ValidationFailed` (shown per field)
    or returns the line to notify; the screen then closes with it."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "Cancel", id="form.cancel"),
        Binding("ctrl+s", "submit", "Save", id="form.submit"),
    ]

    DEFAULT_CSS = """
    FormScreen { align: center middle; }
    FormScreen > VerticalScroll {
        width: 72; max-width: 100%; height: auto; max-height: 100%;
        border: round $primary; background: $surface; padding: 0 1;
    }
    FormScreen Label { margin-top: 1; }
    FormScreen .field-error { color: $error; height: auto; }
    FormScreen #form-error { color: $error; margin-top: 1; }
    FormScreen #form-hint { color: $text-muted; margin-top: 1; }
    FormScreen .account-picks { height: auto; max-height: 8; }
    """

    def __init__(self, title: str, fields: list[Field], submit: Submit, *, confirm_password: bool = False) -> None:
        super().__init__()
        self.title_text = title
        self.fields = fields
        self._submit_cb = submit
        self._confirm = confirm_password
        self._busy = False

    def compose(self) -> ComposeResult:
        with VerticalScroll() as box:
            box.border_title = content(self.title_text)  # names a user
            box.border_subtitle = "Enter: next/save · Ctrl+S: save · Esc: cancel"
            for field in self.fields:
                yield Label(field.label, id=f"{field.name}-label")
                if field.kind == "role":
                    yield Select(ROLE_CHOICES, value=field.value or Role.USER.value, allow_blank=False, id=field.name)
                elif field.kind == "accounts":
                    chosen = {a for a in field.value.split(",") if a}
                    yield SelectionList[str](
                        *(Selection(plain(label), ident, ident in chosen) for ident, label in field.choices),
                        id=field.name,
                        classes="account-picks",
                    )
                else:
                    yield Input(
                        value=field.value,
                        placeholder=field.placeholder,
                        password=field.kind == "password",
                        id=field.name,
                    )
                yield Static("", id=f"{field.name}-error", classes="field-error", markup=False)
                if field.kind == "password" and self._confirm:
                    yield Label("Repeat the password", id="confirm-label")
                    yield Input(password=True, id="confirm")
                    yield Static("", id="confirm-error", classes="field-error", markup=False)
            yield Static("", id="form-error", markup=False)

    def on_mount(self) -> None:
        self._field_widgets()[0].focus()

    def _field_widgets(self) -> list[Input | Select[str] | SelectionList[str]]:
        """Every field's widget in form order (the Role select and the account picks among them)."""
        return list(self.query("Input, Select, SelectionList").results())  # type: ignore[arg-type]

    def error_of(self, name: str) -> str:
        return str(self.query_one(f"#{name}-error", Static).render())

    def values(self) -> dict[str, str]:
        out: dict[str, str] = {}
        for field in self.fields:
            widget = self.query_one(f"#{field.name}")
            if isinstance(widget, SelectionList):
                out[field.name] = ",".join(str(v) for v in widget.selected)
            else:
                out[field.name] = str(widget.value) if isinstance(widget, (Input, Select)) else ""
        return out

    @on(Input.Submitted)
    def _enter(self, event: Input.Submitted) -> None:
        # The next field, whatever its kind: Enter once skipped the Role select.
        fields = self._field_widgets()
        index = fields.index(event.input)
        if index + 1 < len(fields):
            fields[index + 1].focus()
        else:
            self.action_submit()

    def action_cancel(self) -> None:
        self.dismiss(None)

    def _clear_errors(self) -> None:
        for error in self.query(".field-error"):
            error.update("")  # type: ignore[attr-defined]
        self.query_one("#form-error", Static).update("")

    def show_errors(self, errors: dict[str, str]) -> None:
        known = {f.name for f in self.fields} | {"confirm"}
        rest = []
        for name, message in errors.items():
            if name in known:
                self.query_one(f"#{name}-error", Static).update(plain_lines(message))
            else:
                rest.append(f"{name}: {message}")
        if rest:
            self.query_one("#form-error", Static).update(plain_lines("; ".join(rest)))

    def action_submit(self) -> None:
        if self._busy:
            return
        self._clear_errors()
        values = self.values()
        if self._confirm:
            confirm = self.query_one("#confirm", Input)
            password = next(f.name for f in self.fields if f.kind == "password")
            if confirm.value != values[password]:
                self.show_errors({"confirm": "the two passwords differ"})
                return
        self._busy = True
        self.run_worker(self._run(values), group="form", exclusive=True, exit_on_error=False)

    async def _run(self, values: dict[str, str]) -> None:
        try:
            line = await self._submit_cb(values)
        except ValidationFailed as exc:
            self.show_errors(exc.errors)
        except UserExists as exc:
            self.show_errors({"username": f"{exc.username!r} already exists"})
        except HeartbeatError as exc:
            self.show_errors({"form": str(exc)})
        except Handled:
            self.dismiss(None)
        else:
            for field in self.query(Input):
                if field.password:
                    field.value = ""
            self.dismiss(line)
        finally:
            self._busy = False


class UsersTable(DataTable[Text]):
    """The users, a row each; `j`/`k` move as in every other table (so `e` or `o`
    acts on the user the cursor shows)."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("j", "cursor_down", "Down", id="users.down", show=False),
        Binding("k", "cursor_up", "Up", id="users.up", show=False),
    ]


# Role's width fits every role: a user made a monitor later is not shown as `monit`.
COLUMN_WIDTHS = {"Role": max(len(value) for value, _ in ROLE_CHOICES)}


class AdminScreen(Screen[None]):
    help_title = "Users"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "app.pop_screen", "Back", id="admin.back"),
        Binding("n", "create", "New user", id="admin.create"),
        Binding("e", "toggle_active", "Disable/enable", id="admin.toggle"),
        Binding("o", "set_role", "Change role", id="admin.role"),
        Binding("p", "reset_password", "Reset password", id="admin.password"),
        Binding("u", "unlock", "Unlock", id="admin.unlock"),
        Binding("c", "set_accounts", "Allowed accounts", id="admin.accounts"),
        Binding("R", "reload", "Reload", id="admin.reload"),
    ]

    DEFAULT_CSS = """
    AdminScreen #users { height: 1fr; }
    AdminScreen #admin-status { height: 1; color: $text-muted; padding: 0 1; }
    """

    def __init__(self) -> None:
        super().__init__(id="admin")
        self.users: dict[str, UserView] = {}

    def compose(self) -> ComposeResult:
        yield HeaderBar("Users")
        with Vertical():
            table = UsersTable(id="users", cursor_type="row", zebra_stripes=True)
            for label in COLUMNS:
                table.add_column(label, width=COLUMN_WIDTHS.get(label))
            yield table
            yield Static("loading users…", id="admin-status", markup=False)
        yield FlashBar()
        yield Footer()

    def on_mount(self) -> None:
        self.query_one(DataTable).focus()
        self.action_reload()

    # -- data -------------------------------------------------------------------------

    async def call(self, work: Callable[[Any, Any], Awaitable[Any]]) -> Any:
        """Run `work(auth, session)`; session, permission and store failures are the app's."""

        reply: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self.post_message(AdminCall(work, reply))
        return await reply

    def action_reload(self) -> None:
        self.run_worker(self._reload(), group="admin", exclusive=True, exit_on_error=False)

    async def _reload(self, keep: str | None = None) -> None:
        try:
            views = await self.call(lambda auth, session: auth.list_users(session))
        except Handled:
            return
        self.show_users(views, keep)

    def show_users(self, views: list[UserView], keep: str | None = None) -> None:
        table = self.query_one(DataTable)
        current = keep or self.selected()
        new = {v.username: v for v in views}
        for key in [k for k in self.users if k not in new]:
            table.remove_row(key)
        for name, view in new.items():
            row = user_row(view)
            if name in self.users:
                for column, value in zip(table.columns, row):
                    table.update_cell(name, column, value, update_width=True)  # a handful of rows
            else:
                table.add_row(*row, key=name)
        self.users = new
        if current in new:
            table.move_cursor(row=table.get_row_index(current))
        active = sum(1 for v in views if v.active)
        locked = sum(1 for v in views if v.locked)
        self.query_one("#admin-status", Static).update(
            f"{len(views)} users · {active} active · {locked} locked · n new · e disable/enable · o role"
            " · p password · c accounts · u unlock"
        )

    def selected(self) -> str | None:
        table = self.query_one(DataTable)
        if not table.row_count:
            return None
        try:
            return str(table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value)
        except Exception:  # no row under the cursor
            return None

    def _selected_view(self) -> UserView | None:
        name = self.selected()
        view = self.users.get(name) if name else None
        if view is None:
            self.notify("no user selected", severity="warning", timeout=3)
        return view

    def _after(self, line: str | None) -> None:
        if line:
            self.notify(line, timeout=4)
            self.run_worker(self._reload(), group="admin", exclusive=True, exit_on_error=False)

    def _act(self, work: Callable[[Any, Any], Awaitable[Any]], line: str) -> None:
        async def run() -> None:
            try:
                await self.call(work)
            except Handled:
                return
            except HeartbeatError as exc:
                self.notify(str(exc), severity="error")
                return
            self._after(line)

        self.run_worker(run(), group="admin", exclusive=True, exit_on_error=False)

    # -- actions ----------------------------------------------------------------------

    def action_create(self) -> None:
        fields = [
            Field("username", "Username (3-64 of a-z 0-9 . _ -)"),
            Field("password", "Password (12 characters or more)", kind="password"),
            Field("role", "Role", kind="role", value=Role.USER.value),
            Field(
                "accounts",
                "Allowed accounts (role user; Space picks)",
                kind="accounts",
                choices=self._account_choices(),
            ),
            Field("email", "Email (optional, stored encrypted)"),
            Field("full_name", "Full name (optional, stored encrypted)"),
        ]

        async def submit(values: dict[str, str]) -> str:
            view = await self.call(
                lambda auth, session: auth.create_user(
                    session,
                    username=values["username"].strip(),
                    password=values["password"],
                    role=values["role"],
                    accounts=values["accounts"] or None,
                    email=values["email"] or None,
                    full_name=values["full_name"] or None,
                )
            )
            return f"created {view.username} ({view.role})"

        self.app.push_screen(FormScreen("New user", fields, submit, confirm_password=True), self._after)

    def action_toggle_active(self) -> None:
        view = self._selected_view()
        if view is None:
            return
        active = not view.active

        def act(confirmed: bool | None = True) -> None:
            if confirmed:
                self._act(
                    lambda auth, session: auth.set_active(session, view.username, active),
                    f"{view.username} {'enabled' if active else 'disabled'}",
                )

        if active:
            act()
        else:  # disabling ends the user's sessions: asked first
            question = f"Disable {view.username}? Their sessions end at once and they cannot log in."
            self.app.push_screen(ConfirmScreen(question), act)

    def action_unlock(self) -> None:
        view = self._selected_view()
        if view is None:
            return
        if not view.locked:
            self.notify(f"{view.username} is not locked: nothing to unlock", severity="warning", timeout=4)
            return
        self._act(lambda auth, session: auth.unlock(session, view.username), f"{view.username} unlocked")

    def _account_choices(self, allowed: tuple[str, ...] = ()) -> tuple[tuple[str, str], ...]:
        """The accounts to pick from: every account the dashboard polls (an admin's
        session sees them all), plus any already allowed that is not among them."""

        snapshot = getattr(self.app, "snapshot", None)
        polled = [(a.id, f"{a.display_name} ({a.id})") for a in snapshot.accounts] if snapshot else []
        known = {ident for ident, _ in polled}
        return tuple(polled) + tuple((a, a) for a in allowed if a not in known)

    def action_set_role(self) -> None:
        view = self._selected_view()
        if view is None:
            return

        async def submit(values: dict[str, str]) -> str:
            updated = await self.call(lambda auth, session: auth.set_role(session, view.username, values["role"]))
            return f"{updated.username} is now {updated.role}"

        fields = [Field("role", "Role", kind="role", value=view.role.value)]
        form = FormScreen(f"Role of {view.username}", fields, submit)
        self.app.push_screen(form, self._after)

    def action_reset_password(self) -> None:
        view = self._selected_view()
        if view is None:
            return

        async def submit(values: dict[str, str]) -> str:
            await self.call(lambda auth, session: auth.reset_password(session, view.username, values["password"]))
            return f"password of {view.username} reset; their sessions have ended"

        fields = [Field("password", "New password (12 characters or more)", kind="password")]
        self.app.push_screen(
            FormScreen(f"Reset the password of {view.username}", fields, submit, confirm_password=True), self._after
        )

    def action_set_accounts(self) -> None:
        view = self._selected_view()
        if view is None:
            return

        async def submit(values: dict[str, str]) -> str:
            updated = await self.call(
                lambda auth, session: auth.set_accounts(session, view.username, values["accounts"])
            )
            return f"{updated.username} may see {', '.join(updated.accounts) or 'no account'}"

        fields = [
            Field(
                "accounts",
                "Allowed accounts (Space picks, Ctrl+S saves)",
                kind="accounts",
                value=",".join(view.accounts),
                choices=self._account_choices(view.accounts),
            )
        ]
        self.app.push_screen(FormScreen(f"Accounts of {view.username}", fields, submit), self._after)
