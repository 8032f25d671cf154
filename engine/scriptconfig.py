"""The scripts' time limit as configured (hall.yaml `scripts: {timeout: 2 seconds}`).

Apart from `restricted`, which loads RestrictedPython: every command reads its settings, and only
the commands that run a script need the compiler.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

DEFAULT_TIMEOUT = 2.0  # seconds a script, condition or expression may run (hall.yaml scripts.timeout)


def parse_timeout(value: Any) -> float:
    """hall.yaml's scripts.timeout: seconds as a number or text (`2`, `2.5 seconds`, `500 ms`)."""
    if isinstance(value, bool):
        raise ValueError("scripts.timeout: must be a duration like `2 seconds`")
    if isinstance(value, (int, float)):
        seconds = float(value)
    else:
        match = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*(ms|s|sec|secs|second|seconds)?\s*", str(value))
        if not match:
            raise ValueError(f"scripts.timeout: {value!r} is not a duration like `2 seconds` or `500 ms`")
        seconds = float(match.group(1)) / (1000 if match.group(2) == "ms" else 1)
    if not 0 < seconds <= 3600:
        raise ValueError(f"scripts.timeout: {value!r} must be more than 0 and at most an hour")
    return seconds


def timeout_of(settings: Mapping[str, Any]) -> float:
    """The time limit configured in settings (hall.yaml `scripts: {timeout: 2 seconds}`), else the default."""
    section = settings.get("scripts") or {}
    if not isinstance(section, Mapping):
        raise ValueError("scripts: must be a mapping like {timeout: 2 seconds}")
    for key in section:
        if key != "timeout":
            raise ValueError(f"scripts.{key}: unknown key (known: timeout)")
    return parse_timeout(section["timeout"]) if "timeout" in section else DEFAULT_TIMEOUT
