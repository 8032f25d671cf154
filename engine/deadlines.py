"""The deadline notation: what process owners type into timer events and due dates.

One notation serves BPMN ``timeDuration``, ``timeDate`` and ``timeCycle`` and the
``camunda:dueDate`` of a user task (see docs/deadlines.md for the table written for them):

* ISO 8601 as Camunda Modeler writes it, meaning plain calendar time:
  ``PT45M``, ``P2D``, ``P1DT2H``, ``P1W``; ``2026-10-01T09:00:00+08:00``, ``2026-10-01``;
  ``R3/PT10M``, ``R/PT1H``, ``R3/2026-10-01T09:00:00+08:00/PT1H``.
* readable phrases (case-insensitive): ``45 minutes``, ``10 calendar days``, ``2 working days``,
  ``8 working hours``, ``45 working minutes``, ``15:00 next working day``,
  ``by 15:00 on the next working day``, ``every working day at 15:00``,
  ``every month on day 1, or the next working day, at 09:00``;
* Chinese: ``2个工作日``, ``8个工作小时``, ``45个工作分钟``, ``10个自然日``, ``10天``, ``2小时``,
  ``45分钟``, ``1周``, ``下一工作日15:00``, ``每个工作日15:00``, ``每月1日09:00（遇非工作日顺延）``;
* ``=name`` marks an expression the engine evaluates against instance data; its result
  (text in this notation, a date or a date-time) comes back through :func:`parse`.

A value quoted like a Python string (``"PT45M"``, as SpiffWorkflow examples write it) is the
same as unquoted. Anything else raises :class:`DeadlineInvalid` saying precisely what is wrong.
Working time is counted by :class:`engine.calendar.BusinessCalendar`.
"""

from __future__ import annotations

import difflib
import re
from abc import ABC, abstractmethod
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import ClassVar

from .calendar import BusinessCalendar, Due
from .clock import to_utc
from .errors import DeadlineInvalid

Value = str | date | datetime | timedelta

# R-T2: the case variable in which the script function deadline() keeps, for each provisional
# moment it returned, how it was computed: {"2027-01-05T16:00:00+08:00": {"deadline": "2 working
# days", "start": "2026-12-31T16:00:00+08:00"}}. A due date or timer taking such a moment is
# provisional too, and is counted again from the recipe (exact once the year's schedule is known).
PROVISIONAL_VARIABLE = "待定截止时间"


class _Why(ValueError):
    """Internal: the reason a text is not a deadline; :func:`parse` adds the text."""


# -- the kinds of deadline -------------------------------------------------------------------
class Deadline(ABC):
    """A parsed deadline: ``kind`` is "duration", "date" or "cycle"; ``str()`` describes it in Chinese."""

    kind: ClassVar[str]
    text: str

    @abstractmethod
    def due(self, start: datetime, cal: BusinessCalendar) -> Due:
        """When the deadline falls (UTC) for something that started at ``start``."""


@dataclass(frozen=True)
class CalendarTime(Deadline):
    """Plain elapsed time (``PT45M``, ``10 days``): holidays and office hours do not matter."""

    text: str
    delta: timedelta
    kind: ClassVar[str] = "duration"

    def due(self, start: datetime, cal: BusinessCalendar) -> Due:
        return cal.add_calendar(start, self.delta)

    def __str__(self) -> str:
        return _describe_delta(self.delta)


@dataclass(frozen=True)
class WorkingTime(Deadline):
    """Office time on working days: ``amount`` working "minutes", "hours" or "days"."""

    text: str
    amount: int
    unit: str
    kind: ClassVar[str] = "duration"

    def due(self, start: datetime, cal: BusinessCalendar) -> Due:
        add = {"minutes": cal.add_working_minutes, "hours": cal.add_working_hours, "days": cal.add_working_days}
        return add[self.unit](start, self.amount)

    def __str__(self) -> str:
        return f"{self.amount} 个{_ZH_WORKING[self.unit]}"


@dataclass(frozen=True)
class NextWorkingDayAt(Deadline):
    """A local time of day on the first working day after the start day (``15:00 next working day``)."""

    text: str
    at: time
    kind: ClassVar[str] = "date"

    def due(self, start: datetime, cal: BusinessCalendar) -> Due:
        return cal.at_time_on_next_working_day(start, self.at)

    def __str__(self) -> str:
        return f"下一个工作日 {self.at:%H:%M}"


@dataclass(frozen=True)
class FixedMoment(Deadline):
    """A fixed date-time or date; without an offset it is read in the calendar's timezone,
    a bare date means 00:00 that day."""

    text: str
    at: date | datetime
    kind: ClassVar[str] = "date"

    def due(self, start: datetime, cal: BusinessCalendar) -> Due:
        return Due(_moment(self.at, cal), False)

    def __str__(self) -> str:
        return _describe_moment(self.at)


class Cycle(Deadline):
    """A repeating timer. ``repetitions`` is None when it repeats for ever."""

    kind: ClassVar[str] = "cycle"
    repetitions: int | None

    @abstractmethod
    def next_after(self, after: datetime, cal: BusinessCalendar, fired: int) -> Due | None:
        """The next firing, or None once ``fired`` has reached ``repetitions``.

        ``after`` is when the timer started (``fired == 0``) or the due time of its last firing."""

    def due(self, start: datetime, cal: BusinessCalendar) -> Due:
        """The first firing."""
        first = self.next_after(start, cal, 0)
        assert first is not None  # every cycle fires at least once
        return first


@dataclass(frozen=True)
class Repeat(Cycle):
    """ISO 8601 cycle ``R<n>/<period>`` or ``R<n>/<first firing>/<period>``, in calendar time."""

    text: str
    repetitions: int | None
    period: timedelta
    first: date | datetime | None = None

    def next_after(self, after: datetime, cal: BusinessCalendar, fired: int) -> Due | None:
        if fired < 0:
            raise ValueError("fired must not be negative")
        if self.repetitions is not None and fired >= self.repetitions:
            return None
        if fired == 0 and self.first is not None:
            return Due(_moment(self.first, cal), False)
        return cal.add_calendar(after, self.period)

    def __str__(self) -> str:
        start = f"自 {_describe_moment(self.first)} 起" if self.first is not None else ""
        times = "不限次数" if self.repetitions is None else f"共 {self.repetitions} 次"
        return f"{start}每 {_describe_delta(self.period)}一次，{times}"


@dataclass(frozen=True)
class EveryWorkingDay(Cycle):
    """Fires at a local time of day on every working day, for ever (``every working day at 15:00``)."""

    text: str
    at: time
    repetitions: int | None = None

    def next_after(self, after: datetime, cal: BusinessCalendar, fired: int) -> Due | None:
        if fired < 0:
            raise ValueError("fired must not be negative")
        return cal.next_working_day_time(after, self.at)

    def __str__(self) -> str:
        return f"每个工作日 {self.at:%H:%M}"


@dataclass(frozen=True)
class EveryMonth(Cycle):
    """Fires at a local time on day ``day`` (1..28) of every month, for ever (``every month on day 1
    at 09:00``); with ``working``, a day the calendar closes moves to the next working day
    (``every month on day 1, or the next working day, at 09:00``), as R-F7's monthly batch needs."""

    text: str
    day: int
    at: time
    working: bool = False
    repetitions: int | None = None

    def next_after(self, after: datetime, cal: BusinessCalendar, fired: int) -> Due | None:
        if fired < 0:
            raise ValueError("fired must not be negative")
        after = to_utc(after)
        local = after.astimezone(cal.tz)
        year, month = local.year, local.month
        for _ in range(24):  # this month's firing, else the next month's: never more than two tries
            first = date(year, month, self.day)
            if self.working:  # the first working day from `first` on, at that time
                eve = datetime.combine(first, time(0, 0), tzinfo=cal.tz) - timedelta(seconds=1)
                due = cal.next_working_day_time(eve, self.at)
            else:
                due = Due(to_utc(datetime.combine(first, self.at, tzinfo=cal.tz)), False)
            if due.at > after:
                return due
            year, month = (year + 1, 1) if month == 12 else (year, month + 1)
        raise AssertionError("unreachable")

    def __str__(self) -> str:
        moved = "（遇非工作日顺延）" if self.working else ""
        return f"每月 {self.day} 日 {self.at:%H:%M}{moved}"


@dataclass(frozen=True)
class Expression:
    """``=合同截止日期``: evaluated by the engine against instance data, then parsed again."""

    text: str
    source: str
    kind: ClassVar[str] = "expression"

    def due(self, start: datetime, cal: BusinessCalendar) -> Due:
        """Refused: the engine must evaluate the expression and parse the result first."""
        raise DeadlineInvalid(self.text, "an expression must be evaluated before its due time is known")

    def __str__(self) -> str:
        return f"按表达式 {self.source} 计算"


# -- public functions ------------------------------------------------------------------------
def is_expression(text: str) -> bool:
    """True for a value starting with ``=`` (after optional quotes and spaces)."""
    return isinstance(text, str) and _unquote(text.strip()).startswith("=")


def parse(value: Value) -> Deadline | Expression:
    """Read one deadline; raises DeadlineInvalid with a precise reason.

    ``value`` is the text from the model, or what an expression evaluated to: text in this
    notation, a date, a date-time (naive means the calendar's timezone) or a timedelta."""
    if isinstance(value, date):  # also datetime
        return FixedMoment(value.isoformat(), value)
    if isinstance(value, timedelta):
        if value < timedelta(0):
            raise DeadlineInvalid(str(value), "negative durations are not allowed")
        return CalendarTime(str(value), value)
    if not isinstance(value, str):
        raise DeadlineInvalid(repr(value), f"expected text, a date or a date-time, not {type(value).__name__}")
    try:
        return _parse_text(value)
    except _Why as why:
        raise DeadlineInvalid(value.strip(), str(why)) from None


def parse_for(element: str, value: Value) -> Deadline | Expression:
    """:func:`parse`, also refusing a cycle outside ``timeCycle`` and a non-cycle inside it.

    ``element`` is "timeDate", "timeDuration", "timeCycle" or "dueDate"."""
    deadline = parse(value)
    if deadline.kind == "expression":
        return deadline
    if element == "timeCycle" and deadline.kind != "cycle":
        raise DeadlineInvalid(
            str(value).strip(), "a timeCycle needs a repeating value, e.g. R3/PT10M or every working day at 15:00"
        )
    if element != "timeCycle" and deadline.kind == "cycle":
        raise DeadlineInvalid(str(value).strip(), f"a repeating value only fits a timeCycle, not {element}")
    return deadline


def resolve(value: Value, start: datetime, cal: BusinessCalendar) -> Due:
    """Parse and compute the due time in one step (a cycle gives its first firing).

    Meant for values that are not expressions, e.g. the result of evaluating one."""
    return parse(value).due(start, cal)


def describe(value: Value) -> str:
    """A short Chinese description for staff, e.g. "2 个工作日"; raises DeadlineInvalid."""
    return str(parse(value))


# -- parsing ---------------------------------------------------------------------------------
_TIME = r"(\d{1,2})\s*[:：]\s*(\d{2})"
_NEXT_DAY = [
    re.compile(rf"(?:by\s+)?{_TIME}\s+(?:on\s+)?(?:the\s+)?next\s+working\s+day"),
    re.compile(rf"(?:by\s+)?(?:the\s+)?next\s+working\s+day\s+(?:at\s+|by\s+)?{_TIME}"),
    re.compile(rf"下(?:一个|一|个)工作日\s*{_TIME}\s*(?:之前|前)?"),
]
_EVERY_DAY = [
    re.compile(rf"every\s+working\s+day\s+(?:at\s+)?{_TIME}"),
    re.compile(rf"每(?:一个|个)?工作日\s*{_TIME}"),
]
_EVERY_MONTH = [
    re.compile(
        rf"every\s+month\s+on\s+(?:the\s+)?(?:day\s+)?(\d{{1,2}})(?:st|nd|rd|th)?"
        rf"(\s*,?\s*or\s+the\s+next\s+working\s+day\s*,?)?\s+at\s+{_TIME}"
    ),
    re.compile(rf"每(?:个)?月\s*(\d{{1,2}})\s*[日号]\s*{_TIME}\s*([（(]?(?:遇非工作日|遇节假日)?顺延[）)]?)?"),
]
_AMOUNT = re.compile(r"([+-]?\d+(?:[.,]\d+)?)\s*(.*)", re.S)
_UNITS = {
    "minute": "minutes",
    "minutes": "minutes",
    "hour": "hours",
    "hours": "hours",
    "day": "days",
    "days": "days",
    "week": "weeks",
    "weeks": "weeks",
}
_QUALIFIERS = ("working", "calendar")
_ZH_UNITS = {
    "工作日": ("working", "days"),
    "工作小时": ("working", "hours"),
    "工作分钟": ("working", "minutes"),
    "自然日": ("calendar", "days"),
    "天": ("calendar", "days"),
    "小时": ("calendar", "hours"),
    "分钟": ("calendar", "minutes"),
    "周": ("calendar", "weeks"),
}
_ZH_WORKING = {"days": "工作日", "hours": "工作小时", "minutes": "工作分钟"}
_EXAMPLES = "e.g. PT45M, 2 working days, 15:00 next working day, 2个工作日"


def _parse_text(raw: str) -> Deadline | Expression:
    text = _unquote(raw.strip())
    if not text:
        raise _Why("empty value")
    if text.startswith("="):
        source = text[1:].strip()
        if not source:
            raise _Why("nothing after '=' (write e.g. =合同截止日期)")
        return Expression(text, source)
    if text.startswith(("${", "#{")):
        raise _Why(f"write expressions as ={text[2:].rstrip('}').strip()}, not {text[:2]}...}}")
    monthly = _every_month(text)
    if monthly is not None:
        return monthly
    for matcher, build in ((_NEXT_DAY, NextWorkingDayAt), (_EVERY_DAY, EveryWorkingDay)):
        at = _match_time(matcher, text)
        if at is not None:
            return build(text, at)
    head = text[0].upper()
    if head == "P" or text[:2].upper() == "-P":
        return CalendarTime(text, _iso_duration(text))
    if head == "R" and (len(text) == 1 or not text[1].isalpha()):
        return _iso_cycle(text)
    if re.match(r"\d{4}-\d{1,2}-\d{1,2}", text):
        return FixedMoment(text, _iso_moment(text))
    if re.match(r"[+-]?\d", text) and not re.match(_TIME, text):
        return _amount(text)
    raise _Why(_phrase_problem(text))


def _every_month(text: str) -> EveryMonth | None:
    """``every month on day 5 at 09:00`` / ``每月5日09:00``, optionally moved to the next working day."""
    lowered = text.lower()
    for n, pattern in enumerate(_EVERY_MONTH):
        m = pattern.fullmatch(lowered)
        if m is None:
            continue
        day, moved = (m[1], m[2]) if n == 0 else (m[1], m[4])
        hour, minute = (int(m[3]), int(m[4])) if n == 0 else (int(m[2]), int(m[3]))
        if not 1 <= int(day) <= 28:
            raise _Why(f"day {day} is not in every month: a monthly cycle takes day 1 to 28")
        if hour > 23 or minute > 59:
            raise _Why(f"{hour}:{minute:02d} is not a time of day (00:00 to 23:59)")
        return EveryMonth(text, int(day), time(hour, minute), bool(moved))
    return None


def _unquote(text: str) -> str:
    """'"PT45M"' -> 'PT45M': SpiffWorkflow examples write timers as Python string literals."""
    if len(text) >= 2 and text[0] == text[-1] and text[0] in "\"'":
        return text[1:-1].strip()
    return text


def _match_time(patterns: Iterable[re.Pattern[str]], text: str) -> time | None:
    for pattern in patterns:
        m = pattern.fullmatch(text.lower())
        if m:
            hour, minute = int(m[1]), int(m[2])
            if hour > 23 or minute > 59:
                raise _Why(f"{m[1]}:{m[2]} is not a time of day (00:00 to 23:59)")
            return time(hour, minute)
    return None


def _amount(text: str) -> Deadline:
    """ "2 working days", "45 minutes", "2个工作日"."""
    m = _AMOUNT.fullmatch(text)
    assert m is not None
    number, rest = m[1], m[2].strip()
    if number.startswith("-"):
        raise _Why("negative amounts are not allowed")
    if not number.lstrip("+").isdigit():
        raise _Why(f"use a whole number, not {number} (e.g. 90 working minutes instead of 1.5 working hours)")
    if not rest:
        raise _Why(f"missing unit after {number} (e.g. {number} working days)")
    amount = int(number)
    qualifier, unit = _zh_unit(rest) if _has_cjk(rest) else _en_unit(rest)
    if qualifier == "working":
        return WorkingTime(text, amount, unit)
    return CalendarTime(text, timedelta(**{unit: amount}))


def _en_unit(rest: str) -> tuple[str, str]:
    words = rest.lower().split()
    for word in words:
        if word not in _UNITS and word not in _QUALIFIERS:
            raise _Why(f"unknown unit {word!r}{_suggest(word, [*_QUALIFIERS, *_UNITS])}")
    if len(words) == 1 and words[0] in _UNITS:
        return "calendar", _UNITS[words[0]]
    if len(words) == 2 and words[0] in _QUALIFIERS and words[1] in _UNITS:
        qualifier, unit = words[0], _UNITS[words[1]]
        if qualifier == "working" and unit == "weeks":
            raise _Why("working weeks are not supported: write working days (a week has 5)")
        return qualifier, unit
    if len(words) == 1:
        raise _Why(f"missing unit after {words[0]!r} (minutes, hours or days)")
    raise _Why(f"cannot read {rest!r} as a unit (e.g. working days, calendar days, hours)")


def _zh_unit(rest: str) -> tuple[str, str]:
    unit = re.sub(r"\s+", "", rest)
    unit = unit[1:] if unit.startswith("个") else unit
    if unit not in _ZH_UNITS:
        raise _Why(f"unknown unit {unit!r}{_suggest(unit, list(_ZH_UNITS))}")
    return _ZH_UNITS[unit]


_ISO_NUMBER = r"\d+(?:[.,]\d+)?"
_ISO_DURATION = re.compile(
    "P(?:(?P<years>N)Y)?(?:(?P<months>N)M)?(?:(?P<weeks>N)W)?(?:(?P<days>N)D)?"
    "(?:T(?:(?P<hours>N)H)?(?:(?P<minutes>N)M)?(?:(?P<seconds>N)S)?)?".replace("N", _ISO_NUMBER)
)


def _iso_duration(text: str) -> timedelta:
    """ISO 8601 duration as Camunda writes it; months and years are refused (their length varies)."""
    upper = text.upper()
    if upper.startswith("-"):
        raise _Why("negative durations are not allowed")
    m = _ISO_DURATION.fullmatch(upper)
    if not m:
        if "T" not in upper and re.search(r"\d[HS]", upper):
            raise _Why("hours, minutes and seconds go after a T (e.g. PT2H, P1DT2H)")
        raise _Why("not an ISO 8601 duration (e.g. PT45M, P2D, P1DT2H, P1W)")
    parts = {k: float(v.replace(",", ".")) for k, v in m.groupdict().items() if v is not None}
    if not parts:
        raise _Why("a duration needs an amount (e.g. PT45M, P2D)")
    if upper.endswith("T"):
        raise _Why("nothing after T (e.g. PT45M)")
    if "months" in parts:
        n = m["months"]
        raise _Why(
            f"P{n}M means {n} months, which are not supported (their length varies): "
            f"for {n} minutes write PT{n}M, for days write e.g. P30D"
        )
    if "years" in parts:
        raise _Why("years are not supported (their length varies): write days, e.g. P365D")
    return timedelta(**parts)


def _iso_moment(text: str) -> date | datetime:
    try:
        if re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
            return date.fromisoformat(text)
        return datetime.fromisoformat(text)
    except ValueError as exc:
        raise _Why(f"not a valid date or date-time ({exc}); e.g. 2026-10-01T09:00:00+08:00") from None


def _iso_cycle(text: str) -> Repeat:
    """R<n>/<period> or R<n>/<first firing>/<period>; R/ repeats for ever."""
    parts = [p.strip() for p in text.split("/")]
    m = re.fullmatch(r"R(-?\d*)", parts[0], re.I)
    if not m or len(parts) not in (2, 3):
        raise _Why("a cycle is written R<times>/<period> or R<times>/<start>/<period> (e.g. R3/PT10M)")
    if m[1].startswith("-"):
        raise _Why("the number of repetitions must not be negative")
    repetitions = int(m[1]) if m[1] else None
    if repetitions == 0:
        raise _Why("R0 never fires: a cycle must repeat at least once (R/ repeats for ever)")
    if len(parts) == 3 and parts[1][:1].upper() == "P":
        raise _Why("cycles with an end date are not supported: write R<times>/<start>/<period>")
    first = _iso_moment(parts[1]) if len(parts) == 3 else None
    if parts[-1][:1].upper() != "P":
        raise _Why(f"the period of a cycle must be an ISO duration like PT1H, not {parts[-1]!r}")
    period = _iso_duration(parts[-1])
    if period <= timedelta(0):
        raise _Why("the period of a cycle must be longer than zero")
    return Repeat(text, repetitions, period, first)


def _phrase_problem(text: str) -> str:
    """Why a text that is no known form was refused, naming the first unknown word if any."""
    lowered = text.lower()
    if lowered.startswith("every"):
        return (
            "the readable cycles are 'every working day at 15:00' and 'every month on day 1, or the next"
            " working day, at 09:00'; use R3/PT10M for others"
        )
    vocabulary = ["by", "on", "the", "next", "working", "day", "every", "at"]
    words = re.findall(r"[a-z]+", lowered)
    for word in words:
        if word not in vocabulary:
            return f"unknown word {word!r}{_suggest(word, vocabulary)}; {_EXAMPLES}"
    return f"not a deadline ({_EXAMPLES})"


def _suggest(word: str, choices: list[str]) -> str:
    close = difflib.get_close_matches(word, choices, n=1, cutoff=0.6)
    return f" (did you mean {close[0]!r}?)" if close else ""


def _has_cjk(text: str) -> bool:
    return any("\u4e00" <= ch <= "\u9fff" for ch in text)


# -- helpers ---------------------------------------------------------------------------------
def _moment(value: date | datetime, cal: BusinessCalendar) -> datetime:
    """A fixed moment in UTC; no offset means the calendar's timezone, a date means 00:00."""
    if not isinstance(value, datetime):
        value = datetime.combine(value, time(0))
    if value.tzinfo is None:
        value = value.replace(tzinfo=cal.tz)
    return to_utc(value)


def _describe_moment(value: date | datetime) -> str:
    if not isinstance(value, datetime):
        return value.isoformat()
    text = f"{value:%Y-%m-%d %H:%M}" + (f":{value:%S}" if value.second else "")
    offset = value.strftime("%z")
    return f"{text} {offset[:3]}:{offset[3:]}" if offset else text


def _describe_delta(delta: timedelta) -> str:
    """timedelta -> "2 天 3 小时" ("10 个自然日" for whole days, "1 周" for whole weeks)."""
    if delta == timedelta(0):
        return "立即"
    seconds = delta.total_seconds()
    days, rest = divmod(seconds, 86400)
    if not rest and days % 7 == 0:
        return f"{int(days // 7)} 周"
    if not rest:
        return f"{int(days)} 个自然日"
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    parts = [(days, "天"), (hours, "小时"), (minutes, "分钟"), (secs, "秒")]
    return " ".join(f"{_number(n)} {unit}" for n, unit in parts if n)


def _number(n: float) -> str:
    return str(int(n)) if n == int(n) else f"{n:g}"
