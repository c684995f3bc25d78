"""The soak's logic (benchmarks/soak_bench.py) for a handful of polls, so it cannot rot.

Its own small embedded AWS: the soak runs the simulator and clears every fault
between episodes, which the suite's shared (paused) fleet must not see.
"""

from __future__ import annotations

import importlib.util
import logging
import sys
from pathlib import Path
from types import ModuleType

import pytest

from heartbeat_tui.embedded import EmbeddedAWS
from heartbeat_tui.embedded.fleet import FleetSpec
from heartbeat_tui.logs import setup_logging

NOISY = ("botocore", "aiobotocore", "urllib3", "asyncio", "botocore.credentials", "aiobotocore.credentials")
SOAK = Path(__file__).resolve().parents[2] / "benchmarks" / "soak_bench.py"


def load_soak() -> ModuleType:
    spec = importlib.util.spec_from_file_location("soak_bench", SOAK)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("soak_bench", module)  # dataclasses look their module up
    spec.loader.exec_module(sys.modules["soak_bench"])
    return sys.modules["soak_bench"]


@pytest.mark.slow
async def test_soak_runs_episodes_and_recoveries(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    soak_bench = load_soak()
    log_file = tmp_path / "heartbeat.log"
    monkeypatch.setenv("HEARTBEAT_LOG_FILE", str(log_file))
    # The product's own logging set-up (file, levels), as `heartbeat` has it; undone after.
    root = logging.getLogger()
    saved = (list(root.handlers), root.level, {name: logging.getLogger(name).level for name in NOISY})
    setup_logging("INFO")
    try:
        with EmbeddedAWS(FleetSpec.benchmark(accounts=2, regions=1, clusters=1, services=5), step_seconds=5.0) as aws:
            # Seed 2: AssumeRole denied, server errors and throttling, in 8 polls.
            result = await soak_bench.soak(aws, polls=8, seed=2, log_file=log_file)
    finally:
        for handler in list(root.handlers):
            root.removeHandler(handler)
            handler.close()
        for handler in saved[0]:
            root.addHandler(handler)
        root.setLevel(saved[1])
        for name, level in saved[2].items():
            logging.getLogger(name).setLevel(level)

    report = result.to_json(judge_rss=False)
    assert report["verdict"] == "pass", report
    assert result.polls == 8 and len(result.rss_mb) == 8
    # Faults were switched on (and accounts went to error under them) and off again.
    assert sum(result.episodes.values()) >= 1 and result.error_polls >= 1
    assert set(report["checks"]) >= {"no crash", "back to ok within 2 polls"}
    # The checks can fail: a problem recorded, or an error in the log, is a failed verdict.
    result.problems.append("recovery: poll 8: 101111111112 still in error")
    assert result.to_json(judge_rss=False)["verdict"] == "fail"
    with log_file.open("a") as log:
        log.write("2026-11-28 12:00:00,000 INFO x: fine\n2026-11-28 12:00:01,000 ERROR x: poll failed\n")
        log.write("Traceback (most recent call last):\n")
    assert soak_bench.scan_log(log_file) == [
        "2026-11-28 12:00:01,000 ERROR x: poll failed",
        "Traceback (most recent call last):",
    ]
