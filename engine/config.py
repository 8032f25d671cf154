"""Configuration (`hall.yaml`): calendar, numbering patterns and process settings.

A missing file means defaults. Errors name the file and line.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

from .dataio import plain
from .errors import ConfigInvalid

SECTIONS = ("database", "calendar", "numbering", "settings", "forms")


def load_config(path: str | Path | None = None) -> dict[str, Any]:
    """The configuration at `path`, or ./hall.yaml when present, or {} (all defaults)."""
    p = Path(path) if path else Path("hall.yaml")
    if not p.exists():
        if path:
            raise ConfigInvalid(str(p), None, "configuration file not found")
        return {}
    from ruamel.yaml import YAML
    from ruamel.yaml.error import MarkedYAMLError
    try:
        data = YAML(typ="rt").load(p.read_text(encoding="utf-8"))
    except MarkedYAMLError as exc:
        line = exc.problem_mark.line + 1 if exc.problem_mark else None
        raise ConfigInvalid(str(p), line, f"not valid YAML: {exc.problem}") from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ConfigInvalid(str(p), 1, "must be a mapping of sections")
    for key in data:
        if key not in SECTIONS:
            line = data.lc.key(key)[0] + 1 if hasattr(data, "lc") else None
            raise ConfigInvalid(str(p), line, f"unknown section {key!r} (known: {', '.join(SECTIONS)})")
    out = plain(data)
    out["_source"] = str(p)
    return out
