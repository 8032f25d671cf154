"""The jobs table: every statement on it, by name (``queries/<dialect>.sql``), in one place.

The runtime writes one row per waiting timer inside each step (the step's save runs this folder's
``delete_job_of``/``insert_job`` by name); this module claims due rows for a worker, and releases,
reschedules or deletes them, and keeps the start timers of processes. The database is solely
responsible for consistency: claiming is one statement (PostgreSQL: ``FOR UPDATE SKIP LOCKED``, so
any number of workers on any number of hosts take disjoint rows; SQLite: one writer at a time under
``BEGIN IMMEDIATE``). A claim is a lease: ``locked_by`` names the worker (``host:pid``) and
``lock_expires_at`` ends it; a row whose lease ran out is claimable again, so a worker killed with
-9 loses its jobs to the others after the lease.

The due lookup walks the ``ix_jobs_due`` index from the oldest due time up to *now* and stops
after ``limit`` rows: its cost does not depend on how many timers are pending (due later).
All times are the engine clock's, passed in by the caller.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, fields
from datetime import datetime, timedelta
from typing import Any

from ..store import Tx, driver, dumps, loads, utc


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
    def from_row(cls, row: Mapping[str, Any]) -> Job:
        return cls(**{name: row[name] for name in _FIELDS})


_FIELDS = tuple(f.name for f in fields(Job))


def _ids(tx: Tx, ids: Sequence[int]) -> Any:
    """A list of ids as the dialect's statement takes it: an array (PostgreSQL), JSON text (SQLite)."""
    return list(ids) if tx.dialect == "postgresql" else dumps(list(ids))


def acquire(tx: Tx, worker_id: str, now: datetime, limit: int, lease: float) -> list[Job]:
    """Claim up to ``limit`` due jobs of running instances for ``worker_id``, earliest due first.

    One statement: pick the rows (PostgreSQL skips rows another worker is claiming right now),
    stamp them with the worker and the end of the lease, return them.
    """
    params = {
        "now": tx.time(now),
        "limit": limit,
        "worker": worker_id,
        "expires": tx.time(now + timedelta(seconds=lease)),
    }
    found = [Job.from_row(r) for r in tx.rows("acquire", params)]
    found.sort(key=lambda j: (j.due_at, j.id))
    return found


def hold(tx: Tx, job: Job, worker_id: str) -> tuple[str, int | None] | None:
    """In the transaction that fires ``job`` alone: lock its instance row and check the claim is still ours.

    Returns the instance's status and version, or None when the job is gone or another worker took
    it over (our lease ran out). The instance is locked first, in the same order as every engine
    step, so a worker and a staff member completing a task on that instance never deadlock.
    """
    if job.instance_id is None:  # a start timer: no instance yet, only the claim to check
        found = tx.run("hold_start", {"job_id": job.id, "worker": worker_id}).fetchone()
        return ("running", None) if found is not None else None
    held = tx.run("hold_job", {"job_id": job.id, "worker": worker_id}).fetchone()
    return (held[0], held[1]) if held else None


def explain_acquire(tx: Tx, now: datetime, limit: int) -> list[str]:
    """The database's plan for the claim statement (for the benchmark and docs/worker.md): it must
    walk ``ix_jobs_due`` from the oldest due row and stop after ``limit`` rows."""
    params = {"now": tx.time(now), "limit": limit, "worker": "explain", "expires": tx.time(now)}
    raw = driver(tx.conn)
    if tx.dialect == "postgresql":
        return [r[0] for r in raw.execute(b"EXPLAIN " + tx.sql("acquire"), params, prepare=False).fetchall()]
    rows = raw.execute("EXPLAIN QUERY PLAN " + tx.sql("acquire"), params).fetchall()
    return [f"{'  ' * _depth(r, rows)}{r[-1]}" for r in rows]


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
    expires = tx.time(now + timedelta(seconds=lease))
    return tx.run("renew", {"ids": _ids(tx, job_ids), "worker": worker_id, "expires": expires}).rowcount


def release(tx: Tx, worker_id: str, job_ids: list[int]) -> int:
    """Give back jobs this worker holds but will not run (shutdown, suspended instance)."""
    if not job_ids:
        return 0
    return tx.run("release", {"ids": _ids(tx, job_ids), "worker": worker_id}).rowcount


def fail(tx: Tx, job: Job, error: str, now: datetime, backoff: timedelta) -> Job | None:
    """Record a failed attempt: attempts+1, the error, the next try ``backoff`` later, lease released.

    Only while the claim is still the one ``job`` was acquired with; None if another worker
    took it over meanwhile (it will try on its own).
    """
    due = now + backoff
    params = {"id": job.id, "locked_by": job.locked_by, "error": error[:4000], "due": tx.time(due)}
    if tx.run("fail", params).rowcount != 1:
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


def park(tx: Tx, job: Job, error: str) -> bool:
    """After the last failed attempt: keep the row (unclaimed, attempts reset, error kept).

    The instance is in incident by then, so no worker claims the row; when an operator runs
    `hall retry`, the instance runs again and the timer fires on the next pass. (Deleting the
    row instead would lose the timer: the runtime only re-creates rows for timers it has not
    already indexed.)
    """
    return tx.run("park", {"id": job.id, "error": error[:4000]}).rowcount == 1


def get(tx: Tx, job_id: int) -> Job | None:
    """One job row by id, or None."""
    rows = tx.rows("get_job", {"id": job_id})
    return Job.from_row(rows[0]) if rows else None


def count_due(tx: Tx, now: datetime) -> int:
    """How many jobs are due and claimable now (instances running); walks only the due range."""
    return tx.run("count_due", {"now": tx.time(now)}).fetchone()[0]


def pending_stats(tx: Tx, now: datetime) -> dict:
    """An overview for operators: pending, due, held by a live lease, failing, next due time."""
    params = {"now": tx.time(now)}
    total, due, locked, failing = tx.run("pending_stats", params).fetchone()
    first = tx.run("next_due", params).fetchone()
    next_due = utc(first[0]) if first else None
    return {
        "pending": int(total),
        "due": int(due),
        "locked": int(locked),
        "failing": int(failing),
        "next_due": next_due.isoformat() if next_due else None,
    }


# -- an instance's timers, outside a step's save ---------------------------------------------------
def pending_timers(tx: Tx, now: datetime) -> dict[int, dict[str, datetime]]:
    """The timers of cases not yet due, by case: {instance: {spiff task id: when the timer started}}
    (`hall calendar refresh` counts each again from there, R-T1)."""
    out: dict[int, dict[str, datetime]] = {}
    for r in tx.rows("pending_timers", {"now": tx.time(now)}):
        out.setdefault(r["instance_id"], {})[r["spiff_task_id"]] = r["created_at"]
    return out


def jobs_of(tx: Tx, instance_id: int) -> list[dict[str, Any]]:
    """An instance's waiting timers: id, spiff_task_id, due_at, element."""
    return tx.rows("jobs_of", {"id": instance_id})


def add_job(tx: Tx, **values: Any) -> int:
    """One job row (instance_id, element, spiff_task_id, kind, due_at, created_at; process_id,
    attempts and fired optional); returns its id."""
    params = {"process_id": None, "attempts": 0, "fired": 0, **values}
    params["due_at"], params["created_at"] = tx.time(params["due_at"]), tx.time(params["created_at"])
    if tx.dialect == "sqlite":
        return tx.run("add_job", params).lastrowid
    return tx.run("add_job", params).fetchone()[0]


def delete_jobs(tx: Tx, instance_id: int, spiff_task_id: str | None = None) -> None:
    """An instance's jobs, or its job of one timer, deleted (a cancelled case waits for nothing)."""
    if spiff_task_id is None:
        tx.run("delete_jobs_of", {"i": instance_id})
    else:
        tx.run("delete_job_of", {"i": instance_id, "t": spiff_task_id})


def cases_at(tx: Tx, process_id: str, elements: Sequence[str], now: datetime) -> list[dict[str, Any]]:
    """Running instances of a process now at one of `elements`: a ready task, or a timer due by now."""
    names = list(elements) if tx.dialect == "postgresql" else dumps(list(elements))
    params = {"process_id": process_id, "elements": names, "now": tx.time(now)}
    out = []
    for row in tx.rows("cases_at", params):
        due = row["due_at"]
        out.append(
            {
                "instance": row["id"],
                "element": row["element"],
                "business_key": row["business_key"],
                "due_at": due.isoformat() if due else None,
                "variables": loads(row["variables"]),
            }
        )
    return out


# -- start timers of processes ------------------------------------------------------------------------
def start_jobs(tx: Tx) -> list[dict[str, Any]]:
    """The start timers of every process (process_id, element, due_at, fired), soonest first."""
    return tx.rows("start_jobs", None)


def replace_start_jobs(tx: Tx, process_id: str, rows: Sequence[Mapping[str, Any]]) -> None:
    """The start timers of a process: the new version's schedule replaces the old one's."""
    tx.run("delete_start_jobs", {"process_id": process_id})
    if rows:
        tx.run(
            "insert_start_job",
            [
                dict(r, process_id=process_id, due_at=tx.time(r["due_at"]), created_at=tx.time(r["created_at"]))
                for r in rows
            ],
        )


def reschedule_start_job(tx: Tx, job_id: int, due_at: datetime | None, fired: int) -> None:
    """After a start timer fired: its next firing, or no row when the cycle is over."""
    if due_at is None:
        tx.run("delete_job", {"id": job_id})
    else:
        tx.run("reschedule_start_job", {"id": job_id, "due_at": tx.time(due_at), "fired": fired})
