"""One browser session: the dashboard, drawn by Textual's web driver
(`python -m heartbeat_tui.web.session`, started by `heartbeat web` per websocket).

Everything comes from the environment the server sets (never argv, which any
local user can read): `HEARTBEAT_WEB_PARENT` (the server's pid: the session ends
with it, lifeline.py), `HEARTBEAT_WEB_CLIENT` (the browser's address, named in
every audit record of this session), `HEARTBEAT_WEB_SERVER` (a `heartbeat
serve` to watch; unset: the configured fleet, with the users store here).

The session logs in for itself: it never reads or writes the stored session
file, and `HEARTBEAT_TOKEN` is dropped before anything runs. Its token lives in
this process only, and ends with it.
"""

from __future__ import annotations

import os
import sys

PARENT_ENV = "HEARTBEAT_WEB_PARENT"
CLIENT_ENV = "HEARTBEAT_WEB_CLIENT"
SERVER_ENV = "HEARTBEAT_WEB_SERVER"
LOG_LEVEL_ENV = "HEARTBEAT_WEB_LOG_LEVEL"


def main() -> int:
    from heartbeat_tui.web.lifeline import hold_on

    parent = os.environ.get(PARENT_ENV, "")
    if not parent.isdigit():
        # Not started by `heartbeat web`: refuse rather than run a dashboard no terminal shows.
        sys.stderr.write("heartbeat: this module is started by `heartbeat web`, one per browser session\n")
        return 2
    hold_on(int(parent))
    os.environ.pop("HEARTBEAT_TOKEN", None)  # the operator's, never a visitor's
    client = os.environ.get(CLIENT_ENV) or None
    server = os.environ.get(SERVER_ENV) or None

    from heartbeat_tui.errors import EXIT_INTERNAL, HeartbeatError, error_line
    from heartbeat_tui.logs import setup_logging

    try:
        setup_logging(os.environ.get(LOG_LEVEL_ENV) or "INFO")
        if client:
            from heartbeat_tui.auth.audit import client_address

            # Set before any loop or thread exists: every task and worker copies it.
            client_address.set(client)
        from heartbeat_tui.config import load_config

        if server is None:
            config = load_config(None)
        else:
            # Watching a server, the session polls nothing and holds none of the deployment's
            # secrets: no .env (where they live), no botocore partition data.
            config = load_config(None, env_file=None, aws=False)
        if server is not None:
            from heartbeat_tui.tui.launch import run_remote_dashboard

            return run_remote_dashboard(config, server, web=True, forwarded_for=client)
        from heartbeat_tui.tui.launch import run_dashboard

        return run_dashboard(config, web=True)
    except HeartbeatError as exc:
        error_line(str(exc))
        return exc.exit_code
    except Exception as exc:  # the last line of defence: one line, the details in the log
        import logging

        logging.getLogger("heartbeat.web").exception("browser session failed")
        error_line(f"internal error: {type(exc).__name__}")
        return EXIT_INTERNAL


if __name__ == "__main__":
    sys.exit(main())
