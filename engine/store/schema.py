"""The tables of hall, as the latest schema version has them (the Alembic revisions under
``migrations/`` reproduce them step by step; a test keeps the two identical).

Columns of time hold aware UTC datetimes (``codecs.UTCDateTime``); JSON documents are text.
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from .codecs import UTCDateTime

metadata = sa.MetaData()

schema_table = sa.Table(
    "hall_schema",
    metadata,
    sa.Column("version", sa.Integer, primary_key=True),
    sa.Column("applied_at", UTCDateTime, nullable=False),
)

definitions = sa.Table(
    "definitions",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("process_id", sa.String(200), nullable=False),
    sa.Column("version", sa.Integer, nullable=False),
    sa.Column("name", sa.String(500)),
    sa.Column("content_hash", sa.String(64), nullable=False),
    sa.Column("source_file", sa.String(1000), nullable=False),
    sa.Column("source", sa.Text, nullable=False),
    sa.Column("spec", sa.Text, nullable=False),
    sa.Column("deployed_at", UTCDateTime, nullable=False),
    sa.Column("deployed_by", sa.String(200)),
    sa.Column("withdrawn_at", UTCDateTime),  # rolled back: new cases start an earlier version (v10)
    sa.UniqueConstraint("process_id", "version", name="uq_definition_version"),
)

instances = sa.Table(
    "instances",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("definition_id", sa.Integer, sa.ForeignKey("definitions.id"), nullable=False),
    sa.Column("process_id", sa.String(200), nullable=False),
    sa.Column("business_key", sa.String(200)),
    sa.Column("status", sa.String(20), nullable=False),
    sa.Column("parent_id", sa.Integer, sa.ForeignKey("instances.id")),
    sa.Column("started_at", UTCDateTime, nullable=False),
    sa.Column("updated_at", UTCDateTime, nullable=False),
    sa.Column("ended_at", UTCDateTime),
    sa.Column("started_by", sa.String(200)),
    sa.Column("version", sa.Integer, nullable=False),
    sa.Column("incident_element", sa.String(200)),
    sa.Column("incident_error", sa.Text),
    sa.Column("state", sa.Text, nullable=False),
    sa.Column("variables", sa.Text, nullable=False),
    sa.Index("ix_instances_process_status", "process_id", "status"),
    sa.Index("ix_instances_business_key", "business_key"),
    sa.Index("ix_instances_parent", "parent_id"),
    sqlite_autoincrement=True,  # v6: a purged case's id is never handed out again (R-C9 archives name it)
)

instance_tasks = sa.Table(
    "instance_tasks",
    metadata,
    sa.Column("instance_id", sa.Integer, sa.ForeignKey("instances.id"), primary_key=True),
    sa.Column("task_id", sa.String(36), primary_key=True),
    sa.Column("body", sa.Text, nullable=False),
)

human_tasks = sa.Table(
    "human_tasks",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("instance_id", sa.Integer, sa.ForeignKey("instances.id"), nullable=False),
    sa.Column("process_id", sa.String(200), nullable=False),
    sa.Column("spiff_task_id", sa.String(36), nullable=False),
    sa.Column("name", sa.String(200), nullable=False),
    sa.Column("title", sa.String(500)),
    sa.Column("lane", sa.String(200)),
    sa.Column("role", sa.String(200)),
    sa.Column("assignee", sa.String(200)),
    sa.Column("form", sa.String(200)),
    sa.Column("status", sa.String(20), nullable=False),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.Column("due_at", UTCDateTime),
    sa.Column("due_provisional", sa.Boolean, nullable=False, default=False),
    sa.Column("warn_at", UTCDateTime),
    sa.Column("completed_at", UTCDateTime),
    sa.Column("completed_by", sa.String(200)),
    sa.Column("organisation", sa.String(200)),  # v12: only users of this organisation serve the task
    sa.Index("ix_human_tasks_instance", "instance_id", "status"),
    sqlite_autoincrement=True,  # v6: nor a purged task's
)  # and the partial queue indexes of PARTIAL_INDEXES

history = sa.Table(
    "history",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    # NULL for a hall-wide event with no case behind it (a refused deploy, purge or report)
    sa.Column("instance_id", sa.Integer),
    sa.Column("process_id", sa.String(200)),
    sa.Column("at", UTCDateTime, nullable=False),
    sa.Column("actor", sa.String(200)),
    sa.Column("kind", sa.String(40), nullable=False),
    sa.Column("element", sa.String(200)),
    sa.Column("task_id", sa.Integer),
    sa.Column("detail", sa.Text),
    sa.Column("simulated", sa.Boolean),  # v6: true for a row written at a simulated time (--now), else NULL
    sa.Index("ix_history_instance", "instance_id", "id"),
    # the indicators (engine/store/reading.py) ask for one (process, kind, element) over a time range
    sa.Index("ix_history_process_kind_element_at", "process_id", "kind", "element", "at"),
    sqlite_autoincrement=True,  # v6: history ids are never reused either
)

# Partial indexes (v4), the same DDL on both databases (a dialect's keyword in the metadata would
# import that dialect into every command). A queue is asked for its ready tasks only, and only
# assigned tasks by assignee: a completed task leaves the role index instead of moving inside it,
# and an unassigned one is never in the assignee index, so a completion writes half the index
# pages. The workload indicator counts task completions by actor and process over a time range:
# its index holds only those rows, with every column the count reads (kind too, so that SQLite
# never visits the table).
PARTIAL_INDEXES = {
    "ix_human_tasks_ready_role": "human_tasks (role) WHERE status = 'ready'",
    "ix_human_tasks_assigned": "human_tasks (status, assignee) WHERE assignee IS NOT NULL",
    "ix_history_completed_at": "history (at, actor, process_id, kind) WHERE kind = 'task_completed'",
}


# The search index of `hall find` (v5) looks values up by prefix: PostgreSQL's LIKE 'x%' uses a
# b-tree only with the pattern operator class (whatever the database's collation); SQLite's range
# `value >= x AND value < x||U+10FFFF` uses a plain one. Written per dialect, so not in the metadata.
SEARCH_INDEXES = {
    "postgresql": "CREATE INDEX IF NOT EXISTS ix_case_search_value ON case_search (value text_pattern_ops)",
    "sqlite": "CREATE INDEX IF NOT EXISTS ix_case_search_value ON case_search (value)",
}


def create_partial_indexes(conn: Connection) -> None:
    """The indexes of PARTIAL_INDEXES and SEARCH_INDEXES, where missing (a database built from the
    metadata lacks them)."""
    for name, target in PARTIAL_INDEXES.items():
        conn.exec_driver_sql(f"CREATE INDEX IF NOT EXISTS {name} ON {target}")
    conn.exec_driver_sql(SEARCH_INDEXES[conn.dialect.name])


# `hall find` (v5): one row per case and searchable value (its business key, and the variables
# hall.yaml's `cases.search` names), normalised by engine/search.py; written with the step that
# changes them. Clustered by case on SQLite (WITHOUT ROWID): a substring scan reads it newest first.
case_search = sa.Table(
    "case_search",
    metadata,
    sa.Column("instance_id", sa.Integer, sa.ForeignKey("instances.id"), primary_key=True),
    sa.Column("field", sa.String(200), primary_key=True),
    sa.Column("value", sa.String(200), nullable=False),
    sqlite_with_rowid=False,
)  # and its value index, SEARCH_INDEXES

sequences = sa.Table(
    "sequences",
    metadata,
    sa.Column("name", sa.String(100), primary_key=True),
    sa.Column("period", sa.String(20), primary_key=True),
    sa.Column("value", sa.Integer, nullable=False),
)

jobs = sa.Table(
    "jobs",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("instance_id", sa.Integer, sa.ForeignKey("instances.id")),  # NULL: a process's start timer
    sa.Column("process_id", sa.String(200)),  # set for start timers
    sa.Column("element", sa.String(200), nullable=False),
    sa.Column("spiff_task_id", sa.String(300), nullable=False),
    sa.Column("kind", sa.String(20), nullable=False),
    sa.Column("due_at", UTCDateTime, nullable=False),
    sa.Column("attempts", sa.Integer, nullable=False, default=0, server_default="0"),
    sa.Column("fired", sa.Integer, nullable=False, default=0, server_default="0"),  # firings so far (start cycles)
    sa.Column("locked_by", sa.String(200)),
    sa.Column("lock_expires_at", UTCDateTime),
    sa.Column("last_error", sa.Text),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.UniqueConstraint("spiff_task_id", "due_at", name="uq_job_task_due"),
    sa.Index("ix_jobs_due", "due_at"),
    sa.Index("ix_jobs_instance", "instance_id"),
    sqlite_autoincrement=True,  # a job id is never reused, so a stale lease can never touch a new job
)

# What each case waits for besides people and timers (v9, issue 12): one row per waiting message or
# signal catch (an event, a receive task, an event-based gateway's branch), with the message's
# correlation key (the catch's correlation expression on the case's data, else its business key);
# rewritten with the step that changes them. A thrown message is correlated by (kind, name, key).
event_waits = sa.Table(
    "event_waits",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("instance_id", sa.Integer, sa.ForeignKey("instances.id"), nullable=False),
    sa.Column("process_id", sa.String(200), nullable=False),
    sa.Column("kind", sa.String(20), nullable=False),  # message | signal
    sa.Column("name", sa.String(200), nullable=False),
    sa.Column("correlation_key", sa.String(200)),
    sa.Column("element", sa.String(200), nullable=False),
    sa.Index("ix_event_waits_name", "kind", "name", "correlation_key"),
    sa.Index("ix_event_waits_instance", "instance_id"),
)


# Users, roles and the access rules kept in the database (v7, issue 16): once `hall_users` has a
# row, these and not hall.yaml decide who may do what. `roles`, `serves`, `may` and `value` are JSON.
hall_users = sa.Table(
    "hall_users",
    metadata,
    sa.Column("id", sa.String(200), primary_key=True),
    sa.Column("name", sa.String(500), nullable=False),
    sa.Column("organisation", sa.String(500)),
    sa.Column("roles", sa.Text, nullable=False),
    sa.Column("kind", sa.String(20), nullable=False),  # person (logs in with a password) or service
    sa.Column("password_hash", sa.String(300)),
    sa.Column("created_at", UTCDateTime, nullable=False),
)

hall_roles = sa.Table(
    "hall_roles",
    metadata,
    sa.Column("name", sa.String(200), primary_key=True),
    sa.Column("serves", sa.Text, nullable=False),
    sa.Column("may", sa.Text, nullable=False),
)

hall_access_rules = sa.Table(
    "hall_access_rules",
    metadata,
    sa.Column("name", sa.String(100), primary_key=True),  # confidential, first_receiver
    sa.Column("value", sa.Text, nullable=False),
)

# Login and service-account tokens: only the SHA-256 digest of the secret is kept.
hall_tokens = sa.Table(
    "hall_tokens",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("digest", sa.String(64), nullable=False),
    sa.Column("user_id", sa.String(200), nullable=False),
    sa.Column("label", sa.String(200)),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.Column("expires_at", UTCDateTime, nullable=False),
    sa.Column("revoked_at", UTCDateTime),
    sa.UniqueConstraint("digest", name="uq_hall_tokens_digest"),
)


# What staff typed into a task's form and did not submit yet (v8, issue 17): one row per task and
# user, kept on Ctrl-C or a refused submit and offered again by the next `hall complete`.
form_drafts = sa.Table(
    "form_drafts",
    metadata,
    sa.Column("task_id", sa.Integer, sa.ForeignKey("human_tasks.id"), primary_key=True),
    sa.Column("user_name", sa.String(200), primary_key=True),
    sa.Column("data", sa.Text, nullable=False),
    sa.Column("saved_at", UTCDateTime, nullable=False),
)


# v6: facts about the database itself, one row each; `rehearsal` marks a database made for
# rehearsals (`hall init --rehearsal`, `hall demo`, tests), where a simulated time (--now) is allowed.
hall_flags = sa.Table(
    "hall_flags",
    metadata,
    sa.Column("name", sa.String(100), primary_key=True),
    sa.Column("value", sa.String(200), nullable=False),
    sa.Column("set_at", UTCDateTime, nullable=False),
)
