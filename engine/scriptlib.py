"""Functions BPMN scripts and conditions may call, bound to the step that runs them.

`next_number(kind)` numbers cases from a configurable pattern, unique across workers because
the sequence lives in the database (one row per kind and rendered date part, taken with one
atomic upsert); the sequence restarts when the date part the pattern shows changes; `setting(name, default)` reads configuration; `now()` and
`today()` use the engine's clock in the configured time zone; `cases_at(process, *elements)`
lists the cases of another process that are now at one of its elements (e.g. the day's
callbacks for a roster started each working day); `deadline(text, start)` is the moment a
deadline in the notation of docs/deadlines.md falls when counted from `start` (an ISO time, e.g.
the case's receipt), so a due date or timer can be measured from an earlier moment than the
task's opening (`camunda:dueDate="=联系截止时间"`); `tasks_created(element, since)` counts the
tasks of this case created at `element` (at or after `since`), e.g. to escalate once per deadline;
`following_month(day, at, working_day=False)` is that day of next month (files compiled by the 5th, R-F7), moved to the next working day on request.
"""

from __future__ import annotations

import hashlib
import string
from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from .clock import to_utc
from .jobs import table as jobtable
from .store import loads

DEFAULT_PATTERN = "{prefix}{date:%Y%m%d}-{seq:04d}"


def sequence_period(pattern: str, local: datetime) -> str:
    """The key the sequence of `pattern` restarts on: the date part the number actually shows.

    "{date:%Y%m%d}" restarts daily ("20261124"), "{date:%Y%m}" monthly ("202611"), "{date:%Y}"
    yearly, several date fields are joined with "|", and a pattern without a date never restarts
    ("-"). So two numbers are equal only when their date part and sequence are, for any pattern.
    Keys longer than the sequences table keeps (20 characters) are shortened to a digest."""
    parts = [
        format(local, spec or "")
        for _text, field, spec, _conv in string.Formatter().parse(pattern)
        if field is not None and field.split(".")[0].split("[")[0] == "date"
    ]
    if not parts:
        return "-"
    key = "|".join(parts)
    return key if len(key) <= 20 else "#" + hashlib.sha1(key.encode()).hexdigest()[:19]


def functions(settings: Mapping[str, Any], deadlines: Any) -> dict[str, Callable[..., Any]]:
    """The script functions for an engine with these settings (each takes the step first)."""
    numbering = settings.get("numbering") or {}
    values = settings.get("settings") or {}
    tz = ZoneInfo(((settings.get("calendar") or {}).get("timezone")) or "Asia/Shanghai")

    def next_number(step: Any, kind: str) -> str:
        conf = numbering.get(kind) or {}
        pattern = conf.get("pattern") or DEFAULT_PATTERN
        local = step.now.astimezone(tz)
        seq = step.tx.next_sequence(kind, sequence_period(pattern, local))
        return pattern.format(prefix=conf.get("prefix", kind.upper()), date=local, seq=seq)

    def deadline(step: Any, text: str, start: Any = None) -> str:
        """The moment as ISO text; a provisional one is also noted, with its recipe, in the script's
        companion variable (R-T2), so the due dates and timers taking it stay provisional."""
        from .deadlines import PROVISIONAL_VARIABLE  # here: a command that runs no script never loads it

        begin = _moment(start, tz) if start else step.now
        due = deadlines.task_due(text, begin, {})
        value = due.at.astimezone(tz).isoformat(timespec="seconds")
        data = getattr(step, "script_data", None)
        if due.provisional and data is not None:
            marks = data.get(PROVISIONAL_VARIABLE)
            marks = dict(marks) if isinstance(marks, Mapping) else {}
            marks[value] = {"deadline": str(text), "start": begin.isoformat(timespec="seconds")}
            data[PROVISIONAL_VARIABLE] = marks
        return value

    def following_month(step: Any, day: int, at: str = "17:30", working_day: bool = False, months: int = 1) -> str:
        """`day` of the month after this one at `at` (local), e.g. files compiled by the 5th (R-F7);
        with `working_day`, a day the calendar closes (a weekend, a holiday) moves to the next
        working day. `months=0`: of this month (a monthly batch opened on the 1st)."""
        local = step.now.astimezone(tz)
        index = local.year * 12 + local.month - 1 + int(months)
        year, month = index // 12, index % 12 + 1
        hh, mm = (int(x) for x in at.split(":"))
        moment = datetime(year, month, int(day), hh, mm, tzinfo=tz)
        calendar = getattr(deadlines, "calendar", None)
        if working_day and calendar is not None:
            for _ in range(366):  # a year of closed days is a broken calendar, not a loop forever
                if calendar.is_working_day(moment.date()):
                    break
                moment += timedelta(days=1)
        return moment.isoformat(timespec="seconds")

    def tasks_created(step: Any, element: str, since: Any = None) -> int:
        after = to_utc(_moment(since, tz)) if since else None
        rows = list(step.tx.history(step.instance_id)) + list(step.history)
        return sum(
            1
            for r in rows
            if r["kind"] == "task_created" and r["element"] == element and (after is None or _utc(r["at"]) >= after)
        )

    def setting(step: Any, name: str, default: Any = None) -> Any:
        return values.get(name, default)

    def now(step: Any) -> str:
        return step.now.astimezone(tz).isoformat(timespec="seconds")

    def today(step: Any) -> str:
        return step.now.astimezone(tz).date().isoformat()

    def cases_at(step: Any, process_id: str, *elements: str, fields: tuple[str, ...] = ()) -> list[dict]:
        found = jobtable.cases_at(step.tx, process_id, elements, step.now)
        return [
            {
                "instance": c["instance"],
                "element": c["element"],
                "business_key": c["business_key"],
                "due_at": c["due_at"],
                **{f: c["variables"].get(f) for f in fields},
            }
            for c in found
        ]

    def month_start(step: Any, months: int = 0) -> str:
        """00:00 (local) on the 1st of this month, or of the month `months` away (-1: the last one)."""
        local = step.now.astimezone(tz)
        index = local.year * 12 + local.month - 1 + int(months)
        return datetime(index // 12, index % 12 + 1, 1, tzinfo=tz).isoformat(timespec="seconds")

    def cases_completed(
        step: Any, process_id: str, element: str, since: Any, until: Any, fields: tuple[str, ...] = ()
    ) -> list[dict]:
        """The cases of a process whose user task `element` was completed with since <= time < until,
        in the order completed (a case completing it twice: once, at its last completion)."""
        from .store.reading import events

        rows = events(step.tx, process_id, "task_completed", [element], _moment(since, tz), _moment(until, tz), False)
        last: dict[int, Any] = {}
        for instance_id, at, actor, _element, _detail in rows:
            last.pop(instance_id, None)
            last[instance_id] = (at, actor)
        found = step.tx.instances_by_id(list(last))
        out = []
        for instance_id, (at, actor) in last.items():
            row = found.get(instance_id)
            if row is None:  # purged since
                continue
            variables = loads(row["variables"]) or {}
            out.append(
                {
                    "instance": instance_id,
                    "business_key": row["business_key"],
                    "completed_at": _utc(at).astimezone(tz).isoformat(timespec="seconds"),
                    "completed_by": actor,
                    **{f: variables.get(f) for f in fields},
                }
            )
        return out

    return {
        "next_number": next_number,
        "month_start": month_start,
        "cases_completed": cases_completed,
        "setting": setting,
        "now": now,
        "today": today,
        "cases_at": cases_at,
        "deadline": deadline,
        "tasks_created": tasks_created,
        "following_month": following_month,
    }


def _utc(at: datetime) -> datetime:
    """A stored time (SQLite may give it back without its zone, always UTC) as aware UTC."""
    return to_utc(at if at.tzinfo else at.replace(tzinfo=UTC))


def _moment(value: Any, tz: ZoneInfo) -> datetime:
    """An ISO date-time (naive: the hall's time zone) or a datetime, as an aware datetime."""
    at = value if isinstance(value, datetime) else datetime.fromisoformat(str(value))
    return at if at.tzinfo else at.replace(tzinfo=tz)
