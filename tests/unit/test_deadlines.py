"""The deadline notation: every form, every alias, the errors, and due times over 2026 holidays.

2026 facts (chinesecalendar data): National Day 10-01..10-07 off, Saturday 10-10 worked.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hall.engine.calendar import BusinessCalendar, CalendarConfig, Due, YearSchedule
from hall.engine.deadlines import (
    CalendarTime,
    Cycle,
    EveryMonth,
    EveryWorkingDay,
    Expression,
    FixedMoment,
    NextWorkingDayAt,
    Repeat,
    WorkingTime,
    describe,
    is_expression,
    parse,
    parse_for,
    resolve,
)
from hall.engine.errors import DeadlineInvalid, HallError

SH = ZoneInfo("Asia/Shanghai")
UTC = UTC
CAL = BusinessCalendar()
EVE = datetime(2026, 9, 30, 16, 0, tzinfo=SH)  # Wednesday before National Day


def sh(y: int, m: int, d: int, hh: int = 0, mm: int = 0, ss: int = 0) -> datetime:
    return datetime(y, m, d, hh, mm, ss, tzinfo=SH)


def due_sh(text: str, start: datetime = EVE, cal: BusinessCalendar = CAL) -> datetime:
    due = parse(text).due(start, cal)
    assert due.at.tzinfo == UTC
    return due.at.astimezone(SH)


# -- every form: kind, description, due time from 2026-09-30 16:00 -----------------------------
FORMS = [
    # ISO 8601 durations: calendar time
    ("PT45M", "duration", "45 分钟", sh(2026, 9, 30, 16, 45)),
    ("P2D", "duration", "2 个自然日", sh(2026, 10, 2, 16, 0)),
    ("P1DT2H", "duration", "1 天 2 小时", sh(2026, 10, 1, 18, 0)),
    ("P1W", "duration", "1 周", sh(2026, 10, 7, 16, 0)),
    ("PT1H30M", "duration", "1 小时 30 分钟", sh(2026, 9, 30, 17, 30)),
    ("PT1.5H", "duration", "1 小时 30 分钟", sh(2026, 9, 30, 17, 30)),
    ("P1DT2H30M15S", "duration", "1 天 2 小时 30 分钟 15 秒", sh(2026, 10, 1, 18, 30, 15)),
    ("PT0S", "duration", "立即", sh(2026, 9, 30, 16, 0)),
    ("pt45m", "duration", "45 分钟", sh(2026, 9, 30, 16, 45)),
    # ISO 8601 date-times
    ("2026-10-01T09:00:00+08:00", "date", "2026-10-01 09:00 +08:00", sh(2026, 10, 1, 9, 0)),
    ("2026-10-01T01:00:00Z", "date", "2026-10-01 01:00 +00:00", sh(2026, 10, 1, 9, 0)),
    ("2026-10-01T09:00:00", "date", "2026-10-01 09:00", sh(2026, 10, 1, 9, 0)),
    ("2026-10-01T09:00", "date", "2026-10-01 09:00", sh(2026, 10, 1, 9, 0)),
    ("2026-10-01", "date", "2026-10-01", sh(2026, 10, 1, 0, 0)),
    # readable phrases, calendar time
    ("45 minutes", "duration", "45 分钟", sh(2026, 9, 30, 16, 45)),
    ("1 minute", "duration", "1 分钟", sh(2026, 9, 30, 16, 1)),
    ("2 hours", "duration", "2 小时", sh(2026, 9, 30, 18, 0)),
    ("1 hour", "duration", "1 小时", sh(2026, 9, 30, 17, 0)),
    ("10 days", "duration", "10 个自然日", sh(2026, 10, 10, 16, 0)),
    ("1 day", "duration", "1 个自然日", sh(2026, 10, 1, 16, 0)),
    ("1 week", "duration", "1 周", sh(2026, 10, 7, 16, 0)),
    ("2 weeks", "duration", "2 周", sh(2026, 10, 14, 16, 0)),
    ("10 calendar days", "duration", "10 个自然日", sh(2026, 10, 10, 16, 0)),
    ("1 Calendar Day", "duration", "1 个自然日", sh(2026, 10, 1, 16, 0)),
    # readable phrases, working time (National Day skipped)
    ("45 working minutes", "duration", "45 个工作分钟", sh(2026, 9, 30, 16, 45)),
    ("90 working minutes", "duration", "90 个工作分钟", sh(2026, 9, 30, 17, 30)),
    ("91 working minutes", "duration", "91 个工作分钟", sh(2026, 10, 8, 8, 51)),
    ("8 working hours", "duration", "8 个工作小时", sh(2026, 10, 8, 15, 20)),
    ("1 working hour", "duration", "1 个工作小时", sh(2026, 9, 30, 17, 0)),
    ("2 working days", "duration", "2 个工作日", sh(2026, 10, 9, 16, 0)),
    ("1 working day", "duration", "1 个工作日", sh(2026, 10, 8, 16, 0)),
    ("3 Working Days", "duration", "3 个工作日", sh(2026, 10, 10, 16, 0)),  # 调休 Saturday
    ("0 working days", "duration", "0 个工作日", sh(2026, 9, 30, 16, 0)),
    ("15:00 next working day", "date", "下一个工作日 15:00", sh(2026, 10, 8, 15, 0)),
    ("by 15:00 on the next working day", "date", "下一个工作日 15:00", sh(2026, 10, 8, 15, 0)),
    ("By 15:00 next working day", "date", "下一个工作日 15:00", sh(2026, 10, 8, 15, 0)),
    ("next working day at 9:30", "date", "下一个工作日 09:30", sh(2026, 10, 8, 9, 30)),
    # Chinese aliases
    ("2个工作日", "duration", "2 个工作日", sh(2026, 10, 9, 16, 0)),
    ("2 个工作日", "duration", "2 个工作日", sh(2026, 10, 9, 16, 0)),
    ("2工作日", "duration", "2 个工作日", sh(2026, 10, 9, 16, 0)),
    ("8个工作小时", "duration", "8 个工作小时", sh(2026, 10, 8, 15, 20)),
    ("45个工作分钟", "duration", "45 个工作分钟", sh(2026, 9, 30, 16, 45)),
    ("10个自然日", "duration", "10 个自然日", sh(2026, 10, 10, 16, 0)),
    ("10天", "duration", "10 个自然日", sh(2026, 10, 10, 16, 0)),
    ("2小时", "duration", "2 小时", sh(2026, 9, 30, 18, 0)),
    ("2个小时", "duration", "2 小时", sh(2026, 9, 30, 18, 0)),
    ("45分钟", "duration", "45 分钟", sh(2026, 9, 30, 16, 45)),
    ("1周", "duration", "1 周", sh(2026, 10, 7, 16, 0)),
    ("下一工作日15:00", "date", "下一个工作日 15:00", sh(2026, 10, 8, 15, 0)),
    ("下一个工作日 15:00", "date", "下一个工作日 15:00", sh(2026, 10, 8, 15, 0)),
    ("下个工作日15：00前", "date", "下一个工作日 15:00", sh(2026, 10, 8, 15, 0)),
    # quoted like a Python string literal
    ('"PT45M"', "duration", "45 分钟", sh(2026, 9, 30, 16, 45)),
    ("'2 working days'", "duration", "2 个工作日", sh(2026, 10, 9, 16, 0)),
    ('  "2个工作日"  ', "duration", "2 个工作日", sh(2026, 10, 9, 16, 0)),
]


@pytest.mark.parametrize("text, kind, description, expected", FORMS)
def test_every_form(text: str, kind: str, description: str, expected: datetime) -> None:
    deadline = parse(text)
    assert deadline.kind == kind
    assert str(deadline) == description == describe(text)
    assert due_sh(text) == expected


def test_parsed_objects() -> None:
    assert parse("2 working days") == WorkingTime("2 working days", 2, "days")
    assert parse("45 minutes") == CalendarTime("45 minutes", timedelta(minutes=45))
    assert parse("by 15:00 on the next working day") == NextWorkingDayAt("by 15:00 on the next working day", time(15))
    assert parse("2026-10-01") == FixedMoment("2026-10-01", date(2026, 10, 1))
    assert parse('"PT45M"') == CalendarTime("PT45M", timedelta(minutes=45))
    assert parse("R3/PT10M") == Repeat("R3/PT10M", 3, timedelta(minutes=10))


# -- a date-time without offset is read in the calendar's timezone -----------------------------
def test_local_date_time_uses_calendar_timezone() -> None:
    berlin = BusinessCalendar(CalendarConfig(timezone="Europe/Berlin"))
    assert parse("2026-10-01T09:00").due(EVE, berlin).at == datetime(2026, 10, 1, 7, 0, tzinfo=UTC)
    assert parse("2026-03-30").due(EVE, berlin).at == datetime(2026, 3, 29, 22, 0, tzinfo=UTC)  # CEST
    assert parse("2026-10-01T09:00+08:00").due(EVE, berlin).at == datetime(2026, 10, 1, 1, 0, tzinfo=UTC)


# -- cycles -------------------------------------------------------------------------------------
def firings(cycle: Cycle, start: datetime, cal: BusinessCalendar = CAL, limit: int = 10) -> list[datetime]:
    out, after = [], start
    for fired in range(limit):
        due = cycle.next_after(after, cal, fired)
        if due is None:
            break
        out.append(due.at.astimezone(SH))
        after = due.at
    return out


def test_iso_cycle_with_repetitions() -> None:
    cycle = parse("R3/PT10M")
    assert isinstance(cycle, Repeat) and cycle.kind == "cycle" and cycle.repetitions == 3
    assert firings(cycle, EVE) == [sh(2026, 9, 30, 16, 10), sh(2026, 9, 30, 16, 20), sh(2026, 9, 30, 16, 30)]
    assert str(cycle) == "每 10 分钟一次，共 3 次"
    assert cycle.due(EVE, CAL) == Due(sh(2026, 9, 30, 16, 10).astimezone(UTC), False)


def test_iso_cycle_unbounded() -> None:
    cycle = parse("R/PT1H")
    assert isinstance(cycle, Repeat) and cycle.repetitions is None
    assert len(firings(cycle, EVE, limit=50)) == 50
    assert cycle.next_after(EVE, CAL, 1000) == Due(sh(2026, 9, 30, 17, 0).astimezone(UTC), False)
    assert str(cycle) == "每 1 小时一次，不限次数"


def test_iso_cycle_with_start() -> None:
    cycle = parse("R3/2026-10-01T09:00:00+08:00/PT1H")
    assert isinstance(cycle, Repeat) and cycle.repetitions == 3
    assert firings(cycle, EVE) == [sh(2026, 10, 1, 9), sh(2026, 10, 1, 10), sh(2026, 10, 1, 11)]
    assert str(cycle) == "自 2026-10-01 09:00 +08:00 起每 1 小时一次，共 3 次"
    assert firings(parse("r2/2026-10-01T09:00/pt1h"), EVE) == [sh(2026, 10, 1, 9), sh(2026, 10, 1, 10)]


@pytest.mark.parametrize(
    "text",
    ["every working day at 15:00", "Every working day 15:00", "每个工作日15:00", "每工作日 15:00", "每个工作日15：00"],
)
def test_every_working_day(text: str) -> None:
    cycle = parse(text)
    assert isinstance(cycle, EveryWorkingDay) and cycle.repetitions is None and cycle.kind == "cycle"
    assert str(cycle) == "每个工作日 15:00"
    assert firings(cycle, sh(2026, 9, 29, 10), limit=5) == [
        sh(2026, 9, 29, 15),
        sh(2026, 9, 30, 15),
        sh(2026, 10, 8, 15),
        sh(2026, 10, 9, 15),
        sh(2026, 10, 10, 15),
    ]


@pytest.mark.parametrize(
    "text",
    [
        "every month on day 1, or the next working day, at 09:00",
        "Every month on the 1st or the next working day at 09:00",
        "每月1日09:00（遇非工作日顺延）",
        "每个月1号 09:00 顺延",
    ],
)
def test_r_f7_every_month_on_a_day_moved_to_the_next_working_day(text: str) -> None:
    cycle = parse(text)
    assert isinstance(cycle, EveryMonth) and cycle.working and cycle.kind == "cycle"
    assert str(cycle) == "每月 1 日 09:00（遇非工作日顺延）"
    # 2026-10-01 is National Day (to 10-07), 2026-11-01 a Sunday, 2027-01-01 元旦 (computed: provisional)
    assert firings(cycle, sh(2026, 9, 1, 10), limit=4) == [
        sh(2026, 10, 8, 9),
        sh(2026, 11, 2, 9),
        sh(2026, 12, 1, 9),
        sh(2027, 1, 4, 9),
    ]
    assert cycle.next_after(sh(2026, 12, 1, 9), CAL, 3) == Due(sh(2027, 1, 4, 9).astimezone(UTC), True)
    assert parse_for("timeCycle", text) == cycle


def test_r_f7_every_month_on_a_calendar_day_fires_whatever_the_calendar() -> None:
    cycle = parse("every month on day 5 at 17:30")
    assert isinstance(cycle, EveryMonth) and not cycle.working and str(cycle) == "每月 5 日 17:30"
    assert firings(cycle, sh(2026, 10, 5, 17, 30), limit=3) == [
        sh(2026, 11, 5, 17, 30),
        sh(2026, 12, 5, 17, 30),
        sh(2027, 1, 5, 17, 30),
    ]
    assert parse("每月5日17:30") == EveryMonth("每月5日17:30", 5, time(17, 30))
    with pytest.raises(DeadlineInvalid, match="only fits a timeCycle"):
        parse_for("dueDate", "every month on day 5 at 17:30")


def test_every_working_day_provisional_after_library_years() -> None:
    cycle = parse("every working day at 15:00")
    # R-T1: 元旦 2027 is closed provisionally (was: fired on 01-01)
    assert cycle.next_after(sh(2026, 12, 31, 16), CAL, 3) == Due(sh(2027, 1, 4, 15).astimezone(UTC), True)
    cal = BusinessCalendar(CalendarConfig(official={2027: YearSchedule(holidays={date(2027, 1, 1): "元旦"})}))
    assert cycle.next_after(sh(2026, 12, 31, 16), cal, 3) == Due(sh(2027, 1, 4, 15).astimezone(UTC), False)


# -- due times across the 2026 National Day holiday --------------------------------------------
@pytest.mark.parametrize(
    "text, expected",
    [
        ("2 working days", sh(2026, 10, 9, 16, 0)),
        ("2个工作日", sh(2026, 10, 9, 16, 0)),
        ("5 working days", sh(2026, 10, 13, 16, 0)),  # rest of 09-30, 10-08, 09, 10 (调休), 12, 13 until 16:00
        ("15:00 next working day", sh(2026, 10, 8, 15, 0)),
        ("P2D", sh(2026, 10, 2, 16, 0)),  # calendar time ignores the holiday
    ],
)
def test_national_day_2026(text: str, expected: datetime) -> None:
    assert due_sh(text) == expected


def test_working_deadline_into_2027_is_provisional() -> None:
    # R-T1: 元旦 2027 is closed provisionally (was: due 01-04)
    assert parse("2 working days").due(sh(2026, 12, 31, 16), CAL) == Due(sh(2027, 1, 5, 16).astimezone(UTC), True)
    assert parse("P2D").due(sh(2026, 12, 31, 16), CAL).provisional is False


# -- expressions and evaluated values ----------------------------------------------------------
def test_expressions_are_recognised_not_evaluated() -> None:
    assert is_expression("=合同截止日期") and is_expression(' "= deadline" ')
    assert not is_expression("PT45M") and not is_expression("2 working days")
    expr = parse("=合同截止日期")
    assert expr == Expression("=合同截止日期", "合同截止日期") and expr.kind == "expression"
    assert str(expr) == "按表达式 合同截止日期 计算"
    with pytest.raises(DeadlineInvalid, match="evaluated"):
        resolve("=合同截止日期", EVE, CAL)


@pytest.mark.parametrize(
    "value, expected",
    [
        ("2 working days", sh(2026, 10, 9, 16)),
        (datetime(2026, 10, 12, 9, 0, tzinfo=SH), sh(2026, 10, 12, 9)),
        (datetime(2026, 10, 12, 9, 0), sh(2026, 10, 12, 9)),  # naive: calendar timezone
        (date(2026, 10, 12), sh(2026, 10, 12)),
        (timedelta(hours=2), sh(2026, 9, 30, 18)),
    ],
)
def test_resolve_evaluated_values(value: object, expected: datetime) -> None:
    assert resolve(value, EVE, CAL).at == expected  # type: ignore[arg-type]


def test_parse_for_checks_the_bpmn_element() -> None:
    assert parse_for("timeCycle", "R3/PT10M").kind == "cycle"
    assert parse_for("timeDuration", "2 working days").kind == "duration"
    assert parse_for("timeDate", "15:00 next working day").kind == "date"
    assert parse_for("dueDate", "=截止").kind == "expression"
    with pytest.raises(DeadlineInvalid, match="only fits a timeCycle"):
        parse_for("dueDate", "every working day at 15:00")
    with pytest.raises(DeadlineInvalid, match="timeCycle needs a repeating value"):
        parse_for("timeCycle", "PT10M")


# -- invalid input -----------------------------------------------------------------------------
@pytest.mark.parametrize(
    "text, why",
    [
        ("2 wrking days", "unknown unit 'wrking' (did you mean 'working'?)"),
        ("2 working dyas", "unknown unit 'dyas' (did you mean 'days'?)"),
        ("2 工作周", "unknown unit '工作周' (did you mean '工作日'?)"),
        ("2个月", "unknown unit '月'"),
        ("-2 working days", "negative amounts are not allowed"),
        ("1.5 working hours", "use a whole number, not 1.5"),
        ("2", "missing unit after 2"),
        ("2 working", "missing unit after 'working'"),
        ("2 days working", "cannot read 'days working' as a unit"),
        ("2 working weeks", "working weeks are not supported"),
        ("garbage", "unknown word 'garbage'"),
        ("next working day", "not a deadline"),
        ("15:00 next wrking day", "unknown word 'wrking' (did you mean 'working'?)"),
        ("25:00 next working day", "25:00 is not a time of day"),
        ("every working day at 15:61", "15:61 is not a time of day"),
        ("every monday", "the readable cycles are 'every working day at 15:00' and 'every month on day 1"),
        ("every month on day 31 at 09:00", "day 31 is not in every month: a monthly cycle takes day 1 to 28"),
        ("每月5日25:00", "25:00 is not a time of day"),
        ("", "empty value"),
        ('""', "empty value"),
        ("=", "nothing after '='"),
        ("${dueDate}", "write expressions as =dueDate"),
        ("P2M", "P2M means 2 months"),
        ("P1Y", "years are not supported"),
        ("P2H", "hours, minutes and seconds go after a T"),
        ("PT", "a duration needs an amount"),
        ("P1DT", "nothing after T"),
        ("P", "a duration needs an amount"),
        ("PT45", "not an ISO 8601 duration"),
        ("-P1D", "negative durations are not allowed"),
        ("2026-02-30", "not a valid date or date-time (day is out of range for month)"),
        ("2026-10-01T25:00", "not a valid date or date-time"),
        ("R0/PT10M", "R0 never fires"),
        ("R-1/PT10M", "repetitions must not be negative"),
        ("R3", "a cycle is written R<times>/<period>"),
        ("R3/PT10M/2026-10-01", "cycles with an end date are not supported"),
        ("R3/2026-10-01/PT0S", "the period of a cycle must be longer than zero"),
        ("R3/2 working days", "the period of a cycle must be an ISO duration"),
        ("R3/P1M", "P1M means 1 months"),
    ],
)
def test_invalid_inputs(text: str, why: str) -> None:
    with pytest.raises(DeadlineInvalid) as caught:
        parse(text)
    error = caught.value
    assert isinstance(error, HallError)
    assert why in error.why
    assert str(error) == f"invalid deadline {text.strip()!r}: {error.why}"


def test_error_message_format() -> None:
    with pytest.raises(DeadlineInvalid) as caught:
        parse("2 wrking days")
    assert str(caught.value) == "invalid deadline '2 wrking days': unknown unit 'wrking' (did you mean 'working'?)"
    assert caught.value.text == "2 wrking days"


def test_non_text_values_are_refused() -> None:
    with pytest.raises(DeadlineInvalid, match="expected text"):
        parse(42)  # type: ignore[arg-type]
    with pytest.raises(DeadlineInvalid, match="negative"):
        parse(timedelta(minutes=-5))


def test_naive_start_is_refused() -> None:
    with pytest.raises(ValueError, match="no time zone"):
        parse("2 working days").due(datetime(2026, 9, 30, 16), CAL)
