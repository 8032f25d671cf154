"""The job runner behind `hall worker`: fires due timers, on one host or many.

The loop is flat (rq's shape): claim a batch of due jobs, fire each in its own transaction,
renew the lease while working, sleep when there is nothing to do, release what is held on the
way out. Every statement on the jobs table goes through :mod:`engine.jobs.table`; every change to
an instance goes through the runtime (``fire_timer``, ``record_incident``), so a fired timer,
the instance's new state, its history and its next jobs commit together or not at all.

* ``once=True`` fires everything due now and returns (for cron).
* A job whose firing raises is rolled back and retried later with exponential backoff; after
  ``max_attempts`` failures the instance is marked ``incident`` at the timer (the job row stays,
  unclaimable while the instance is not running, so `hall retry` fires the timer again).
* SIGTERM/SIGINT: the job in hand finishes, the rest of the batch is released, the loop
  returns normally. A second signal stops at once (the open transaction rolls back).
* Time is the engine's clock: leases, due times and backoff are all in clock time, so tests and
  `hall --now` rehearsals never sleep for a timer.
"""

from __future__ import annotations

import logging
import os
import signal
import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta
from typing import Any

from ..clock import Clock
from ..store import Store
from . import table
from .group import GroupTx
from .table import Job

log = logging.getLogger(__name__)


def default_worker_id() -> str:
    """``host:pid``: unique among live workers, readable in `locked_by`."""
    return f"{socket.gethostname()}:{os.getpid()}"


@dataclass(frozen=True)
class Event:
    """Something the worker did with one job, for the CLI to print.

    ``kind``: fired | stale (timer no longer waits; row deleted) | retry (failed; ``next_due``
    set) | incident (failed ``max_attempts`` times) | released (instance not running) | lost
    (another worker took the job over after our lease ran out) | error (could not even record a
    failure; the lease will expire and another attempt follows) | group_failed (a group of timers
    fired together failed and was rolled back, ``error`` says why; ``job`` is its first job, and
    each of its jobs then fires alone, with its own events).
    """

    kind: str
    job: Job
    at: datetime
    error: str | None = None
    next_due: datetime | None = None


@dataclass
class Summary:
    worker: str
    fired: int = 0
    stale: int = 0
    retried: int = 0
    incidents: int = 0
    released: int = 0
    lost: int = 0
    errors: int = 0
    batches: int = 0
    seconds: float = 0.0
    stopped_by: str | None = None
    counts: dict = field(default_factory=dict)

    def as_dict(self) -> dict:
        return asdict(self)


class Worker:
    """Fires due timers from the jobs table with one store, one runtime and the engine's clock."""

    def __init__(
        self,
        store: Store,
        runtime: Any,
        clock: Clock,
        *,
        worker_id: str | None = None,
        batch: int = 100,
        lease: float = 60.0,
        poll: float = 5.0,
        max_attempts: int = 5,
        backoff: float = 30.0,
        max_backoff: float = 3600.0,
        group: int = 50,
        on_event: Callable[[Event], None] | None = None,
    ) -> None:
        if batch < 1 or lease <= 0 or poll < 0 or max_attempts < 1 or group < 1:
            raise ValueError("batch, group and max_attempts must be at least 1, lease positive, poll not negative")
        self.store, self.runtime, self.clock = store, runtime, clock
        self.worker_id = worker_id or default_worker_id()
        self.actor = f"worker {self.worker_id}"
        self.batch, self.lease, self.poll = batch, lease, poll
        # PostgreSQL: the timers of up to `group` instances fire in one transaction (GroupTx); 1: one each
        self.group = group if store.dialect == "postgresql" else 1
        self.max_attempts, self.backoff, self.max_backoff = max_attempts, backoff, max_backoff
        self.on_event = on_event or (lambda event: None)
        self.summary = Summary(self.worker_id)
        self._held: list[int] = []
        self._renew_at: datetime | None = None
        self._stopping: str | None = None

    # -- the loop ---------------------------------------------------------------------------
    def run(self, once: bool = False, install_signals: bool = True) -> Summary:
        """Work until stopped (or, with ``once``, until nothing due is left to claim)."""
        started = time.perf_counter()
        with self._signals(install_signals):
            try:
                while not self._stopping:
                    claimed = self.work_batch()
                    if claimed == 0:
                        if once:
                            break
                        self._sleep(self.poll)
            finally:
                self._release_held()
                self.summary.seconds = time.perf_counter() - started
                self.summary.stopped_by = self._stopping
        return self.summary

    def stop(self, reason: str = "stop") -> None:
        """Ask the loop to finish the job in hand and return."""
        self._stopping = reason

    def work_batch(self) -> int:
        """Claim one batch and work through it; returns how many jobs were claimed."""
        now = self.clock.now()
        with self.store.tx() as tx:
            batch = table.acquire(tx, self.worker_id, now, self.batch, self.lease)
        if not batch:
            return 0
        self.summary.batches += 1
        self._held = [j.id for j in batch]
        self._renew_at = now + timedelta(seconds=self.lease / 2)
        pending = list(batch)
        while pending and not self._stopping:
            self._heartbeat()
            alone, pending = (
                (self._fire_group(pending[: self.group]), pending[self.group :])
                if self.group > 1
                else (pending[:1], pending[1:])
            )
            for job in alone:
                if self._stopping:
                    break
                self._run(job)
                self._held.remove(job.id)
        self._release_held()
        return len(batch)

    # -- a group of jobs (PostgreSQL) -----------------------------------------------------------
    def _fire_group(self, group: list[Job]) -> list[Job]:
        """Fire the timers of distinct, unlinked, running instances of ``group`` in one transaction
        (engine/table.py, GroupTx); returns the jobs left to fire one by one, in order: start
        timers, a second job of an instance, instances locked by someone else, linked or not
        running, claims lost, and the whole group if anything in it failed (rolled back first)."""
        candidates = [j for j in group if j.instance_id is not None]
        if len(candidates) < 2:
            return group
        done: list[tuple[Job, str]] = []
        cases: set[int] = set()
        current = candidates[0]  # the job in hand when something fails (hold and commit: the first)
        try:
            with self.store.tx() as tx:
                gtx = GroupTx(tx)
                held = gtx.hold_group(candidates, self.worker_id)
                for job in candidates:
                    status, version, loaded = held.pop(job.id, (None, None, None))
                    if (
                        status != "running"
                        or loaded is None
                        or job.instance_id is None
                        or loaded["row"]["parent_id"] is not None
                        or loaded["has_children"]
                        or job.instance_id in cases
                    ):
                        continue  # alone: it may wait for a lock, write now, or release the job
                    current = job
                    cases.add(job.instance_id)
                    fired = self.runtime.fire_timer(
                        gtx, job.instance_id, job.spiff_task_id, self.actor, version, loaded
                    )
                    done.append((job, "fired" if fired else "stale"))
                current = candidates[0]
                if done:
                    gtx.commit()
        except Exception as exc:  # noqa: BLE001 - rolled back: every job of the group fires alone, failures are retried there
            for job, _ in done:
                self.runtime.forget(job.instance_id)
            self._group_failed(current, len(candidates), exc)
            return group
        now = self.clock.now()
        for job, kind in done:
            setattr(self.summary, kind, getattr(self.summary, kind) + 1)
            self._held.remove(job.id)
            self.on_event(Event(kind, job, now))
        fired = {job.id for job, _ in done}
        return [j for j in group if j.id not in fired]

    def _group_failed(self, job: Job, size: int, exc: BaseException) -> None:
        """A failed group is rolled back and its jobs fire alone; the failure itself is logged and
        reported (``group_failed``), so that a group that always fails does not go unseen."""
        error = f"{type(exc).__name__}: {exc}".strip()
        log.warning("a group of %d timers failed and was rolled back (each fires alone now): %s", size, error)
        self.on_event(Event("group_failed", job, self.clock.now(), error))

    # -- one job ------------------------------------------------------------------------------
    def _run(self, job: Job) -> None:
        try:
            with self.store.tx() as tx:
                held = table.hold(tx, job, self.worker_id)
                status, version = held if held is not None else (None, None)
                if status is None:
                    kind = "lost"
                elif status != "running":
                    table.release(tx, self.worker_id, [job.id])
                    kind = "released"
                elif job.instance_id is None:
                    self.runtime.fire_start_timer(tx, job, self.actor)  # a new instance; next firing scheduled
                    kind = "fired"
                else:
                    # the step deletes the job row either way (fired, or stale: the timer no longer
                    # waits) and writes the instance's next jobs
                    fired = self.runtime.fire_timer(tx, job.instance_id, job.spiff_task_id, self.actor, version)
                    kind = "fired" if fired else "stale"
        except Exception as exc:  # noqa: BLE001 - anything that stops a firing is retried, then an incident
            self._failed(job, exc)
            return
        setattr(self.summary, kind, getattr(self.summary, kind) + 1)
        self.on_event(Event(kind, job, self.clock.now()))

    def _failed(self, job: Job, exc: BaseException) -> None:
        error = f"{type(exc).__name__}: {exc}".strip()
        attempts = job.attempts + 1
        now = self.clock.now()
        try:
            if attempts >= self.max_attempts:
                with self.store.tx() as tx:
                    self.runtime.record_incident(
                        tx,
                        job.instance_id,
                        job.element,
                        f"timer could not fire after {attempts} attempts: {error}",
                        self.actor,
                    )
                    table.park(tx, job, error)
                self.summary.incidents += 1
                self.on_event(Event("incident", job, now, error))
                return
            delay = min(self.max_backoff, self.backoff * 2 ** (attempts - 1))
            with self.store.tx() as tx:
                failed = table.fail(tx, job, error, now, timedelta(seconds=delay))
            self.summary.retried += 1
            self.on_event(Event("retry", job, now, error, failed.due_at if failed else None))
        except Exception as again:  # noqa: BLE001 - the database itself is failing: leave it to the lease
            self.summary.errors += 1
            self.on_event(
                Event("error", job, now, f"{error}; recording the failure failed too: {type(again).__name__}: {again}")
            )

    # -- leases, sleeping, signals ------------------------------------------------------------
    def _heartbeat(self) -> None:
        """Renew the lease on what we still hold once half of it has passed (clock time)."""
        now = self.clock.now()
        if self._held and self._renew_at is not None and now >= self._renew_at:
            with self.store.tx() as tx:
                table.renew(tx, self.worker_id, self._held, now, self.lease)
            self._renew_at = now + timedelta(seconds=self.lease / 2)

    def _release_held(self) -> None:
        if not self._held:
            return
        held, self._held = self._held, []
        try:
            with self.store.tx() as tx:
                self.summary.released += table.release(tx, self.worker_id, held)
        except Exception:  # noqa: BLE001 - unreachable database: the lease expires on its own
            self.summary.errors += 1

    def _sleep(self, seconds: float) -> None:
        end = time.monotonic() + seconds
        while not self._stopping and time.monotonic() < end:
            time.sleep(min(0.1, max(0.0, end - time.monotonic())))

    @contextmanager
    def _signals(self, install: bool) -> Iterator[None]:
        if not install or threading.current_thread() is not threading.main_thread():
            yield
            return

        def handle(signum: int, _frame: Any) -> None:
            if self._stopping:  # second signal: stop now, the open transaction rolls back
                raise KeyboardInterrupt
            self.stop(signal.Signals(signum).name)

        previous = {s: signal.signal(s, handle) for s in (signal.SIGTERM, signal.SIGINT)}
        try:
            yield
        finally:
            for s, h in previous.items():
                signal.signal(s, h)
