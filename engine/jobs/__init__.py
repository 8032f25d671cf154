"""The jobs: timers waiting to fire, the only owner of the ``jobs`` table (claim, lease, reschedule,
start timers; its named SQL in ``queries/``), and the worker that fires them (``hall worker``).

``table`` has every statement on the table; ``group`` the grouped firing on PostgreSQL (a second
writer of a step, beside the store's); ``worker`` the loop.
"""

from .group import GroupTx, GroupWriter, VersionMoved
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
from .worker import Event, Summary, Worker, default_worker_id

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
