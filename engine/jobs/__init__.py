"""The jobs: timers waiting to fire, the only owner of the ``jobs`` table (claim, lease, reschedule,
start timers; its named SQL in ``queries/``), and the worker that fires them (``hall worker``).

``table`` has every statement on the table; ``group`` the grouped firing on PostgreSQL (a second
writer of a step, beside the store's); ``worker`` the loop.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .table import (
    Job,
    acquire,
    add_job,
    cases_at,
    count_due,
    delete_jobs,
    explain_acquire,
    fail,
    get,
    hold,
    jobs_of,
    park,
    pending_stats,
    pending_timers,
    release,
    renew,
    replace_start_jobs,
    reschedule_start_job,
    start_jobs,
)

if TYPE_CHECKING:
    from .group import GroupTx, GroupWriter, VersionMoved
    from .worker import Event, Summary, Worker, default_worker_id

_LAZY = {
    "GroupTx": "group",
    "GroupWriter": "group",
    "VersionMoved": "group",
    "Event": "worker",
    "Summary": "worker",
    "Worker": "worker",
    "default_worker_id": "worker",
}


def __getattr__(name: str) -> Any:
    # the worker and the grouped firing load with `hall worker`, not with every command that only
    # reads or writes the jobs of a case
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'hall.engine.jobs' has no attribute {name!r}")
    from importlib import import_module

    return getattr(import_module(f"{__name__}.{module}"), name)


__all__ = [
    "Event",
    "GroupTx",
    "GroupWriter",
    "Job",
    "Summary",
    "VersionMoved",
    "Worker",
    "acquire",
    "add_job",
    "cases_at",
    "count_due",
    "default_worker_id",
    "delete_jobs",
    "explain_acquire",
    "fail",
    "get",
    "hold",
    "jobs_of",
    "park",
    "pending_stats",
    "pending_timers",
    "release",
    "renew",
    "replace_start_jobs",
    "reschedule_start_job",
    "start_jobs",
]
