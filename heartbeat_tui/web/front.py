"""The browser front of `heartbeat web` (aiohttp): the page, its assets and
one websocket per session, each driving a dashboard process (sessions.py).

Built here rather than with textual-serve's `Server`, whose app lists
`/static/`, takes any Origin, any number of sessions and any terminal size,
and whose page asks an outside host for its font and embeds absolute URLs.
What is textual-serve's: the client (`static/js/textual.js`, xterm.js), its
bundled fonts and stylesheet, and `AppService` (the session process).

* `/` is HeartBeat's own page (title "HeartBeat", the bundled Roboto Mono,
  relative URLs, so it works behind a proxy under any path), or a plain
  "sessions full" page (503) when every session is in use.
* `/ws` refuses (403) an `Origin` other than the public URL's (or, without
  one, the listen address's); when full it accepts and closes at once with
  1013 and a reason the page shows; sizes are clamped to `MIN_SIZE`..`MAX_SIZE`.
* `/static/` and `/assets/` serve files only: a folder is 403, never a listing.
* Every answer carries a Content-Security-Policy that allows this origin only.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from pathlib import Path
from urllib.parse import urlsplit

import textual_serve
from aiohttp import WSCloseCode, WSMsgType, web

from heartbeat_tui.serve.errors import CLIENT
from heartbeat_tui.serve.forwarded import TrustedProxies
from heartbeat_tui.web._textual_serve_compat import SessionProcess
from heartbeat_tui.web.sessions import Sessions, SessionsFull

log = logging.getLogger(__name__)

TITLE = "HeartBeat"
MIN_SIZE = (20, 10)
MAX_SIZE = (500, 200)
FONT_SIZES = (8, 40)
MAX_MESSAGE_BYTES = 64 * 1024  # a paste; nothing a browser session sends is larger
ASSETS = Path(__file__).parent / "assets"
TEXTUAL_SERVE_STATIC = Path(textual_serve.__file__).parent / "static"
FULL_CLOSE_CODE = WSCloseCode.TRY_AGAIN_LATER  # 1013

CSP = "; ".join(
    (
        "default-src 'none'",
        "script-src 'self'",
        # xterm.js and textual.js add <style> elements and style attributes.
        "style-src 'self' 'unsafe-inline'",
        "img-src 'self' data:",
        "font-src 'self'",
        "connect-src 'self'",  # the websocket to this origin; nothing else (textual.js's ?ping= included)
        "base-uri 'none'",
        "form-action 'none'",
        "frame-ancestors 'none'",
    )
)

SESSIONS: web.AppKey[Sessions] = web.AppKey("sessions", Sessions)


def origin_of(url: str) -> str:
    """`scheme://host[:port]` as a browser's Origin header writes it (default ports left out)."""

    parts = urlsplit(url)
    host = parts.hostname or ""
    if ":" in host:
        host = f"[{host}]"
    default = {"http": 80, "https": 443}.get(parts.scheme)
    port = "" if parts.port in (None, default) else f":{parts.port}"
    return f"{parts.scheme}://{host}{port}".lower()


def allowed_origins(public_url: str | None, host: str, port: int, tls: bool) -> frozenset[str]:
    """The public URL's origin; without one, the listen address's (and its loopback names)."""

    if public_url:
        return frozenset({origin_of(public_url)})
    scheme = "https" if tls else "http"
    hosts = {host}
    if host in ("127.0.0.1", "localhost", "::1"):
        hosts |= {"127.0.0.1", "localhost", "::1"}
    return frozenset(origin_of(f"{scheme}://{f'[{h}]' if ':' in h else h}:{port}") for h in hosts)


def clamp(value: object, low: int, high: int, default: int) -> int:
    try:
        number = int(str(value))
    except ValueError:
        return default
    return max(low, min(high, number))


def _page(font_size: int) -> str:
    return f"""<!DOCTYPE html>
<html lang="en">
  <head>
    <meta charset="utf-8" />
    <meta name="viewport" content="width=device-width, initial-scale=1" />
    <title>{TITLE}</title>
    <link rel="preload" href="static/fonts/RobotoMono-VariableFont_wght.ttf" as="font" type="font/ttf" crossorigin />
    <link rel="stylesheet" href="static/css/xterm.css" />
    <link rel="stylesheet" href="assets/heartbeat.css" />
    <script src="assets/heartbeat.js"></script>
    <script src="static/js/textual.js"></script>
  </head>
  <body>
    <noscript>
      <div class="dialog-container"><div class="intro">{TITLE} needs this page's JavaScript: allow it here.</div></div>
    </noscript>
    <div class="dialog-container intro-dialog">
      <div class="intro"><div>{TITLE}</div><div class="hint">connecting…</div></div>
    </div>
    <div class="dialog-container closed-dialog">
      <div class="intro">
        <div class="message" id="closed-message">Session ended.</div>
        <button type="button" id="restart">Start again</button>
      </div>
    </div>
    <div id="terminal" class="textual-terminal" data-session-websocket-url="" data-font-size="{font_size}"></div>
  </body>
</html>
"""


def _full_page(limit: int) -> str:
    return f"""<!DOCTYPE html>
<html lang="en">
  <head><meta charset="utf-8" /><title>{TITLE}</title><link rel="stylesheet" href="assets/heartbeat.css" /></head>
  <body class="-full">
    <div class="dialog-container"><div class="intro"><div class="message">
      {TITLE} is full: all {limit} browser sessions are in use. Try again in a few minutes,
      or ask an administrator to raise <code>--max-sessions</code>.
    </div></div></div>
  </body>
</html>
"""


def full_reason(limit: int) -> str:
    return f"HeartBeat is full: all {limit} browser sessions are in use; try again later"


class Front:
    """The routes over one `Sessions`."""

    def __init__(self, sessions: Sessions, origins: frozenset[str], trusted: TrustedProxies, tls: bool) -> None:
        self.sessions = sessions
        self.origins = origins
        self.trusted = trusted
        self.tls = tls

    def client(self, request: web.Request) -> str | None:
        client = self.trusted.client(request.remote, request.headers.getall("X-Forwarded-For", []))
        if client:
            request[CLIENT] = client
        return client

    async def index(self, request: web.Request) -> web.Response:
        self.client(request)
        if self.sessions.full:
            return web.Response(
                text=_full_page(self.sessions.max_sessions),
                status=503,
                content_type="text/html",
                headers={"Retry-After": "60"},
            )
        font_size = clamp(request.query.get("fontsize", "16"), *FONT_SIZES, 16)
        return web.Response(text=_page(font_size), content_type="text/html")

    async def websocket(self, request: web.Request) -> web.StreamResponse:
        client = self.client(request)
        origin = (request.headers.get("Origin") or "").lower()
        if origin not in self.origins:
            log.warning("websocket refused: Origin %r is not this server's", origin[:100])
            raise web.HTTPForbidden(text="this page's origin may not open a HeartBeat session\n")
        width = clamp(request.query.get("width", "80"), MIN_SIZE[0], MAX_SIZE[0], 80)
        height = clamp(request.query.get("height", "24"), MIN_SIZE[1], MAX_SIZE[1], 24)
        socket = web.WebSocketResponse(heartbeat=15, max_msg_size=MAX_MESSAGE_BYTES)
        try:
            # Counted at once (no await before): two requests cannot both take the last place.
            process = self.sessions.create(
                client, write_bytes=socket.send_bytes, write_str=socket.send_str, close=socket.close
            )
        except SessionsFull:
            # Accepted, then closed with a reason: the page shows it (a refused upgrade shows nothing).
            await socket.prepare(request)
            await socket.close(code=FULL_CLOSE_CODE, message=full_reason(self.sessions.max_sessions).encode())
            return socket
        try:
            await socket.prepare(request)
            await self.sessions.launch(process, width, height, client)
        except BaseException:
            await self.sessions.end(process)
            raise
        try:
            await _relay(socket, process)
        except asyncio.CancelledError:
            pass
        finally:
            await self.sessions.end(process)
            with contextlib.suppress(Exception):
                await socket.close()
        return socket


async def _relay(socket: web.WebSocketResponse, process: SessionProcess) -> None:
    """The browser's messages to the session: keys, sizes (clamped), focus; anything else is dropped."""

    async for message in socket:
        if message.type != WSMsgType.TEXT:
            continue
        try:
            envelope = json.loads(message.data)
        except ValueError:
            continue
        if not isinstance(envelope, list) or not envelope or not isinstance(envelope[0], str):
            continue
        kind, data = envelope[0], envelope[1] if len(envelope) > 1 else None
        if kind == "stdin" and isinstance(data, str):
            await process.send_bytes(data.encode("utf-8", "replace"))
        elif kind == "resize" and isinstance(data, dict):
            await process.set_terminal_size(
                clamp(data.get("width"), MIN_SIZE[0], MAX_SIZE[0], 80),
                clamp(data.get("height"), MIN_SIZE[1], MAX_SIZE[1], 24),
            )
        elif kind == "ping" and isinstance(data, str) and len(data) <= 32:
            await socket.send_json(["pong", data])
        elif kind == "blur":
            await process.blur()
        elif kind == "focus":
            await process.focus()


async def _security_headers(request: web.Request, response: web.StreamResponse) -> None:
    response.headers.setdefault("Content-Security-Policy", CSP)
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("X-Frame-Options", "DENY")
    response.headers.setdefault("Referrer-Policy", "no-referrer")
    response.headers.setdefault("Cross-Origin-Opener-Policy", "same-origin")
    if request.path == "/":
        response.headers.setdefault("Cache-Control", "no-store")
    if request.secure:
        response.headers.setdefault("Strict-Transport-Security", "max-age=31536000")


def build_front(front: Front) -> web.Application:
    app = web.Application(client_max_size=MAX_MESSAGE_BYTES)
    app[SESSIONS] = front.sessions
    app.on_response_prepare.append(_security_headers)
    app.router.add_get("/", front.index)
    app.router.add_get("/ws", front.websocket)
    # Files only: a folder is 403 (show_index=False), a symlink out of the folder is not followed.
    app.router.add_static("/static", TEXTUAL_SERVE_STATIC, show_index=False, follow_symlinks=False)
    app.router.add_static("/assets", ASSETS, show_index=False, follow_symlinks=False)
    return app


__all__ = ["CSP", "MAX_SIZE", "MIN_SIZE", "TITLE", "Front", "allowed_origins", "build_front", "full_reason"]
