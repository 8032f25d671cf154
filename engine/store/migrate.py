"""Schema versions: Alembic revisions ``v1`` .. ``vN`` under ``migrations/``, applied by ``hall init``.

``hall_schema`` keeps the applied versions as numbers (what every command checks, and what databases
made before Alembic have); each revision adds its row. Before upgrading, Alembic's own record is
stamped from it, so a database of any earlier release, with or without ``alembic_version``, upgrades
in place from the version it has. Alembic is imported here only when ``hall init`` upgrades: it costs
about 0.4 s, and read-only commands start without it.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy.engine import Connection

SCHEMA_VERSION = 10  # the head revision is f"v{SCHEMA_VERSION}" (a test keeps them equal)
SCRIPTS = Path(__file__).resolve().parent / "migrations"


def revision(version: int) -> str:
    """The Alembic revision of a schema version."""
    return f"v{version}"


def config(
    conn: Connection, now: datetime | None = None, scripts: Path | None = None, case_fields: Any = None
) -> object:
    """Alembic's configuration, built in code: the scripts shipped with hall, this connection (and
    its open transaction), batch mode on SQLite (``migrations/env.py``), `now` for ``hall_schema``,
    and the searchable variables (``engine.search.CaseFields``) the search table is filled with."""
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(scripts or SCRIPTS))
    cfg.attributes["connection"] = conn
    cfg.attributes["now"] = now
    cfg.attributes["case_fields"] = case_fields
    return cfg


def upgrade(conn: Connection, before: int | None, target: int, now: datetime, case_fields: Any = None) -> None:
    """Apply the revisions after ``before`` (None: an empty database) up to ``target``, in the
    transaction of ``conn``; `case_fields`: the searchable variables (v5 fills its table with them)."""
    from alembic import command

    cfg = config(conn, now, case_fields=case_fields)
    if before is not None:  # Alembic's record follows hall_schema (absent in databases made before Alembic)
        command.stamp(cfg, revision(before), purge=True)  # type: ignore[arg-type]
    command.upgrade(cfg, revision(target))  # type: ignore[arg-type]


def head() -> str:
    """The newest revision among the scripts."""
    from alembic.script import ScriptDirectory

    return ScriptDirectory(str(SCRIPTS)).get_current_head() or ""
