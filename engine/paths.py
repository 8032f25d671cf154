"""Names the hall turns into files, and the rule that every file it writes stays inside its folder.

A process id names the folder of its archived cases and a configured report name its file: a
name such as `../../x` would write anywhere the hall's account may. Names are checked where they
enter (process ids by validate/deploy, engine/definitions.py; report names by `hall config check`)
and every path is checked again where it is made.
"""

from __future__ import annotations

from pathlib import Path

from .errors import OutputNotWritable


def file_name_problem(name: str) -> str | None:
    """Why a configured name cannot be a file's name inside its folder (`reports.names`), or None."""
    if not name.strip():
        return "is empty"
    if name.strip() in (".", "..") or any(c in name for c in "/\\") or any(ord(c) < 32 or ord(c) == 127 for c in name):
        return f"{name!r} must be a plain file name (no /, \\, .., or control characters)"
    if len(name.encode("utf-8")) > 200:
        return f"{name!r} is too long for a file name (at most 200 bytes)"
    return None


def inside(root: str | Path, *parts: str) -> Path:
    """`root`/`parts`, refused (OutputNotWritable) when the result would lie outside `root`."""
    base = Path(root).resolve()
    path = base.joinpath(*parts).resolve()
    if path != base and base not in path.parents:
        raise OutputNotWritable(str(Path(root).joinpath(*parts)), f"it lies outside {root}; nothing was written")
    return path
