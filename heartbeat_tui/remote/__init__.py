"""HeartBeat as a client of a shared `heartbeat serve`: the API client, the
dashboard's remote `FleetSource` and its users store over the API. The
commands' `--server` routing is cli_remote.py.

Engine layer: no Textual or Rich here (the import contracts say so)."""
