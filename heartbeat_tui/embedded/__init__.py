"""The embedded AWS: moto's server in a child process, plus what moto lacks.

Used by ``heartbeat demo``, the test suite and the benchmarks.  The collector
talks to it over HTTP exactly as it talks to real AWS.  Importing this package
never imports moto (only the child does), nor textual or rich.
"""

from heartbeat_tui.embedded.fleet import AccountSpec, ClusterSpec, FleetSpec, RegionSpec
from heartbeat_tui.embedded.process import EmbeddedAWS, EmbeddedAWSError

__all__ = [
    "AccountSpec",
    "ClusterSpec",
    "EmbeddedAWS",
    "EmbeddedAWSError",
    "FleetSpec",
    "RegionSpec",
]
