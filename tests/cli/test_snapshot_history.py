"""`heartbeat snapshot --history`: each service's CPU and memory series in the
JSON (as the original's `/clusters` returned its history points), consistent
with the summary values; the contract's keys are only added to; CSV stays flat."""

from __future__ import annotations

import csv
import io
import json
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from tests.auth.fixtures import cli_session  # noqa: F401 - a fixture: snapshot needs a session

from .test_cli import config_file, run  # noqa: F401 - config_file is a fixture

STAGING = "checkout-staging"


def when(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


@pytest.mark.usefixtures("cli_session")
def test_history_adds_the_series_and_only_adds(clean_aws: Any, config_file: Path) -> None:  # noqa: F811
    plain = run(clean_aws, config_file, "snapshot", "--account", STAGING)
    full = run(clean_aws, config_file, "snapshot", "--account", STAGING, "--history")
    assert plain.returncode == 0 and full.returncode == 0, full.stderr
    data = json.loads(full.stdout)
    generated = when(data["generated_at"])
    services = [s for r in data["accounts"][0]["regions"] for c in r["clusters"] for s in c["services"]]
    plain_services = [
        s for r in json.loads(plain.stdout)["accounts"][0]["regions"] for c in r["clusters"] for s in c["services"]
    ]
    assert services and len(services) == len(plain_services)
    with_points = 0
    for service, before in zip(services, plain_services):
        assert set(service) == set(before)  # nothing renamed or removed ...
        for metric in ("cpu", "memory"):
            assert set(service[metric]) == set(before[metric]) | {"history"}  # ... only `history` added
            history = service[metric]["history"]
            assert set(history) == {"timestamps", "average", "maximum"}
            times = [when(t) for t in history["timestamps"]]
            assert len(times) == len(history["average"]) == len(history["maximum"])
            assert times == sorted(set(times)) and all(t.second == 0 for t in times)  # one per minute, oldest first
            if not times:
                continue
            with_points += 1
            summary = service[metric]
            if summary["latest"] is not None:
                assert history["average"][history["timestamps"].index(summary["latest_at"])] == summary["latest"]
            last_hour = [
                m for t, m in zip(times, history["maximum"]) if t >= generated - timedelta(hours=1) and m is not None
            ]
            assert summary["max_1h"] == (max(last_hour) if last_hour else None)
    assert with_points > 0


@pytest.mark.usefixtures("cli_session")
def test_csv_stays_flat(clean_aws: Any, config_file: Path) -> None:  # noqa: F811
    result = run(clean_aws, config_file, "snapshot", "--account", STAGING, "--format", "csv", "--history")
    assert result.returncode == 0, result.stderr
    rows = list(csv.reader(io.StringIO(result.stdout)))
    plain = list(
        csv.reader(io.StringIO(run(clean_aws, config_file, "snapshot", "--account", STAGING, "--format", "csv").stdout))
    )
    assert rows[0] == plain[0] and len(rows) == len(plain)
    assert all(len(row) == len(rows[0]) for row in rows)
