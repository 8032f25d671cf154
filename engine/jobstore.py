"""The job manager: every statement on the ``jobs`` table that the job runner needs, in one place.

The runtime writes one row per waiting timer inside each step (``Runtime._sync_jobs``); this
module claims due rows for a worker, and releases, reschedules or deletes them. The database is
solely responsible for consistency: claiming is one statement (PostgreSQL: ``FOR UPDATE SKIP
LOCKED``, so any number of workers on any number of hosts take disjoint rows; SQLite: one writer
at a time under ``BEGIN IMMEDIATE``). A claim is a lease: ``locked_by`` names the worker
(``host:pid``) and ``lock_expires_at`` ends it; a row whose lease ran out is claimable again, so
a worker killed with -9 loses its jobs to the others after the lease.

The due lookup walks the ``ix_jobs_due`` index from the oldest due time up to *now* and stops
after ``limit`` rows: its cost does not depend on how many timers are pending (due later).
All times are the engine clock's, passed in by the caller.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

import sqlalchemy as sa

from .store import _NAMES, _TIME_COLUMNS, Tx, instances, jobs

_COLUMNS = (
    jobs.c.id,
    jobs.c.instance_id,
    jobs.c.element,
    jobs.c.spiff_task_id,
    jobs.c.kind,
    jobs.c.due_at,
    jobs.c.attempts,
    jobs.c.locked_by,
    jobs.c.lock_expires_at,
    jobs.c.last_error,
    jobs.c.process_id,
    jobs.c.fired,
)


@dataclass(frozen=True)
class Job:
    """One claimed job row: a due timer of one instance, or (kind "start", no instance) a start
    timer of a process, which starts a new instance each time it fires."""

    id: int
    instance_id: int | None
    element: str
    spiff_task_id: str
    kind: str
    due_at: datetime
    attempts: int
    locked_by: str | None
    lock_expires_at: datetime | None
    last_error: str | None
    process_id: str | None = None
    fired: int = 0

    @classmethod
    def from_row(cls, row: Any) -> Job:
        return cls(**{c.name: row[c.name] for c in _COLUMNS})


def _due(now: Any) -> Any:
    """Due, not held by a live lease; callers add the instance condition."""
    return sa.and_(
        jobs.c.due_at <= now,
        sa.or_(jobs.c.locked_by.is_(None), jobs.c.lock_expires_at.is_(None), jobs.c.lock_expires_at <= now),
    )


# The statements of the worker's hot path, built once (building an expression per call cost
# more than running it); values travel as bound parameters.
def _acquire_statement(dialect: str, values: dict | None = None) -> Any:
    """The claim statement; ``values`` fills its parameters in (to show its plan), else they are bound."""

    def param(name: str, type_: Any = None) -> Any:
        return sa.bindparam(name, values[name], type_=type_) if values else sa.bindparam(name, type_=type_)

    pick = (
        sa.select(jobs.c.id)
        .join(instances, instances.c.id == jobs.c.instance_id, isouter=True)
        .where(
            _due(param("now", jobs.c.due_at.type)),
            sa.or_(instances.c.status == "running", jobs.c.instance_id.is_(None)),
        )
        .order_by(jobs.c.due_at)
        .limit(param("limit", sa.Integer))
    )
    if dialect == "postgresql":
        pick = pick.with_for_update(of=jobs, skip_locked=True)
    return (
        jobs.update()
        .where(jobs.c.id.in_(pick.scalar_subquery()))
        .values(locked_by=param("worker", sa.String), lock_expires_at=param("expires", jobs.c.due_at.type))
        .returning(*_COLUMNS)
    )


def _hold_start_statement(dialect: str) -> Any:
    q = sa.select(jobs.c.id).where(jobs.c.id == sa.bindparam("job_id"), jobs.c.locked_by == sa.bindparam("worker"))
    return q.with_for_update() if dialect == "postgresql" else q


_SQL = {d: {"acquire": _acquire_statement(d), "hold_start": _hold_start_statement(d)} for d in ("sqlite", "postgresql")}


def acquire(tx: Tx, worker_id: str, now: datetime, limit: int, lease: float) -> list[Job]:
    """Claim up to ``limit`` due jobs of running instances for ``worker_id``, earliest due first.

    One statement: pick the rows (PostgreSQL skips rows another worker is claiming right now),
    stamp them with the worker and the end of the lease, return them.
    """
    params = {"now": now, "limit": limit, "worker": worker_id, "expires": now + timedelta(seconds=lease)}
    found = [Job.from_row(r) for r in tx.conn.execute(_SQL[tx.dialect]["acquire"], params).mappings()]
    found.sort(key=lambda j: (j.due_at, j.id))
    return found


def hold(tx: Tx, job: Job, worker_id: str) -> tuple[str, int | None] | None:
    """In the transaction that fires ``job`` alone: lock its instance row and check the claim is still ours.

    Returns the instance's status and version, or None when the job is gone or another worker took
    it over (our lease ran out). The instance is locked first, in the same order as every engine
    step, so a worker and a staff member completing a task on that instance never deadlock.
    """
    if job.instance_id is None:  # a start timer: no instance yet, only the claim to check
        found = tx.conn.execute(_SQL[tx.dialect]["hold_start"], {"job_id": job.id, "worker": worker_id}).scalar()
        return ("running", None) if found is not None else None
    return tx.hold(job.id, worker_id)


def explain_acquire(tx: Tx, now: datetime, limit: int) -> list[str]:
    """The database's plan for the claim statement (for the benchmark and docs/worker.md): it must
    walk ``ix_jobs_due`` from the oldest due row and stop after ``limit`` rows."""
    values = {"now": now, "limit": limit, "worker": "explain", "expires": now}
    sql = str(_acquire_statement(tx.dialect, values).compile(tx.conn, compile_kwargs={"literal_binds": True}))
    if tx.dialect == "postgresql":
        return [r[0] for r in tx.conn.exec_driver_sql("EXPLAIN " + sql)]
    return [
        f"{'  ' * _depth(r, rows)}{r[-1]}"
        for rows in [list(tx.conn.exec_driver_sql("EXPLAIN QUERY PLAN " + sql))]
        for r in rows
    ]


def _depth(row: Any, rows: list) -> int:
    parents = {r[0]: r[1] for r in rows}
    depth, node = 0, row[1]
    while node in parents:
        depth, node = depth + 1, parents[node]
    return depth


def renew(tx: Tx, worker_id: str, job_ids: list[int], now: datetime, lease: float) -> int:
    """Extend the lease of jobs this worker still holds (the heartbeat); returns how many."""
    if not job_ids:
        return 0
    q = (
        jobs.update()
        .where(jobs.c.id.in_(job_ids), jobs.c.locked_by == worker_id)
        .values(lock_expires_at=now + timedelta(seconds=lease))
    )
    return tx.conn.execute(q).rowcount


def release(tx: Tx, worker_id: str, job_ids: list[int]) -> int:
    """Give back jobs this worker holds but will not run (shutdown, suspended instance)."""
    if not job_ids:
        return 0
    q = (
        jobs.update()
        .where(jobs.c.id.in_(job_ids), jobs.c.locked_by == worker_id)
        .values(locked_by=None, lock_expires_at=None)
    )
    return tx.conn.execute(q).rowcount


def fail(tx: Tx, job: Job, error: str, now: datetime, backoff: timedelta) -> Job | None:
    """Record a failed attempt: attempts+1, the error, the next try ``backoff`` later, lease released.

    Only while the claim is still the one ``job`` was acquired with; None if another worker
    took it over meanwhile (it will try on its own).
    """
    due = now + backoff
    q = (
        jobs.update()
        .where(jobs.c.id == job.id, jobs.c.locked_by == job.locked_by)
        .values(attempts=jobs.c.attempts + 1, last_error=error[:4000], due_at=due, locked_by=None, lock_expires_at=None)
    )
    if tx.conn.execute(q).rowcount != 1:
        return None
    return Job(
        job.id,
        job.instance_id,
        job.element,
        job.spiff_task_id,
        job.kind,
        due,
        job.attempts + 1,
        None,
        None,
        error,
        job.process_id,
        job.fired,
    )


def get(tx: Tx, job_id: int) -> Job | None:
    row = tx.conn.execute(sa.select(*_COLUMNS).where(jobs.c.id == job_id)).mappings().first()
    return Job.from_row(row) if row else None


def count_due(tx: Tx, now: datetime) -> int:
    """How many jobs are due and claimable now (instances running); walks only the due range."""
    q = (
        sa.select(sa.func.count())
        .select_from(jobs.join(instances, instances.c.id == jobs.c.instance_id, isouter=True))
        .where(_due(now), sa.or_(instances.c.status == "running", jobs.c.instance_id.is_(None)))
    )
    return tx.conn.execute(q).scalar_one()


def pending_stats(tx: Tx, now: datetime) -> dict:
    """An overview for operators: pending, due, held by a live lease, failing, next due time."""
    j = jobs.c
    live = sa.and_(j.locked_by.is_not(None), j.lock_expires_at > now)
    q = sa.select(
        sa.func.count(),
        sa.func.coalesce(sa.func.sum(sa.case((j.due_at <= now, 1), else_=0)), 0),
        sa.func.coalesce(sa.func.sum(sa.case((live, 1), else_=0)), 0),
        sa.func.coalesce(sa.func.sum(sa.case((j.attempts > 0, 1), else_=0)), 0),
    )
    total, due, locked, failing = tx.conn.execute(q).one()
    first = tx.conn.execute(sa.select(j.due_at).where(j.due_at > now).order_by(j.due_at).limit(1)).scalar()
    next_due = first
    return {
        "pending": int(total),
        "due": int(due),
        "locked": int(locked),
        "failing": int(failing),
        "next_due": next_due.isoformat() if next_due else None,
    }


def park(tx: Tx, job: Job, error: str) -> bool:
    """After the last failed attempt: keep the row (unclaimed, attempts reset, error kept).

    The instance is in incident by then, so no worker claims the row; when an operator runs
    `hall retry`, the instance runs again and the timer fires on the next pass. (Deleting the
    row instead would lose the timer: the runtime only re-creates rows for timers it has not
    already indexed.)
    """
    q = (
        jobs.update()
        .where(jobs.c.id == job.id)
        .values(attempts=0, last_error=error[:4000], locked_by=None, lock_expires_at=None)
    )
    return tx.conn.execute(q).rowcount == 1


# -- firing in groups on PostgreSQL ------------------------------------------------------------------
# The worker fires the due timers of up to ``Worker.group`` distinct instances in one transaction of
# two round trips: BEGIN, the hold (lock the instances, check the claims, take ids for the human tasks
# the steps may create) and the load of those instances in one pipeline; after the steps, one
# statement that writes all of them (a WITH clause per kind of row: human tasks, jobs, task rows,
# instances with their version check, history; each list one JSON text parameter) and COMMIT in
# another. Per firing, that leaves the SpiffWorkflow work and a share of four statements and one WAL
# flush: firing one timer per transaction cost a flush and two round trips each, and the server's
# per-statement work (planning, executor start, commit) was more than half of a firing.
#
# The hold skips instances another transaction has locked (a clerk's step, another worker): a group
# never waits for a lock while it holds others, so two workers cannot deadlock; the worker fires
# those timers one by one after the group commits (``Worker._run``), waiting for the lock there.

# Each statement is planned at every execution (prepare=False; 0.3 ms a group): a prepared
# statement's generic plan is made for the tables as they were when the worker started, and a load
# planned while human_tasks was nearly empty scanned the whole table ever after (26 ms a group
# after 10,000 firings, until an ANALYZE of the table invalidated the plan).
_GROUP_HOLD = (
    b"SELECT j.id, i.status, i.version, nextval(pg_get_serial_sequence('human_tasks', 'id'))"
    b" FROM jobs j JOIN instances i ON i.id = j.instance_id"
    b" WHERE j.id = ANY(%(jobs)s) AND j.locked_by = %(worker)s"
    b" ORDER BY i.id FOR UPDATE OF i SKIP LOCKED"
)
# Sent after the hold in the same pipeline: a statement of its own, so its snapshot is taken once the
# row locks are ours (a statement that locks a row changed since its snapshot sees the new row but
# the old state of every other table). The columns the ordinary load reads (engine/store.py), so
# both loads return the same rows; its human tasks are filtered for 'ready' after the lookup by
# instance, which only ix_human_tasks_instance serves (see _PG_SQL["ready_human_tasks"]).
_ROW = tuple(_NAMES["instance"])
_HUMAN = tuple(_NAMES["ready_human_tasks"])
_GROUP_LOAD = (
    "SELECT " + ", ".join(f"i.{c}" for c in _ROW) + ","
    " t.ids, t.bodies,"
    " (SELECT json_agg(h ORDER BY h.id) FILTER (WHERE h.status = 'ready') FROM (SELECT "
    + ", ".join(_HUMAN)
    + " FROM human_tasks WHERE instance_id = i.id) h) AS human,"
    " (SELECT json_agg(json_build_array(j.spiff_task_id, j.due_at, j.element)) FROM jobs j"
    "   WHERE j.instance_id = i.id) AS jobs,"
    " EXISTS (SELECT 1 FROM instances c WHERE c.parent_id = i.id) AS has_children"
    " FROM instances i CROSS JOIN LATERAL (SELECT array_agg(task_id) AS ids, array_agg(body) AS bodies"
    "   FROM instance_tasks WHERE instance_id = i.id) t"
    " WHERE i.id = ANY(%(instances)s)"
).encode()
_TIMES = _TIME_COLUMNS
_SAVES: dict[tuple, bytes] = {}
_PAIRS = "json_to_recordset(%({})s::json) AS {}(i int, t text)"


def _utc(value: Any) -> datetime | None:
    if value is None:
        return None
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value.astimezone(UTC)


def _json(value: Any) -> str:
    return json.dumps(
        value,
        ensure_ascii=False,
        separators=(",", ":"),
        default=lambda v: v.isoformat() if isinstance(v, (datetime, date)) else str(v),
    )


def _save_sql(parts: tuple[bool, ...]) -> bytes:
    """The save of a group as one statement: a WITH clause per kind of row that its steps write."""
    sql = _SAVES.get(parts)
    if sql is not None:
        return sql
    new_task, job_deletes, job_adds, task_rows, removed, history_rows = parts
    with_ = []
    if new_task:
        cols = ", ".join(_HUMAN[: _HUMAN.index("warn_at") + 1])  # what a new task has (not completed_*)
        with_.append(
            f"ht AS (INSERT INTO human_tasks ({cols}) SELECT {cols}"
            " FROM json_populate_recordset(NULL::human_tasks, %(ht)s::json))"
        )
    if job_deletes:
        with_.append(
            "jd AS (DELETE FROM jobs USING "
            + _PAIRS.format("jd", "d")
            + " WHERE jobs.instance_id = d.i AND jobs.spiff_task_id = d.t)"
        )
    if job_adds:
        with_.append(
            "ja AS (INSERT INTO jobs (instance_id, element, spiff_task_id, kind, due_at, attempts, fired,"
            " created_at) SELECT instance_id, element, spiff_task_id, kind, due_at, 0, 0, created_at"
            " FROM json_populate_recordset(NULL::jobs, %(ja)s::json))"
        )
    if task_rows:
        with_.append(
            "tu AS (INSERT INTO instance_tasks (instance_id, task_id, body)"
            " SELECT i, t, b FROM json_to_recordset(%(tr)s::json) AS u(i int, t text, b text)"
            " ON CONFLICT (instance_id, task_id) DO UPDATE SET body = excluded.body)"
        )
    if removed:
        with_.append(
            "td AS (DELETE FROM instance_tasks USING "
            + _PAIRS.format("td", "d")
            + " WHERE instance_tasks.instance_id = d.i AND instance_tasks.task_id = d.t)"
        )
    if history_rows:
        with_.append(
            "hi AS (INSERT INTO history (instance_id, process_id, at, actor, kind, element, task_id, detail)"
            " SELECT x.instance_id, x.process_id, x.at, x.actor, x.kind, x.element, x.task_id, x.detail"
            " FROM json_populate_recordset(NULL::history, %(h)s::json) WITH ORDINALITY AS x"
            " ORDER BY x.ordinality)"
        )
    # a step sends its status only when it changed (engine/runtime.py): NULL keeps the stored one
    with_.append(
        "u AS (UPDATE instances SET version = x.version + 1, state = x.state, variables = x.variables,"
        " status = coalesce(x.status, instances.status), updated_at = x.updated_at, ended_at = x.ended_at,"
        " definition_id = x.definition_id, incident_element = x.incident_element,"
        " incident_error = x.incident_error FROM json_populate_recordset(NULL::instances, %(u)s::json) AS x"
        " WHERE instances.id = x.id AND instances.version = x.version RETURNING 1)"
    )
    # every WITH clause runs to completion whether read or not; a moved version divides by zero,
    # which fails the statement and the transaction, so the COMMIT sent after it cannot commit
    sql = _SAVES[parts] = ("WITH " + ", ".join(with_) + " SELECT 1 / (count(*) = %(n)s)::int FROM u").encode()
    return sql


class VersionMoved(Exception):
    """A group's save found an instance at another version than its hold read (cannot happen while
    the hold's locks are held; the group is rolled back and its timers fired one by one)."""


class GroupTx(Tx):
    """The worker's transaction on PostgreSQL for the timers of several instances (same connection,
    same transaction as the ``Tx`` it wraps): ``hold_group`` locks and loads them in one round trip,
    each step's save is queued, and ``commit`` writes all of them in one statement sent with COMMIT."""

    def __init__(self, tx: Tx) -> None:
        super().__init__(tx.conn, tx.dialect)
        self._steps: list[tuple] = []

    def hold_group(self, group: Sequence[Job], worker: str) -> dict[int, tuple[str, int, dict]]:
        """Lock the instances of ``group`` that no other transaction holds, check the claims and load
        them: {job id: (status, version, loaded instance)}; a job missing is not ours any more, or its
        instance was locked by someone else."""
        raw = self.conn.connection.dbapi_connection
        with raw.pipeline():
            hold = raw.cursor().execute(_GROUP_HOLD, {"jobs": [j.id for j in group], "worker": worker}, prepare=False)
            load = raw.cursor().execute(_GROUP_LOAD, {"instances": [j.instance_id for j in group]}, prepare=False)
        held = hold.fetchall()
        self._task_ids.extend(h[3] for h in held)
        loaded = {row["row"]["id"]: row for row in map(_loaded, load.fetchall())}
        instance_of = {j.id: j.instance_id for j in group}
        return {
            job_id: (status, version, loaded[instance_of[job_id]])
            for job_id, status, version, _task_id in held
            if instance_of[job_id] in loaded
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
        if not last:  # a step nested in the firing (a message to another instance): written now
            return super().save_step(
                instance_id,
                expected_version,
                instance,
                task_rows,
                removed_rows,
                job_deletes,
                job_adds,
                history_rows,
                last,
            )
        self._steps.append(
            (instance_id, expected_version, instance, task_rows, removed_rows, job_deletes, job_adds, history_rows)
        )
        return True  # checked by ``commit``: the instance is locked, its version cannot move meanwhile

    def commit(self) -> None:
        """Write every queued step in one statement and COMMIT, one round trip; VersionMoved (nothing
        written, transaction rolled back) if an instance was not at the version its step started from."""
        lists: dict[str, list] = {"ht": self._new_tasks, "jd": [], "ja": [], "tr": [], "td": [], "h": [], "u": []}
        for instance_id, version, instance, task_rows, removed, job_deletes, job_adds, history in self._steps:
            lists["jd"].extend({"i": instance_id, "t": t} for t in job_deletes)
            lists["ja"].extend(job_adds)
            lists["tr"].extend({"i": instance_id, "t": t, "b": b} for t, b in task_rows.items())
            lists["td"].extend({"i": instance_id, "t": t} for t in removed)
            lists["h"].extend(history)
            lists["u"].append(dict(instance, id=instance_id, version=version))
        self._steps, self._new_tasks = [], []
        params: dict[str, Any] = {name: _json(rows) for name, rows in lists.items() if rows}
        params["n"] = len(lists["u"])
        from psycopg.errors import DivisionByZero

        raw = self.conn.connection.dbapi_connection
        try:
            with raw.pipeline():
                raw.cursor().execute(
                    _save_sql(tuple(bool(lists[k]) for k in ("ht", "jd", "ja", "tr", "td", "h"))), params, prepare=False
                )
                raw.cursor().execute(b"COMMIT")
        except DivisionByZero:
            raise VersionMoved() from None


def _loaded(found: Any) -> dict:
    """A row of ``_GROUP_LOAD`` as the runtime's load returns it (engine/store.py ``Tx.load``)."""
    n = len(_ROW)
    row = dict(zip(_ROW, found[:n]))
    for k in ("started_at", "updated_at", "ended_at"):
        row[k] = _utc(row[k])
    task_ids, bodies, human, job_rows, has_children = found[n:]
    for h in human or ():
        for k in _TIMES.intersection(h):
            h[k] = _utc(h[k])
    return {
        "row": row,
        "task_rows": dict(zip(task_ids or (), bodies or ())),
        "human": human or [],
        "jobs": [{"spiff_task_id": t, "due_at": _utc(d), "element": e} for t, d, e in job_rows or ()],
        "has_children": has_children,
    }
