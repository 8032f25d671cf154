"""Generic reads over history and instances, and the purge of given instances: what modules built on
the API (indicators, periodic reports, retention) need, reached through `Engine.reading()` and
`Engine.purge_instances()`.

Generic on purpose: every statement takes the process, kind, element, period or instance ids it is
asked for and knows no process, task or variable of any particular hall. The statements are named
SQL of each dialect (``queries/``; the jobs table's purge and count in ``engine/jobs/queries``),
lists of ids or names one parameter each; `events`, whose filters and columns depend on the call, is
a SQLAlchemy Core query compiled once per shape and dialect. All run on the driver's own cursor (the
result sets can be large); times go through the codecs. A purge deletes an instance with everything
that belongs to it in the caller's transaction.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime
from functools import lru_cache
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import sqlite

from .codecs import dumps, loads, utc, utc_at
from .database import Store
from .schema import history
from .tx import Tx, driver

# a history row as read here: (instance_id, at, actor, element, detail)
Event = tuple[int, datetime, str | None, str | None, Any]


@contextmanager
def reading(store: Store) -> Iterator[Tx]:
    """A read transaction on a database whose schema is checked."""
    store.check_schema()
    with store.tx(write=False) as tx:
        yield tx


def _cursor(tx: Tx, sql: str | bytes, params: Any) -> Any:
    """Run a statement (the dialect's own text) on a new driver cursor; the caller closes it."""
    cur = driver(tx.conn).cursor()
    cur.execute(sql, params)
    return cur


def _run(tx: Tx, name: str, params: Any) -> Any:
    """Run a named statement of the store's catalogue (``sql.py``) on a new driver cursor."""
    return _cursor(tx, tx.sql(name), params)


def _list(tx: Tx, values: Sequence[Any]) -> Any:
    """A list as one parameter: an array (PostgreSQL), JSON text read with json_each (SQLite)."""
    return list(values) if tx.dialect == "postgresql" else dumps(list(values))


# -- history events ---------------------------------------------------------------------------------
# SQLite's dialect with :name parameters, as the store's named SQL (the driver takes both styles);
# PostgreSQL's text is compiled by the connection's own dialect (psycopg: %(name)s).
_SQLITE = sqlite.dialect(paramstyle="named")


@lru_cache(maxsize=64)  # a few shapes; bounded, as each Engine on PostgreSQL brings its own dialect object
def _events_sql(dialect: sa.engine.Dialect, named: int, unnamed: bool, since: bool, fields: int, detail: bool) -> str:
    """The text of `events` compiled by one dialect for one shape: `named` elements (0, 1 or more: one
    equality keeps the index's order, so the database sorts nothing), rows without an element or
    not, a lower bound or not, and `fields` extracted fields (a count), else the detail or not."""
    h = history.c
    pg = dialect.name == "postgresql"
    conds: list[Any] = []
    if named == 1:
        conds.append(h.element == sa.bindparam("element", type_=sa.String))
    elif named:
        listed: Any = (
            sa.any_(sa.bindparam("elements", type_=sa.ARRAY(sa.String)))
            if pg
            else sa.select(sa.column("value")).select_from(sa.func.json_each(sa.bindparam("elements", type_=sa.String)))
        )
        conds.append(h.element == listed if pg else h.element.in_(listed))
    if unnamed:
        conds.append(h.element.is_(None))
    where = [h.process_id == sa.bindparam("p", type_=sa.String), h.kind == sa.bindparam("k", type_=sa.String)]
    if conds:
        where.append(sa.or_(*conds))
    if since:
        where.append(h.at >= sa.bindparam("s"))
    where.append(h.at < sa.bindparam("u"))
    picked: list[Any]
    if not fields:
        picked = [h.detail if detail else sa.null()]
    elif pg:
        json = sa.cast(h.detail, sa.JSON)
        picked = [json.op("#>>")(sa.bindparam(f"f{n}", type_=sa.ARRAY(sa.Text))) for n in range(fields)]
    else:
        picked = [sa.func.json_extract(h.detail, sa.bindparam(f"f{n}", type_=sa.String)) for n in range(fields)]
    query = sa.select(h.instance_id, h.at, h.actor, h.element, *picked).where(*where).order_by(h.at, h.id)
    return str(query.compile(dialect=dialect))


def events(
    tx: Tx,
    process: str,
    kind: str,
    elements: Sequence[str | None],
    since: datetime | None,
    until: datetime,
    with_detail: bool = True,
    fields: Sequence[str] | None = None,
) -> list[Event]:
    """History rows of one process and kind at one of `elements` with since <= at < until.

    Each row is (instance_id, at, actor, element, detail parsed from JSON or None), oldest first.
    `elements` may hold None for rows without an element (started, ended, cancelled). With
    `fields` (text values, dotted paths such as ``data.kind``) the database extracts only those
    and the detail is built of them: the rest of a large detail is never parsed.
    """
    named = [e for e in elements if e is not None]
    params: dict[str, Any] = {"p": process, "k": kind, "u": tx.time(until)}
    if len(named) == 1:
        params["element"] = named[0]
    elif named:
        params["elements"] = _list(tx, named)
    if since is not None:
        params["s"] = tx.time(since)
    paths = [f.split(".") for f in fields or ()]
    for n, path in enumerate(paths):
        params[f"f{n}"] = (
            path if tx.dialect == "postgresql" else "$." + ".".join('"' + p.replace('"', '""') + '"' for p in path)
        )
    dialect = tx.conn.dialect if tx.dialect == "postgresql" else _SQLITE
    sql = _events_sql(
        dialect, min(len(named), 2), None in elements, since is not None, len(paths), with_detail and not paths
    )
    cur = _cursor(tx, sql, params)
    out: list[Event]
    if paths:
        out = [(r[0], utc_at(r[1]), r[2], r[3], _nested(paths, r[4:])) for r in cur.fetchall()]
    else:
        out = [(r[0], utc_at(r[1]), r[2], r[3], loads(r[4]) if r[4] else None) for r in cur.fetchall()]
    cur.close()
    return out


def _nested(paths: Sequence[Sequence[str]], values: Sequence[Any]) -> dict[str, Any]:
    """The detail a row would have parsed to, holding only the extracted values."""
    out: dict[str, Any] = {}
    for path, value in zip(paths, values):
        if value is None:
            continue
        node = out
        for key in path[:-1]:
            node = node.setdefault(key, {})
        node[path[-1]] = value if isinstance(value, str) else str(value)
    return out


def events_of(
    tx: Tx, process: str, kind: str, elements: Sequence[str], ids: Sequence[int], until: datetime
) -> list[Event]:
    """Like `events`, for the given instances only (any time before `until`)."""
    if not ids or not elements:
        return []
    params = {"ids": _list(tx, ids), "p": process, "k": kind, "elements": _list(tx, elements), "u": tx.time(until)}
    cur = _run(tx, "events_of", params)
    out = [(r[0], utc_at(r[1]), r[2], r[3], loads(r[4]) if r[4] else None) for r in cur.fetchall()]
    cur.close()
    return out


def workload(tx: Tx, since: datetime, until: datetime) -> list[tuple[str | None, str, int]]:
    """Tasks completed per (actor, process) with since <= at < until."""
    cur = _run(tx, "workload", {"s": tx.time(since), "u": tx.time(until)})
    out = [(r[0], r[1], int(r[2])) for r in cur.fetchall()]
    cur.close()
    return out


def overdue_tasks(tx: Tx, now: datetime) -> list[tuple[int, str, str, datetime, str | None]]:
    """Ready human tasks past their due time now: (instance_id, process_id, name, due_at, business_key)."""
    cur = _run(tx, "overdue_tasks", {"n": tx.time(now)})
    out = [(r[0], r[1], r[2], utc_at(r[3]), r[4]) for r in cur.fetchall()]
    cur.close()
    return out


def variables_of(tx: Tx, ids: Iterable[int]) -> dict[int, Any]:
    """The variables of the given instances (e.g. to redact the ones a user may not read), by id."""
    wanted = list(ids)
    if not wanted:
        return {}
    cur = _run(tx, "variables_of", {"ids": _list(tx, wanted)})
    out = {r[0]: loads(r[1]) if isinstance(r[1], str) else r[1] for r in cur.fetchall()}
    cur.close()
    return out


def started_between(tx: Tx, since: datetime, until: datetime) -> list[tuple[str, datetime]]:
    """(process_id, started_at) of the instances started with since <= started_at < until."""
    cur = _run(tx, "started_between", {"s": tx.time(since), "u": tx.time(until)})
    out = [(r[0], utc_at(r[1])) for r in cur.fetchall()]
    cur.close()
    return out


def ended_between(tx: Tx, since: datetime, until: datetime) -> list[tuple[str, str, datetime]]:
    """(process_id, status, ended_at) of the instances that ended with since <= ended_at < until."""
    cur = _run(tx, "ended_between", {"s": tx.time(since), "u": tx.time(until)})
    out = [(r[0], r[1], utc_at(r[2])) for r in cur.fetchall()]
    cur.close()
    return out


# -- finished instances and their purge --------------------------------------------------------------
def finished_before(tx: Tx, before: datetime) -> list[dict[str, Any]]:
    """Completed or cancelled instances that ended before `before`, oldest first."""
    cur = _run(tx, "finished_before", {"b": tx.time(before)})
    names = [d[0] for d in cur.description]
    out = []
    for r in cur.fetchall():
        row = dict(zip(names, r))
        row["started_at"], row["ended_at"] = utc(row["started_at"]), utc(row["ended_at"])
        out.append(row)
    cur.close()
    return out


def children_of(tx: Tx, ids: Iterable[int]) -> dict[int, list[int]]:
    """For each instance id, the ids of the instances it started (parent_id)."""
    wanted = list(ids)
    out: dict[int, list[int]] = {}
    if not wanted:
        return out
    cur = _run(tx, "children_of", {"ids": _list(tx, wanted)})
    for parent, child in cur.fetchall():
        out.setdefault(parent, []).append(child)
    cur.close()
    return out


# the purge's deletes: the table counted, and its named statement (the jobs table's is engine/jobs')
_PURGE = (
    ("history", "purge_history"),
    ("jobs", "purge_jobs"),
    ("human_tasks", "purge_human_tasks"),
    ("instance_tasks", "purge_instance_tasks"),
    ("instances", "purge_instances"),
)
_COUNTS = (
    ("instances", "count_instances"),
    ("instance_tasks", "count_instance_tasks"),
    ("human_tasks", "count_human_tasks"),
    ("history", "count_history"),
    ("jobs", "count_jobs"),
)


def delete_instances(tx: Tx, ids: Sequence[int]) -> dict[str, int]:
    """Delete instances with their task rows, human tasks, jobs and history; counts per table.

    The caller decides which instances may go (e.g. a retention policy: never one whose linked
    case stays) and runs this in its one transaction. Links between the deleted instances are dropped first so the
    order of the deletes does not matter; no other row is touched.
    """
    counts = {table: 0 for table, _ in _PURGE}
    if not ids:
        return counts
    params = {"ids": _list(tx, ids)}
    _run(tx, "purge_unlink", params).close()
    _run(tx, "purge_case_search", params).close()  # the search rows go with their case (an index of it: not counted)
    _run(tx, "purge_event_waits", params).close()  # so do its waits for messages and signals (issue 12)
    _run(tx, "purge_form_drafts", params).close()  # and the drafts typed into its tasks' forms
    for table, name in _PURGE:
        cur = _run(tx, name, params)
        counts[table] += cur.rowcount
        cur.close()
    return counts


def table_counts(tx: Tx) -> dict[str, int]:
    """Rows per table of the runtime (instances, their tasks, human tasks, history, jobs)."""
    out = {}
    for table, name in _COUNTS:
        cur = _run(tx, name, {})
        out[table] = int(cur.fetchone()[0])
        cur.close()
    return out


class Reader:
    """The generic reads of one read transaction (one snapshot), as `Engine.reading()` hands them out.

    Each method is the module function of the same name on this transaction; callers outside the
    engine use these and never the transaction itself.
    """

    def __init__(self, tx: Tx) -> None:
        self._tx = tx

    def events(
        self,
        process: str,
        kind: str,
        elements: Sequence[str | None],
        since: datetime | None,
        until: datetime,
        with_detail: bool = True,
        fields: Sequence[str] | None = None,
    ) -> list[Event]:
        """History rows of one process and kind at `elements`, since <= at < until (see `events`)."""
        return events(self._tx, process, kind, elements, since, until, with_detail, fields)

    def events_of(
        self, process: str, kind: str, elements: Sequence[str], ids: Sequence[int], until: datetime
    ) -> list[Event]:
        """Like `events`, for the given instances only (any time before `until`)."""
        return events_of(self._tx, process, kind, elements, ids, until)

    def workload(self, since: datetime, until: datetime) -> list[tuple[str | None, str, int]]:
        """Tasks completed per (actor, process) with since <= at < until."""
        return workload(self._tx, since, until)

    def overdue_tasks(self, now: datetime) -> list[tuple[int, str, str, datetime, str | None]]:
        """Ready human tasks of running instances due before `now`."""
        return overdue_tasks(self._tx, now)

    def variables_of(self, ids: Iterable[int]) -> dict[int, Any]:
        """The variables of the given instances, by id."""
        return variables_of(self._tx, ids)

    def started_between(self, since: datetime, until: datetime) -> list[tuple[str, datetime]]:
        """(process_id, started_at) of the instances started with since <= started_at < until."""
        return started_between(self._tx, since, until)

    def ended_between(self, since: datetime, until: datetime) -> list[tuple[str, str, datetime]]:
        """(process_id, status, ended_at) of the instances that ended with since <= ended_at < until."""
        return ended_between(self._tx, since, until)

    def finished_before(self, before: datetime) -> list[dict[str, Any]]:
        """Completed or cancelled instances that ended before `before`, oldest first."""
        return finished_before(self._tx, before)

    def children_of(self, ids: Iterable[int]) -> dict[int, list[int]]:
        """For each instance id, the ids of the instances it started."""
        return children_of(self._tx, ids)

    def table_counts(self) -> dict[str, int]:
        """Rows per table of the runtime."""
        return table_counts(self._tx)
