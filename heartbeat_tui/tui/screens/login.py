"""The login screen: username, masked password, one error line, the lockout notice.

Nothing of the fleet is on it or under it (the app resets its screens when a
session ends). The password lives only in the masked field and is cleared the
moment it is submitted; hashing runs in a thread (`AuthService.login`), so the
screen keeps answering keys while a login is checked.
"""

from __future__ import annotations

from typing import ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Center, Vertical
from textual.screen import Screen
from textual.widgets import Input, Label, Static

from heartbeat_tui.tui.messages import LoginRequested
from heartbeat_tui.tui.text import plain_lines


class LockedScreen(Screen[None]):
    """The bottom of the screen stack behind a login: shows nothing at all."""

    def compose(self) -> ComposeResult:
        yield Static("", id="locked")


class LoginScreen(Screen[None]):
    help_title = "Log in"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "clear", "Clear", id="login.clear", show=False),
        # Priority, in the username field only: the focus moves to the password field
        # when Enter is read (Screen.set_focus: at once; Widget.focus and
        # Input.Submitted come later), so a password typed in the same burst
        # (`admin<Enter>password<Enter>`) lands in it. The password's own Enter goes
        # to its field like any key, after the characters before it.
        Binding("enter", "next_field", "", id="login.enter", show=False, priority=True),
    ]

    DEFAULT_CSS = """
    LoginScreen { align: center middle; background: $background; }
    LoginScreen #login-box {
        width: 60; max-width: 100%; height: auto;
        border: round $primary; background: $surface; padding: 1 2;
    }
    LoginScreen #login-title { text-style: bold; margin-bottom: 1; }
    LoginScreen Label { margin-top: 1; }
    LoginScreen #login-error { color: $error; height: auto; min-height: 1; max-height: 6; margin-top: 1; }
    LoginScreen #login-notice { color: $text-muted; margin-top: 1; }
    """

    def __init__(self, message: str | None = None, *, notice: str = "", busy: bool = False) -> None:
        super().__init__(id="login")
        self._message = message or ""
        self._notice = notice
        self._busy = busy
        self._composed = False

    def compose(self) -> ComposeResult:
        with Center(), Vertical(id="login-box"):
            yield Static("HeartBeat · log in", id="login-title")
            yield Label("Username", id="username-label")
            yield Input(placeholder="username", id="username", max_length=64, disabled=self._busy)
            yield Label("Password", id="password-label")
            yield Input(placeholder="password", password=True, id="password", max_length=1024, disabled=self._busy)
            yield Static(plain_lines(self._message), id="login-error", markup=False)
            yield Static(plain_lines(self._notice), id="login-notice", markup=False)

    def on_mount(self) -> None:
        self._composed = True
        self._apply()

    def _apply(self) -> None:
        # ready()/busy() may come before the screen is composed (a fast session
        # check): they record the state, and mounting applies it.
        if not self._composed:
            return
        for field in self.query(Input):
            field.disabled = self._busy
        self.query_one("#login-error", Static).update(plain_lines(self._message))
        if not self._busy:
            username = self.query_one("#username", Input)
            (self.query_one("#password", Input) if username.value else username).focus()

    @property
    def error_text(self) -> str:
        return self._message

    @property
    def busy_now(self) -> bool:
        """Is the form waiting (a session check or a login under way)? Input is refused meanwhile."""
        return self._busy

    def ready(self, message: str | None = None) -> None:
        """Accept input (again), with `message` on the error line."""

        self._busy = False
        self._message = message or ""
        self._apply()

    def busy(self, message: str = "") -> None:
        self._busy = True
        self._message = message
        self._apply()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "next_field":
            return self.focused is not None and self.focused.id == "username"
        return super().check_action(action, parameters)

    def action_next_field(self) -> None:
        self.set_focus(self.query_one("#password", Input))

    @on(Input.Submitted, "#password")
    def _submit(self) -> None:
        if self._busy:
            return
        username = self.query_one("#username", Input).value.strip()
        password_field = self.query_one("#password", Input)
        password = password_field.value
        password_field.value = ""  # never kept on the screen
        if not username:
            self.ready("Enter a username.")
            return
        if not password:
            self.ready("Enter the password.")
            return
        self.busy("Checking…")
        self.post_message(LoginRequested(username, password))

    def action_clear(self) -> None:
        for field in self.query(Input):
            field.value = ""
        self.ready("")
