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
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from typing import Any, Callable, Mapping, Sequence

import sqlalchemy as sa

from .store import _NAMES, _TIME_COLUMNS, Tx, instances, jobs

_COLUMNS = (jobs.c.id, jobs.c.instance_id, jobs.c.element, jobs.c.spiff_task_id, jobs.c.kind, jobs.c.due_at,
            jobs.c.attempts, jobs.c.locked_by, jobs.c.lock_expires_at, jobs.c.last_error, jobs.c.process_id,
            jobs.c.fired)


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
    def from_row(cls, row: Any) -> "Job":
        return cls(**{c.name: row[c.name] for c in _COLUMNS})


def _due(now: Any) -> Any:
    """Due, not held by a live lease; callers add the instance condition."""
    return sa.and_(jobs.c.due_at <= now,
                   sa.or_(jobs.c.locked_by.is_(None), jobs.c.lock_expires_at.is_(None), jobs.c.lock_expires_at <= now))


# The statements of the worker's hot path, built once (building an expression per call cost
# more than running it); values travel as bound parameters.
def _acquire_statement(dialect: str, values: dict | None = None) -> Any:
    """The claim statement; ``values`` fills its parameters in (to show its plan), else they are bound."""
    def param(name: str, type_: Any = None) -> Any:
        return sa.bindparam(name, values[name], type_=type_) if values else sa.bindparam(name, type_=type_)

    pick = (sa.select(jobs.c.id)
            .join(instances, instances.c.id == jobs.c.instance_id, isouter=True)
            .where(_due(param("now", jobs.c.due_at.type)),
                   sa.or_(instances.c.status == "running", jobs.c.instance_id.is_(None)))
            .order_by(jobs.c.due_at)
            .limit(param("limit", sa.Integer)))
    if dialect == "postgresql":
        pick = pick.with_for_update(of=jobs, skip_locked=True)
    return (jobs.update().where(jobs.c.id.in_(pick.scalar_subquery()))
            .values(locked_by=param("worker", sa.String), lock_expires_at=param("expires", jobs.c.due_at.type))
            .returning(*_COLUMNS))


def _hold_start_statement(dialect: str) -> Any:
    q = sa.select(jobs.c.id).where(jobs.c.id == sa.bindparam("job_id"), jobs.c.locked_by == sa.bindparam("worker"))
    return q.with_for_update() if dialect == "postgresql" else q


_SQL = {d: {"acquire": _acquire_statement(d), "hold_start": _hold_start_statement(d)}
        for d in ("sqlite", "postgresql")}


def acquire(tx: Tx, worker_id: str, now: datetime, limit: int, lease: float) -> list[Job]:
    """Claim up to ``limit`` due jobs of running instances for ``worker_id``, earliest due first.

    One statement: pick the rows (PostgreSQL skips rows another worker is claiming right now),
    stamp them with the worker and the end of the lease, return them.
    """
    params = {"now": now, "limit": limit, "worker": worker_id, "expires": now + timedelta(seconds=lease)}
    found = [Job.from_row(r) for r in tx.conn.execute(_SQL[tx.dialect]["acquire"], params).mappings()]
    found.sort(key=lambda j: (j.due_at, j.id))
    return found


def hold(tx: Tx, job: Job, worker_id: str, load: bool = True,
         ahead: int | None = None) -> tuple[str, int | None, Any] | None:
    """In the transaction that fires ``job``: lock its instance row and check the claim is still ours.

    Returns the instance's status, version and (on PostgreSQL) the instance as loaded in the same
    round trip, so the step that fires reads nothing again; or None when the job is gone or another
    worker took it over (our lease ran out). The instance is locked first, in the same order as
    every engine step, so a worker and a staff member completing a task on that instance never
    deadlock. On PostgreSQL, ``load=False`` leaves the load out (the caller read the instance ahead),
    and ``ahead`` reads another instance along, unlocked, for the caller's next job (``FiringTx.ahead``).
    """
    params = {"job_id": job.id, "worker": worker_id}
    if job.instance_id is None:  # a start timer: no instance yet, only the claim to check
        found = tx.conn.execute(_SQL[tx.dialect]["hold_start"], params).scalar()
        return ("running", None, None) if found is not None else None
    if isinstance(tx, FiringTx):  # PostgreSQL: the load rides along in the same round trip
        held, loaded = tx.hold_and_load(job.id, worker_id, job.instance_id if load else None, ahead)
    else:
        held, loaded = tx.hold(job.id, worker_id), None
    return (held[0], held[1], loaded) if held is not None else None


def explain_acquire(tx: Tx, now: datetime, limit: int) -> list[str]:
    """The database's plan for the claim statement (for the benchmark and docs/worker.md): it must
    walk ``ix_jobs_due`` from the oldest due row and stop after ``limit`` rows."""
    values = {"now": now, "limit": limit, "worker": "explain", "expires": now}
    sql = str(_acquire_statement(tx.dialect, values).compile(tx.conn, compile_kwargs={"literal_binds": True}))
    if tx.dialect == "postgresql":
        return [r[0] for r in tx.conn.exec_driver_sql("EXPLAIN " + sql)]
    return [f"{'  ' * _depth(r, rows)}{r[-1]}" for rows in [list(tx.conn.exec_driver_sql("EXPLAIN QUERY PLAN " + sql))]
            for r in rows]


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
    q = (jobs.update().where(jobs.c.id.in_(job_ids), jobs.c.locked_by == worker_id)
         .values(lock_expires_at=now + timedelta(seconds=lease)))
    return tx.conn.execute(q).rowcount


def release(tx: Tx, worker_id: str, job_ids: list[int]) -> int:
    """Give back jobs this worker holds but will not run (shutdown, suspended instance)."""
    if not job_ids:
        return 0
    q = (jobs.update().where(jobs.c.id.in_(job_ids), jobs.c.locked_by == worker_id)
         .values(locked_by=None, lock_expires_at=None))
    return tx.conn.execute(q).rowcount


def fail(tx: Tx, job: Job, error: str, now: datetime, backoff: timedelta) -> Job | None:
    """Record a failed attempt: attempts+1, the error, the next try ``backoff`` later, lease released.

    Only while the claim is still the one ``job`` was acquired with; None if another worker
    took it over meanwhile (it will try on its own).
    """
    due = now + backoff
    q = (jobs.update().where(jobs.c.id == job.id, jobs.c.locked_by == job.locked_by)
         .values(attempts=jobs.c.attempts + 1, last_error=error[:4000], due_at=due, locked_by=None,
                 lock_expires_at=None))
    if tx.conn.execute(q).rowcount != 1:
        return None
    return Job(job.id, job.instance_id, job.element, job.spiff_task_id, job.kind, due, job.attempts + 1,
               None, None, error, job.process_id, job.fired)


def get(tx: Tx, job_id: int) -> Job | None:
    row = tx.conn.execute(sa.select(*_COLUMNS).where(jobs.c.id == job_id)).mappings().first()
    return Job.from_row(row) if row else None


def count_due(tx: Tx, now: datetime) -> int:
    """How many jobs are due and claimable now (instances running); walks only the due range."""
    q = (sa.select(sa.func.count())
         .select_from(jobs.join(instances, instances.c.id == jobs.c.instance_id, isouter=True))
         .where(_due(now), sa.or_(instances.c.status == "running", jobs.c.instance_id.is_(None))))
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
    return {"pending": int(total), "due": int(due), "locked": int(locked), "failing": int(failing),
            "next_due": next_due.isoformat() if next_due else None}


def park(tx: Tx, job: Job, error: str) -> bool:
    """After the last failed attempt: keep the row (unclaimed, attempts reset, error kept).

    The instance is in incident by then, so no worker claims the row; when an operator runs
    `hall retry`, the instance runs again and the timer fires on the next pass. (Deleting the
    row instead would lose the timer: the runtime only re-creates rows for timers it has not
    already indexed.)
    """
    q = (jobs.update().where(jobs.c.id == job.id)
         .values(attempts=0, last_error=error[:4000], locked_by=None, lock_expires_at=None))
    return tx.conn.execute(q).rowcount == 1


# -- the firing transaction on PostgreSQL ------------------------------------------------------------
# A fired timer is one transaction of two round trips. psycopg's pipeline costs ~40 µs of client CPU
# per statement, more than the server spends on these small statements, so each round trip carries
# as few statements as the work allows: BEGIN, the hold, the load (one SELECT with the task rows as
# two arrays and the human tasks and jobs as JSON); then the save (one statement whose WITH clauses
# write the human task, jobs, task rows, instance and history) and COMMIT. The save's lists travel as
# JSON text: psycopg builds a dumper per array parameter (~50 µs each), a text parameter costs nothing.
# Read-ahead: the hold also reads the instance of the worker's next job (same statement, no lock), and
# the worker restores it while this job's COMMIT is on its way, so the next job's round trip carries
# no load and its cold restore costs no waiting time; the next hold's version says whether it still holds.

# set_config: the save is planned once per connection, not at every firing (see _save_sql).
_HOLD = (b"SELECT i.status, i.version, nextval(pg_get_serial_sequence('human_tasks', 'id')),"
         b" set_config('plan_cache_mode', 'force_generic_plan', true)"
         b" FROM jobs j JOIN instances i ON i.id = j.instance_id"
         b" WHERE j.id = %(job_id)s AND j.locked_by = %(worker)s FOR UPDATE OF i")
# Sent after the hold in the same pipeline: a statement of its own, so its snapshot is taken once the
# row lock is ours (a SELECT that waits for a FOR UPDATE lock sees the new row but old other tables).
# the columns the ordinary load reads (engine/store.py), so both loads return the same rows
_ROW = tuple(_NAMES["instance"])
_HUMAN = tuple(_NAMES["ready_human_tasks"])
_LOAD = ("SELECT " + ", ".join(f"i.{c}" for c in _ROW) + ","
         " t.ids, t.bodies,"
         " (SELECT json_agg(h ORDER BY h.id) FROM (SELECT " + ", ".join(_HUMAN) + " FROM human_tasks"
         "   WHERE instance_id = i.id AND status = 'ready') h) AS human,"
         " (SELECT json_agg(json_build_array(j.spiff_task_id, j.due_at, j.element)) FROM jobs j"
         "   WHERE j.instance_id = i.id) AS jobs,"
         " EXISTS (SELECT 1 FROM instances c WHERE c.parent_id = i.id) AS has_children"
         " FROM instances i CROSS JOIN LATERAL (SELECT array_agg(task_id) AS ids, array_agg(body) AS bodies"
         "   FROM instance_tasks WHERE instance_id = i.id) t"
         " WHERE i.id = %(id)s").encode()
# The hold with the unlocked read of the next job's instance (``ahead``, NULL for none) as one statement:
# that read needs no snapshot taken after the lock, the version it returns is checked when its job runs.
_HOLD_AHEAD = (b"WITH h AS (" + _HOLD + b") SELECT h.*, a.* FROM h LEFT JOIN LATERAL ("
               + _LOAD.replace(b"%(id)s", b"%(ahead)s") + b") a ON true")
_TIMES = _TIME_COLUMNS
_SAVES: dict[tuple, bytes] = {}


def _utc(value: Any) -> datetime | None:
    if value is None:
        return None
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value.astimezone(timezone.utc)


def _json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"),
                      default=lambda v: v.isoformat() if isinstance(v, (datetime, date)) else str(v))


def _save_sql(parts: tuple) -> bytes:
    """The save of one firing as one statement: a WITH clause per kind of row that this step writes."""
    sql = _SAVES.get(parts)
    if sql is not None:
        return sql
    new_task, job_deletes, job_adds, task_rows, removed, history_rows, status = parts
    with_ = []
    if new_task:
        cols = ", ".join(_HUMAN[:_HUMAN.index("warn_at") + 1])  # what a new task has (not completed_*)
        with_.append(f"ht AS (INSERT INTO human_tasks ({cols}) SELECT {cols}"
                     " FROM json_populate_recordset(NULL::human_tasks, %(ht)s::json))")
    if job_deletes:
        with_.append("jd AS (DELETE FROM jobs WHERE instance_id = %(id)s"
                     " AND spiff_task_id IN (SELECT json_array_elements_text(%(jd)s::json)))")
    if job_adds:
        with_.append("ja AS (INSERT INTO jobs (instance_id, element, spiff_task_id, kind, due_at, attempts, fired,"
                     " created_at) SELECT instance_id, element, spiff_task_id, kind, due_at, 0, 0, created_at"
                     " FROM json_populate_recordset(NULL::jobs, %(ja)s::json))")
    if task_rows:
        with_.append("tu AS (INSERT INTO instance_tasks (instance_id, task_id, body)"
                     " SELECT %(id)s, t, b FROM json_each_text(%(tr)s::json) AS u(t, b)"
                     " ON CONFLICT (instance_id, task_id) DO UPDATE SET body = excluded.body)")
    if removed:
        with_.append("td AS (DELETE FROM instance_tasks WHERE instance_id = %(id)s"
                     " AND task_id IN (SELECT json_array_elements_text(%(td)s::json)))")
    if history_rows:
        with_.append("hi AS (INSERT INTO history (instance_id, process_id, at, actor, kind, element, task_id, detail)"
                     " SELECT x.instance_id, x.process_id, x.at, x.actor, x.kind, x.element, x.task_id, x.detail"
                     " FROM json_populate_recordset(NULL::history, %(h)s::json) WITH ORDINALITY AS x"
                     " ORDER BY x.ordinality)")
    with_.append("u AS (UPDATE instances SET version = %(version)s + 1, state = %(state)s, variables = %(variables)s,"
                 + (" status = %(status)s," if status else "") + " updated_at = %(updated_at)s, ended_at = %(ended_at)s,"
                 " definition_id = %(definition_id)s, incident_element = %(incident_element)s,"
                 " incident_error = %(incident_error)s WHERE id = %(id)s AND version = %(version)s RETURNING 1)")
    # PostgreSQL would plan this statement at every execution (its generic plan looks dearer than a
    # custom one, ~0.2 ms of planning per firing); the hold forces the generic plan for the transaction.
    # every WITH clause runs to completion whether read or not; a moved version divides by zero,
    # which fails the statement and the transaction, so the COMMIT sent after it cannot commit
    sql = _SAVES[parts] = ("WITH " + ", ".join(with_) + " SELECT 1 / count(*) FROM u").encode()
    return sql


class FiringTx(Tx):
    """The worker's transaction on PostgreSQL (same connection, same transaction as the ``Tx`` it
    wraps): the hold and the cold load in one round trip with the BEGIN, the save and the COMMIT in
    another, with one statement for each rather than one per table; the next job's instance is
    read along with the hold (``ahead``) and restored by ``while_committing``."""

    def __init__(self, tx: Tx, while_committing: Callable[[Tx], None] | None = None) -> None:
        super().__init__(tx.conn, tx.dialect)
        self.ahead: dict | None = None  # the instance read along for the worker's next job, if any
        self.while_committing = while_committing  # client work to do while the COMMIT is on its way

    def hold_and_load(self, job_id: int, worker: str, instance_id: int | None,
                      ahead: int | None = None) -> tuple[tuple[str, int] | None, Any]:
        """BEGIN, the hold with the read of instance ``ahead``, and the load (``instance_id`` None:
        none): one round trip."""
        raw = self.conn.connection.dbapi_connection
        with raw.pipeline():
            hold = raw.cursor().execute(_HOLD_AHEAD, {"job_id": job_id, "worker": worker, "ahead": ahead})
            load = raw.cursor().execute(_LOAD, {"id": instance_id}) if instance_id is not None else None
        held = hold.fetchone()
        if held is None:
            return None, None
        self._task_ids.append(held[2])
        self.ahead = _loaded(held[4:]) if held[4] is not None else None
        return (held[0], held[1]), _loaded(load.fetchone()) if load is not None else None

    def save_step(self, instance_id: int, expected_version: int, instance: Mapping[str, Any],
                  task_rows: Mapping[str, str], removed_rows: Sequence[str], job_deletes: Sequence[str],
                  job_adds: Sequence[Mapping[str, Any]], history_rows: Sequence[Mapping[str, Any]],
                  last: bool = False) -> bool:
        if not last:  # a step nested in the firing (a message to a parent)
            return super().save_step(instance_id, expected_version, instance, task_rows, removed_rows,
                                     job_deletes, job_adds, history_rows, last)
        new_tasks, self._new_tasks = self._new_tasks, []
        # each kind of row that this step writes is one WITH clause of the save, its rows one JSON parameter
        lists = {"ht": new_tasks, "jd": list(job_deletes), "ja": job_adds, "tr": task_rows,
                 "td": list(removed_rows), "h": history_rows}
        parts = (*(bool(rows) for rows in lists.values()), "status" in instance)  # status: only when it changed
        params = dict(instance, id=instance_id, version=expected_version)
        params.update((name, _json(rows)) for name, rows in lists.items() if rows)
        from psycopg.errors import DivisionByZero
        raw = self.conn.connection.dbapi_connection
        try:
            with raw.pipeline():  # the save and the COMMIT: one round trip
                raw.cursor().execute(_save_sql(parts), params)
                raw.cursor().execute(b"COMMIT")  # sent: the server works on both from here on
                if self.while_committing is not None:
                    self.while_committing(self)
        except DivisionByZero:  # the version moved: the statement failed, the transaction is rolled back
            return False
        return True


def _loaded(found: Any) -> dict | None:
    """A row of ``_LOAD`` as the runtime's load returns it (engine/store.py ``Tx.load``)."""
    if found is None:
        return None
    n = len(_ROW)
    row = dict(zip(_ROW, found[:n]))
    for k in ("started_at", "updated_at", "ended_at"):
        row[k] = _utc(row[k])
    task_ids, bodies, human, job_rows, has_children = found[n:]
    for h in human or ():
        for k in _TIMES.intersection(h):
            h[k] = _utc(h[k])
    return {"row": row, "task_rows": dict(zip(task_ids or (), bodies or ())), "human": human or [],
            "jobs": [{"spiff_task_id": t, "due_at": _utc(d), "element": e} for t, d, e in job_rows or ()],
            "has_children": has_children}


def firing_tx(tx: Tx, job: Job, while_committing: Callable[[Tx], None] | None = None) -> Tx:
    """The transaction a worker fires one job in: on PostgreSQL the two-round-trip path above, with
    ``while_committing`` run between sending the save and COMMIT and reading their results. Not for
    a start timer: its job row is rescheduled after the new instance's save, in the same transaction."""
    if tx.dialect != "postgresql" or job.instance_id is None:
        return tx
    return FiringTx(tx, while_committing)
