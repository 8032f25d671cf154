"""Schema versions: `hall init` creates, upgrades in place without losing data, and refuses a newer schema."""

from __future__ import annotations

import shutil
from datetime import UTC

import pytest
import sqlalchemy as sa
from hall.engine import Engine, store
from hall.engine.errors import DatabaseFailed, SchemaTooNew, SchemaTooOld
from hall.engine.store import migrate

# the revision after the shipped head (NEXT: its version; written out for the head of the day)
NEXT = '''"""Revision ID: vNEXT (a test's: a column added to the task queue)"""

import sqlalchemy as sa
from alembic import context, op

from hall.engine.store.codecs import UTCDateTime

revision = "vNEXT"
down_revision = "vHEAD"


def upgrade() -> None:
    op.execute(sa.text("ALTER TABLE human_tasks ADD COLUMN priority INTEGER DEFAULT 50"))
    hall_schema = sa.table("hall_schema", sa.column("version", sa.Integer), sa.column("applied_at", UTCDateTime()))
    op.bulk_insert(hall_schema, [{"version": NEXT, "applied_at": context.config.attributes["now"]}])
'''


def test_init_upgrades_an_older_schema_and_keeps_the_data(engine: Engine, monkeypatch, tmp_path) -> None:
    case = engine.start("review", "K-1", {"amount": 2})

    scripts = tmp_path / "migrations"  # the shipped revisions and one more, as the next release ships them
    shutil.copytree(migrate.SCRIPTS, scripts, ignore=shutil.ignore_patterns("__pycache__"))
    current = store.SCHEMA_VERSION
    text = NEXT.replace("HEAD", str(current)).replace("NEXT", str(current + 1))
    (scripts / "versions" / f"v{current + 1}_priority.py").write_text(text, encoding="utf-8")

    monkeypatch.setattr(migrate, "SCHEMA_VERSION", current + 1)
    monkeypatch.setattr(migrate, "SCRIPTS", scripts)
    assert engine.store.schema_version() == current
    result = engine.init()
    assert (result["schema_before"], result["schema"]) == (current, current + 1)
    assert engine.store.schema_version() == current + 1
    assert engine.show(case["id"])["variables"] == {"amount": 2}
    engine.complete(case["tasks"][0]["id"], {"amount": 3})
    with engine.store.tx(write=False) as tx:
        assert tx.conn.execute(sa.text("SELECT priority FROM human_tasks")).scalars().all() == [50, 50]


def test_a_newer_schema_is_refused(engine: Engine, monkeypatch) -> None:
    monkeypatch.setattr(migrate, "SCHEMA_VERSION", 0)
    with pytest.raises(SchemaTooNew, match="newer than this hall supports"):
        engine.init()


def test_a_version_1_database_gets_the_indicator_index_and_keeps_its_data(engine: Engine, make_engine) -> None:
    """Schema v2 adds the history index of the indicators; `hall init` upgrades a v1 database in place."""
    case = engine.start("review", "K-1", {"amount": 2})
    with engine.store.tx() as tx:  # make the database as a v1 release left it
        tx.conn.execute(sa.text("DROP INDEX ix_history_process_kind_element_at"))
        tx.conn.execute(sa.text("DELETE FROM hall_schema WHERE version >= 2"))
    later = make_engine()  # another process, opening the database after the downgrade
    with pytest.raises(SchemaTooOld, match="version 1 is older .* run `hall init`"):
        later.show(case["id"])
    assert later.init()["schema_before"] == 1
    with engine.store.engine.connect() as conn:
        indexes = {ix["name"] for ix in sa.inspect(conn).get_indexes("history")}
    assert "ix_history_process_kind_element_at" in indexes
    assert later.show(case["id"])["variables"] == {"amount": 2}


def test_a_failed_version_check_writes_nothing(engine: Engine) -> None:
    """A save whose expected version moved (someone else's step committed first) reports it, and the
    transaction it ends writes none of its rows (the worker's own save: tests/test_worker.py)."""
    case = engine.start("review", "K-1", {"amount": 2})
    before = len(engine.history(case["id"]))
    row = {
        "state": "{}",
        "variables": "{}",
        "status": "running",
        "updated_at": engine.clock.now(),
        "ended_at": None,
        "definition_id": 1,
        "incident_element": None,
        "incident_error": None,
    }
    history_row = {
        "instance_id": case["id"],
        "process_id": "review",
        "at": engine.clock.now(),
        "actor": "x",
        "kind": "retried",
        "element": None,
        "task_id": None,
        "detail": None,
    }
    with pytest.raises(RuntimeError, match="version moved"):
        with engine.store.tx() as tx:  # as the runtime does: a failed check raises, the transaction ends
            if not tx.save_step(case["id"], 99, row, {}, [], [], [], [history_row], last=True):
                raise RuntimeError("version moved")
    assert len(engine.history(case["id"])) == before
    assert engine.show(case["id"])["variables"] == {"amount": 2}


def test_a_statement_the_database_refuses_is_a_hall_error_and_rolls_back(engine: Engine) -> None:
    """Not the driver's traceback: DatabaseFailed, one line, the whole transaction undone (both databases)."""
    case = engine.start("review", "K-1", {"amount": 2})
    before = (engine.instances(), engine.history(case["id"]))
    now = engine.clock.now()
    with pytest.raises(DatabaseFailed, match=r"^database .* failed: .*\(nothing was written\)$"):
        with engine.store.tx() as tx:
            tx.add_history(
                [
                    {
                        "instance_id": case["id"],
                        "process_id": "review",
                        "at": now,
                        "actor": "x",
                        "kind": "retried",
                        "element": None,
                        "task_id": None,
                        "detail": None,
                    }
                ]
            )
            tx.insert_instance(
                definition_id=999,
                process_id="review",
                business_key=None,
                status="running",
                parent_id=None,
                started_at=now,
                updated_at=now,
                started_by=None,
                version=0,
                state="{}",
                variables="{}",
            )  # no definition 999: a foreign key violation
    assert (engine.instances(), engine.history(case["id"])) == before
    assert engine.show(case["id"])["status"] == "running"  # the store opens a fresh connection after it


def test_a_version_2_database_keeps_its_history_and_takes_rows_without_a_case(engine: Engine, make_engine) -> None:
    """Schema v3: history rows of hall-wide events have no instance; a v2 database (NOT NULL columns)
    is upgraded in place by `hall init`, its rows and their ids kept."""
    case = engine.start("review", "K-1", {"amount": 2})
    before = engine.history(case["id"])
    with engine.store.tx() as tx:  # make the database as a v2 release left it
        if tx.dialect == "postgresql":
            tx.conn.execute(
                sa.text(
                    "ALTER TABLE history ALTER COLUMN instance_id SET NOT NULL, ALTER COLUMN process_id SET NOT NULL"
                )
            )
        else:
            tx.conn.execute(sa.text("ALTER TABLE history RENAME TO h_old"))
            for index in store.history.indexes:
                tx.conn.execute(sa.text(f"DROP INDEX {index.name}"))
            tx.conn.execute(
                sa.text(
                    "CREATE TABLE history (id INTEGER NOT NULL PRIMARY KEY, instance_id INTEGER NOT NULL,"
                    " process_id VARCHAR(200) NOT NULL, at DATETIME NOT NULL, actor VARCHAR(200),"
                    " kind VARCHAR(40) NOT NULL, element VARCHAR(200), task_id INTEGER, detail TEXT)"
                )
            )
            tx.conn.execute(
                sa.text(
                    "INSERT INTO history SELECT id, instance_id, process_id, at, actor, kind, element, task_id,"
                    " detail FROM h_old"
                )
            )
            tx.conn.execute(sa.text("DROP TABLE h_old"))
        tx.conn.execute(sa.text("DELETE FROM hall_schema WHERE version >= 3"))
    later = make_engine()
    assert later.init()["schema_before"] == 2
    unmarked = [dict(h, simulated=False) for h in before]  # v2 had no `simulated` column (v6)
    assert later.history(case["id"]) in (before, unmarked)
    with later.store.tx() as tx:
        tx.add_history(
            [
                {
                    "instance_id": None,
                    "process_id": None,
                    "at": later.clock.now(),
                    "actor": "x",
                    "kind": "denied",
                    "element": None,
                    "task_id": None,
                    "detail": None,
                }
            ]
        )
    assert [h["kind"] for h in later.history(None)] == ["denied"]
    with later.store.engine.connect() as conn:
        indexes = {ix["name"] for ix in sa.inspect(conn).get_indexes("history")}
    assert {ix.name for ix in store.history.indexes} <= indexes


def test_a_version_3_database_gets_the_partial_queue_indexes_and_keeps_its_tasks(engine: Engine, make_engine) -> None:
    """Schema v4: the role, assignee and workload indexes hold only the rows their queries ask for
    (a completion writes fewer index pages); `hall init` swaps them in place, tasks kept."""
    case = engine.start("review", "K-1", {"amount": 2})
    engine.claim(case["tasks"][0]["id"], "li")
    with engine.store.tx() as tx:  # make the database as a v3 release left it
        for name in ("ix_human_tasks_ready_role", "ix_human_tasks_assigned", "ix_history_completed_at"):
            tx.conn.execute(sa.text(f"DROP INDEX {name}"))
        tx.conn.execute(sa.text("CREATE INDEX ix_human_tasks_status_role ON human_tasks (status, role)"))
        tx.conn.execute(sa.text("CREATE INDEX ix_human_tasks_status_assignee ON human_tasks (status, assignee)"))
        tx.conn.execute(sa.text("CREATE INDEX ix_history_kind_at ON history (kind, at)"))
        tx.conn.execute(sa.text("DELETE FROM hall_schema WHERE version >= 4"))
    later = make_engine()
    assert later.init()["schema_before"] == 3
    with later.store.engine.connect() as conn:
        names = {ix["name"] for table in ("human_tasks", "history") for ix in sa.inspect(conn).get_indexes(table)}
    assert {"ix_human_tasks_ready_role", "ix_human_tasks_assigned", "ix_history_completed_at"} <= names
    assert not names & {"ix_human_tasks_status_role", "ix_human_tasks_status_assignee", "ix_history_kind_at"}
    task = case["tasks"][0]["id"]
    assert [t["id"] for t in later.tasks(role=case["tasks"][0]["role"])] == [task]
    assert [t["id"] for t in later.tasks(assignee="li")] == [task]


def test_the_queue_queries_use_the_partial_indexes(engine: Engine) -> None:
    """The role and assignee lookups of `hall tasks` are planned on the v4 partial indexes (SQLite's
    plan; PostgreSQL's planner picks by statistics, so only the statement shape is shared)."""
    if engine.store.dialect != "sqlite":
        pytest.skip("EXPLAIN QUERY PLAN is SQLite's")
    engine.start("review", "K-1", {"amount": 2})
    sent: list[tuple[str, object]] = []
    sa.event.listen(
        engine.store.engine,
        "before_cursor_execute",
        lambda conn, cur, statement, params, *_: sent.append((statement, params)),
    )
    with engine.store.tx(write=False) as tx:
        raw = tx.conn.connection.dbapi_connection
        for query, index in (
            ({"role": "clerk"}, "ix_human_tasks_ready_role"),
            ({"assignee": "li"}, "ix_human_tasks_assigned"),
        ):
            sent.clear()
            tx.query_tasks(**query)
            statement, params = sent[-1]
            plan = " ".join(str(r) for r in raw.execute("EXPLAIN QUERY PLAN " + statement, params).fetchall())
            assert index in plan, plan


def test_the_workload_count_reads_its_index_alone(engine: Engine, monkeypatch) -> None:
    """The workload indicator (tasks completed per actor and process) is answered from the partial
    index of task completions, without visiting the history table (SQLite's plan)."""
    if engine.store.dialect != "sqlite":
        pytest.skip("EXPLAIN QUERY PLAN is SQLite's")
    from datetime import datetime

    from hall.engine.store import reading

    sent: list[tuple[str, dict]] = []
    real = reading._cursor
    monkeypatch.setattr(reading, "_cursor", lambda tx, sql, params: sent.append((sql, params)) or real(tx, sql, params))
    with engine.store.tx(write=False) as tx:
        reading.workload(tx, datetime(2026, 1, 1, tzinfo=UTC), datetime(2027, 1, 1, tzinfo=UTC))
        sql, params = sent[-1]
        plan = tx.conn.connection.dbapi_connection.execute("EXPLAIN QUERY PLAN " + sql, params).fetchall()
    assert "COVERING INDEX ix_history_completed_at" in " ".join(str(r) for r in plan)


def test_an_instances_ready_tasks_are_read_by_instance_whatever_the_statistics(engine: Engine) -> None:
    """PostgreSQL: the cold loads (a step's and the worker's group load) find an instance's ready
    tasks through ix_human_tasks_instance even when human_tasks grew since its last ANALYZE (the
    planner then took the partial role index and scanned every ready task: 40 ms a load)."""
    if engine.store.dialect != "postgresql":
        pytest.skip("PostgreSQL's planner")
    from hall.engine.store.sql import statements

    named = statements("postgresql")

    with engine.store.tx() as tx:
        tx.conn.exec_driver_sql("ANALYZE human_tasks")  # statistics of an empty table, as in a new hall
    case = engine.start("review", "K-1", {"amount": 2})
    with engine.store.tx() as tx:
        tx.conn.exec_driver_sql(  # 10,000 more cases with a ready task each, since that ANALYZE
            "INSERT INTO instances (id, definition_id, process_id, status, started_at, updated_at, version, state,"
            " variables) SELECT %(i)s + n, definition_id, process_id, status, started_at, updated_at, 0, '{}', '{}'"
            " FROM instances, generate_series(1, 10000) AS n WHERE id = %(i)s",
            {"i": case["id"]},
        )
        tx.conn.exec_driver_sql(
            "INSERT INTO human_tasks (instance_id, process_id, spiff_task_id, name, role, status, created_at,"
            " due_provisional) SELECT %(i)s + n, 'review', md5(n::text), 'x', 'clerk', 'ready', now(), false"
            " FROM generate_series(1, 10000) AS n",
            {"i": case["id"]},
        )
        raw = tx.conn.connection.dbapi_connection
        for sql, params in (
            (named["ready_human_tasks"], {"id": case["id"]}),
            (named["group_load"], {"instances": [case["id"]]}),
        ):
            plan = " ".join(r[0] for r in raw.execute(b"EXPLAIN " + sql, params).fetchall())
            assert "ix_human_tasks_instance" in plan and "ix_human_tasks_ready_role" not in plan, plan
