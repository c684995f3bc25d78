"""The Textual dashboard. Screens and widgets only render and dispatch: data
comes in as immutable snapshots through `HeartbeatApp`, which owns the poll."""
