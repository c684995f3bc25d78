"""AWS's own limits and the collector's tuning: the numbers every batch is cut to.

The embedded AWS enforces the same limits, so the tests run this exact batching.
"""

from __future__ import annotations

# AWS limits (the embedded AWS enforces the same ones).
DESCRIBE_CLUSTERS_BATCH = 100
DESCRIBE_SERVICES_BATCH = 10
DESCRIBE_TASKS_BATCH = 100
LIST_PAGE_SIZE = 100
METRIC_QUERIES_PER_CALL = 500
AUTOSCALING_PAGE_SIZE = 50
ORGANIZATIONS_PAGE_SIZE = 20  # ListAccounts, ListAccountsForParent, ListRoots, ListOrganizationalUnitsForParent
METRIC_PERIOD = 60
# CloudWatch publishes a minute one to three minutes late, and the newest one
# may still be filling in: later polls re-read from a little before the newest
# datapoint held, so late points are fetched, not skipped.
METRIC_REREAD_SECONDS = 3 * METRIC_PERIOD
# A service without recent datapoints is looked at over this much past time.
METRIC_QUIET_LOOKBACK_SECONDS = 10 * METRIC_PERIOD
# Never re-read more than this on a warm poll (a service idle for hours must
# not drag every other service's window back with it).
METRIC_MAX_LOOKBACK_SECONDS = 15 * METRIC_PERIOD
# CloudWatch returns at most this many datapoints per GetMetricData call.
METRIC_DATAPOINTS_PER_CALL = 100_800
# GetMetricData per-query states that mean the data is missing, not absent.
METRIC_FAILED_STATES = frozenset({"InternalError", "Forbidden"})
# A paged call gives up after this many empty pages in a row that still carry a
# next token (AWS may send a few; a broken endpoint sends them for ever) ...
MAX_EMPTY_PAGES = 20
# ... or after this many pages in all: more than any listing needs (ListClusters:
# 10,000 clusters per region at 100 a page; ListServices: 5,000 per cluster).
MAX_PAGES = 1000
# A cluster's service list is read whole (ListServices) at least this often;
# between, its active-services count proves the last poll's list complete.
SERVICES_RELIST_SECONDS = 300
# An IAM alias that could not be read is tried again after this many polls.
ALIAS_RETRY_POLLS = 10
ACTIVITIES_PER_SERVICE = 50
DESIRED_COUNT = "ecs:service:DesiredCount"
# CPU-bound loops give the event loop a turn this often (services).
YIELD_EVERY = 250
TERMINAL_ACTIVITY_STATES = frozenset({"Successful", "Failed", "Unfulfilled", "Overridden"})

# (ServiceMetrics field, CloudWatch metric, statistic)
SERIES: tuple[tuple[str, str, str], ...] = (
    ("cpu_average", "CPUUtilization", "Average"),
    ("cpu_maximum", "CPUUtilization", "Maximum"),
    ("memory_average", "MemoryUtilization", "Average"),
    ("memory_maximum", "MemoryUtilization", "Maximum"),
)
