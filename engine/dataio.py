"""Reading variables given on the command line (`--set k=v`) or in a YAML/JSON file (`--data`)."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

from .errors import DataInvalid


def parse_assignments(items: Iterable[str]) -> dict[str, Any]:
    """`name=value` keeps the value as text (the task's form converts it to its type);
    `name:=value` reads it as JSON (`n:=5`, `ok:=true`, `tags:='["a"]'`) for data no form types."""
    import json

    out: dict[str, Any] = {}
    for item in items:
        name, sep, value = item.partition("=")
        typed = name.endswith(":")
        name = name[:-1].strip() if typed else name.strip()
        if not sep or not name:
            raise DataInvalid(f"--set {item}", "expected NAME=VALUE (text) or NAME:=JSON")
        if not name.isidentifier():
            raise DataInvalid(f"--set {item}", f"{name!r} is not a valid variable name")
        if typed:
            try:
                out[name] = json.loads(value)
            except json.JSONDecodeError as exc:
                raise DataInvalid(f"--set {item}", f"not valid JSON after ':=': {exc.msg}") from None
        else:
            out[name] = value
    return out


def read_data_file(path: str | Path) -> dict[str, Any]:
    """A mapping from a .yaml/.yml/.json file; errors name the file and line."""
    from ruamel.yaml import YAML
    from ruamel.yaml.error import MarkedYAMLError, YAMLError

    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise DataInvalid(str(p), "no such file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise DataInvalid(str(p), f"cannot read: {exc}") from None
    try:
        data = YAML(typ="safe", pure=True).load(text)  # JSON is YAML
    except MarkedYAMLError as exc:
        mark = exc.problem_mark
        line = mark.line + 1 if mark is not None else 1
        raise DataInvalid(f"{p}:{line}", f"not valid YAML/JSON: {exc.problem}") from None
    except YAMLError as exc:
        raise DataInvalid(str(p), f"not valid YAML/JSON: {exc}") from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise DataInvalid(str(p), "must contain a mapping of variable names to values")
    return plain(data)


def plain(value: Any) -> Any:
    """Plain dicts/lists from YAML; dates become ISO text so they store and compare like form values."""
    import datetime as dt

    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [plain(v) for v in value]
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    return value
