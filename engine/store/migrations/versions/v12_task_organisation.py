"""Schema v12: a human task may be bound to an organisation (the BPMN property candidateOrganisation,
issue 13, R-C10): only users of that organisation serve it. Existing tasks stay bound to none.

Revision ID: v12
Revises: v10
"""

import sqlalchemy as sa
from alembic import context, op
from hall.engine.store.codecs import UTCDateTime

revision = "v12"
down_revision = "v10"
branch_labels = None
depends_on = None


def upgrade() -> None:
    bind = op.get_bind()
    columns = {c["name"] for c in sa.inspect(bind).get_columns("human_tasks")}
    if "organisation" not in columns:  # a database whose hall_schema was set back has it
        with op.batch_alter_table("human_tasks") as batch:
            batch.add_column(sa.Column("organisation", sa.String(200)))
    hall_schema = sa.table("hall_schema", sa.column("version", sa.Integer), sa.column("applied_at", UTCDateTime()))
    op.bulk_insert(hall_schema, [{"version": 12, "applied_at": context.config.attributes["now"]}])
