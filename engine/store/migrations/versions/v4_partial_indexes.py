"""Schema v4: the task-queue and workload indexes hold only the rows their queries ask for (a
completion writes half the index pages); plain DDL, the same on both databases.

Revision ID: v4
Revises: v3
"""

import sqlalchemy as sa
from alembic import context, op
from hall.engine.store.codecs import UTCDateTime

revision = "v4"
down_revision = "v3"
branch_labels = None
depends_on = None


def upgrade() -> None:
    for name in ("ix_human_tasks_status_role", "ix_human_tasks_status_assignee", "ix_history_kind_at"):
        op.execute(f"DROP INDEX IF EXISTS {name}")
    op.execute("CREATE INDEX IF NOT EXISTS ix_human_tasks_ready_role ON human_tasks (role) WHERE status = 'ready'")
    op.execute(
        "CREATE INDEX IF NOT EXISTS ix_human_tasks_assigned ON human_tasks (status, assignee)"
        " WHERE assignee IS NOT NULL"
    )
    op.execute(
        "CREATE INDEX IF NOT EXISTS ix_history_completed_at ON history (at, actor, process_id, kind)"
        " WHERE kind = 'task_completed'"
    )
    hall_schema = sa.table("hall_schema", sa.column("version", sa.Integer), sa.column("applied_at", UTCDateTime()))
    op.bulk_insert(hall_schema, [{"version": 4, "applied_at": context.config.attributes["now"]}])
