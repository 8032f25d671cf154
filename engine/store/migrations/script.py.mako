"""${message}

Revision ID: ${up_revision}
Revises: ${down_revision | comma,n}
"""

import sqlalchemy as sa
from alembic import context, op

from hall.engine.store.codecs import UTCDateTime

revision = ${repr(up_revision)}
down_revision = ${repr(down_revision)}
branch_labels = None
depends_on = None
VERSION = None  # the schema version number this revision records in hall_schema


def upgrade() -> None:
    ${upgrades if upgrades else "pass"}
    hall_schema = sa.table("hall_schema", sa.column("version", sa.Integer), sa.column("applied_at", UTCDateTime()))
    op.bulk_insert(hall_schema, [{"version": VERSION, "applied_at": context.config.attributes["now"]}])
