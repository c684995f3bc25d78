"""What heartbeat_tui/web relies on in textual-serve: fails loudly on an upgrade.

`SessionProcess` overrides `AppService._open_app_process` and calls
`AppService._build_environment` (private); the rest is the public API. If a
new textual-serve renames, re-signs or stops using any of these, a test here
names it, before a browser session silently breaks.
"""

from __future__ import annotations

import inspect
from importlib.metadata import version
from pathlib import Path

import textual_serve
from textual_serve.app_service import AppService
from textual_serve.download_manager import DownloadManager

from heartbeat_tui.web._textual_serve_compat import TEXTUAL_SERVE_VERSION, SessionProcess
from heartbeat_tui.web.front import TEXTUAL_SERVE_STATIC


def test_the_pinned_version_is_installed() -> None:
    assert version("textual-serve") == TEXTUAL_SERVE_VERSION == "1.1.3", (
        "textual-serve changed: re-read app_service.py, then update _textual_serve_compat.py and this pin"
    )


def test_the_private_methods_we_use_keep_their_shape() -> None:
    opened = inspect.signature(AppService._open_app_process)
    assert list(opened.parameters) == ["self", "width", "height"]
    built = inspect.signature(AppService._build_environment)
    assert list(built.parameters) == ["self", "width", "height"]

    # The driver's variables come from _build_environment (our override keeps them).
    async def nothing(*_: object) -> None:
        return None

    service = AppService(
        "true", write_bytes=nothing, write_str=nothing, close=nothing, download_manager=DownloadManager()
    )
    environment = service._build_environment(width=90, height=33)
    assert environment["TEXTUAL_DRIVER"] == "textual.drivers.web_driver:WebDriver"
    assert (environment["COLUMNS"], environment["ROWS"]) == ("90", "33")


def test_the_process_is_reached_through_the_attributes_we_set() -> None:
    # start() opens the process through _open_app_process; run() and send_* read
    # self._process and self._stdin, which our override sets.
    assert "_open_app_process(" in inspect.getsource(AppService.start)
    assert "self._process" in inspect.getsource(AppService.run)
    assert "self.stdin" in inspect.getsource(AppService.send_bytes)
    assert "self._stdin" in inspect.getsource(AppService)
    assert SessionProcess._open_app_process is not AppService._open_app_process


def test_the_public_api_we_call_exists() -> None:
    init = inspect.signature(AppService.__init__)
    assert {"command", "write_bytes", "write_str", "close", "download_manager"} <= set(init.parameters)
    for name in ("start", "stop", "send_bytes", "set_terminal_size", "blur", "focus"):
        assert inspect.iscoroutinefunction(getattr(AppService, name)), name


def test_the_client_files_the_page_names_are_bundled() -> None:
    assert Path(textual_serve.__file__).parent / "static" == TEXTUAL_SERVE_STATIC
    for name in ("js/textual.js", "css/xterm.css", "fonts/RobotoMono-VariableFont_wght.ttf"):
        assert (TEXTUAL_SERVE_STATIC / name).is_file(), name
    script = (TEXTUAL_SERVE_STATIC / "js/textual.js").read_text(encoding="utf-8")
    # heartbeat.js sets the websocket address in this data attribute before textual.js reads it
    # at window.onload, and watches the one `new WebSocket(...)` textual.js opens.
    assert "dataset.sessionWebsocketUrl" in script
    assert "new WebSocket(" in script
    assert "window.onload" in script
    assert "'Roboto Mono'" in script  # the family heartbeat.css binds to the bundled font
