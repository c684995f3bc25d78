"""Remembering the theme in the config file with a minimal line-level edit."""

from __future__ import annotations

from pathlib import Path

from heartbeat_tui.config import read_config_file
from heartbeat_tui.tui.settings import save_theme, set_ui_theme


def test_replaces_the_value_and_keeps_comments() -> None:
    text = '# my fleet\n[ui]\ntheme = "heartbeat-dark"   # dark at night\n\n[refresh]\ninterval_seconds = 10\n'
    out = set_ui_theme(text, "heartbeat-light")
    assert out == '# my fleet\n[ui]\ntheme = "heartbeat-light"   # dark at night\n\n[refresh]\ninterval_seconds = 10\n'


def test_adds_the_key_inside_an_existing_section() -> None:
    text = "[ui]\n# no theme yet\n\n[refresh]\ninterval_seconds = 10\n"
    out = set_ui_theme(text, "x")
    assert out == '[ui]\n# no theme yet\ntheme = "x"\n\n[refresh]\ninterval_seconds = 10\n'


def test_adds_the_section_when_missing_and_ignores_other_theme_keys() -> None:
    text = '[other]\ntheme = "not-this-one"\n'
    out = set_ui_theme(text, "heartbeat-light")
    assert out == '[other]\ntheme = "not-this-one"\n\n[ui]\ntheme = "heartbeat-light"\n'
    assert set_ui_theme("", "a") == '[ui]\ntheme = "a"\n'


def test_ui_section_before_an_array_of_tables() -> None:
    text = '[ui]\n[[accounts]]\nid = "123456789012"\n'
    assert set_ui_theme(text, "a") == '[ui]\ntheme = "a"\n[[accounts]]\nid = "123456789012"\n'


def test_save_theme_creates_the_file_and_stays_valid(tmp_path: Path) -> None:
    path = tmp_path / "heartbeat" / "config.toml"
    save_theme(path, "heartbeat-light")
    assert read_config_file(path).ui.theme == "heartbeat-light"
    path.write_text("# keep me\n[thresholds]\nwarning_percent = 60\n")
    save_theme(path, "heartbeat-dark")
    assert path.read_text().startswith("# keep me\n[thresholds]\nwarning_percent = 60\n")
    config = read_config_file(path)
    assert config.ui.theme == "heartbeat-dark" and config.thresholds.warning_percent == 60
