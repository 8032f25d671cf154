"""A hall database: the connection pool, transactions, and the schema's version (``hall init``).

SQLite write transactions take the write lock up front (``BEGIN IMMEDIATE``); reads, and the schema
check every command makes, take none, so a read-only command never waits behind a busy worker.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.engine import Connection
from sqlalchemy.engine import Engine as SAEngine

from ..errors import (
    DatabaseFailed,
    DatabaseMissing,
    DatabaseUnavailable,
    RehearsalRefused,
    SchemaMissing,
    SchemaTooNew,
    SchemaTooOld,
)
from . import migrate
from .schema import hall_flags
from .sqlitewal import Checkpointer
from .tx import Tx, driver

SQLITE_TIMEOUT = 30.0  # seconds a statement waits for SQLite's write lock (a URL's ?timeout= overrides)


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
        self.simulated: bool | None = None  # True: the engine's clock is simulated, history rows say so
        # the SQLite file, when there is one: only `init` may create it (a typo in --db creates nothing)
        self.path = _sqlite_file(self.url) if self.dialect == "sqlite" else None
        self._checkpointer = Checkpointer(self.path) if self.path is not None else None
        # what the driver raises itself (hot statements run on its cursors, not through SQLAlchemy)
        dbapi = getattr(self.engine.dialect, "dbapi", None)
        self._driver_errors: tuple[type[BaseException], ...] = (sa.exc.DBAPIError,) + (
            (dbapi.Error,) if dbapi is not None else ()
        )

    def close(self) -> None:
        """Close the kept connection and the pool; checkpoint SQLite's log."""
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
        A read: on SQLite it runs on the driver in autocommit, so it takes no write lock (a statement
        of SQLAlchemy's own would begin with BEGIN IMMEDIATE, see ``_create_engine``).
        """
        self._check_exists(create)
        try:
            with self.engine.connect() as conn:
                if self.dialect == "sqlite":
                    raw = driver(conn)
                    if raw.execute(_SQLITE_HAS_SCHEMA).fetchone() is None:
                        return None
                    return raw.execute(_MAX_VERSION).fetchone()[0]
                if not sa.inspect(conn).has_table("hall_schema"):
                    return None
                return conn.exec_driver_sql(_MAX_VERSION).scalar()
        except self._driver_errors as exc:  # unreachable server, a file that is not a database
            raise DatabaseUnavailable(self.url, _reason(exc)) from None

    def _check_exists(self, create: bool) -> None:
        if self.path is not None and not create and not os.path.exists(self.path):
            raise DatabaseMissing(self.path)

    def init(self, now: datetime, case_fields: Any = None, rehearsal: bool = False) -> tuple[int | None, int]:
        """Create or upgrade the schema (Alembic, ``migrate.py``); returns (version before, version after).
        `case_fields`: the searchable variables a new search table is filled with (schema v5).
        `rehearsal`: mark a new database as made for rehearsals (simulated time allowed); a database
        that already has a hall schema keeps what it is (RehearsalRefused unless it is one already)."""
        target = migrate.SCHEMA_VERSION
        before = self.schema_version(create=True)
        if before is not None and before > target:
            raise SchemaTooNew(before, target)
        if rehearsal and before is not None and not (before == target and self.rehearsal()):
            raise RehearsalRefused(self.url)
        if before == target and self._alembic_revision() == migrate.revision(target):
            return before, target  # nothing to do: no write, and Alembic not even imported
        try:
            with self.engine.begin() as conn:
                migrate.upgrade(conn, before, target, now, case_fields)
                if rehearsal:
                    conn.execute(hall_flags.insert().values(name="rehearsal", value="yes", set_at=now))
        except self._driver_errors as exc:
            raise DatabaseFailed(self.url, _reason(exc)) from None
        return before, target

    def _alembic_revision(self) -> str | None:
        """Alembic's record of the schema (None in a database made before Alembic)."""
        try:
            with self.engine.connect() as conn:
                if not sa.inspect(conn).has_table("alembic_version"):
                    return None
                return conn.exec_driver_sql("SELECT max(version_num) FROM alembic_version").scalar()
        except self._driver_errors as exc:
            raise DatabaseUnavailable(self.url, _reason(exc)) from None

    def rehearsal(self) -> bool:
        """Whether this database was made for rehearsals (`hall init --rehearsal`, `hall demo`, tests)."""
        with self.tx(write=False) as tx:
            return tx.flag("rehearsal") == "yes"

    def _tx(self, conn: Connection) -> Tx:
        tx = Tx(conn, self.dialect)
        tx.simulated = self.simulated
        return tx

    def check_schema(self) -> None:
        """SchemaMissing, SchemaTooNew or SchemaTooOld unless the database is at this hall's version."""
        found = self.schema_version()
        target = migrate.SCHEMA_VERSION
        if found is None:
            raise SchemaMissing(self.url)
        if found > target:
            raise SchemaTooNew(found, target)
        if found < target:
            raise SchemaTooOld(found, target)

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
                raw = driver(conn)
                raw.execute("BEGIN IMMEDIATE" if write else "BEGIN")
                begun = True
                yield self._tx(conn)
                if conn.in_transaction():
                    conn.commit()
                else:
                    raw.commit()
            else:
                with conn.begin():
                    begun = True
                    yield self._tx(conn)
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


_SQLITE_HAS_SCHEMA = "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'hall_schema'"
_MAX_VERSION = "SELECT max(version) FROM hall_schema"


def _create_engine(url: str) -> SAEngine:
    if url.startswith("sqlite"):
        # a timeout in the URL (?timeout=2) is the driver's; else SQLITE_TIMEOUT
        timeout = {} if "timeout" in sa.engine.make_url(url).query else {"timeout": SQLITE_TIMEOUT}
        engine = sa.create_engine(
            url,
            connect_args=timeout,
            poolclass=sa.pool.QueuePool if ":memory:" not in url else sa.pool.StaticPool,
        )

        @event.listens_for(engine, "connect")
        def _on_connect(dbapi_conn: Any, _record: Any) -> None:
            dbapi_conn.isolation_level = None  # we issue BEGIN ourselves
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute(
                "PRAGMA wal_autocheckpoint=0"
            )  # engine/store/sqlitewal.py checkpoints off the committing thread
            cur.close()

        @event.listens_for(engine, "begin")
        def _on_begin(conn: Connection) -> None:
            raw = driver(conn)
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
