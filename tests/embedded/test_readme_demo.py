"""The README's description of the demo fleet matches what the demo shows."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from tests.support.configs import DENIED_ACCOUNT, deleted_services

README = Path(__file__).resolve().parents[2] / "README.md"


def test_the_readme_counts_what_the_demo_shows(fleet_aws: Any) -> None:
    text = " ".join(README.read_text().split())
    found = re.search(r"The demo shows (\d+) clusters and (\d+) services", text)
    assert found is not None
    clusters = services = 0
    for account in fleet_aws.fleet_summary()["accounts"]:
        if account["id"] == DENIED_ACCOUNT:
            continue  # never reached: shown in error, with nothing under it
        for regions in account["regions"].values():
            clusters += len(regions)
            services += sum(len(data["services"]) for data in regions.values())
    services -= len(deleted_services(fleet_aws))  # ECS no longer lists a service being deleted
    assert (int(found.group(1)), int(found.group(2))) == (clusters, services)
