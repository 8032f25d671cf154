"""Schema v5: the search table of `hall find` (issue 17): one row per case and searchable value (its
business key, and the variables hall.yaml's `cases.search` names, which `hall init` hands in),
normalised (engine/search.py), with an index for prefix lookups; filled from the existing cases.

Revision ID: v5
Revises: v4
"""

import json

import sqlalchemy as sa
from alembic import context, op
from hall.engine.search import CaseFields
from hall.engine.store.codecs import UTCDateTime
from hall.engine.store.schema import SEARCH_INDEXES

revision = "v5"
down_revision = "v4"
branch_labels = None
depends_on = None

BATCH = 2000  # cases read and written per round


def upgrade() -> None:
    bind = op.get_bind()
    if not sa.inspect(bind).has_table("case_search"):  # a database whose hall_schema was set back has it
        op.create_table(
            "case_search",
            sa.Column("instance_id", sa.Integer, sa.ForeignKey("instances.id"), primary_key=True),
            sa.Column("field", sa.String(200), primary_key=True),
            sa.Column("value", sa.String(200), nullable=False),
            sqlite_with_rowid=False,
        )
    op.execute(SEARCH_INDEXES[bind.dialect.name])
    op.execute("DELETE FROM case_search")  # filled anew from the cases
    fields = context.config.attributes.get("case_fields") or CaseFields()
    instances = sa.table("instances", sa.column("id", sa.Integer), sa.column("business_key"), sa.column("variables"))
    search = sa.table("case_search", sa.column("instance_id"), sa.column("field"), sa.column("value"))
    last = 0
    while True:
        rows = bind.execute(
            sa.select(instances.c.id, instances.c.business_key, instances.c.variables)
            .where(instances.c.id > last)
            .order_by(instances.c.id)
            .limit(BATCH)
        ).all()
        if not rows:
            break
        values = [
            {"instance_id": i, "field": f, "value": v}
            for i, key, variables in rows
            for f, v in fields.values(json.loads(variables) if variables else {}, key).items()
        ]
        if values:
            bind.execute(search.insert(), values)
        last = rows[-1][0]
    hall_schema = sa.table("hall_schema", sa.column("version", sa.Integer), sa.column("applied_at", UTCDateTime()))
    op.bulk_insert(hall_schema, [{"version": 5, "applied_at": context.config.attributes["now"]}])
