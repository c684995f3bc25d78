"""`heartbeat web`: the dashboard in a browser, on textual-serve (run.py, front.py,
sessions.py), one dashboard process per browser session (session.py).

Kept empty on purpose: a session's process imports `heartbeat_tui.web.session`,
and must not pull in the web server (aiohttp's server, textual-serve) with it.
"""
