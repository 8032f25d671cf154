"""Schema v7: users, roles, the access rules and login tokens kept in the database (issue 16), so
that once a hall has users no configuration file, missing or chosen, turns the checks off; tokens
are stored as SHA-256 digests, with an expiry and a revocation time.

Revision ID: v7
Revises: v6
"""

import sqlalchemy as sa
from alembic import context, op
from hall.engine.store.codecs import UTCDateTime

revision = "v7"
down_revision = "v6"
branch_labels = None
depends_on = None


def upgrade() -> None:
    bind = op.get_bind()
    have = set(sa.inspect(bind).get_table_names())
    if "hall_users" not in have:  # a database whose hall_schema was set back has them
        op.create_table(
            "hall_users",
            sa.Column("id", sa.String(200), primary_key=True),
            sa.Column("name", sa.String(500), nullable=False),
            sa.Column("organisation", sa.String(500)),
            sa.Column("roles", sa.Text, nullable=False),
            sa.Column("kind", sa.String(20), nullable=False),
            sa.Column("password_hash", sa.String(300)),
            sa.Column("created_at", UTCDateTime, nullable=False),
        )
    if "hall_roles" not in have:
        op.create_table(
            "hall_roles",
            sa.Column("name", sa.String(200), primary_key=True),
            sa.Column("serves", sa.Text, nullable=False),
            sa.Column("may", sa.Text, nullable=False),
        )
    if "hall_access_rules" not in have:
        op.create_table(
            "hall_access_rules",
            sa.Column("name", sa.String(100), primary_key=True),
            sa.Column("value", sa.Text, nullable=False),
        )
    if "hall_tokens" not in have:
        op.create_table(
            "hall_tokens",
            sa.Column("id", sa.Integer, primary_key=True),
            sa.Column("digest", sa.String(64), nullable=False),
            sa.Column("user_id", sa.String(200), nullable=False),
            sa.Column("label", sa.String(200)),
            sa.Column("created_at", UTCDateTime, nullable=False),
            sa.Column("expires_at", UTCDateTime, nullable=False),
            sa.Column("revoked_at", UTCDateTime),
            sa.UniqueConstraint("digest", name="uq_hall_tokens_digest"),
        )
    hall_schema = sa.table("hall_schema", sa.column("version", sa.Integer), sa.column("applied_at", UTCDateTime()))
    op.bulk_insert(hall_schema, [{"version": 7, "applied_at": context.config.attributes["now"]}])
