"""Firing in groups on PostgreSQL: the second writer of a step (``GroupWriter``), beside the store's
``BatchWriter``.

The worker fires the due timers of up to ``Worker.group`` distinct instances in one transaction of
two round trips: BEGIN, the hold (lock the instances, check the claims, take ids for the human tasks
the steps may create) and the load of those instances in one pipeline; after the steps, one
statement that writes all of them (a WITH clause per kind of row: human tasks, jobs, task rows,
instances with their version check, history; each list one JSON text parameter) and COMMIT in
another. Per firing, that leaves the SpiffWorkflow work and a share of four statements and one WAL
flush: firing one timer per transaction cost a flush and two round trips each, and the server's
per-statement work (planning, executor start, commit) was more than half of a firing.

The hold skips instances another transaction has locked (a clerk's step, another worker): a group
never waits for a lock while it holds others, so two workers cannot deadlock; the worker fires
those timers one by one after the group commits (``Worker._run``), waiting for the lock there.

Each statement is planned at every execution (``prepare=False``, 0.3 ms a group): a prepared
statement's generic plan is made for the tables as they were when the worker started, and a load
planned while human_tasks was nearly empty scanned the whole table ever after.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ..store import Step, Tx, bundle, driver, dumps, utc, utc_fields
from ..store.sql import columns, statements, texts
from .table import Job

_SQL: dict[str, bytes] = {name: bytes(sql) for name, sql in statements("postgresql").items()}  # type: ignore[arg-type]
# The kinds of row a group's save writes, in the order of its WITH clauses (ht: new human tasks).
_KINDS = ("ht", "jd", "ja", "tr", "td", "h")
_LOAD_COLUMNS = columns(texts("postgresql")["group_load"])
_ROW = _LOAD_COLUMNS[: _LOAD_COLUMNS.index("ids")]  # the instance row; then ids, bodies, human, jobs, has_children
_SAVES: dict[tuple[bool, ...], bytes] = {}


class VersionMoved(Exception):
    """A group's save found an instance at another version than its hold read (cannot happen while
    the hold's locks are held; the group is rolled back and its timers fired one by one)."""


def _save_sql(parts: tuple[bool, ...]) -> bytes:
    """The save of a group as one statement: WITH the named clause of each kind of row its steps
    write, the instances' update, then the check."""
    sql = _SAVES.get(parts)
    if sql is None:
        clauses = [_SQL[f"group_save_{kind}"] for kind, present in zip(_KINDS, parts) if present]
        clauses.append(_SQL["group_save_u"])
        sql = _SAVES[parts] = b"WITH " + b", ".join(clauses) + b" " + _SQL["group_save_check"]
    return sql


class GroupWriter:
    """Queues each step that ends its firing (``last``) for the group's one save; a step nested in a
    firing (a message to another instance), or one that sets a business key or changes a case's search
    values (a script issuing a number: rare in a timer's step), is written at once by the store's
    writer."""

    def __init__(self) -> None:
        self.steps: list[Step] = []

    def write(self, tx: Tx, step: Step, last: bool) -> bool:
        if not last or step.rare:  # a key or search values set: written at once by the store's writer
            return Tx.writer.write(tx, step, last)
        self.steps.append(step)
        return True  # checked by ``GroupTx.commit``: the instance is locked, its version cannot move meanwhile


class GroupTx(Tx):
    """The worker's transaction on PostgreSQL for the timers of several instances (same connection,
    same transaction as the ``Tx`` it wraps): ``hold_group`` locks and loads them in one round trip,
    each step's save is queued (``GroupWriter``), and ``commit`` writes all of them in one statement
    sent with COMMIT."""

    def __init__(self, tx: Tx) -> None:
        super().__init__(tx.conn, tx.dialect)
        self.simulated = tx.simulated
        self.group = GroupWriter()
        self.writer = self.group

    def hold_group(self, group: Sequence[Job], worker: str) -> dict[int, tuple[str, int, dict]]:
        """Lock the instances of ``group`` that no other transaction holds, check the claims and load
        them: {job id: (status, version, loaded instance)}; a job missing is not ours any more, or its
        instance was locked by someone else."""
        raw = driver(self.conn)
        with raw.pipeline():
            hold = raw.cursor().execute(
                _SQL["group_hold"], {"jobs": [j.id for j in group], "worker": worker}, prepare=False
            )
            load = raw.cursor().execute(
                _SQL["group_load"], {"instances": [j.instance_id for j in group]}, prepare=False
            )
        held = hold.fetchall()
        self.reserve_task_ids([h[3] for h in held])
        loaded = {row["row"]["id"]: row for row in map(_loaded, load.fetchall())}
        instance_of = {j.id: j.instance_id for j in group}
        return {
            job_id: (status, version, loaded[instance_of[job_id]])
            for job_id, status, version, _task_id in held
            if instance_of[job_id] in loaded
        }

    def commit(self) -> None:
        """Write every queued step in one statement and COMMIT, one round trip; VersionMoved (nothing
        written, transaction rolled back) if an instance was not at the version its step started from."""
        lists: dict[str, list] = {kind: [] for kind in _KINDS}
        lists["ht"], lists["u"] = self.take_new_tasks(), []
        for step in self.group.steps:
            rows = step.rows(_same, self.simulated)
            for kind in _KINDS[1:]:
                lists[kind].extend(rows[kind])
            lists["u"].append(rows["u"])
        self.group.steps = []
        params: dict[str, Any] = {name: dumps(rows) for name, rows in lists.items() if rows}
        params["n"] = len(lists["u"])
        from psycopg.errors import DivisionByZero  # PostgreSQL's driver: only a group imports it

        raw = driver(self.conn)
        try:
            with raw.pipeline():
                raw.cursor().execute(_save_sql(tuple(bool(lists[k]) for k in _KINDS)), params, prepare=False)
                raw.cursor().execute(b"COMMIT")
        except DivisionByZero:
            raise VersionMoved() from None


def _same(value: Any) -> Any:
    """PostgreSQL takes aware datetimes as they are (JSON text carries them as ISO text)."""
    return value


def _loaded(found: Any) -> dict:
    """A row of ``group_load`` as the store's load returns it (``bundle``; a test keeps them equal)."""
    n = len(_ROW)
    task_ids, bodies, human, job_rows, has_children = found[n:]
    return bundle(
        utc_fields(dict(zip(_ROW, found[:n]))),
        dict(zip(task_ids or (), bodies or ())),
        [utc_fields(h) for h in human or ()],
        [{"spiff_task_id": t, "due_at": utc(d), "element": e} for t, d, e in job_rows or ()],
        has_children,
    )
