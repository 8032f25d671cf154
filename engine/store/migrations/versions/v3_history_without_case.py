"""Schema v3: history rows without a case (the hall's own refusals): instance_id and process_id may be
NULL. On SQLite, which cannot drop a NOT NULL, the table is made anew (Alembic's batch mode) and its
rows copied, ids kept.

Revision ID: v3
Revises: v2
"""

import sqlalchemy as sa
from alembic import context, op
from hall.engine.store.codecs import UTCDateTime

revision = "v3"
down_revision = "v2"
branch_labels = None
depends_on = None


def upgrade() -> None:
    columns = {c["name"]: c for c in sa.inspect(op.get_bind()).get_columns("history")}
    if not columns["instance_id"]["nullable"] or not columns["process_id"]["nullable"]:
        with op.batch_alter_table("history") as batch:
            batch.alter_column("instance_id", existing_type=sa.Integer, nullable=True)
            batch.alter_column("process_id", existing_type=sa.String(200), nullable=True)
    # the table made anew has its indexes as v3 knows them, whatever the copy found
    op.execute("CREATE INDEX IF NOT EXISTS ix_history_instance ON history (instance_id, id)")
    op.execute(
        "CREATE INDEX IF NOT EXISTS ix_history_process_kind_element_at ON history (process_id, kind, element, at)"
    )
    hall_schema = sa.table("hall_schema", sa.column("version", sa.Integer), sa.column("applied_at", UTCDateTime()))
    op.bulk_insert(hall_schema, [{"version": 3, "applied_at": context.config.attributes["now"]}])
