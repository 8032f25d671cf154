"""Times as people at the desk read them: local time in the hall's time zone to the minute, and the
time left before a deadline counted in working time, as the deadlines themselves are counted.

``--json`` keeps ISO 8601 in UTC; these are for the human output only.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta, tzinfo
from typing import Any

from .i18n import tr

#: How far ahead working time is counted day by day; a deadline further away is told in calendar days.
HORIZON_DAYS = 62


def local(moment: datetime | str | None, tz: tzinfo, empty: str = "-") -> str:
    """``2026-11-24 09:00`` in ``tz`` for an aware datetime or an ISO text; ``empty`` for none."""
    if moment is None or moment == "":
        return empty
    if isinstance(moment, str):
        try:
            moment = datetime.fromisoformat(moment)
        except ValueError:
            return str(moment)  # not a time: shown as it is
    if moment.tzinfo is None:
        return moment.strftime("%Y-%m-%d %H:%M")
    return moment.astimezone(tz).strftime("%Y-%m-%d %H:%M")


def working_between(calendar: Any, start: datetime, end: datetime) -> timedelta:
    """Office time between two moments on the hall's calendar (an ``engine.calendar.BusinessCalendar``):
    office hours of working days, lunch left out; zero when ``end`` is not after ``start``."""
    if end <= start:
        return timedelta(0)
    cfg, tz = calendar.config, calendar.tz
    total = timedelta(0)
    day = start.astimezone(tz).date()
    last = end.astimezone(tz).date()
    while day <= last:
        if calendar.is_working_day(day):
            for lo, hi in _open_periods(day, cfg, tz):
                a, b = max(lo, start), min(hi, end)
                if b > a:
                    total += b - a
        day += timedelta(days=1)
    return total


def _open_periods(day: date, cfg: Any, tz: tzinfo) -> list[tuple[datetime, datetime]]:
    bounds: list[time] = [cfg.office_start, *(cfg.lunch or ()), cfg.office_end]
    moments = [datetime.combine(day, t, tzinfo=tz) for t in bounds]
    return list(zip(moments[::2], moments[1::2]))


def span(minutes: int) -> str:
    """A length of time as ``2d3h``, ``3h05m``, ``45m`` (English) or ``2天3小时``, ``3小时5分`` (Chinese)."""
    days, rest = divmod(minutes, 1440)
    hours, mins = divmod(rest, 60)
    if days:
        return tr("{d}d{h}h", d=days, h=hours)
    if hours:
        return tr("{h}h{m:02d}m", h=hours, m=mins)
    return tr("{m}m", m=mins)


def working_span(worked: timedelta, office_day: timedelta) -> str:
    """Working time left, as staff count it: ``about 1 working day`` (约1个工作日) for a day or more,
    else hours and minutes of office time."""
    minutes = int(worked.total_seconds() // 60)
    day = int(office_day.total_seconds() // 60) or 1
    if minutes >= day:
        days = round(minutes / day, 1)
        shown = f"{days:g}"
        return tr("about {n} working day(s)", n=shown)
    return span(minutes)


def due_text(task: dict, now: datetime, calendar: Any = None) -> tuple[str, str]:
    """What `hall tasks` shows for a task's deadline, and its state: ``overdue``, ``soon``, ``ok``
    or ``none`` (for colour). Working time left when a calendar is given and the deadline is near
    enough to count it; the mark ``~`` on a provisional deadline (R-T2)."""
    if not task.get("due_at"):
        return tr("no deadline"), "none"
    due = datetime.fromisoformat(task["due_at"])
    mark = "~" if task.get("due_provisional") else ""
    minutes = int((due - now).total_seconds() // 60)
    if minutes < 0:
        return tr("OVERDUE {span}", span=span(-minutes)) + mark, "overdue"
    # due soon: past the task's warning time (camunda:followUpDate), else within two hours
    warn = task.get("warn_at")
    soon = now >= datetime.fromisoformat(warn) if warn else minutes < 120
    if calendar is not None and due - now <= timedelta(days=HORIZON_DAYS):
        left = working_span(working_between(calendar, now, due), calendar.office_day)
    else:
        left = span(minutes)
    text = tr("{span} left", span=left)
    if soon:
        text += tr(" (soon)")
    return text + mark, "soon" if soon else "ok"
