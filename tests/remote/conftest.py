"""A local deployment on the embedded AWS (`CliEnv`) and a real `heartbeat serve`
over it (`ThreadedServer`): the same users table, the same fleet."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.auth.cli_support import CliEnv, make_cli_env
from tests.remote.support import ThreadedServer


@pytest.fixture
def cli(clean_aws: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> CliEnv:
    return make_cli_env(clean_aws, tmp_path, monkeypatch, capsys)


@pytest.fixture
def server(cli: CliEnv) -> Iterator[ThreadedServer]:
    made = ThreadedServer(cli.config)
    try:
        made.poll()
        yield made
    finally:
        made.close()
