"""How values cross into the database and back, written once: UTC times and JSON text.

Every time is an aware UTC datetime above the store. SQLite keeps times as naive UTC text
(``YYYY-MM-DD HH:MM:SS.ffffff``, SQLAlchemy's own format, so Core queries and the driver-level
statements read and write the same text); PostgreSQL as ``timestamptz``. JSON is compact and keeps
Chinese readable.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import UTC, date, datetime
from typing import Any

import sqlalchemy as sa

# Columns of time, by name, in the rows the store's statements read (what `utc` converts).
TIME_COLUMNS = frozenset(
    {
        "started_at",
        "updated_at",
        "ended_at",
        "created_at",
        "due_at",
        "warn_at",
        "completed_at",
        "deployed_at",
        "lock_expires_at",
        "applied_at",
        "saved_at",
    }
)


def utc(value: Any) -> datetime | None:
    """A time as read from either driver (SQLite's text, a naive or aware datetime, ISO text from a
    JSON document) as an aware UTC datetime; None stays None. (``utc_at``'s body, inlined: it runs
    for every time of every row the store reads.)"""
    if value is None:
        return None
    if isinstance(value, str):
        if len(value) == 26 and value[10] == " ":
            return datetime.fromisoformat(value + "+00:00")
        value = datetime.fromisoformat(value)
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def utc_at(value: Any) -> datetime:
    """``utc`` of a value that is not None (a NOT NULL column, or one filtered on), for large reads.

    SQLite's own text (naive UTC, microseconds: 26 characters) is parsed with its offset appended,
    several times faster than parsing it naive and replacing the zone afterwards."""
    if isinstance(value, str):
        if len(value) == 26 and value[10] == " ":
            return datetime.fromisoformat(value + "+00:00")
        value = datetime.fromisoformat(value)
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def utc_fields(row: dict[str, Any], names: Iterable[str] = TIME_COLUMNS) -> dict[str, Any]:
    """``row`` with its time columns converted by ``utc`` in place (returned for chaining)."""
    for name in names:
        if name in row:
            row[name] = utc(row[name])
    return row


def sqlite_time(value: datetime) -> str:
    """The text SQLite stores for an aware datetime (naive UTC, microseconds): built by isoformat,
    a third of strftime's cost."""
    return value.astimezone(UTC).replace(tzinfo=None).isoformat(" ", "microseconds")


class TimeWriter:
    """Times as a dialect's driver takes them: SQLite's text, PostgreSQL's aware datetime as is.
    Keeps the last conversion: a step writes its one `now` five times or more."""

    __slots__ = ("_sqlite", "_last")

    def __init__(self, dialect: str) -> None:
        self._sqlite = dialect == "sqlite"
        self._last: tuple[Any, str] = (None, "")

    def __call__(self, value: datetime | None) -> Any:
        if value is None or not self._sqlite:
            return value
        last, text = self._last
        if value is last:
            return text
        text = sqlite_time(value)
        self._last = (value, text)
        return text


class UTCDateTime(sa.types.TypeDecorator):
    """Aware UTC datetimes in, aware UTC datetimes out, on every backend (for Core queries)."""

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> Any:
        if value is None:
            return None
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: Any, dialect: Any) -> datetime | None:
        return utc(value)


def _json_default(value: Any) -> Any:
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if isinstance(value, (set, frozenset, tuple)):
        return list(value)
    raise TypeError(f"value of type {type(value).__name__} cannot be stored: {value!r}")


# one encoder for every call: json.dumps with options builds a new one each time (a step dumps ~8 texts)
_ENCODER = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), default=_json_default)


def dumps(value: Any) -> str:
    """Compact JSON that keeps Chinese readable in the database; times as ISO text."""
    return _ENCODER.encode(value)


loads = json.loads
