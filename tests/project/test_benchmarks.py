"""Every benchmark still starts: its imports resolve against today's code.

The benchmarks are not run by the suite (they take minutes and a quiet
machine), so a module they import from can move under them unnoticed:
`call_bench.py` once imported a function the engine no longer had. Asking each
for its usage imports all it needs and parses nothing.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

BENCHMARKS = sorted((Path(__file__).resolve().parents[2] / "benchmarks").glob("*_bench.py"))


def test_the_benchmarks_are_found() -> None:
    assert len(BENCHMARKS) >= 10, [p.name for p in BENCHMARKS]


@pytest.mark.parametrize("script", BENCHMARKS, ids=lambda p: p.stem)
def test_a_benchmark_starts_and_gives_its_usage(script: Path) -> None:
    done = subprocess.run(
        [sys.executable, str(script), "--help"], capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.startswith("usage:"), done.stdout[:200]
    assert "Traceback" not in done.stderr
