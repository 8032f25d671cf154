"""The store: every table and every SQL statement of hall lives here (SQLite or PostgreSQL).

The runtime talks to a ``Tx`` (one transaction) through named operations; nothing above this
module writes SQL. Schema versions are tracked in ``hall_schema`` and applied by ``Store.init``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import UTC, date, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.engine import Connection
from sqlalchemy.engine import Engine as SAEngine

from .errors import DatabaseFailed, DatabaseMissing, DatabaseUnavailable, SchemaMissing, SchemaTooNew, SchemaTooOld
from .sqlitewal import Checkpointer

SCHEMA_VERSION = 4


class UTCDateTime(sa.types.TypeDecorator):
    """Aware UTC datetimes in, aware UTC datetimes out, on every backend."""

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> Any:
        if value is None:
            return None
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: Any, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if isinstance(value, str):
            value = datetime.fromisoformat(value)
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


_UTC = UTCDateTime()  # for rows read straight from the driver

metadata = sa.MetaData()

schema_table = sa.Table(
    "hall_schema",
    metadata,
    sa.Column("version", sa.Integer, primary_key=True),
    sa.Column("applied_at", UTCDateTime, nullable=False),
)

definitions = sa.Table(
    "definitions",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("process_id", sa.String(200), nullable=False),
    sa.Column("version", sa.Integer, nullable=False),
    sa.Column("name", sa.String(500)),
    sa.Column("content_hash", sa.String(64), nullable=False),
    sa.Column("source_file", sa.String(1000), nullable=False),
    sa.Column("source", sa.Text, nullable=False),
    sa.Column("spec", sa.Text, nullable=False),
    sa.Column("deployed_at", UTCDateTime, nullable=False),
    sa.Column("deployed_by", sa.String(200)),
    sa.UniqueConstraint("process_id", "version", name="uq_definition_version"),
)

instances = sa.Table(
    "instances",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("definition_id", sa.Integer, sa.ForeignKey("definitions.id"), nullable=False),
    sa.Column("process_id", sa.String(200), nullable=False),
    sa.Column("business_key", sa.String(200)),
    sa.Column("status", sa.String(20), nullable=False),
    sa.Column("parent_id", sa.Integer, sa.ForeignKey("instances.id")),
    sa.Column("started_at", UTCDateTime, nullable=False),
    sa.Column("updated_at", UTCDateTime, nullable=False),
    sa.Column("ended_at", UTCDateTime),
    sa.Column("started_by", sa.String(200)),
    sa.Column("version", sa.Integer, nullable=False),
    sa.Column("incident_element", sa.String(200)),
    sa.Column("incident_error", sa.Text),
    sa.Column("state", sa.Text, nullable=False),
    sa.Column("variables", sa.Text, nullable=False),
    sa.Index("ix_instances_process_status", "process_id", "status"),
    sa.Index("ix_instances_business_key", "business_key"),
    sa.Index("ix_instances_parent", "parent_id"),
)

instance_tasks = sa.Table(
    "instance_tasks",
    metadata,
    sa.Column("instance_id", sa.Integer, sa.ForeignKey("instances.id"), primary_key=True),
    sa.Column("task_id", sa.String(36), primary_key=True),
    sa.Column("body", sa.Text, nullable=False),
)

human_tasks = sa.Table(
    "human_tasks",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("instance_id", sa.Integer, sa.ForeignKey("instances.id"), nullable=False),
    sa.Column("process_id", sa.String(200), nullable=False),
    sa.Column("spiff_task_id", sa.String(36), nullable=False),
    sa.Column("name", sa.String(200), nullable=False),
    sa.Column("title", sa.String(500)),
    sa.Column("lane", sa.String(200)),
    sa.Column("role", sa.String(200)),
    sa.Column("assignee", sa.String(200)),
    sa.Column("form", sa.String(200)),
    sa.Column("status", sa.String(20), nullable=False),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.Column("due_at", UTCDateTime),
    sa.Column("due_provisional", sa.Boolean, nullable=False, default=False),
    sa.Column("warn_at", UTCDateTime),
    sa.Column("completed_at", UTCDateTime),
    sa.Column("completed_by", sa.String(200)),
    sa.Index("ix_human_tasks_instance", "instance_id", "status"),
)  # and the partial queue indexes of PARTIAL_INDEXES

history = sa.Table(
    "history",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    # NULL for a hall-wide event with no case behind it (a refused deploy, purge or report)
    sa.Column("instance_id", sa.Integer),
    sa.Column("process_id", sa.String(200)),
    sa.Column("at", UTCDateTime, nullable=False),
    sa.Column("actor", sa.String(200)),
    sa.Column("kind", sa.String(40), nullable=False),
    sa.Column("element", sa.String(200)),
    sa.Column("task_id", sa.Integer),
    sa.Column("detail", sa.Text),
    sa.Index("ix_history_instance", "instance_id", "id"),
    # the indicators (engine/kpistore.py) ask for one (process, kind, element) over a time range
    sa.Index("ix_history_process_kind_element_at", "process_id", "kind", "element", "at"),
)

# Partial indexes (v4), the same DDL on both databases (a dialect's keyword in the metadata would
# import that dialect into every command). A queue is asked for its ready tasks only, and only
# assigned tasks by assignee: a completed task leaves the role index instead of moving inside it,
# and an unassigned one is never in the assignee index, so a completion writes half the index
# pages. The workload indicator counts task completions by actor and process over a time range:
# its index holds only those rows, with every column the count reads (kind too, so that SQLite
# never visits the table).
PARTIAL_INDEXES = {
    "ix_human_tasks_ready_role": "human_tasks (role) WHERE status = 'ready'",
    "ix_human_tasks_assigned": "human_tasks (status, assignee) WHERE assignee IS NOT NULL",
    "ix_history_completed_at": "history (at, actor, process_id, kind) WHERE kind = 'task_completed'",
}


def _create_partial_indexes(conn: Connection) -> None:
    for name, target in PARTIAL_INDEXES.items():
        conn.exec_driver_sql(f"CREATE INDEX IF NOT EXISTS {name} ON {target}")


sequences = sa.Table(
    "sequences",
    metadata,
    sa.Column("name", sa.String(100), primary_key=True),
    sa.Column("period", sa.String(20), primary_key=True),
    sa.Column("value", sa.Integer, nullable=False),
)

jobs = sa.Table(
    "jobs",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("instance_id", sa.Integer, sa.ForeignKey("instances.id")),  # NULL: a process's start timer
    sa.Column("process_id", sa.String(200)),  # set for start timers
    sa.Column("element", sa.String(200), nullable=False),
    sa.Column("spiff_task_id", sa.String(300), nullable=False),
    sa.Column("kind", sa.String(20), nullable=False),
    sa.Column("due_at", UTCDateTime, nullable=False),
    sa.Column("attempts", sa.Integer, nullable=False, default=0, server_default="0"),
    sa.Column("fired", sa.Integer, nullable=False, default=0, server_default="0"),  # firings so far (start cycles)
    sa.Column("locked_by", sa.String(200)),
    sa.Column("lock_expires_at", UTCDateTime),
    sa.Column("last_error", sa.Text),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.UniqueConstraint("spiff_task_id", "due_at", name="uq_job_task_due"),
    sa.Index("ix_jobs_due", "due_at"),
    sa.Index("ix_jobs_instance", "instance_id"),
    sqlite_autoincrement=True,  # a job id is never reused, so a stale lease can never touch a new job
)


_DEFINITION_BRIEF = [c for c in definitions.c if c.name not in ("source", "spec")]


def _json_default(value: Any) -> Any:
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if isinstance(value, (set, frozenset, tuple)):
        return list(value)
    raise TypeError(f"value of type {type(value).__name__} cannot be stored: {value!r}")


# one encoder for every call: json.dumps with options builds a new one each time (a step dumps ~8 texts)
_ENCODER = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), default=_json_default)


def dumps(value: Any) -> str:
    """Compact JSON that keeps Chinese readable in the database."""
    return _ENCODER.encode(value)


def normalise_url(url: str) -> str:
    """Accept a bare file path for SQLite and plain postgresql:// URLs (psycopg 3 driver)."""
    if "://" not in url:
        return f"sqlite:///{url}"
    if url.startswith("postgresql://") or url.startswith("postgres://"):
        return "postgresql+psycopg://" + url.split("://", 1)[1]
    return url


class Store:
    """A database of hall: opens the connection pool and hands out transactions."""

    def __init__(self, url: str) -> None:
        self.url = normalise_url(url)
        try:
            self.engine: SAEngine = _create_engine(self.url)
        except Exception as exc:  # bad URL, missing driver
            raise DatabaseUnavailable(url, _reason(exc)) from None
        self.dialect = self.engine.dialect.name
        self._conn: Connection | None = None
        # the SQLite file, when there is one: only `init` may create it (a typo in --db creates nothing)
        self.path = _sqlite_file(self.url) if self.dialect == "sqlite" else None
        self._checkpointer = Checkpointer(self.path) if self.path is not None else None
        # what the driver raises itself (hot statements run on its cursors, not through SQLAlchemy)
        self._driver_errors: tuple[type[BaseException], ...] = (sa.exc.DBAPIError,) + (
            (self.engine.dialect.dbapi.Error,) if getattr(self.engine.dialect, "dbapi", None) else ()
        )

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None
        self.engine.dispose()
        if self._checkpointer is not None:
            self._checkpointer.close()

    # -- schema -----------------------------------------------------------------------
    def schema_version(self, create: bool = False) -> int | None:
        """The applied schema version, or None when the database has no hall schema.

        A SQLite file that does not exist is DatabaseMissing unless `create` (only `init` creates).
        """
        self._check_exists(create)
        try:
            with self.engine.connect() as conn:
                if not sa.inspect(conn).has_table("hall_schema"):
                    return None
                return conn.execute(sa.select(sa.func.max(schema_table.c.version))).scalar()
        except self._driver_errors as exc:  # unreachable server, a file that is not a database
            raise DatabaseUnavailable(self.url, _reason(exc)) from None

    def _check_exists(self, create: bool) -> None:
        import os

        if self.path is not None and not create and not os.path.exists(self.path):
            raise DatabaseMissing(self.path)

    def init(self, now: datetime) -> tuple[int | None, int]:
        """Create or upgrade the schema; returns (version before, version after)."""
        before = self.schema_version(create=True)
        if before is not None and before > SCHEMA_VERSION:
            raise SchemaTooNew(before, SCHEMA_VERSION)
        try:
            with self.engine.begin() as conn:
                for version in range((before or 0) + 1, SCHEMA_VERSION + 1):
                    MIGRATIONS[version](conn)
                    conn.execute(schema_table.insert().values(version=version, applied_at=now))
        except self._driver_errors as exc:
            raise DatabaseFailed(self.url, _reason(exc)) from None
        return before, SCHEMA_VERSION

    def check_schema(self) -> None:
        found = self.schema_version()
        if found is None:
            raise SchemaMissing(self.url)
        if found > SCHEMA_VERSION:
            raise SchemaTooNew(found, SCHEMA_VERSION)
        if found < SCHEMA_VERSION:
            raise SchemaTooOld(found, SCHEMA_VERSION)

    # -- transactions -----------------------------------------------------------------
    @contextmanager
    def tx(self, write: bool = True) -> Iterator[Tx]:
        """One transaction; SQLite write transactions take the write lock up front.

        The connection is kept between transactions (a Store serves one thread), which saves a
        pool checkout per step; it is dropped after any error so the next one starts clean.
        """
        conn = self._conn
        if conn is None or conn.closed:
            self._check_exists(False)
            try:
                conn = self._conn = self.engine.connect()
            except self._driver_errors as exc:
                raise DatabaseUnavailable(self.url, _reason(exc)) from None
        begun = False
        try:
            if self.dialect == "sqlite":
                # BEGIN and COMMIT straight on the driver: SQLAlchemy's transaction bookkeeping cost
                # twice the statements themselves. A statement of SQLAlchemy's own inside (Core
                # queries) makes it join this transaction (_on_begin); it then commits it itself.
                raw = conn.connection.dbapi_connection
                raw.execute("BEGIN IMMEDIATE" if write else "BEGIN")
                begun = True
                yield Tx(conn, self.dialect)
                if conn.in_transaction():
                    conn.commit()
                else:
                    raw.commit()
            else:
                with conn.begin():
                    begun = True
                    yield Tx(conn, self.dialect)
        except self._driver_errors as exc:  # the transaction is rolled back: one line, not the driver's trace
            self._drop(conn)
            raise (DatabaseFailed if begun else DatabaseUnavailable)(self.url, _reason(exc)) from None
        except BaseException:
            self._drop(conn)
            raise
        if write and self._checkpointer is not None:
            self._checkpointer.committed()

    def _drop(self, conn: Connection) -> None:
        """After an error: the next transaction starts on a fresh connection (the pool rolls back
        whatever this one left open when it takes it back)."""
        self._conn = None
        conn.close()


def _create_engine(url: str) -> SAEngine:
    if url.startswith("sqlite"):
        engine = sa.create_engine(
            url,
            connect_args={"timeout": 30},
            poolclass=sa.pool.QueuePool if ":memory:" not in url else sa.pool.StaticPool,
        )

        @event.listens_for(engine, "connect")
        def _on_connect(dbapi_conn: Any, _record: Any) -> None:
            dbapi_conn.isolation_level = None  # we issue BEGIN ourselves
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA wal_autocheckpoint=0")  # engine/sqlitewal.py checkpoints off the committing thread
            cur.close()

        @event.listens_for(engine, "begin")
        def _on_begin(conn: Connection) -> None:
            raw = conn.connection.dbapi_connection
            if not raw.in_transaction:  # inside Store.tx the transaction is open already: SQLAlchemy joins it
                raw.execute("BEGIN IMMEDIATE")

        return engine
    return sa.create_engine(url, pool_pre_ping=True)


def _sqlite_file(url: str) -> str | None:
    """The file of a SQLite URL, or None for an in-memory database or a URI the driver interprets."""
    database = sa.engine.make_url(url).database
    if not database or database == ":memory:" or database.startswith("file:"):
        return None
    return database


def _reason(exc: BaseException) -> str:
    text = str(getattr(exc, "orig", None) or exc).strip().splitlines()
    return text[0] if text else type(exc).__name__


def _create_v1(conn: Connection) -> None:
    metadata.create_all(conn)
    _create_partial_indexes(conn)


def _history_indicator_index(conn: Connection) -> None:
    """v2: the index of the indicator queries (a v1 database made before it was in the metadata)."""
    conn.exec_driver_sql(
        "CREATE INDEX IF NOT EXISTS ix_history_process_kind_element_at ON history (process_id, kind, element, at)"
    )


def _history_hall_rows(conn: Connection) -> None:
    """v3: history rows without a case (hall-wide refusals): instance_id and process_id may be NULL."""
    if conn.dialect.name == "postgresql":
        conn.exec_driver_sql(
            "ALTER TABLE history ALTER COLUMN instance_id DROP NOT NULL, ALTER COLUMN process_id DROP NOT NULL"
        )
        return
    columns = {c["name"]: c for c in sa.inspect(conn).get_columns("history")}
    if columns["instance_id"]["nullable"]:
        return  # made by this release's v1
    # SQLite cannot drop a NOT NULL: the table is made anew and the rows copied, ids kept
    conn.exec_driver_sql("ALTER TABLE history RENAME TO history_v2")
    for index in history.indexes:
        conn.exec_driver_sql(f"DROP INDEX IF EXISTS {index.name}")
    history.create(conn)
    names = ", ".join(c.name for c in history.columns)
    conn.exec_driver_sql(f"INSERT INTO history ({names}) SELECT {names} FROM history_v2")
    conn.exec_driver_sql("DROP TABLE history_v2")


def _partial_indexes(conn: Connection) -> None:
    """v4: the task-queue and workload indexes hold only the rows their queries ask for."""
    for name in ("ix_human_tasks_status_role", "ix_human_tasks_status_assignee", "ix_history_kind_at"):
        conn.exec_driver_sql(f"DROP INDEX IF EXISTS {name}")
    _create_partial_indexes(conn)


# Each migration upgrades from the version before it; version 1 creates the current metadata, so
# later migrations must be no-ops on a database created by it (IF NOT EXISTS and the like).
MIGRATIONS = {1: _create_v1, 2: _history_indicator_index, 3: _history_hall_rows, 4: _partial_indexes}


# The statements of every engine step, written once as SQL and sent straight to the driver:
# building and compiling SQLAlchemy expressions per call cost more than the step itself.
HOT_SQL = {
    "instance_version": "SELECT version, status FROM instances WHERE id = :id",
    "task_for_update": (
        "SELECT h.id, h.instance_id, h.spiff_task_id, h.name, h.status, h.assignee, h.form, h.completed_by,"
        " i.version AS instance_version FROM human_tasks h JOIN instances i ON i.id = h.instance_id"
        " WHERE h.id = :id"
    ),
    "finish_human_task": (
        "UPDATE human_tasks SET status = :status, completed_at = :at, completed_by = :by"
        " WHERE id = :id AND status = 'ready'"
    ),
    "upsert_task_rows": (
        "INSERT INTO instance_tasks (instance_id, task_id, body) VALUES (:i, :t, :b)"
        " ON CONFLICT (instance_id, task_id) DO UPDATE SET body = excluded.body"
    ),
    # status is set only when it changed: an UPDATE naming an indexed column rewrites its index entry
    "update_instance": (
        "UPDATE instances SET version = :new_version, state = :state, variables = :variables,"
        " updated_at = :updated_at, ended_at = :ended_at, definition_id = :definition_id,"
        " incident_element = :incident_element, incident_error = :incident_error"
        " WHERE id = :id AND version = :version"
    ),
    "update_instance_status": (
        "UPDATE instances SET version = :new_version, state = :state, variables = :variables, status = :status,"
        " updated_at = :updated_at, ended_at = :ended_at, definition_id = :definition_id,"
        " incident_element = :incident_element, incident_error = :incident_error"
        " WHERE id = :id AND version = :version"
    ),
    "instance": (
        "SELECT id, definition_id, process_id, business_key, status, parent_id, started_at, updated_at, ended_at,"
        " started_by, version, incident_element, incident_error, state, variables FROM instances WHERE id = :id"
    ),
    "task_rows": "SELECT task_id, body FROM instance_tasks WHERE instance_id = :id",
    "ready_human_tasks": (
        "SELECT id, instance_id, process_id, spiff_task_id, name, title, lane, role, assignee, form, status,"
        " created_at, due_at, due_provisional, warn_at, completed_at, completed_by FROM human_tasks"
        " WHERE instance_id = :id AND status = 'ready' ORDER BY id"
    ),
    "jobs_of": "SELECT id, spiff_task_id, due_at, element FROM jobs WHERE instance_id = :id",
    "latest_definition": (
        "SELECT id, process_id, version, name, content_hash, source_file, deployed_at, deployed_by FROM definitions"
        " WHERE process_id = :p ORDER BY version DESC LIMIT 1"
    ),
    "has_children": "SELECT 1 FROM instances WHERE parent_id = :id LIMIT 1",
    "insert_human_task": (
        "INSERT INTO human_tasks (instance_id, process_id, spiff_task_id, name, title, lane, role, assignee, form,"
        " status, created_at, due_at, due_provisional, warn_at) VALUES (:instance_id, :process_id, :spiff_task_id,"
        " :name, :title, :lane, :role, :assignee, :form, :status, :created_at, :due_at, :due_provisional, :warn_at)"
        " RETURNING id"
    ),
    "insert_history": (
        "INSERT INTO history (instance_id, process_id, at, actor, kind, element, task_id, detail)"
        " VALUES (:instance_id, :process_id, :at, :actor, :kind, :element, :task_id, :detail)"
    ),
    "hold_job": (
        "SELECT i.status, i.version FROM jobs j JOIN instances i ON i.id = j.instance_id"
        " WHERE j.id = :job_id AND j.locked_by = :worker"
    ),
    "delete_task_rows": "DELETE FROM instance_tasks WHERE instance_id = :i AND task_id = :t",
    "delete_job_of": "DELETE FROM jobs WHERE instance_id = :i AND spiff_task_id = :t",
    "insert_job": (
        "INSERT INTO jobs (instance_id, element, spiff_task_id, kind, due_at, attempts, fired, created_at)"
        " VALUES (:instance_id, :element, :spiff_task_id, :kind, :due_at, 0, 0, :created_at)"
    ),
}
HOT_SQL["insert_human_task_sqlite"] = HOT_SQL["insert_human_task"].removesuffix(" RETURNING id")  # lastrowid
# The result columns of the hot SELECTs, read from their text once (asking the driver for a cursor's
# description builds column objects on every query).
_NAMES = {
    name: [c.strip().split(" AS ")[-1].split(".")[-1] for c in sql[7 : sql.index(" FROM ")].split(",")]
    for name, sql in HOT_SQL.items()
    if sql.startswith("SELECT ") and " FROM " in sql
}
# What an instance's cold load reads (one round trip on PostgreSQL: sent as one pipeline).
_LOAD = ("instance", "task_rows", "ready_human_tasks", "jobs_of", "has_children")
_PG_SQL = {name: re.sub(r"(?<!:):(\w+)", r"%(\1)s", sql) for name, sql in HOT_SQL.items()}
_PG_SQL["instance_version"] += " FOR UPDATE"
_PG_SQL["task_for_update"] += " FOR UPDATE OF i"
_PG_SQL["hold_job"] += " FOR UPDATE OF i"
# An instance's ready tasks through ix_human_tasks_instance whatever the statistics say: with
# `status = 'ready'` in the scan, PostgreSQL took the partial role index (a scan of every ready
# task) whenever human_tasks had grown since its last ANALYZE, 40 ms a load after 10,000 new tasks.
_PG_SQL["ready_human_tasks"] = _PG_SQL["ready_human_tasks"].replace(
    " FROM human_tasks WHERE instance_id = %(id)s AND status = 'ready' ORDER BY id",
    " FROM (SELECT * FROM human_tasks WHERE instance_id = %(id)s OFFSET 0) h WHERE status = 'ready' ORDER BY id",
)
# A human task whose id the worker took ahead (engine/jobstore.py, GroupTx), written with the save.
_PG_SQL["insert_human_task_as"] = (
    _PG_SQL["insert_human_task"]
    .replace("INSERT INTO human_tasks (", "INSERT INTO human_tasks (id, ")
    .replace("VALUES (", "VALUES (%(id)s, ")
    .replace(" RETURNING id", "")
)
# psycopg re-encodes a str query on every execution (about 14 µs each): hand it bytes once
_PG_SQL = {name: sql.encode() for name, sql in _PG_SQL.items()}  # type: ignore[misc]
_SQLITE_TIME = "%Y-%m-%d %H:%M:%S.%f"
_TIME_COLUMNS = {
    "started_at",
    "updated_at",
    "ended_at",
    "created_at",
    "due_at",
    "warn_at",
    "completed_at",
    "deployed_at",
}


class Tx:
    """One open transaction: the named operations the runtime needs, nothing more."""

    def __init__(self, conn: Connection, dialect: str) -> None:
        self.conn = conn
        self.dialect = dialect
        self._sql = _PG_SQL if dialect == "postgresql" else HOT_SQL
        self._cursor: Any = None
        self._task_ids: list[int] = []  # human task ids the worker took ahead (PostgreSQL)
        self._new_tasks: list[dict] = []  # inserts of those ids, written with the step's save
        self._last_time: tuple[Any, str] = (None, "")  # a step writes its one `now` five times or more

    def _time(self, value: datetime | None) -> Any:
        if value is None or self.dialect == "postgresql":
            return value
        last, text = self._last_time
        if value is last:
            return text
        # the text of _SQLITE_TIME, built by isoformat (a third of strftime's cost)
        text = value.astimezone(UTC).replace(tzinfo=None).isoformat(" ", "microseconds")
        self._last_time = (value, text)
        return text

    def _rows(self, name: str, params: Any) -> list[dict[str, Any]]:
        """A hot query's rows as dicts, times as aware UTC datetimes on every backend."""
        return self._dicts(self._run(name, params), name)

    @staticmethod
    def _dicts(cur: Any, name: str | None = None) -> list[dict[str, Any]]:
        names = _NAMES.get(name) if name else None
        if names is None:
            names = [d[0] for d in cur.description]
        times = [i for i, n in enumerate(names) if n in _TIME_COLUMNS]
        out = []
        for row in cur.fetchall():
            row = list(row)
            for i in times:
                row[i] = _UTC.process_result_value(row[i], None)
            out.append(dict(zip(names, row)))
        return out

    def _batch(self, ops: Sequence[tuple[str, Any]]) -> list[Any]:
        """Run hot statements in order and return their cursors; on PostgreSQL they travel as one
        pipeline (one round trip instead of one each), on SQLite (in-process) one after another."""
        raw = self.conn.connection.dbapi_connection
        if self.dialect != "postgresql":
            return [self._exec(raw.cursor(), name, params) for name, params in ops]
        with raw.pipeline():
            return [self._exec(raw.cursor(), name, params) for name, params in ops]

    def _exec(self, cur: Any, name: str, params: Any) -> Any:
        if isinstance(params, list):
            cur.executemany(self._sql[name], params)
        else:
            cur.execute(self._sql[name], params)
        return cur

    def _run(self, name: str, params: Any) -> Any:
        """A hot statement on the driver's own cursor, inside this transaction."""
        cur = self._cursor
        if cur is None:
            cur = self._cursor = self.conn.connection.dbapi_connection.cursor()
        return self._exec(cur, name, params)

    # -- definitions ------------------------------------------------------------------
    def latest_definition(self, process_id: str) -> Mapping[str, Any] | None:
        """The latest version's row without its source and spec (large; `definition(id)` has them);
        hot SQL: every start asks for it."""
        rows = self._rows("latest_definition", {"p": process_id})
        return rows[0] if rows else None

    def definition(self, definition_id: int) -> Mapping[str, Any] | None:
        return self.conn.execute(sa.select(definitions).where(definitions.c.id == definition_id)).mappings().first()

    def add_definition(self, **values: Any) -> int:
        return self.conn.execute(definitions.insert().values(**values)).inserted_primary_key[0]

    def list_definitions(self) -> list[Mapping[str, Any]]:
        q = sa.select(*_DEFINITION_BRIEF).order_by(definitions.c.process_id, definitions.c.version)
        return list(self.conn.execute(q).mappings())

    # -- instances --------------------------------------------------------------------
    def insert_instance(self, **values: Any) -> int:
        # values as parameters, not in the statement: its compiled form is then cached (keying a
        # statement on its state and variables texts cost more than the rest of a start)
        return self.conn.execute(instances.insert(), values).inserted_primary_key[0]

    def instance(self, instance_id: int) -> dict[str, Any] | None:
        rows = self._rows("instance", {"id": instance_id})
        return rows[0] if rows else None

    def load(self, instance_id: int) -> dict[str, Any] | None:
        """What a step needs of an instance it has not cached: its row, task rows, ready human tasks,
        jobs and whether it has children; None if there is no such instance."""
        return self._bundle(self._batch([(name, {"id": instance_id}) for name in _LOAD]))

    def hold(self, job_id: int, worker: str) -> tuple[str, int] | None:
        """Lock the instance of a job this worker still holds: (status, version), or None when the
        claim is lost."""
        held = self._run("hold_job", {"job_id": job_id, "worker": worker}).fetchone()
        return (held[0], held[1]) if held else None

    def _bundle(self, cursors: Sequence[Any]) -> dict[str, Any] | None:
        cursors = dict(zip(_LOAD, cursors))
        rows = self._dicts(cursors["instance"], "instance")
        if not rows:
            return None
        return {
            "row": rows[0],
            "task_rows": dict(cursors["task_rows"].fetchall()),
            "human": self._dicts(cursors["ready_human_tasks"], "ready_human_tasks"),
            "jobs": self._dicts(cursors["jobs_of"], "jobs_of"),
            "has_children": cursors["has_children"].fetchone() is not None,
        }

    def save_step(
        self,
        instance_id: int,
        expected_version: int,
        instance: Mapping[str, Any],
        task_rows: Mapping[str, str],
        removed_rows: Sequence[str],
        job_deletes: Sequence[str],
        job_adds: Sequence[Mapping[str, Any]],
        history_rows: Sequence[Mapping[str, Any]],
        last: bool = False,
    ) -> bool:
        """Everything a step writes, in one batch (one round trip on PostgreSQL): its jobs, changed task
        rows, the instance row (optimistic version check; its status only when `instance` has one, i.e.
        when it changed) and history. False if the version check failed:
        the caller must end the transaction. `last`: no other write follows in this transaction (the
        worker's GroupTx then queues it for the group's one save)."""
        ops: list[tuple[str, Any]] = []
        if self._new_tasks:
            ops.append(("insert_human_task_as", self._new_tasks))
            self._new_tasks = []
        if job_deletes:
            ops.append(("delete_job_of", [{"i": instance_id, "t": t} for t in job_deletes]))
        if job_adds:
            ops.append(
                (
                    "insert_job",
                    [dict(j, due_at=self._time(j["due_at"]), created_at=self._time(j["created_at"])) for j in job_adds],
                )
            )
        if task_rows:
            ops.append(("upsert_task_rows", [{"i": instance_id, "t": k, "b": v} for k, v in task_rows.items()]))
        if removed_rows:
            ops.append(("delete_task_rows", [{"i": instance_id, "t": t} for t in removed_rows]))
        check = len(ops)
        ops.append(
            (
                "update_instance_status" if "status" in instance else "update_instance",
                dict(
                    instance,
                    id=instance_id,
                    version=expected_version,
                    new_version=expected_version + 1,
                    updated_at=self._time(instance["updated_at"]),
                    ended_at=self._time(instance["ended_at"]),
                ),
            )
        )
        if history_rows:
            ops.append(("insert_history", [dict(r, at=self._time(r["at"])) for r in history_rows]))
        return self._batch(ops)[check].rowcount == 1

    def instance_version(self, instance_id: int, lock: bool = False) -> tuple[int, str] | None:
        """Version and status; on PostgreSQL the row stays locked until the transaction ends."""
        row = self._run("instance_version", {"id": instance_id}).fetchone()
        return (row[0], row[1]) if row else None

    def task_for_update(self, task_id: int) -> Mapping[str, Any] | None:
        """A human task with its instance's version, the instance row locked (PostgreSQL)."""
        cur = self._run("task_for_update", {"id": task_id})
        row = cur.fetchone()
        return dict(zip([d[0] for d in cur.description], row)) if row else None

    def list_instances(
        self,
        process: str | None = None,
        status: str | None = None,
        business_key: str | None = None,
        limit: int = 200,
        count: bool = False,
    ) -> Any:
        """Instances by these filters, newest first, at most `limit`; with `count` how many there are."""
        cols = [c for c in instances.c if c.name not in ("state",)]
        q = sa.select(sa.func.count()).select_from(instances) if count else sa.select(*cols)
        if process:
            q = q.where(instances.c.process_id == process)
        if status:
            q = q.where(instances.c.status == status)
        if business_key:
            q = q.where(instances.c.business_key == business_key)
        if count:
            return self.conn.execute(q).scalar_one()
        return list(self.conn.execute(q.order_by(instances.c.id.desc()).limit(limit)).mappings())

    def count_instances_where(
        self, process: str | None = None, status: str | None = None, business_key: str | None = None
    ) -> int:
        """How many instances `list_instances` with these filters would return without its limit."""
        return self.list_instances(process, status, business_key, count=True)

    def count_instances(self) -> list[tuple[str, str, int]]:
        q = sa.select(instances.c.process_id, instances.c.status, sa.func.count()).group_by(
            instances.c.process_id, instances.c.status
        )
        return [tuple(r) for r in self.conn.execute(q)]

    def children(self, instance_id: int) -> list[Mapping[str, Any]]:
        q = (
            sa.select(instances.c.id, instances.c.process_id, instances.c.business_key, instances.c.status)
            .where(instances.c.parent_id == instance_id)
            .order_by(instances.c.id)
        )
        return list(self.conn.execute(q).mappings())

    def instance_brief(self, instance_id: int) -> Mapping[str, Any] | None:
        q = sa.select(instances.c.id, instances.c.process_id, instances.c.business_key, instances.c.status).where(
            instances.c.id == instance_id
        )
        return self.conn.execute(q).mappings().first()

    # -- human tasks ------------------------------------------------------------------
    def insert_human_task(self, **values: Any) -> int:
        params = dict(
            values,
            created_at=self._time(values["created_at"]),
            due_at=self._time(values["due_at"]),
            warn_at=self._time(values["warn_at"]),
        )
        if self._task_ids:  # an id taken ahead: the row goes with the step's save (no round trip now)
            params["id"] = self._task_ids.pop()
            self._new_tasks.append(params)
            return params["id"]
        if self.dialect == "sqlite":  # the row id without RETURNING: half the statement's cost
            return self._run("insert_human_task_sqlite", params).lastrowid
        return self._run("insert_human_task", params).fetchone()[0]

    def human_task(self, task_id: int) -> Mapping[str, Any] | None:
        return self.conn.execute(sa.select(human_tasks).where(human_tasks.c.id == task_id)).mappings().first()

    def ready_human_tasks(self, instance_id: int) -> list[dict[str, Any]]:
        return self._rows("ready_human_tasks", {"id": instance_id})

    def finish_human_task(self, task_id: int, status: str, at: datetime, by: str | None) -> bool:
        """Mark a ready task completed/cancelled; False if it was no longer ready (someone beat us)."""
        params = {"status": status, "at": self._time(at), "by": by, "id": task_id}
        return self._run("finish_human_task", params).rowcount == 1

    def set_assignee(self, task_id: int, assignee: str | None, expected: str | None) -> bool:
        cond = human_tasks.c.assignee.is_(None) if expected is None else human_tasks.c.assignee == expected
        q = (
            human_tasks.update()
            .where(human_tasks.c.id == task_id, human_tasks.c.status == "ready", cond)
            .values(assignee=assignee)
        )
        return self.conn.execute(q).rowcount == 1

    def cases_at(self, process_id: str, elements: Sequence[str], now: datetime) -> list[dict[str, Any]]:
        """Running instances of a process now at one of `elements`: a ready task, or a timer due by now."""
        by_task = sa.select(
            human_tasks.c.instance_id.label("id"),
            human_tasks.c.name.label("element"),
            human_tasks.c.due_at.label("due_at"),
        ).where(
            human_tasks.c.process_id == process_id,
            human_tasks.c.status == "ready",
            human_tasks.c.name.in_(list(elements)),
        )
        by_timer = (
            sa.select(jobs.c.instance_id.label("id"), jobs.c.element.label("element"), jobs.c.due_at.label("due_at"))
            .join(instances, instances.c.id == jobs.c.instance_id)
            .where(
                instances.c.process_id == process_id,
                instances.c.status == "running",
                jobs.c.element.in_(list(elements)),
                jobs.c.due_at <= now,
            )
        )
        found = sa.union_all(by_task, by_timer).subquery()
        q = (
            sa.select(found.c.id, found.c.element, found.c.due_at, instances.c.business_key, instances.c.variables)
            .join(instances, instances.c.id == found.c.id)
            .order_by(found.c.due_at, found.c.id)
        )
        out = []
        for row in self.conn.execute(q).mappings():
            due = _UTC.process_result_value(row["due_at"], None)
            out.append(
                {
                    "instance": row["id"],
                    "element": row["element"],
                    "business_key": row["business_key"],
                    "due_at": due.isoformat() if due else None,
                    "variables": json.loads(row["variables"]),
                }
            )
        return out

    def query_tasks(
        self,
        role: str | None = None,
        assignee: str | None = None,
        process: str | None = None,
        instance: int | None = None,
        status: str = "ready",
        limit: int = 500,
        count: bool = False,
    ) -> Any:
        """Tasks by these filters, most urgent first, at most `limit`; with `count` how many there are."""
        # 'ready' written into the statement: the partial queue indexes are planned for it on every backend
        q = sa.select(human_tasks).where(
            human_tasks.c.status == (sa.literal_column("'ready'") if status == "ready" else status)
        )
        if role:  # the role column lists a task's candidate groups `a,b`: match any of them
            listed = sa.literal(",") + human_tasks.c.role + sa.literal(",")
            q = q.where(
                sa.or_(
                    human_tasks.c.role == role,
                    sa.and_(human_tasks.c.role.contains(","), listed.contains(f",{role},", autoescape=True)),
                )
            )
        if assignee:
            q = q.where(human_tasks.c.assignee == assignee)
        if process:
            q = q.where(human_tasks.c.process_id == process)
        if instance is not None:
            q = q.where(human_tasks.c.instance_id == instance)
        if count:  # by the very same filters
            return self.conn.execute(sa.select(sa.func.count()).select_from(q.subquery())).scalar_one()
        q = q.order_by(human_tasks.c.due_at.is_(None), human_tasks.c.due_at, human_tasks.c.id).limit(limit)
        return list(self.conn.execute(q).mappings())

    def count_tasks(
        self,
        role: str | None = None,
        assignee: str | None = None,
        process: str | None = None,
        instance: int | None = None,
        status: str = "ready",
    ) -> int:
        """How many tasks `query_tasks` with these filters would return without its limit."""
        return self.query_tasks(role, assignee, process, instance, status, count=True)

    # -- history ------------------------------------------------------------------------
    def add_history(self, rows: Sequence[Mapping[str, Any]]) -> None:
        if rows:
            self._run("insert_history", [dict(r, at=self._time(r["at"])) for r in rows])

    def history(self, instance_id: int | None) -> list[Mapping[str, Any]]:
        """An instance's history, or with None the hall-wide rows that have no case."""
        where = history.c.instance_id.is_(None) if instance_id is None else history.c.instance_id == instance_id
        return list(self.conn.execute(sa.select(history).where(where).order_by(history.c.id)).mappings())

    def purge_record(self, instance_id: int) -> Mapping[str, Any] | None:
        """The row `hall purge` left for a deleted instance, or None."""
        q = sa.select(history).where(history.c.instance_id == instance_id, history.c.kind == "purged").limit(1)
        return self.conn.execute(q).mappings().first()

    def last_event_at(self, instance_id: int) -> datetime | None:
        return self.conn.execute(sa.select(instances.c.updated_at).where(instances.c.id == instance_id)).scalar()

    # -- jobs ------------------------------------------------------------------------------
    def add_job(self, **values: Any) -> int:
        return self.conn.execute(jobs.insert().values(**values)).inserted_primary_key[0]

    def delete_jobs(self, instance_id: int, spiff_task_id: str | None = None) -> None:
        q = jobs.delete().where(jobs.c.instance_id == instance_id)
        if spiff_task_id is not None:
            q = q.where(jobs.c.spiff_task_id == spiff_task_id)
        self.conn.execute(q)

    def replace_start_jobs(self, process_id: str, rows: Sequence[Mapping[str, Any]]) -> None:
        """The start timers of a process: the new version's schedule replaces the old one's."""
        self.conn.execute(jobs.delete().where(jobs.c.instance_id.is_(None), jobs.c.process_id == process_id))
        if rows:
            self.conn.execute(jobs.insert(), [dict(r, process_id=process_id, kind="start") for r in rows])

    def reschedule_start_job(self, job_id: int, due_at: datetime | None, fired: int) -> None:
        """After a start timer fired: its next firing, or no row when the cycle is over."""
        if due_at is None:
            self.conn.execute(jobs.delete().where(jobs.c.id == job_id))
        else:
            self.conn.execute(
                jobs.update()
                .where(jobs.c.id == job_id)
                .values(due_at=due_at, fired=fired, attempts=0, last_error=None, locked_by=None, lock_expires_at=None)
            )

    def start_jobs(self) -> list[Mapping[str, Any]]:
        q = (
            sa.select(jobs.c.process_id, jobs.c.element, jobs.c.due_at, jobs.c.fired)
            .where(jobs.c.instance_id.is_(None))
            .order_by(jobs.c.due_at)
        )
        return list(self.conn.execute(q).mappings())

    def jobs_of(self, instance_id: int) -> list[dict[str, Any]]:
        return self._rows("jobs_of", {"id": instance_id})

    # -- numbering ------------------------------------------------------------------------
    def next_sequence(self, name: str, period: str) -> int:
        """Atomically take the next number of a named sequence for a period (unique across workers)."""
        if self.dialect == "postgresql":
            from sqlalchemy.dialects.postgresql import insert
        else:
            from sqlalchemy.dialects.sqlite import insert
        q = insert(sequences).values(name=name, period=period, value=1)
        q = q.on_conflict_do_update(index_elements=["name", "period"], set_={"value": sequences.c.value + 1})
        return self.conn.execute(q.returning(sequences.c.value)).scalar_one()
