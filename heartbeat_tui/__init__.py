"""HeartBeat: a terminal dashboard that watches AWS ECS across many accounts."""

__version__ = "0.1.0"
