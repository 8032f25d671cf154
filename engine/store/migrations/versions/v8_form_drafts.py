"""Schema v8: drafts of task forms (issue 17): what a staff member typed into `hall complete` and did
not submit (Ctrl-C, a refused submit), one row per task and user, resumed by the next `hall complete`.

Revision ID: v8
Revises: v7
"""

import sqlalchemy as sa
from alembic import context, op
from hall.engine.store.codecs import UTCDateTime

revision = "v8"
down_revision = "v7"
branch_labels = None
depends_on = None


def upgrade() -> None:
    if not sa.inspect(op.get_bind()).has_table("form_drafts"):  # a database whose hall_schema was set back has it
        op.create_table(
            "form_drafts",
            sa.Column("task_id", sa.Integer, sa.ForeignKey("human_tasks.id"), primary_key=True),
            sa.Column("user_name", sa.String(200), primary_key=True),
            sa.Column("data", sa.Text, nullable=False),
            sa.Column("saved_at", UTCDateTime(), nullable=False),
        )
    hall_schema = sa.table("hall_schema", sa.column("version", sa.Integer), sa.column("applied_at", UTCDateTime()))
    op.bulk_insert(hall_schema, [{"version": 8, "applied_at": context.config.attributes["now"]}])
