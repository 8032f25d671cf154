"""Schema v9: what each case waits for (issue 12): one row per message or signal catch a case waits
at, with the message's correlation key, so a message thrown by any case (or sent from outside) finds
the case it is for, and a signal every case that waits for it. Starts empty: a case that waited
before the upgrade is indexed with its next step.

Revision ID: v9
Revises: v8
"""

import sqlalchemy as sa
from alembic import context, op
from hall.engine.store.codecs import UTCDateTime

revision = "v9"
down_revision = "v8"
branch_labels = None
depends_on = None


def upgrade() -> None:
    if not sa.inspect(op.get_bind()).has_table("event_waits"):  # a database whose hall_schema was set back has it
        op.create_table(
            "event_waits",
            sa.Column("id", sa.Integer, primary_key=True),
            sa.Column("instance_id", sa.Integer, sa.ForeignKey("instances.id"), nullable=False),
            sa.Column("process_id", sa.String(200), nullable=False),
            sa.Column("kind", sa.String(20), nullable=False),
            sa.Column("name", sa.String(200), nullable=False),
            sa.Column("correlation_key", sa.String(200)),
            sa.Column("element", sa.String(200), nullable=False),
        )
        op.create_index("ix_event_waits_name", "event_waits", ["kind", "name", "correlation_key"])
        op.create_index("ix_event_waits_instance", "event_waits", ["instance_id"])
    hall_schema = sa.table("hall_schema", sa.column("version", sa.Integer), sa.column("applied_at", UTCDateTime()))
    op.bulk_insert(hall_schema, [{"version": 9, "applied_at": context.config.attributes["now"]}])
