"""Themes are plain TOML (or JSON) files, validated before they are registered.

Looked up in order, later ones overriding earlier ones of the same name:
the package's `themes/` (the wheel ships it as `heartbeat_tui/themes`; from a
source checkout the repository's top-level `themes/`), then
`<user config dir>/heartbeat/themes/`. The status colours are theme variables
(`hb-warning`, `hb-critical`, ...; `tui/styles.py` owns them) that the CSS and the plots use.
"""

from __future__ import annotations

import json
import re
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator
from textual.color import Color, ColorParseError
from textual.theme import Theme

import heartbeat_tui
from heartbeat_tui.config import user_config_dir
from heartbeat_tui.tui.styles import DEFAULT_COLOURS

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on 3.10 only
    import tomli as tomllib

# Fallbacks for themes (built-in Textual ones included) that do not set them.
DEFAULT_VARIABLES: dict[str, str] = dict(DEFAULT_COLOURS)
_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")
_VARIABLE = re.compile(r"^[a-z][a-z0-9-]{0,63}$")


def _colour(value: str) -> str:
    try:
        Color.parse(value)
    except (ColorParseError, ValueError) as exc:
        raise ValueError(f"is not a colour ({value!r})") from exc
    return value


class ThemeFile(BaseModel):
    """The shape of a theme file; unknown keys are errors."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(pattern=_NAME.pattern)
    dark: bool = True
    primary: str
    secondary: str | None = None
    accent: str | None = None
    warning: str | None = None
    error: str | None = None
    success: str | None = None
    foreground: str | None = None
    background: str | None = None
    surface: str | None = None
    panel: str | None = None
    boost: str | None = None
    variables: dict[str, str] = Field(default_factory=dict)

    @field_validator(
        "primary", "secondary", "accent", "warning", "error", "success", "foreground", "background", "surface", "panel"
    )
    @classmethod
    def _is_colour(cls, value: str | None) -> str | None:
        return None if value is None else _colour(value)

    @field_validator("variables")
    @classmethod
    def _variables(cls, value: dict[str, str]) -> dict[str, str]:
        for key, item in value.items():
            if not _VARIABLE.match(key):
                raise ValueError(f"variable name {key!r} must be lower-case letters, digits and '-'")
            if key.startswith("hb-"):
                if key not in DEFAULT_VARIABLES:
                    raise ValueError(f"unknown status colour {key!r} (known: {', '.join(DEFAULT_VARIABLES)})")
                try:
                    _colour(item)
                except ValueError as exc:
                    raise ValueError(f"{key} {exc}") from None
        return value

    def to_theme(self) -> Theme:
        data = self.model_dump(exclude={"variables"}, exclude_none=True)
        return Theme(**data, variables={**DEFAULT_VARIABLES, **self.variables})


def builtin_theme_dirs() -> list[Path]:
    package = Path(heartbeat_tui.__file__).resolve().parent
    packaged = package / "themes"
    if packaged.is_dir():
        return [packaged]
    checkout = package.parent / "themes"
    return [checkout] if checkout.is_dir() else []


def user_theme_dir() -> Path:
    return user_config_dir() / "themes"


def read_theme_file(path: Path) -> Theme:
    """Parse and validate one theme file; raises ValueError with a one-line reason."""

    try:
        text = path.read_text(encoding="utf-8")
        data: Any = json.loads(text) if path.suffix == ".json" else tomllib.loads(text)
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise ValueError(f"{path}: cannot be read: {exc}") from None
    try:
        return ThemeFile.model_validate(data).to_theme()
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first.get("loc", ())) or "file"
        message = str(first.get("msg", "invalid")).removeprefix("Value error, ")
        raise ValueError(f"{path}: {where}: {message}") from None


def load_themes(*, extra_dirs: Iterable[Path] = (), problems: list[str] | None = None) -> list[Theme]:
    """Every valid theme found; invalid files are reported in `problems`, never fatal."""

    found: dict[str, Theme] = {}
    for folder in [*builtin_theme_dirs(), user_theme_dir(), *extra_dirs]:
        if not folder.is_dir():
            continue
        for path in sorted(folder.iterdir()):
            if path.suffix not in (".toml", ".json") or not path.is_file():
                continue
            try:
                theme = read_theme_file(path)
            except ValueError as exc:
                if problems is not None:
                    problems.append(str(exc))
                continue
            found[theme.name] = theme
    return list(found.values())
