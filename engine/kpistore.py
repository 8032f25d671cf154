"""Generic reads over history and instances, and the purge of given instances: the SQL that modules
built on the API (indicators, periodic reports, retention) need, reached through `Engine.reading()`
and `Engine.purge_instances()`.

Generic on purpose: every statement takes the process, kind, element, period or instance ids it is
asked for and knows no process, task or variable of any particular hall. Kept apart from
engine/store.py (the runtime's store) so these queries can change without touching the engine's hot
path; same rules: SQLite and PostgreSQL, times are aware UTC datetimes on the way in and out. The
module reads the tables defined in engine/store.py and deletes an instance with everything that
belongs to it in the caller's transaction.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

from .store import Store, Tx

_SQLITE_TIME = "%Y-%m-%d %H:%M:%S.%f"
# a history row as read here: (instance_id, at, actor, element, detail)
Event = tuple[int, datetime, str | None, str | None, Any]


@contextmanager
def reading(store: Store) -> Iterator[Tx]:
    """A read transaction on a database whose schema is checked."""
    store.check_schema()
    with store.tx(write=False) as tx:
        yield tx


def _bind(tx: Tx, value: datetime) -> Any:
    if tx.dialect == "postgresql":
        return value
    return value.astimezone(UTC).strftime(_SQLITE_TIME)


def _at(value: Any) -> datetime:
    """A time of a column that is never NULL here (NOT NULL, or filtered on) as an aware UTC datetime."""
    if isinstance(value, str):  # SQLite keeps UTC as text without an offset: parse it as UTC at once
        return datetime.fromisoformat(value + "+00:00" if len(value) <= 26 else value)
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _time(value: Any) -> datetime | None:
    """A time of a column that may be NULL."""
    return None if value is None else _at(value)


def _cursor(tx: Tx, sql: str, params: dict[str, Any]) -> Any:
    """Run a read statement on the driver's cursor (the result sets here can be large)."""
    if tx.dialect == "postgresql":
        import re

        sql = re.sub(r"(?<!:):(\w+)", r"%(\1)s", sql)
    dbapi = tx.conn.connection.dbapi_connection
    assert dbapi is not None  # an open transaction's connection
    cur = dbapi.cursor()
    cur.execute(sql, params)
    return cur


# -- history events ---------------------------------------------------------------------------------
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
    params: dict[str, Any] = {"p": process, "k": kind, "u": _bind(tx, until)}
    named = [e for e in elements if e is not None]
    conds = []
    if named:
        keys = []
        for i, e in enumerate(named):
            params[f"e{i}"] = e
            keys.append(f":e{i}")
        conds.append(f"element IN ({', '.join(keys)})")
    if None in elements:
        conds.append("element IS NULL")
    where = f" AND ({' OR '.join(conds)})" if conds else ""
    if since is not None:
        where += " AND at >= :s"
        params["s"] = _bind(tx, since)
    paths = [f.split(".") for f in fields or ()]
    for n, path in enumerate(paths):
        params[f"f{n}"] = (
            "{" + ",".join(path) + "}"
            if tx.dialect == "postgresql"
            else "$." + ".".join('"' + p.replace('"', '""') + '"' for p in path)
        )
    extract = (
        ", ".join(
            (
                f"CAST(detail AS json) #>> CAST(:f{n} AS text[])"
                if tx.dialect == "postgresql"
                else f"json_extract(detail, :f{n})"
            )
            for n in range(len(paths))
        )
        if paths
        else "detail"
        if with_detail
        else "NULL"
    )
    sql = (
        f"SELECT instance_id, at, actor, element, {extract} FROM history"
        f" WHERE process_id = :p AND kind = :k{where} AND at < :u ORDER BY at, id"
    )
    cur = _cursor(tx, sql, params)
    out: list[Event]
    if paths:
        out = [(r[0], _at(r[1]), r[2], r[3], _nested(paths, r[4:])) for r in cur.fetchall()]
    else:
        loads = json.loads
        out = [(r[0], _at(r[1]), r[2], r[3], loads(r[4]) if r[4] else None) for r in cur.fetchall()]
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
    out: list[Event] = []
    for chunk in _chunks(list(ids)):
        params: dict[str, Any] = {f"i{n}": v for n, v in enumerate(chunk)}
        params.update({"p": process, "k": kind, "u": _bind(tx, until)})
        params.update({f"e{n}": e for n, e in enumerate(elements)})
        sql = (
            f"SELECT instance_id, at, actor, element, detail FROM history"
            f" WHERE instance_id IN ({', '.join(':i%d' % n for n in range(len(chunk)))})"
            f" AND process_id = :p AND kind = :k AND element IN ({', '.join(':e%d' % n for n in range(len(elements)))})"
            f" AND at < :u ORDER BY at, id"
        )
        cur = _cursor(tx, sql, params)
        out += [(r[0], _at(r[1]), r[2], r[3], json.loads(r[4]) if r[4] else None) for r in cur.fetchall()]
        cur.close()
    out.sort(key=lambda r: r[1])
    return out


def workload(tx: Tx, since: datetime, until: datetime) -> list[tuple[str | None, str, int]]:
    """Tasks completed per (actor, process) with since <= at < until."""
    sql = (
        "SELECT actor, process_id, COUNT(*) FROM history WHERE kind = 'task_completed' AND at >= :s AND at < :u"
        " GROUP BY actor, process_id"
    )
    cur = _cursor(tx, sql, {"s": _bind(tx, since), "u": _bind(tx, until)})
    out = [(r[0], r[1], int(r[2])) for r in cur.fetchall()]
    cur.close()
    return out


def overdue_tasks(tx: Tx, now: datetime) -> list[tuple[int, str, str, datetime, str | None]]:
    """Ready human tasks past their due time now: (instance_id, process_id, name, due_at, business_key)."""
    sql = (
        "SELECT h.instance_id, h.process_id, h.name, h.due_at, i.business_key FROM human_tasks h"
        " JOIN instances i ON i.id = h.instance_id"
        " WHERE h.status = 'ready' AND h.due_at IS NOT NULL AND h.due_at < :n AND i.status = 'running'"
        " ORDER BY h.due_at, h.id"
    )
    cur = _cursor(tx, sql, {"n": _bind(tx, now)})
    out = [(r[0], r[1], r[2], _at(r[3]), r[4]) for r in cur.fetchall()]
    cur.close()
    return out


def variables_of(tx: Tx, ids: Iterable[int]) -> dict[int, Any]:
    """The variables of the given instances (e.g. to redact the ones a user may not read), by id."""
    out: dict[int, Any] = {}
    for chunk in _chunks(list(ids)):
        keys = {f"i{n}": v for n, v in enumerate(chunk)}
        cur = _cursor(tx, f"SELECT id, variables FROM instances WHERE id IN ({', '.join(':' + k for k in keys)})", keys)
        out.update((r[0], json.loads(r[1]) if isinstance(r[1], str) else r[1]) for r in cur.fetchall())
        cur.close()
    return out


def started_between(tx: Tx, since: datetime, until: datetime) -> list[tuple[str, datetime]]:
    """(process_id, started_at) of the instances started with since <= started_at < until."""
    sql = "SELECT process_id, started_at FROM instances WHERE started_at >= :s AND started_at < :u"
    cur = _cursor(tx, sql, {"s": _bind(tx, since), "u": _bind(tx, until)})
    out = [(r[0], _at(r[1])) for r in cur.fetchall()]
    cur.close()
    return out


def ended_between(tx: Tx, since: datetime, until: datetime) -> list[tuple[str, str, datetime]]:
    """(process_id, status, ended_at) of the instances that ended with since <= ended_at < until."""
    sql = "SELECT process_id, status, ended_at FROM instances WHERE ended_at >= :s AND ended_at < :u"
    cur = _cursor(tx, sql, {"s": _bind(tx, since), "u": _bind(tx, until)})
    out = [(r[0], r[1], _at(r[2])) for r in cur.fetchall()]
    cur.close()
    return out


# -- finished instances and their purge --------------------------------------------------------------
def finished_before(tx: Tx, before: datetime) -> list[dict[str, Any]]:
    """Completed or cancelled instances that ended before `before`, oldest first."""
    sql = (
        "SELECT id, process_id, business_key, status, started_at, ended_at, parent_id FROM instances"
        " WHERE status IN ('completed', 'cancelled') AND ended_at IS NOT NULL AND ended_at < :b ORDER BY ended_at, id"
    )
    cur = _cursor(tx, sql, {"b": _bind(tx, before)})
    names = [d[0] for d in cur.description]
    out = []
    for r in cur.fetchall():
        row = dict(zip(names, r))
        row["started_at"], row["ended_at"] = _time(row["started_at"]), _time(row["ended_at"])
        out.append(row)
    cur.close()
    return out


def children_of(tx: Tx, ids: Iterable[int]) -> dict[int, list[int]]:
    """For each instance id, the ids of the instances it started (parent_id)."""
    out: dict[int, list[int]] = {}
    ids = list(ids)
    for chunk in _chunks(ids):
        keys = {f"i{n}": v for n, v in enumerate(chunk)}
        sql = f"SELECT parent_id, id FROM instances WHERE parent_id IN ({', '.join(':' + k for k in keys)})"
        cur = _cursor(tx, sql, keys)
        for parent, child in cur.fetchall():
            out.setdefault(parent, []).append(child)
        cur.close()
    return out


def delete_instances(tx: Tx, ids: Sequence[int]) -> dict[str, int]:
    """Delete instances with their task rows, human tasks, jobs and history; counts per table.

    The caller decides which instances may go (e.g. a retention policy: never one whose linked
    case stays) and runs this in its one transaction. Links between the deleted instances are dropped first so the
    order of the deletes does not matter; no other row is touched.
    """
    counts = {"history": 0, "jobs": 0, "human_tasks": 0, "instance_tasks": 0, "instances": 0}
    chunks = []
    for chunk in _chunks(list(ids)):
        keys = {f"i{n}": v for n, v in enumerate(chunk)}
        chunks.append((keys, ", ".join(":" + k for k in keys)))
    for keys, inlist in chunks:
        _cursor(tx, f"UPDATE instances SET parent_id = NULL WHERE id IN ({inlist}) AND parent_id IS NOT NULL", keys)
    for keys, inlist in chunks:
        for table in ("history", "jobs", "human_tasks", "instance_tasks"):
            counts[table] += _cursor(tx, f"DELETE FROM {table} WHERE instance_id IN ({inlist})", keys).rowcount
    for keys, inlist in chunks:  # the search rows go with their case (not counted: an index of it)
        _cursor(tx, f"DELETE FROM case_search WHERE instance_id IN ({inlist})", keys)
    for keys, inlist in chunks:
        counts["instances"] += _cursor(tx, f"DELETE FROM instances WHERE id IN ({inlist})", keys).rowcount
    return counts


def table_counts(tx: Tx) -> dict[str, int]:
    """Rows per table of the runtime (instances, their tasks, human tasks, history, jobs)."""
    out = {}
    for table in ("instances", "instance_tasks", "human_tasks", "history", "jobs"):
        cur = _cursor(tx, f"SELECT COUNT(*) FROM {table}", {})
        out[table] = int(cur.fetchone()[0])
        cur.close()
    return out


def _chunks(items: list[int], size: int = 500) -> Iterator[list[int]]:
    for i in range(0, len(items), size):
        yield items[i : i + size]


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
