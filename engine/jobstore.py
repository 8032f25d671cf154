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

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa

from .store import Tx, instances, jobs

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
def _acquire_statement(dialect: str) -> Any:
    pick = (sa.select(jobs.c.id)
            .join(instances, instances.c.id == jobs.c.instance_id, isouter=True)
            .where(_due(sa.bindparam("now")), sa.or_(instances.c.status == "running", jobs.c.instance_id.is_(None)))
            .order_by(jobs.c.due_at)
            .limit(sa.bindparam("limit", type_=sa.Integer)))
    if dialect == "postgresql":
        pick = pick.with_for_update(of=jobs, skip_locked=True)
    return (jobs.update().where(jobs.c.id.in_(pick.scalar_subquery()))
            .values(locked_by=sa.bindparam("worker"), lock_expires_at=sa.bindparam("expires", type_=jobs.c.due_at.type))
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


def hold(tx: Tx, job: Job, worker_id: str) -> tuple[str, int | None, Any] | None:
    """In the transaction that fires ``job``: lock its instance row and check the claim is still ours.

    Returns the instance's status, version and (on PostgreSQL) the instance as loaded in the same
    round trip, so the step that fires reads nothing again; or None when the job is gone or another
    worker took it over (our lease ran out). The instance is locked first, in the same order as
    every engine step, so a worker and a staff member completing a task on that instance never
    deadlock.
    """
    params = {"job_id": job.id, "worker": worker_id}
    if job.instance_id is None:  # a start timer: no instance yet, only the claim to check
        found = tx.conn.execute(_SQL[tx.dialect]["hold_start"], params).scalar()
        return ("running", None, None) if found is not None else None
    if tx.dialect == "postgresql":  # the load rides along in the same round trip
        held, loaded = tx.hold_and_load(job.id, worker_id, job.instance_id)
    else:
        held, loaded = tx.hold(job.id, worker_id), None
    return (held[0], held[1], loaded) if held is not None else None


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
