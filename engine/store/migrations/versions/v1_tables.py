"""Schema v1: the tables of the first release.

Written out as that release made them (not from today's metadata, which later revisions changed):
history rows always had a case, and the task queue had full (status, role) and (status, assignee)
indexes.

Revision ID: v1
Revises:
"""

import sqlalchemy as sa
from alembic import context, op
from hall.engine.store.codecs import UTCDateTime

revision = "v1"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    hall_schema = op.create_table(
        "hall_schema",
        sa.Column("version", sa.Integer, primary_key=True),
        sa.Column("applied_at", UTCDateTime(), nullable=False),
    )
    op.create_table(
        "definitions",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("process_id", sa.String(200), nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("name", sa.String(500)),
        sa.Column("content_hash", sa.String(64), nullable=False),
        sa.Column("source_file", sa.String(1000), nullable=False),
        sa.Column("source", sa.Text, nullable=False),
        sa.Column("spec", sa.Text, nullable=False),
        sa.Column("deployed_at", UTCDateTime(), nullable=False),
        sa.Column("deployed_by", sa.String(200)),
        sa.UniqueConstraint("process_id", "version", name="uq_definition_version"),
    )
    op.create_table(
        "instances",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("definition_id", sa.Integer, sa.ForeignKey("definitions.id"), nullable=False),
        sa.Column("process_id", sa.String(200), nullable=False),
        sa.Column("business_key", sa.String(200)),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("parent_id", sa.Integer, sa.ForeignKey("instances.id")),
        sa.Column("started_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.Column("ended_at", UTCDateTime()),
        sa.Column("started_by", sa.String(200)),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("incident_element", sa.String(200)),
        sa.Column("incident_error", sa.Text),
        sa.Column("state", sa.Text, nullable=False),
        sa.Column("variables", sa.Text, nullable=False),
    )
    op.create_index("ix_instances_process_status", "instances", ["process_id", "status"])
    op.create_index("ix_instances_business_key", "instances", ["business_key"])
    op.create_index("ix_instances_parent", "instances", ["parent_id"])
    op.create_table(
        "instance_tasks",
        sa.Column("instance_id", sa.Integer, sa.ForeignKey("instances.id"), primary_key=True),
        sa.Column("task_id", sa.String(36), primary_key=True),
        sa.Column("body", sa.Text, nullable=False),
    )
    op.create_table(
        "human_tasks",
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
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("due_at", UTCDateTime()),
        sa.Column("due_provisional", sa.Boolean, nullable=False),
        sa.Column("warn_at", UTCDateTime()),
        sa.Column("completed_at", UTCDateTime()),
        sa.Column("completed_by", sa.String(200)),
    )
    op.create_index("ix_human_tasks_status_role", "human_tasks", ["status", "role"])
    op.create_index("ix_human_tasks_status_assignee", "human_tasks", ["status", "assignee"])
    op.create_index("ix_human_tasks_instance", "human_tasks", ["instance_id", "status"])
    op.create_table(
        "history",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("instance_id", sa.Integer, nullable=False),
        sa.Column("process_id", sa.String(200), nullable=False),
        sa.Column("at", UTCDateTime(), nullable=False),
        sa.Column("actor", sa.String(200)),
        sa.Column("kind", sa.String(40), nullable=False),
        sa.Column("element", sa.String(200)),
        sa.Column("task_id", sa.Integer),
        sa.Column("detail", sa.Text),
    )
    op.create_index("ix_history_instance", "history", ["instance_id", "id"])
    op.create_index("ix_history_kind_at", "history", ["kind", "at"])
    op.create_table(
        "sequences",
        sa.Column("name", sa.String(100), primary_key=True),
        sa.Column("period", sa.String(20), primary_key=True),
        sa.Column("value", sa.Integer, nullable=False),
    )
    op.create_table(
        "jobs",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("instance_id", sa.Integer, sa.ForeignKey("instances.id")),
        sa.Column("process_id", sa.String(200)),
        sa.Column("element", sa.String(200), nullable=False),
        sa.Column("spiff_task_id", sa.String(300), nullable=False),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("due_at", UTCDateTime(), nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
        sa.Column("fired", sa.Integer, nullable=False, server_default="0"),
        sa.Column("locked_by", sa.String(200)),
        sa.Column("lock_expires_at", UTCDateTime()),
        sa.Column("last_error", sa.Text),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.UniqueConstraint("spiff_task_id", "due_at", name="uq_job_task_due"),
        sqlite_autoincrement=True,  # a job id is never reused, so a stale lease can never touch a new job
    )
    op.create_index("ix_jobs_due", "jobs", ["due_at"])
    op.create_index("ix_jobs_instance", "jobs", ["instance_id"])
    op.bulk_insert(hall_schema, [{"version": 1, "applied_at": context.config.attributes["now"]}])
