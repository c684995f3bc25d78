"""HeartBeat as a client of a shared `heartbeat serve`: the API client, the
dashboard's remote `FleetSource`, and the `--server` routing of the commands.

Engine layer: no Textual or Rich here (the import contracts say so)."""
