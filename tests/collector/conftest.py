"""The fault matrix (issue 5): the real collector, headless and under the
dashboard (Pilot), against the embedded AWS with its fault switches, over real
HTTP. Nothing of aiobotocore or boto3 is mocked.

Every test uses the suite's shared embedded AWS (`clean_aws`: the demo fleet,
simulator paused, faults cleared before and after), so a poll's data only
changes when a fault changes it, and "nothing good was lost" is an equality.
Time is scaled down with the fault's `seconds` and the collector's own
timeouts and deadline.
"""

from __future__ import annotations

from typing import Any

import pytest


@pytest.fixture
def aws(clean_aws: Any) -> Any:
    return clean_aws
