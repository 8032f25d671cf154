"""Named SQL, one file per dialect: ``-- name: x`` blocks read once from ``queries/<dialect>.sql``.

Each statement is written out in full for SQLite and for PostgreSQL (nothing is derived from the
other's text). The store's catalogue holds its own statements and those of the jobs table
(``engine/jobs/queries``), which the step's batch runs by name. PostgreSQL's are bytes: psycopg
re-encodes a str query on every execution (about 14 µs each).
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

DIALECTS = ("sqlite", "postgresql")
_ENGINE = Path(__file__).resolve().parent.parent
# The folders whose named SQL the store's transactions run: the store's own, and the jobs table's.
FOLDERS = (_ENGINE / "store" / "queries", _ENGINE / "jobs" / "queries")
_MARK = "-- name:"


def parse(text: str) -> dict[str, str]:
    """The ``-- name: x`` blocks of a file: {name: statement}; other comment lines are dropped."""
    out: dict[str, str] = {}
    name: str | None = None
    lines: list[str] = []

    def close() -> None:
        if name is not None:
            sql = "\n".join(lines).strip().removesuffix(";").strip()
            if not sql:
                raise ValueError(f"named SQL {name!r} is empty")
            out[name] = sql

    for line in text.splitlines():
        stripped = line.strip()
        if stripped.startswith(_MARK):
            close()
            name, lines = stripped[len(_MARK) :].strip(), []
            if name in out:
                raise ValueError(f"named SQL {name!r} appears twice")
        elif stripped.startswith("--") or not stripped:
            continue
        elif name is not None:
            lines.append(line.rstrip())
    close()
    return out


@cache
def texts(dialect: str, folder: Path | None = None) -> dict[str, str]:
    """Every named statement of a dialect (of one folder, or of all of FOLDERS), as text."""
    out: dict[str, str] = {}
    for place in (folder,) if folder is not None else FOLDERS:
        for name, sql in parse((place / f"{dialect}.sql").read_text(encoding="utf-8")).items():
            if name in out:
                raise ValueError(f"named SQL {name!r} is defined in two folders")
            out[name] = sql
    return out


@cache
def statements(dialect: str) -> dict[str, str | bytes]:
    """The statements as the dialect's driver takes them: str for SQLite, bytes for psycopg."""
    found = texts(dialect)
    if dialect == "postgresql":
        return {name: sql.encode() for name, sql in found.items()}
    return dict(found)


def columns(sql: str) -> tuple[str, ...]:
    """The result column names of a SELECT (its top-level list, read once, so that rows become
    dicts without asking the driver for a description on every query)."""
    body = sql.strip()
    if not body.upper().startswith("SELECT "):
        raise ValueError("not a SELECT")
    depth, parts, start, i = 0, [], 7, 7
    while i < len(body):
        ch = body[i]
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
        elif depth == 0 and ch == ",":
            parts.append(body[start:i])
            start = i + 1
        elif depth == 0 and body[i : i + 6].upper() in (" FROM ", "\nFROM "):
            break
        i += 1
    parts.append(body[start:i])
    return tuple(p.split()[-1].split(".")[-1] for p in (" ".join(q.split()) for q in parts))
