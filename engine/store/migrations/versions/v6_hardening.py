"""Schema v6 (issue 15): ids are never reused, history rows say when they were written at a
simulated time, and a database can be marked as made for rehearsals.

- SQLite hands out max(id) + 1 for a table without AUTOINCREMENT, so after `hall purge` deleted the
  newest case the next one took its id (and inherited its `purged` row and archive file name).
  ``instances``, ``human_tasks`` and ``history`` become AUTOINCREMENT tables. Rebuilding
  ``instances`` is not possible inside the upgrade's transaction while foreign keys are enforced
  (dropping it would violate every reference to it), and nothing on disk changes: only the table's
  declaration does, so it is rewritten in ``sqlite_master`` the way SQLite's documentation describes
  for such changes (writable_schema, schema_version incremented, in one transaction), and each
  table's counter starts past every id its rows and the history ever named. PostgreSQL's sequences
  never go back: nothing to do there.
- ``history.simulated``: true for a row written at a simulated time (``--now``), NULL otherwise.
- ``hall_flags``: facts about the database; ``rehearsal`` is set by ``hall init --rehearsal``.

Revision ID: v6
Revises: v5
"""

import re

import sqlalchemy as sa
from alembic import context, op
from hall.engine.store.codecs import UTCDateTime

revision = "v6"
down_revision = "v5"
branch_labels = None
depends_on = None

# each table made AUTOINCREMENT, and the highest id anything ever gave it (rows still there, or named
# by the history of a purged case)
COUNTERS = {
    "instances": "SELECT max(m) FROM (SELECT max(id) AS m FROM instances UNION ALL "
    "SELECT max(instance_id) FROM history)",
    "human_tasks": "SELECT max(m) FROM (SELECT max(id) AS m FROM human_tasks UNION ALL "
    "SELECT max(task_id) FROM history)",
    "history": "SELECT max(id) FROM history",
}


def upgrade() -> None:
    bind = op.get_bind()
    columns = {c["name"] for c in sa.inspect(bind).get_columns("history")}
    if "simulated" not in columns:  # a database whose hall_schema was set back has it
        op.add_column("history", sa.Column("simulated", sa.Boolean))
    if not sa.inspect(bind).has_table("hall_flags"):
        op.create_table(
            "hall_flags",
            sa.Column("name", sa.String(100), primary_key=True),
            sa.Column("value", sa.String(200), nullable=False),
            sa.Column("set_at", UTCDateTime, nullable=False),
        )
    if bind.dialect.name == "sqlite":
        _sqlite_autoincrement(bind)
    hall_schema = sa.table("hall_schema", sa.column("version", sa.Integer), sa.column("applied_at", UTCDateTime()))
    op.bulk_insert(hall_schema, [{"version": 6, "applied_at": context.config.attributes["now"]}])


def _sqlite_autoincrement(bind: sa.engine.Connection) -> None:
    """Declare the tables AUTOINCREMENT in place (no row moves) and start their counters."""
    changed = False
    version = int(bind.exec_driver_sql("PRAGMA schema_version").scalar() or 0)
    for table in COUNTERS:
        sql = bind.exec_driver_sql("SELECT sql FROM sqlite_master WHERE type = 'table' AND name = ?", (table,)).scalar()
        if sql is None or "AUTOINCREMENT" in sql.upper():
            continue
        new = re.sub(r",\s*PRIMARY KEY \(id\)", "", sql, count=1)
        new = re.sub(
            r"\bid INTEGER NOT NULL(?: PRIMARY KEY)?\b", "id INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT", new, count=1
        )
        if new == sql or "PRIMARY KEY AUTOINCREMENT" not in new:
            raise RuntimeError(f"schema v6: the declaration of {table} is not the one v5 made: {sql}")
        if not changed:
            bind.exec_driver_sql("PRAGMA writable_schema = ON")
            changed = True
        bind.exec_driver_sql("UPDATE sqlite_master SET sql = ? WHERE type = 'table' AND name = ?", (new, table))
    if changed:
        bind.exec_driver_sql(f"PRAGMA schema_version = {version + 1}")
        bind.exec_driver_sql("PRAGMA writable_schema = OFF")
    for table, query in COUNTERS.items():
        top = bind.exec_driver_sql(query).scalar() or 0
        bind.exec_driver_sql("DELETE FROM sqlite_sequence WHERE name = ?", (table,))
        bind.exec_driver_sql("INSERT INTO sqlite_sequence (name, seq) VALUES (?, ?)", (table, int(top)))
