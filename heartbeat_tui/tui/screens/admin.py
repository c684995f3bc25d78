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
from textual.widgets import DataTable, Footer, Input, Label, Select, Static

# Types and errors only: the store is reached through the app (`admin_call`).
from heartbeat_tui.auth.errors import UserExists, ValidationFailed
from heartbeat_tui.auth.models import UserView
from heartbeat_tui.auth.roles import Role
from heartbeat_tui.errors import HeartbeatError
from heartbeat_tui.tui.messages import AdminCall
from heartbeat_tui.tui.text import content, plain, plain_lines
from heartbeat_tui.tui.widgets.flash_bar import FlashBar
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
    kind: str = "text"  # text | password | role
    value: str = ""
    placeholder: str = ""


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
        self.query(Input).first().focus() if self.query(Input) else self.query_one(Select).focus()

    def error_of(self, name: str) -> str:
        return str(self.query_one(f"#{name}-error", Static).render())

    def values(self) -> dict[str, str]:
        out: dict[str, str] = {}
        for field in self.fields:
            widget = self.query_one(f"#{field.name}")
            out[field.name] = str(widget.value) if isinstance(widget, (Input, Select)) else ""
        return out

    @on(Input.Submitted)
    def _enter(self, event: Input.Submitted) -> None:
        inputs = list(self.query(Input))
        index = inputs.index(event.input)
        if index + 1 < len(inputs):
            inputs[index + 1].focus()
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
            table: DataTable[Text] = DataTable(id="users", cursor_type="row", zebra_stripes=True)
            table.add_columns(*COLUMNS)
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
                    table.update_cell(name, column, value)
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
            Field("accounts", "Allowed accounts (role user; ids separated by commas)", placeholder="210987654321"),
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
        self._act(
            lambda auth, session: auth.set_active(session, view.username, active),
            f"{view.username} {'enabled' if active else 'disabled'}",
        )

    def action_unlock(self) -> None:
        view = self._selected_view()
        if view is not None:
            self._act(lambda auth, session: auth.unlock(session, view.username), f"{view.username} unlocked")

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

        fields = [Field("accounts", "Allowed accounts (ids separated by commas)", value=",".join(view.accounts))]
        self.app.push_screen(FormScreen(f"Accounts of {view.username}", fields, submit), self._after)
