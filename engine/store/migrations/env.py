"""Alembic's environment for hall: run on the connection ``hall init`` hands in (engine/store/migrate.py),
inside its transaction; SQLite's ALTERs in batch mode (a table made anew, rows copied)."""

from alembic import context

connection = context.config.attributes["connection"]
context.configure(
    connection=connection,
    target_metadata=None,
    render_as_batch=connection.dialect.name == "sqlite",
)
with context.begin_transaction():
    context.run_migrations()
