"""The business calendar: which days are working days, when the office is open, and how to
count working time. Pure logic, no database, no knowledge of what the processes are about.

Working days follow the calendar of the People's Republic of China (statutory holidays off,
weekend days declared working days, 调休, on) as published in the ``chinesecalendar`` library,
plus what the administrator configures:

* per-year official schedules (``official``), for years the library does not know yet, or to
  correct it; a configured year replaces the library's data for that year;
* local closed days (the hall is closed) and extra working days (an extra working Saturday),
  which win over everything else.

A year that neither the library nor the configuration knows falls back to Monday–Friday with the
statutory holidays of 《全国年节及纪念日放假办法》 (2024 revision) computed for it (R-T1): 元旦,
春节 (除夕 to 初三, from the lunar calendar), 清明 (the solar term), 劳动节 (05-01, 05-02), 端午,
中秋 and 国庆节 (10-01 to 10-03). The 调休 swaps are unknown until the State Council publishes
them, so every answer that depended on such a day is marked *provisional*.

All times given to and returned by this module are timezone-aware; results are UTC. Office
hours and dates are read in the calendar's timezone (default Asia/Shanghai). Working time is
measured in absolute time between the local opening and closing moments, so a daylight-saving
change never makes a working day longer or shorter than the clock on the wall says.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import chinese_calendar
from lunardate import LunarDate

from .clock import to_utc

# the years whose official schedule the chinesecalendar library carries (`hall calendar` shows them)
LIBRARY_FIRST_YEAR = min(chinese_calendar.holidays).year
LIBRARY_LAST_YEAR = max(chinese_calendar.holidays).year

WEEKDAY = "工作日"
WEEKEND = "周末"
STATUTORY = "法定节假日"
SHIFTED = "调休"
LOCAL_CLOSED = "本地关闭"
LOCAL_WORKING = "本地加班"


@dataclass(frozen=True)
class YearSchedule:
    """One year's official schedule as published by the State Council: holidays and 调休 days.

    Both map a date to the name of its holiday ("" when not given), e.g. ``{date(2027, 1, 1): "元旦"}``.
    """

    holidays: Mapping[date, str] = field(default_factory=dict)
    workdays: Mapping[date, str] = field(default_factory=dict)


@dataclass(frozen=True)
class DayInfo:
    """What the calendar says about one day; ``reason`` is a short Chinese label for staff."""

    date: date
    working: bool
    reason: str
    provisional: bool


@dataclass(frozen=True)
class Due:
    """A computed moment (UTC) and whether it relied on a year with no official schedule."""

    at: datetime
    provisional: bool = False


@dataclass(frozen=True)
class CalendarConfig:
    """The ``calendar:`` section of hall.yaml. Build it in code or with :meth:`from_dict`."""

    timezone: str = "Asia/Shanghai"
    office_start: time = time(8, 50)
    office_end: time = time(17, 30)
    lunch: tuple[time, time] | None = None
    closed_days: frozenset[date] = frozenset()
    extra_working_days: frozenset[date] = frozenset()
    official: Mapping[int, YearSchedule] = field(default_factory=dict)

    def __post_init__(self) -> None:
        try:
            ZoneInfo(self.timezone)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"calendar.timezone: unknown time zone {self.timezone!r}") from None
        if not self.office_start < self.office_end:
            raise ValueError("calendar.office_hours: opening must be before closing")
        if self.lunch is not None:
            start, end = self.lunch
            if not self.office_start < start < end < self.office_end:
                raise ValueError("calendar.lunch: must be a non-empty break inside office hours")
        both = self.closed_days & self.extra_working_days
        if both:
            raise ValueError(f"calendar: {min(both)} is both in closed_days and extra_working_days")
        for year, schedule in self.official.items():
            _check_schedule(year, schedule)

    @classmethod
    def from_dict(cls, d: Mapping[str, Any] | None) -> CalendarConfig:
        """Read the ``calendar:`` section of hall.yaml; a bad value raises ValueError naming its key.

        Keys (all optional): ``timezone``, ``office_hours: "08:50-17:30"``, ``lunch: "12:00-13:30"``,
        ``closed_days`` and ``extra_working_days`` (lists of dates or ranges ``2026-12-24..2026-12-31``),
        ``official: {2027: {holidays: ..., workdays: ...}}`` where each list may also be a mapping
        from holiday name to dates, e.g. ``{国庆节: [2027-10-01..2027-10-07]}``.
        """
        d = dict(d or {})
        known = {"timezone", "office_hours", "lunch", "closed_days", "extra_working_days", "official"}
        unknown = sorted(set(d) - known, key=str)
        if unknown:
            raise ValueError(f"calendar.{unknown[0]}: unknown key (known: {', '.join(sorted(known))})")
        kwargs: dict[str, Any] = {}
        if "timezone" in d:
            kwargs["timezone"] = _str(d["timezone"], "calendar.timezone")
        if "office_hours" in d:
            kwargs["office_start"], kwargs["office_end"] = _time_range(d["office_hours"], "calendar.office_hours")
        if d.get("lunch") is not None:
            kwargs["lunch"] = _time_range(d["lunch"], "calendar.lunch")
        for key in ("closed_days", "extra_working_days"):
            if d.get(key) is not None:
                kwargs[key] = frozenset(_named_dates(d[key], f"calendar.{key}"))
        if d.get("official") is not None:
            kwargs["official"] = _official(d["official"])
        return cls(**kwargs)


class BusinessCalendar:
    """Answers "is this a working day/moment?" and counts working time. Immutable once built."""

    def __init__(self, config: CalendarConfig | None = None) -> None:
        self.config = config or CalendarConfig()
        self.tz = ZoneInfo(self.config.timezone)
        self._days: dict[date, DayInfo] = {}

    # -- days --------------------------------------------------------------------------------
    def is_covered(self, year: int) -> bool:
        """True when an official schedule for ``year`` is known (library or configuration)."""
        return year in self.config.official or LIBRARY_FIRST_YEAR <= year <= LIBRARY_LAST_YEAR

    def day_info(self, d: date) -> DayInfo:
        """Classify one day; local overrides win, then a configured year, then the library,
        then the provisional Monday–Friday fallback."""
        if isinstance(d, datetime):
            raise TypeError("day_info takes a date, not a datetime")
        info = self._days.get(d)
        if info is None:
            info = self._days[d] = self._classify(d)
        return info

    def is_working_day(self, d: date) -> bool:
        """True when the office is open on day ``d`` (see :meth:`day_info`)."""
        return self.day_info(d).working

    def month(self, year: int, month: int) -> list[DayInfo]:
        """Every day of one month with its classification, for `hall calendar 2026-12`."""
        first = date(year, month, 1)
        following = date(year + month // 12, month % 12 + 1, 1)
        return [self.day_info(first + timedelta(days=i)) for i in range((following - first).days)]

    def _classify(self, d: date) -> DayInfo:
        cfg = self.config
        if d in cfg.closed_days:
            return DayInfo(d, False, LOCAL_CLOSED, False)
        if d in cfg.extra_working_days:
            return DayInfo(d, True, LOCAL_WORKING, False)
        schedule = cfg.official[d.year] if d.year in cfg.official else _library_schedule(d.year)
        if schedule is None:  # R-T1: no official schedule: the statutory days, provisionally
            name = statutory_holidays(d.year).get(d)
            if name:
                return DayInfo(d, False, name, True)
            return DayInfo(d, d.weekday() < 5, WEEKDAY if d.weekday() < 5 else WEEKEND, True)
        if d in schedule.holidays:
            return DayInfo(d, False, schedule.holidays[d] or STATUTORY, False)
        if d in schedule.workdays:
            name = schedule.workdays[d]
            return DayInfo(d, True, f"{SHIFTED}（{name}）" if name else SHIFTED, False)
        return DayInfo(d, d.weekday() < 5, WEEKDAY if d.weekday() < 5 else WEEKEND, False)

    # -- moments -----------------------------------------------------------------------------
    @property
    def office_day(self) -> timedelta:
        """Working time in one office day (opening to closing, minus lunch): one "working day"."""
        cfg = self.config
        length = _minutes_between(cfg.office_start, cfg.office_end)
        if cfg.lunch:
            length -= _minutes_between(*cfg.lunch)
        return timedelta(minutes=length)

    def is_working_time(self, at: datetime) -> bool:
        """True when ``at`` falls inside office hours (not lunch) of a working day.

        Opening time counts as open, closing time as closed (17:30 is after hours)."""
        at = _aware(at)
        day = at.astimezone(self.tz).date()
        return self.is_working_day(day) and any(s <= at < e for s, e in self._intervals(day))

    def next_working_moment(self, at: datetime) -> datetime:
        """``at`` itself (in UTC) if the office is open then, otherwise the next opening."""
        return self._add_working(at, timedelta(0)).at

    def add_working_minutes(self, at: datetime, n: int) -> Due:
        """``n`` minutes of office time after ``at``, counted from the next working moment.

        Time outside office hours, at lunch and on non-working days does not count. A count that
        ends exactly at closing time ends then (17:30), not at the next opening; ``n=0`` gives the
        next working moment."""
        return self._add_working(at, timedelta(minutes=_count(n, "minutes")))

    def add_working_hours(self, at: datetime, n: int) -> Due:
        """``n`` hours of office time after ``at``, counted like :meth:`add_working_minutes`."""
        return self._add_working(at, timedelta(hours=_count(n, "hours")))

    def add_working_days(self, at: datetime, n: int) -> Due:
        """``n`` office days of working time after ``at`` (n × :attr:`office_day`).

        Received Monday 16:00, 2 working days later is Wednesday 16:00; received on a Saturday,
        1 working day later is Monday at closing time."""
        return self._add_working(at, self.office_day * _count(n, "days"))

    def add_calendar(self, at: datetime, delta: timedelta) -> Due:
        """Plain elapsed time: ``at + delta`` in absolute time, whatever the calendar says."""
        if delta < timedelta(0):
            raise ValueError("calendar time to add must not be negative")
        return Due(to_utc(at) + delta, False)

    def at_time_on_next_working_day(self, at: datetime, t: time) -> Due:
        """Local time ``t`` on the first working day after the (local) day of ``at``:
        "by 15:00 on the next working day"."""
        day = _aware(at).astimezone(self.tz).date() + timedelta(days=1)
        return self._time_on_working_day(day, t)

    def next_working_day_time(self, at: datetime, t: time) -> Due:
        """The first moment strictly after ``at`` that is local time ``t`` on a working day
        (today if still ahead): the firings of "every working day at 15:00"."""
        at = _aware(at)
        day = at.astimezone(self.tz).date()
        due = self._time_on_working_day(day, t)
        return due if due.at > at else self._time_on_working_day(day + timedelta(days=1), t)

    # -- internals ---------------------------------------------------------------------------
    def _time_on_working_day(self, first: date, t: time) -> Due:
        provisional = False
        for day in _days_from(first):
            info = self.day_info(day)
            provisional |= info.provisional
            if info.working:
                return Due(to_utc(datetime.combine(day, t, tzinfo=self.tz)), provisional)
        raise AssertionError("unreachable")

    def _intervals(self, day: date) -> list[tuple[datetime, datetime]]:
        """The office's open periods on ``day`` as UTC (start, end) pairs."""
        cfg = self.config
        bounds = [cfg.office_start, *(cfg.lunch or ()), cfg.office_end]
        utc = [to_utc(datetime.combine(day, t, tzinfo=self.tz)) for t in bounds]
        return list(zip(utc[::2], utc[1::2]))

    def _add_working(self, at: datetime, amount: timedelta) -> Due:
        at = _aware(at)
        remaining, provisional = amount, False
        for day in _days_from(at.astimezone(self.tz).date()):
            info = self.day_info(day)
            provisional |= info.provisional
            if not info.working:
                continue
            for start, end in self._intervals(day):
                if end <= at:
                    continue
                start = max(start, at)
                if remaining <= end - start:
                    return Due(start + remaining, provisional)
                remaining -= end - start
        raise AssertionError("unreachable")


# -- helpers ---------------------------------------------------------------------------------
def _aware(at: datetime) -> datetime:
    if not isinstance(at, datetime):
        raise TypeError(f"expected a datetime, got {type(at).__name__}")
    return to_utc(at)


def _count(n: int, unit: str) -> int:
    if isinstance(n, bool) or not isinstance(n, int):
        raise TypeError(f"number of working {unit} must be a whole number, got {n!r}")
    if n < 0:
        raise ValueError(f"number of working {unit} must not be negative, got {n}")
    return n


def _days_from(day: date) -> Iterator[date]:
    while True:
        yield day
        day += timedelta(days=1)


def _minutes_between(start: time, end: time) -> int:
    return (end.hour * 60 + end.minute) - (start.hour * 60 + start.minute)


_LIBRARY_CACHE: dict[int, YearSchedule | None] = {}


def _library_schedule(year: int) -> YearSchedule | None:
    """The chinesecalendar library's data for one year, with Chinese holiday names; None if absent."""
    if year not in _LIBRARY_CACHE:
        if not LIBRARY_FIRST_YEAR <= year <= LIBRARY_LAST_YEAR:
            _LIBRARY_CACHE[year] = None
        else:
            names = {h.value: h.chinese for h in chinese_calendar.Holiday}

            def pick(table: Mapping[date, str]) -> dict[date, str]:
                return {d: names.get(v, v) for d, v in table.items() if d.year == year}

            _LIBRARY_CACHE[year] = YearSchedule(pick(chinese_calendar.holidays), pick(chinese_calendar.workdays))
    return _LIBRARY_CACHE[year]


# 《全国年节及纪念日放假办法》, 2024 revision (in force from 2025): the days it fixes
STATUTORY_RULES_SINCE = 2025
_STATUTORY_CACHE: dict[int, dict[date, str]] = {}


def statutory_holidays(year: int) -> dict[date, str]:
    """The statutory holidays of ``year`` computed from the 2024 rules (R-T1), without 调休.

    Empty before the rules were in force and outside the lunar calendar's range (1900-2099).
    Names as the library gives them (国庆节 wins where 中秋 falls on 10-01..10-03)."""
    if year not in _STATUTORY_CACHE:
        days: dict[date, str] = {}
        if year >= STATUTORY_RULES_SINCE:
            try:
                new_year = LunarDate(year, 1, 1).to_solar_date()
                dragon_boat = LunarDate(year, 5, 5).to_solar_date()
                mid_autumn = LunarDate(year, 8, 15).to_solar_date()
                qingming = [
                    d
                    for d, name in chinese_calendar.get_solar_terms(date(year, 4, 1), date(year, 4, 10))
                    if name == "清明"
                ]
            except (ValueError, KeyError, IndexError):  # beyond the libraries' tables
                qingming = []
            else:
                days[date(year, 1, 1)] = "元旦"
                days.update({new_year + timedelta(days=i): "春节" for i in range(-1, 3)})  # 除夕 to 初三
                days.update({d: "清明" for d in qingming})
                days.update({date(year, 5, 1): "劳动节", date(year, 5, 2): "劳动节", dragon_boat: "端午"})
                days[mid_autumn] = "中秋"
                days.update({date(year, 10, i): "国庆节" for i in (1, 2, 3)})
        _STATUTORY_CACHE[year] = days
    return _STATUTORY_CACHE[year]


def _check_schedule(year: int, schedule: YearSchedule) -> None:
    key = f"calendar.official.{year}"
    for what, days in (("holidays", schedule.holidays), ("workdays", schedule.workdays)):
        stray = sorted(d for d in days if d.year != year)
        if stray:
            raise ValueError(f"{key}.{what}: {stray[0]} is not in {year}")
    both = sorted(set(schedule.holidays) & set(schedule.workdays))
    if both:
        raise ValueError(f"{key}: {both[0]} is both a holiday and a working day")


def _str(value: Any, key: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ValueError(f"{key}: expected text, got {value!r}")
    return value.strip()


_TIME = re.compile(r"^(\d{1,2})[:：](\d{2})$")


def _time(text: str, key: str) -> time:
    m = _TIME.match(text.strip())
    if not m or int(m[1]) > 23 or int(m[2]) > 59:
        raise ValueError(f"{key}: {text.strip()!r} is not a time like 08:50")
    return time(int(m[1]), int(m[2]))


def _time_range(value: Any, key: str) -> tuple[time, time]:
    """ "08:50-17:30" -> (time(8, 50), time(17, 30))."""
    parts = re.split(r"\s*(?:-|–|~|至)\s*", _str(value, key))
    if len(parts) != 2:
        raise ValueError(f"{key}: expected a range like 08:50-17:30, got {value!r}")
    start, end = (_time(p, key) for p in parts)
    if not start < end:
        raise ValueError(f"{key}: {value!r} ends before it starts")
    return start, end


def _date(value: Any, key: str) -> date:
    if isinstance(value, date) and not isinstance(value, datetime):
        return value
    try:
        return date.fromisoformat(str(value).strip())
    except ValueError:
        raise ValueError(f"{key}: {value!r} is not a date like 2026-10-01") from None


def _dates(value: Any, key: str) -> list[date]:
    """One date, or a range "2027-10-01..2027-10-07" (also ~ or 至), as a list of dates."""
    if isinstance(value, date):
        return [_date(value, key)]
    parts = re.split(r"\s*(?:\.\.|~|至)\s*", str(value).strip())
    if len(parts) == 1:
        return [_date(parts[0], key)]
    if len(parts) != 2:
        raise ValueError(f"{key}: {value!r} is not a date or a range like 2027-10-01..2027-10-07")
    first, last = _date(parts[0], key), _date(parts[1], key)
    if last < first:
        raise ValueError(f"{key}: range {value!r} ends before it starts")
    return [first + timedelta(days=i) for i in range((last - first).days + 1)]


def _named_dates(value: Any, key: str) -> dict[date, str]:
    """A list of dates/ranges (no names) or a mapping ``name -> dates/ranges``."""
    if isinstance(value, Mapping):
        items = [
            (str(name), entry)
            for name, entries in value.items()
            for entry in (entries if isinstance(entries, list) else [entries])
        ]
    elif isinstance(value, (list, tuple, set, frozenset)):
        items = [("", entry) for entry in value]
    else:
        items = [("", value)]
    return {d: name for name, entry in items for d in _dates(entry, key)}


def _official(value: Any) -> dict[int, YearSchedule]:
    if not isinstance(value, Mapping):
        raise ValueError("calendar.official: expected a mapping from year to {holidays, workdays}")
    result = {}
    for raw_year, body in value.items():
        key = f"calendar.official.{raw_year}"
        try:
            year = int(raw_year)
        except (TypeError, ValueError):
            raise ValueError(f"{key}: {raw_year!r} is not a year") from None
        if not isinstance(body, Mapping):
            raise ValueError(f"{key}: expected holidays and workdays")
        unknown = sorted(set(body) - {"holidays", "workdays"}, key=str)
        if unknown:
            raise ValueError(f"{key}.{unknown[0]}: unknown key (known: holidays, workdays)")
        result[year] = YearSchedule(
            holidays=_named_dates(body.get("holidays") or [], f"{key}.holidays"),
            workdays=_named_dates(body.get("workdays") or [], f"{key}.workdays"),
        )
    return result
