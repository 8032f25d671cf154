"""Schema v2: the history index of the indicator queries (one process, kind and element over a time
range); IF NOT EXISTS: a v1 database made by a later release has it already.

Revision ID: v2
Revises: v1
"""

import sqlalchemy as sa
from alembic import context, op
from hall.engine.store.codecs import UTCDateTime

revision = "v2"
down_revision = "v1"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        "CREATE INDEX IF NOT EXISTS ix_history_process_kind_element_at ON history (process_id, kind, element, at)"
    )
    hall_schema = sa.table("hall_schema", sa.column("version", sa.Integer), sa.column("applied_at", UTCDateTime()))
    op.bulk_insert(hall_schema, [{"version": 2, "applied_at": context.config.attributes["now"]}])
