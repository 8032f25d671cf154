"""Alembic migrations (engine/store/migrations): from every earlier schema version, `hall init` ends
with the schema the tables of engine/store/schema.py describe, on SQLite and PostgreSQL (issue 11)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
import sqlalchemy as sa
from hall.engine.store import SCHEMA_VERSION, Store, create_partial_indexes, metadata, migrate

NOW = datetime(2026, 11, 24, 1, 0, tzinfo=UTC)


def snapshot(store: Store) -> dict[str, Any]:
    """Everything a schema is: tables, columns with types, nullability and defaults, keys,
    constraints, indexes with their partial predicates (and SQLite's AUTOINCREMENT)."""
    out: dict[str, Any] = {}
    with store.engine.connect() as conn:
        inspector = sa.inspect(conn)
        dialect = conn.dialect
        if dialect.name == "sqlite":
            ddl = dict(conn.exec_driver_sql("SELECT name, sql FROM sqlite_master WHERE sql IS NOT NULL").fetchall())
        else:
            ddl = dict(
                conn.exec_driver_sql(
                    "SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = 'public'"
                ).fetchall()
            )
        for table in sorted(inspector.get_table_names()):
            out[table] = {
                "columns": [
                    (c["name"], c["type"].compile(dialect=dialect), c["nullable"], c.get("default"))
                    for c in inspector.get_columns(table)
                ],
                "pk": inspector.get_pk_constraint(table)["constrained_columns"],
                "fks": sorted(
                    (tuple(f["constrained_columns"]), f["referred_table"], tuple(f["referred_columns"]))
                    for f in inspector.get_foreign_keys(table)
                ),
                "unique": sorted(
                    (u["name"], tuple(u["column_names"])) for u in inspector.get_unique_constraints(table)
                ),
                "indexes": sorted(
                    (i["name"], tuple(i["column_names"]), bool(i["unique"]), " ".join(ddl.get(i["name"], "").split()))
                    for i in inspector.get_indexes(table)
                ),
                "autoincrement": "AUTOINCREMENT" in (ddl.get(table) or "").upper(),
            }
    return out


def model(store: Store) -> dict[str, Any]:
    """The schema built from the tables of schema.py, stamped as the newest revision; then dropped."""
    with store.engine.begin() as conn:
        metadata.create_all(conn)
        create_partial_indexes(conn)
        from alembic import command

        command.stamp(migrate.config(conn), migrate.revision(SCHEMA_VERSION))
    found = snapshot(store)
    drop_all(store)
    return found


def drop_all(store: Store) -> None:
    with store.engine.begin() as conn:
        metadata.drop_all(conn)
        conn.exec_driver_sql("DROP TABLE IF EXISTS alembic_version")


def test_the_newest_revision_is_this_halls_schema_version() -> None:
    assert migrate.head() == migrate.revision(SCHEMA_VERSION)


# the revisions in this tree: v1..v5 and v10 (branches number theirs apart; merging chains them)
VERSIONS = [int(p.name.split("_")[0][1:]) for p in (migrate.SCRIPTS / "versions").glob("v*_*.py")]


@pytest.mark.parametrize("version", [None, *sorted(VERSIONS)])
def test_an_upgrade_from_every_earlier_version_ends_identical_to_a_fresh_schema(db_url: str, version) -> None:
    """A database left at `version` by a release before Alembic (hall_schema rows only; None: an
    empty database) is upgraded by `hall init` to exactly the schema of the tables in schema.py."""
    store = Store(db_url)
    try:
        expected = model(store)
        if version is not None:
            with store.engine.begin() as conn:  # the revisions up to `version`, as that release made them
                migrate.upgrade(conn, None, version, NOW)
                conn.exec_driver_sql("DROP TABLE alembic_version")
            assert store.schema_version() == version
        assert store.init(NOW) == (version, SCHEMA_VERSION)
        upgraded = snapshot(store)
        assert store.init(NOW) == (SCHEMA_VERSION, SCHEMA_VERSION)  # idempotent
    finally:
        store.close()
    assert set(upgraded) == set(expected)
    for table in expected:
        assert upgraded[table] == expected[table], table
