"""The engine's one clock: every timestamp (instances, history, timers, calendar) comes from here.

Tests and `hall --now` use a FixedClock so nothing ever sleeps for a timer.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta


class Clock:
    """Wall-clock time, always timezone-aware UTC."""

    def now(self) -> datetime:
        return datetime.now(UTC)


class FixedClock(Clock):
    """A clock that stands still until told to move: for tests, demos and rehearsals."""

    def __init__(self, at: datetime) -> None:
        self._at = to_utc(at)

    def now(self) -> datetime:
        return self._at

    def set(self, at: datetime) -> None:
        self._at = to_utc(at)

    def advance(self, delta: timedelta | None = None, **kwargs: float) -> datetime:
        self._at = self._at + (delta or timedelta(**kwargs))
        return self._at


def to_utc(at: datetime) -> datetime:
    """Normalise to aware UTC; a naive value is refused rather than guessed."""
    if at.tzinfo is None:
        raise ValueError(f"datetime {at.isoformat()} has no time zone")
    return at.astimezone(UTC)
