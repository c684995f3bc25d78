"""The layers stay clean: the engine never imports Textual (import-linter contract)."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_import_linter_contracts_hold() -> None:
    lint_imports = shutil.which("lint-imports") or str(Path(sys.executable).with_name("lint-imports"))
    result = subprocess.run(
        [lint_imports, "--config", str(ROOT / "pyproject.toml")],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "KEPT" in result.stdout and "BROKEN" not in result.stdout


def test_engine_modules_import_without_textual() -> None:
    code = (
        "import sys\n"
        "import heartbeat_tui.config, heartbeat_tui.models, heartbeat_tui.collector, "
        "heartbeat_tui.export, heartbeat_tui.doctor, heartbeat_tui.embedded, heartbeat_tui.cli\n"
        "assert 'textual' not in sys.modules, 'textual was imported'\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr


def test_rich_tables_are_built_only_through_the_plain_table() -> None:
    """Rich parses a `str` table cell as markup: the dashboard builds its tables with
    `tui.text.PlainTable`, which takes `str` as plain text. A module that imports
    Rich's `Table` itself would bring the hole back (import-linter sees only `rich`)."""

    import ast

    offenders = []
    for path in sorted((ROOT / "heartbeat_tui").rglob("*.py")):
        if path == ROOT / "heartbeat_tui" / "tui" / "text.py":
            continue
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            names = []
            if isinstance(node, ast.ImportFrom) and node.module == "rich.table":
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.Import):
                names = [alias.name for alias in node.names if alias.name == "rich.table"]
            if names:
                offenders.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    assert offenders == [], offenders
