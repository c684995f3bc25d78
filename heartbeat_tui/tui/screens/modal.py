"""What the help screen and the account-error view share: a modal that is one
framed, scrollable panel in the middle of the screen, scrolled with `j`/`k`
(or the arrows) and closed by its own keys, `Esc` among them."""

from __future__ import annotations

from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.content import Content
from textual.screen import ModalScreen


def panel_bindings(name: str, close_keys: str, close_description: str) -> list[BindingType]:
    """A panel modal's keys: close (shown in the footer) and scroll, with ids
    `<name>.close`, `<name>.down` and `<name>.up`."""

    return [
        Binding(close_keys, "dismiss", close_description, id=f"{name}.close"),
        Binding("j,down", "scroll('down')", "Scroll down", id=f"{name}.down", show=False),
        Binding("k,up", "scroll('up')", "Scroll up", id=f"{name}.up", show=False),
    ]


class PanelModal(ModalScreen[None]):
    """A modal showing one panel: a subclass sets `BINDINGS = panel_bindings(...)`,
    composes its content inside `self.panel(title)`, and restyles the panel
    (`<Subclass> > VerticalScroll { width: ...; border: ...; }`) where it differs."""

    DEFAULT_CSS = """
    PanelModal { align: center middle; }
    PanelModal > VerticalScroll {
        width: 84; max-width: 100%; height: auto; max-height: 100%;
        border: round $primary; background: $surface; padding: 0 1;
    }
    """

    def panel(self, title: str | Content) -> VerticalScroll:
        """The framed panel, titled, saying how to close it: `with self.panel(title): yield ...`."""

        panel = VerticalScroll()
        panel.border_title = title
        panel.border_subtitle = "Esc closes"
        return panel

    def action_scroll(self, direction: str) -> None:
        scroll = self.query_one(VerticalScroll)
        if direction == "down":
            scroll.scroll_down(animate=False)
        else:
            scroll.scroll_up(animate=False)

    def action_dismiss(self) -> None:  # type: ignore[override]
        self.dismiss(None)
