"""The engine's one clock: every timestamp (instances, history, timers, calendar) comes from here.

Tests and `hall --now` use a FixedClock so nothing ever sleeps for a timer. A FixedClock is a
simulated time: allowed on a rehearsal database, else only for a user with the `simulate_time`
permission and never later than the real time (`simulated_time_refusal`); every history row written
at a simulated time is marked (`history.simulated`).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta


class Clock:
    """Wall-clock time, always timezone-aware UTC."""

    simulated = False  # the real time: nothing to check, nothing to mark

    def now(self) -> datetime:
        return datetime.now(UTC)


class FixedClock(Clock):
    """A clock that stands still until told to move: for tests, demos and rehearsals."""

    simulated = True

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


# how far a simulated time may run ahead of this machine's clock on a database that is not a
# rehearsal: machines' clocks differ by seconds, a clerk typing --now by a minute
REAL_TIME_SLACK = timedelta(minutes=1)


def simulated_time_refusal(
    at: datetime, rehearsal: bool, may_simulate: bool, who: str | None, real: datetime | None = None
) -> str | None:
    """Why a simulated time `at` may not be used, or None when it may.

    On a rehearsal database any time goes. On any other one it must not lie in the future (a
    completion dated 2099 would block every real action on its case until then) and the acting user
    (`who`) needs the `simulate_time` permission (`may_simulate`); an earlier time than a case's last
    event is refused by each step (ActionTooEarly), so the history of a case never runs backwards.
    """
    if rehearsal:
        return None
    real = real or datetime.now(UTC)
    if at > real + REAL_TIME_SLACK:
        return (
            f"it is later than the real time ({real:%Y-%m-%dT%H:%M}Z) and this database is not a rehearsal "
            "(`hall init --rehearsal` makes one)"
        )
    if not may_simulate:
        lacking = (
            f"{who} has no 'simulate_time' permission" if who else "it needs a user with the 'simulate_time' permission"
        )
        return f"{lacking} and this database is not a rehearsal (`hall init --rehearsal` makes one)"
    return None
