"""The store: hall's tables, their SQL and their migrations (SQLite or PostgreSQL).

The runtime talks to a ``Tx`` (one transaction) through named operations; nothing above the store
writes SQL but the jobs table's owner (``engine/jobs``). ``schema`` has the tables, ``codecs`` the
UTC times and JSON, ``sql`` the named statements of each dialect (``queries/``), ``migrate`` the
schema versions (Alembic, ``migrations/``), ``database`` the Store, ``tx`` the transaction and
``reading`` the generic reads and purge that modules built on the API reach through the Engine.
"""

from .codecs import TIME_COLUMNS, TimeWriter, UTCDateTime, dumps, loads, utc, utc_at, utc_fields
from .database import Store, normalise_url
from .migrate import SCHEMA_VERSION
from .schema import (
    PARTIAL_INDEXES,
    create_partial_indexes,
    definitions,
    history,
    human_tasks,
    instance_tasks,
    instances,
    jobs,
    metadata,
    schema_table,
    sequences,
)
from .tx import LOAD, BatchWriter, Step, StepWriter, Tx, bundle, driver

__all__ = [
    "LOAD",
    "PARTIAL_INDEXES",
    "SCHEMA_VERSION",
    "TIME_COLUMNS",
    "BatchWriter",
    "Step",
    "StepWriter",
    "Store",
    "TimeWriter",
    "Tx",
    "UTCDateTime",
    "bundle",
    "create_partial_indexes",
    "definitions",
    "driver",
    "dumps",
    "history",
    "human_tasks",
    "instance_tasks",
    "instances",
    "jobs",
    "loads",
    "metadata",
    "normalise_url",
    "schema_table",
    "sequences",
    "utc",
    "utc_at",
    "utc_fields",
]
