"""Deadlines on the business calendar: the bridge between the deadline notation and the runtime.

The runtime asks for due times of task deadlines (camunda:dueDate), of timers and of the next
firing of a cycle; this module answers with the working-day calendar and the engine's data.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from typing import Any

from . import restricted
from .runtime import DeadlineResolver


class CalendarDeadlines(DeadlineResolver):
    """Resolves deadline texts (see docs/deadlines.md) on one business calendar; an expression
    (`=联系截止时间`) is evaluated in the scripts' restricted environment, within their time limit."""

    def __init__(self, calendar: Any, timeout: float = restricted.DEFAULT_TIMEOUT) -> None:
        self.calendar = calendar
        self.timeout = timeout

    @classmethod
    def from_settings(cls, settings: Mapping[str, Any]) -> CalendarDeadlines:
        from .calendar import BusinessCalendar, CalendarConfig
        from .errors import ConfigInvalid

        try:
            config = CalendarConfig.from_dict(dict(settings.get("calendar") or {}))
            timeout = restricted.timeout_of(settings)
        except (TypeError, ValueError) as exc:
            raise ConfigInvalid(str(settings.get("_source", "configuration")), None, str(exc)) from None
        return cls(BusinessCalendar(config), timeout)

    def problem(self, text: str, element: str = "dueDate") -> str | None:
        """Why a deadline text is invalid where it is written (timeDate, timeDuration, timeCycle,
        dueDate), or None; expressions are only compiled here."""
        from . import deadlines
        from .errors import DeadlineInvalid

        if deadlines.is_expression(text):
            found = restricted.problems(text.strip()[1:], "eval")
            return f"expression {found[0][1]}" if found else None
        try:
            deadlines.parse_for(element, text)
        except DeadlineInvalid as exc:
            return exc.why
        return None

    def _deadline(self, text: str, data: Mapping[str, Any]) -> tuple[Any, datetime | None]:
        """The parsed deadline, and the moment to count it from when it is not "now": a value
        deadline() noted as provisional is counted again from its recipe (R-T2)."""
        from . import deadlines

        if deadlines.is_expression(text):
            value = restricted.evaluate(text.strip()[1:], data, {}, self.timeout)
            recipe = _recipe(value, data)
            if recipe is not None:
                return deadlines.parse(recipe[0]), recipe[1]
            deadline = deadlines.parse(value if isinstance(value, (date, datetime)) else str(value))
            if deadlines.is_expression(str(value)):
                raise ValueError(f"deadline expression {text!r} gave another expression {value!r}")
            return deadline, None
        return deadlines.parse(text), None

    def task_due(self, text: str | None, now: datetime, data: Mapping[str, Any]) -> Any:
        if not text:
            return None
        deadline, start = self._deadline(text, data)
        return deadline.due(start or now, self.calendar)

    def timer_due(self, kind: str, text: str, now: datetime, data: Mapping[str, Any]) -> Any:
        deadline, start = self._deadline(text, data)
        return deadline.due(start or now, self.calendar)

    def cycle_next(self, text: str, now: datetime, data: Mapping[str, Any], previous: dict | None) -> dict:
        cycle, _start = self._deadline(text, data)
        if previous is None:
            fired, start = 0, now
        else:
            fired = previous.get("fired", 0) + 1
            start = datetime.fromisoformat(previous["next"]) if previous.get("next") else now
        due = cycle.next_after(start, self.calendar, fired)
        return {
            "next": due.at.isoformat() if due else None,
            "fired": fired,
            "provisional": bool(due and due.provisional),
        }


def _recipe(value: Any, data: Mapping[str, Any]) -> tuple[str, datetime] | None:
    """(deadline text, start) for a moment deadline() noted as provisional in the case data, or None."""
    from .deadlines import PROVISIONAL_VARIABLE

    marks = data.get(PROVISIONAL_VARIABLE)
    entry = marks.get(value) if isinstance(marks, Mapping) and isinstance(value, str) else None
    if not isinstance(entry, Mapping) or not isinstance(entry.get("deadline"), str):
        return None
    try:
        return entry["deadline"], datetime.fromisoformat(str(entry.get("start")))
    except ValueError:
        return None
