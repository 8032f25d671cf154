"""Schema v10: a deployed version can be withdrawn for new cases (`hall rollback`, issue 18):
definitions.withdrawn_at, NULL for a version new cases may start; the latest version not withdrawn
is the one `start` and `retry --latest` take.

Revision ID: v10
Revises: v9
"""

import sqlalchemy as sa
from alembic import context, op
from hall.engine.store.codecs import UTCDateTime

revision = "v10"
down_revision = "v9"
branch_labels = None
depends_on = None


def upgrade() -> None:
    columns = {c["name"] for c in sa.inspect(op.get_bind()).get_columns("definitions")}
    if "withdrawn_at" not in columns:
        with op.batch_alter_table("definitions") as batch:
            batch.add_column(sa.Column("withdrawn_at", UTCDateTime()))
    hall_schema = sa.table("hall_schema", sa.column("version", sa.Integer), sa.column("applied_at", UTCDateTime()))
    op.bulk_insert(hall_schema, [{"version": 10, "applied_at": context.config.attributes["now"]}])
