"""The business calendar, on real 2026 PRC dates from the chinesecalendar library.

2026 facts used below (library data): National Day 10-01..10-07 off, 10-08 back to work,
Sunday 09-20 and Saturday 10-10 are 调休 working days; Mid-Autumn Friday 09-25..09-27 off;
Spring Festival 02-15..02-23 off with Saturdays 02-14 and 02-28 worked; Sunday 01-04 worked.
The library stops at 2026, so 2027 is provisional unless configured: Monday-Friday with the
statutory holidays computed (R-T1; 元旦 2027-01-01 closed).
"""

from __future__ import annotations

import io
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hall.engine.calendar import BusinessCalendar, CalendarConfig, DayInfo, Due, YearSchedule
from ruamel.yaml import YAML

SH = ZoneInfo("Asia/Shanghai")
BERLIN = ZoneInfo("Europe/Berlin")
UTC = UTC


def sh(y: int, m: int, d: int, hh: int = 0, mm: int = 0) -> datetime:
    return datetime(y, m, d, hh, mm, tzinfo=SH)


def at_sh(due: Due) -> datetime:
    assert due.at.tzinfo == UTC
    return due.at.astimezone(SH).replace(tzinfo=None)


CAL = BusinessCalendar()
LUNCH = BusinessCalendar(CalendarConfig(lunch=(time(12), time(13, 30))))
SCHEDULE_2027 = YearSchedule(holidays={date(2027, 1, 1): "元旦"}, workdays={date(2027, 1, 9): "元旦"})
WITH_2027 = BusinessCalendar(CalendarConfig(official={2027: SCHEDULE_2027}))


# -- days --------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "day, working, reason",
    [
        (date(2026, 10, 1), False, "国庆节"),
        (date(2026, 10, 4), False, "国庆节"),  # a Sunday inside the holiday
        (date(2026, 10, 7), False, "国庆节"),
        (date(2026, 10, 8), True, "工作日"),
        (date(2026, 10, 10), True, "调休（国庆节）"),  # Saturday worked
        (date(2026, 10, 11), False, "周末"),
        (date(2026, 9, 20), True, "调休（国庆节）"),  # Sunday worked
        (date(2026, 9, 25), False, "中秋"),
        (date(2026, 2, 14), True, "调休（春节）"),
        (date(2026, 2, 28), True, "调休（春节）"),
        (date(2026, 2, 16), False, "春节"),
        (date(2026, 1, 4), True, "调休（元旦）"),
        (date(2026, 5, 9), True, "调休（劳动节）"),
        (date(2026, 11, 3), True, "工作日"),
        (date(2026, 11, 7), False, "周末"),
    ],
)
def test_day_classification_2026(day: date, working: bool, reason: str) -> None:
    assert CAL.day_info(day) == DayInfo(day, working, reason, False)
    assert CAL.is_working_day(day) is working


def test_coverage_library_and_configuration() -> None:
    assert CAL.is_covered(2004) and CAL.is_covered(2026)
    assert not CAL.is_covered(2003) and not CAL.is_covered(2027)
    assert WITH_2027.is_covered(2027) and not WITH_2027.is_covered(2028)


def test_uncovered_year_falls_back_to_monday_to_friday_provisionally() -> None:
    assert CAL.day_info(date(2027, 1, 1)) == DayInfo(date(2027, 1, 1), False, "元旦", True)  # R-T1 (was: working)
    assert CAL.day_info(date(2027, 1, 4)) == DayInfo(date(2027, 1, 4), True, "工作日", True)
    assert CAL.day_info(date(2027, 1, 2)) == DayInfo(date(2027, 1, 2), False, "周末", True)


def test_administrator_schedule_for_a_new_year() -> None:
    assert WITH_2027.day_info(date(2027, 1, 1)) == DayInfo(date(2027, 1, 1), False, "元旦", False)
    assert WITH_2027.day_info(date(2027, 1, 9)) == DayInfo(date(2027, 1, 9), True, "调休（元旦）", False)
    assert WITH_2027.day_info(date(2027, 1, 4)) == DayInfo(date(2027, 1, 4), True, "工作日", False)


def test_administrator_schedule_replaces_library_for_its_year() -> None:
    cal = BusinessCalendar(CalendarConfig(official={2026: YearSchedule(holidays={date(2026, 10, 2): ""})}))
    assert cal.day_info(date(2026, 10, 1)).working  # library holiday no longer applies
    assert cal.day_info(date(2026, 10, 2)) == DayInfo(date(2026, 10, 2), False, "法定节假日", False)
    assert not cal.is_working_day(date(2026, 10, 10))  # nor does the library's 调休


def test_local_overrides_win() -> None:
    cal = BusinessCalendar(
        CalendarConfig(
            closed_days=frozenset({date(2026, 11, 3), date(2027, 1, 4)}),
            extra_working_days=frozenset({date(2026, 11, 7), date(2026, 10, 2), date(2027, 1, 2)}),
        )
    )
    assert cal.day_info(date(2026, 11, 3)) == DayInfo(date(2026, 11, 3), False, "本地关闭", False)
    assert cal.day_info(date(2026, 11, 7)) == DayInfo(date(2026, 11, 7), True, "本地加班", False)
    assert cal.day_info(date(2026, 10, 2)).working
    # an override is certain even in a year without an official schedule
    assert cal.day_info(date(2027, 1, 4)) == DayInfo(date(2027, 1, 4), False, "本地关闭", False)
    assert cal.day_info(date(2027, 1, 2)) == DayInfo(date(2027, 1, 2), True, "本地加班", False)


def test_month_listing() -> None:
    october = CAL.month(2026, 10)
    assert [d.date.day for d in october] == list(range(1, 32))
    assert sum(d.working for d in october) == 18  # 22 weekdays - 5 holidays + 10-10
    assert len(CAL.month(2026, 2)) == 28
    december = CAL.month(2026, 12)
    assert december[-1].date == date(2026, 12, 31) and not any(d.provisional for d in december)
    assert all(d.provisional for d in CAL.month(2027, 1))
    assert not any(d.provisional for d in WITH_2027.month(2027, 1))


def test_day_info_refuses_datetime() -> None:
    with pytest.raises(TypeError):
        CAL.day_info(sh(2026, 10, 1))  # type: ignore[arg-type]


# -- moments -----------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "moment, open_",
    [
        (sh(2026, 11, 2, 8, 49), False),
        (sh(2026, 11, 2, 8, 50), True),
        (sh(2026, 11, 2, 12, 30), True),  # no lunch break by default
        (sh(2026, 11, 2, 17, 29), True),
        (sh(2026, 11, 2, 17, 30), False),
        (sh(2026, 10, 2, 10, 0), False),  # National Day
        (sh(2026, 10, 10, 10, 0), True),  # 调休 Saturday
        (datetime(2026, 11, 2, 2, 0, tzinfo=UTC), True),  # 10:00 in Shanghai
    ],
)
def test_is_working_time(moment: datetime, open_: bool) -> None:
    assert CAL.is_working_time(moment) is open_


def test_lunch_break_is_not_working_time() -> None:
    assert LUNCH.is_working_time(sh(2026, 11, 2, 11, 59))
    assert not LUNCH.is_working_time(sh(2026, 11, 2, 12, 0))
    assert not LUNCH.is_working_time(sh(2026, 11, 2, 13, 29))
    assert LUNCH.is_working_time(sh(2026, 11, 2, 13, 30))
    assert LUNCH.office_day == timedelta(hours=7, minutes=10)
    assert CAL.office_day == timedelta(hours=8, minutes=40)


@pytest.mark.parametrize(
    "cal, start, expected",
    [
        (CAL, sh(2026, 11, 2, 10, 0), sh(2026, 11, 2, 10, 0)),
        (CAL, sh(2026, 11, 2, 7, 0), sh(2026, 11, 2, 8, 50)),
        (CAL, sh(2026, 11, 2, 17, 30), sh(2026, 11, 3, 8, 50)),
        (CAL, sh(2026, 11, 6, 18, 0), sh(2026, 11, 9, 8, 50)),  # Friday evening -> Monday
        (CAL, sh(2026, 9, 30, 17, 45), sh(2026, 10, 8, 8, 50)),  # over National Day
        (CAL, sh(2026, 10, 9, 18, 0), sh(2026, 10, 10, 8, 50)),  # onto the 调休 Saturday
        (LUNCH, sh(2026, 11, 2, 12, 10), sh(2026, 11, 2, 13, 30)),
    ],
)
def test_next_working_moment(cal: BusinessCalendar, start: datetime, expected: datetime) -> None:
    moment = cal.next_working_moment(start)
    assert moment.tzinfo == UTC and moment == expected


def test_naive_datetimes_are_refused() -> None:
    naive = datetime(2026, 11, 2, 10, 0)
    for call in (
        lambda: CAL.is_working_time(naive),
        lambda: CAL.add_working_days(naive, 1),
        lambda: CAL.add_calendar(naive, timedelta(hours=1)),
        lambda: CAL.at_time_on_next_working_day(naive, time(15)),
    ):
        with pytest.raises(ValueError, match="no time zone"):
            call()


def test_counts_must_be_whole_and_not_negative() -> None:
    with pytest.raises(ValueError, match="negative"):
        CAL.add_working_days(sh(2026, 11, 2, 10), -1)
    with pytest.raises(TypeError, match="whole number"):
        CAL.add_working_hours(sh(2026, 11, 2, 10), 1.5)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="negative"):
        CAL.add_calendar(sh(2026, 11, 2, 10), timedelta(minutes=-1))


# -- counting working time ---------------------------------------------------------------------
@pytest.mark.parametrize(
    "start, minutes, expected",
    [
        (sh(2026, 11, 2, 10, 0), 0, sh(2026, 11, 2, 10, 0)),
        (sh(2026, 11, 2, 7, 0), 0, sh(2026, 11, 2, 8, 50)),
        (sh(2026, 11, 2, 10, 0), 45, sh(2026, 11, 2, 10, 45)),
        (sh(2026, 11, 2, 17, 0), 45, sh(2026, 11, 3, 9, 5)),  # 30 today, 15 tomorrow
        (sh(2026, 11, 2, 16, 45), 45, sh(2026, 11, 2, 17, 30)),  # ends exactly at closing
        (sh(2026, 11, 6, 17, 0), 45, sh(2026, 11, 9, 9, 5)),  # over the weekend
        (sh(2026, 9, 30, 17, 0), 45, sh(2026, 10, 8, 9, 5)),  # over National Day
    ],
)
def test_add_working_minutes(start: datetime, minutes: int, expected: datetime) -> None:
    assert CAL.add_working_minutes(start, minutes) == Due(expected.astimezone(UTC), False)


def test_add_working_minutes_skips_lunch() -> None:
    assert at_sh(LUNCH.add_working_minutes(sh(2026, 11, 2, 11, 30), 60)) == datetime(2026, 11, 2, 14, 0)
    assert at_sh(LUNCH.add_working_minutes(sh(2026, 11, 2, 11, 30), 30)) == datetime(2026, 11, 2, 12, 0)
    assert at_sh(LUNCH.add_working_minutes(sh(2026, 11, 2, 12, 45), 10)) == datetime(2026, 11, 2, 13, 40)


@pytest.mark.parametrize(
    "start, hours, expected",
    [
        (sh(2026, 11, 2, 9, 0), 8, sh(2026, 11, 2, 17, 0)),
        (sh(2026, 11, 2, 10, 0), 8, sh(2026, 11, 3, 9, 20)),  # 7.5 h today, 0.5 h tomorrow
        (sh(2026, 9, 30, 15, 0), 8, sh(2026, 10, 8, 14, 20)),  # 2.5 h + 5.5 h after the holiday
        (sh(2026, 9, 24, 16, 0), 2, sh(2026, 9, 28, 9, 20)),  # over Mid-Autumn
    ],
)
def test_add_working_hours(start: datetime, hours: int, expected: datetime) -> None:
    assert at_sh(CAL.add_working_hours(start, hours)) == expected.replace(tzinfo=None)


@pytest.mark.parametrize(
    "start, days, expected",
    [
        (sh(2026, 11, 2, 16, 0), 2, sh(2026, 11, 4, 16, 0)),  # Monday 16:00 -> Wednesday 16:00
        (sh(2026, 11, 7, 10, 0), 1, sh(2026, 11, 9, 17, 30)),  # Saturday -> Monday closing
        (sh(2026, 11, 2, 17, 30), 1, sh(2026, 11, 3, 17, 30)),
        (sh(2026, 11, 2, 8, 50), 1, sh(2026, 11, 2, 17, 30)),
        (sh(2026, 11, 2, 10, 0), 0, sh(2026, 11, 2, 10, 0)),
        (sh(2026, 9, 30, 16, 0), 2, sh(2026, 10, 9, 16, 0)),  # National Day
        (sh(2026, 9, 30, 16, 0), 3, sh(2026, 10, 10, 16, 0)),  # ... onto the 调休 Saturday
        (sh(2026, 10, 3, 10, 0), 1, sh(2026, 10, 8, 17, 30)),  # received during the holiday
        (sh(2026, 9, 18, 16, 0), 1, sh(2026, 9, 20, 16, 0)),  # Friday -> 调休 Sunday
        (sh(2026, 9, 24, 16, 0), 1, sh(2026, 9, 28, 16, 0)),  # Mid-Autumn Friday off
        (sh(2026, 2, 13, 16, 0), 2, sh(2026, 2, 24, 16, 0)),  # Sat 02-14 worked, then Spring Festival
        (sh(2026, 11, 2, 16, 0), 10, sh(2026, 11, 16, 16, 0)),
    ],
)
def test_add_working_days(start: datetime, days: int, expected: datetime) -> None:
    assert CAL.add_working_days(start, days) == Due(expected.astimezone(UTC), False)


def test_add_working_days_with_lunch_break() -> None:
    assert at_sh(LUNCH.add_working_days(sh(2026, 11, 2, 16, 0), 2)) == datetime(2026, 11, 4, 16, 0)
    assert at_sh(LUNCH.add_working_days(sh(2026, 11, 7, 10, 0), 1)) == datetime(2026, 11, 9, 17, 30)
    # received at lunch: counting starts 13:30 and ends exactly when lunch starts next day
    assert at_sh(LUNCH.add_working_days(sh(2026, 11, 2, 12, 30), 1)) == datetime(2026, 11, 3, 12, 0)


def test_local_overrides_move_deadlines() -> None:
    cal = BusinessCalendar(
        CalendarConfig(closed_days=frozenset({date(2026, 11, 3)}), extra_working_days=frozenset({date(2026, 11, 7)}))
    )
    assert at_sh(cal.add_working_days(sh(2026, 11, 2, 16, 0), 1)) == datetime(2026, 11, 4, 16, 0)
    assert at_sh(cal.add_working_days(sh(2026, 11, 6, 16, 0), 1)) == datetime(2026, 11, 7, 16, 0)


# -- year end: the library stops at 2026 -------------------------------------------------------
def test_year_end_without_2027_schedule_is_provisional() -> None:
    # R-T1: 2027-01-01 (元旦) is closed even without the official schedule (was: due 01-04)
    assert CAL.add_working_days(sh(2026, 12, 31, 16, 0), 2) == Due(sh(2027, 1, 5, 16, 0).astimezone(UTC), True)
    assert CAL.add_working_days(sh(2026, 12, 30, 10, 0), 1) == Due(sh(2026, 12, 31, 10, 0).astimezone(UTC), False)
    # even a day skipped as "weekend" could turn out to be a 调休 working day
    assert CAL.next_working_moment(sh(2027, 1, 2, 10, 0)) == sh(2027, 1, 4, 8, 50)
    assert CAL.add_working_minutes(sh(2027, 1, 2, 10, 0), 0).provisional


def test_year_end_with_administrator_2027_schedule() -> None:
    due = WITH_2027.add_working_days(sh(2026, 12, 31, 16, 0), 2)
    assert due == Due(sh(2027, 1, 5, 16, 0).astimezone(UTC), False)  # 01-01 off, 01-04 and 01-05
    assert at_sh(WITH_2027.add_working_days(sh(2027, 1, 8, 16, 0), 1)) == datetime(2027, 1, 9, 16, 0)


# -- "by 15:00 on the next working day" --------------------------------------------------------
@pytest.mark.parametrize(
    "start, expected, provisional",
    [
        (sh(2026, 11, 2, 10, 0), sh(2026, 11, 3, 15, 0), False),
        (sh(2026, 11, 2, 23, 59), sh(2026, 11, 3, 15, 0), False),
        (sh(2026, 11, 6, 10, 0), sh(2026, 11, 9, 15, 0), False),  # Friday -> Monday
        (sh(2026, 11, 7, 10, 0), sh(2026, 11, 9, 15, 0), False),  # Saturday -> Monday
        (sh(2026, 9, 30, 9, 0), sh(2026, 10, 8, 15, 0), False),
        (sh(2026, 10, 9, 9, 0), sh(2026, 10, 10, 15, 0), False),  # 调休 Saturday
        (sh(2026, 12, 31, 9, 0), sh(2027, 1, 4, 15, 0), True),  # R-T1: 元旦 closed (was: 01-01)
    ],
)
def test_at_time_on_next_working_day(start: datetime, expected: datetime, provisional: bool) -> None:
    assert CAL.at_time_on_next_working_day(start, time(15)) == Due(expected.astimezone(UTC), provisional)


def test_at_time_on_next_working_day_uses_local_date() -> None:
    # 2026-11-02T17:00Z is already Tuesday 01:00 in Shanghai
    due = CAL.at_time_on_next_working_day(datetime(2026, 11, 2, 17, 0, tzinfo=UTC), time(15))
    assert at_sh(due) == datetime(2026, 11, 4, 15, 0)
    assert at_sh(WITH_2027.at_time_on_next_working_day(sh(2026, 12, 31, 9), time(15))) == datetime(2027, 1, 4, 15)


@pytest.mark.parametrize(
    "start, expected",
    [
        (sh(2026, 11, 2, 14, 0), sh(2026, 11, 2, 15, 0)),
        (sh(2026, 11, 2, 15, 0), sh(2026, 11, 3, 15, 0)),  # strictly after
        (sh(2026, 11, 6, 16, 0), sh(2026, 11, 9, 15, 0)),
        (sh(2026, 9, 30, 16, 0), sh(2026, 10, 8, 15, 0)),
    ],
)
def test_next_working_day_time(start: datetime, expected: datetime) -> None:
    assert CAL.next_working_day_time(start, time(15)).at == expected


# -- calendar time and time zones --------------------------------------------------------------
def test_add_calendar_is_absolute_time() -> None:
    due = CAL.add_calendar(sh(2026, 9, 30, 16, 0), timedelta(days=2))
    assert due == Due(datetime(2026, 10, 2, 8, 0, tzinfo=UTC), False)  # holidays do not matter
    assert CAL.add_calendar(sh(2027, 6, 1), timedelta(0)).provisional is False


BERLIN_CAL = BusinessCalendar(CalendarConfig(timezone="Europe/Berlin"))


def test_dst_berlin_office_hours_follow_the_wall_clock() -> None:
    # Friday 2026-03-27 16:00 CET (15:00Z) + 1 working day -> Monday 16:00 CEST (14:00Z)
    due = BERLIN_CAL.add_working_days(datetime(2026, 3, 27, 16, 0, tzinfo=BERLIN), 1)
    assert due == Due(datetime(2026, 3, 30, 14, 0, tzinfo=UTC), False)
    assert BERLIN_CAL.next_working_moment(datetime(2026, 3, 28, 12, tzinfo=UTC)) == datetime(
        2026, 3, 30, 6, 50, tzinfo=UTC
    )
    assert BERLIN_CAL.next_working_moment(datetime(2026, 3, 27, 7, 0, tzinfo=UTC)) == datetime(
        2026, 3, 27, 7, 50, tzinfo=UTC
    )  # 08:00 CET is before opening


def test_dst_calendar_time_is_absolute() -> None:
    # 24 hours after Saturday 12:00 CET is Sunday 13:00 CEST
    due = BERLIN_CAL.add_calendar(datetime(2026, 3, 28, 12, 0, tzinfo=BERLIN), timedelta(days=1))
    assert due.at.astimezone(BERLIN) == datetime(2026, 3, 29, 13, 0, tzinfo=BERLIN)


def test_same_instant_different_calendars() -> None:
    moment = datetime(2026, 3, 30, 7, 0, tzinfo=UTC)  # 09:00 Berlin, 15:00 Shanghai
    assert BERLIN_CAL.is_working_time(moment) and CAL.is_working_time(moment)
    late = datetime(2026, 3, 30, 10, 0, tzinfo=UTC)  # 12:00 Berlin, 18:00 Shanghai
    assert BERLIN_CAL.is_working_time(late) and not CAL.is_working_time(late)


# -- configuration -----------------------------------------------------------------------------
HALL_YAML = """
calendar:
  timezone: Asia/Shanghai
  office_hours: 09:00-17:00
  lunch: 12:00-13:30
  closed_days: [2026-12-24, 2026-12-28..2026-12-29]
  extra_working_days: [2026-12-26]
  official:
    2027:
      holidays:
        元旦: [2027-01-01]
        春节: [2027-02-06 至 2027-02-13]
      workdays:
        春节: [2027-02-14]
"""


def test_from_dict_reads_hall_yaml() -> None:
    section = YAML(typ="safe").load(io.StringIO(HALL_YAML))["calendar"]
    cfg = CalendarConfig.from_dict(section)
    assert (cfg.office_start, cfg.office_end, cfg.lunch) == (time(9), time(17), (time(12), time(13, 30)))
    assert cfg.closed_days == {date(2026, 12, 24), date(2026, 12, 28), date(2026, 12, 29)}
    assert cfg.extra_working_days == {date(2026, 12, 26)}
    schedule = cfg.official[2027]
    assert schedule.holidays[date(2027, 1, 1)] == "元旦" and len(schedule.holidays) == 9
    cal = BusinessCalendar(cfg)
    assert cal.day_info(date(2027, 2, 14)) == DayInfo(date(2027, 2, 14), True, "调休（春节）", False)
    assert cal.day_info(date(2026, 12, 28)).reason == "本地关闭"
    assert cal.office_day == timedelta(hours=6, minutes=30)


def test_from_dict_defaults_and_plain_lists() -> None:
    assert CalendarConfig.from_dict(None) == CalendarConfig()
    assert CalendarConfig.from_dict({"lunch": None}) == CalendarConfig()
    cfg = CalendarConfig.from_dict({"official": {"2027": {"holidays": ["2027-01-01"], "workdays": []}}})
    assert cfg.official[2027].holidays == {date(2027, 1, 1): ""}


@pytest.mark.parametrize(
    "section, key",
    [
        ({"timezone": "Asia/Beijing"}, "calendar.timezone"),
        ({"office_hours": "17:30-08:50"}, "calendar.office_hours"),
        ({"office_hours": "8.50-17.30"}, "calendar.office_hours"),
        ({"office_hours": "08:50-25:00"}, "calendar.office_hours"),
        ({"lunch": "07:00-08:00"}, "calendar.lunch"),
        ({"closed_days": ["2026-02-30"]}, "calendar.closed_days"),
        ({"closed_days": ["2026-12-31..2026-12-01"]}, "calendar.closed_days"),
        ({"closed_days": ["2026-12-24"], "extra_working_days": ["2026-12-24"]}, "closed_days"),
        ({"official": {2027: {"holidays": ["2026-10-01"]}}}, "calendar.official.2027.holidays"),
        ({"official": {2027: {"holidays": ["2027-01-01"], "workdays": ["2027-01-01"]}}}, "calendar.official.2027"),
        ({"official": {2027: {"holiday": []}}}, "calendar.official.2027.holiday"),
        ({"official": {"next": {}}}, "calendar.official.next"),
        ({"offical": {}}, "calendar.offical"),
    ],
)
def test_from_dict_errors_name_the_key(section: dict, key: str) -> None:
    with pytest.raises(ValueError, match=key.replace(".", r"\.")):
        CalendarConfig.from_dict(section)


# -- R-T1: a year without an official schedule (2027): the statutory days, computed, provisional --
def test_R_T1_2027_new_year_is_closed_and_provisional() -> None:
    assert CAL.day_info(date(2027, 1, 1)) == DayInfo(date(2027, 1, 1), False, "元旦", True)
    assert not CAL.is_working_day(date(2027, 1, 1)) and not CAL.is_covered(2027)


@pytest.mark.parametrize(
    "day, name",
    [
        (date(2027, 2, 5), "春节"),  # 除夕
        (date(2027, 2, 6), "春节"),  # LunarDate(2027, 1, 1)
        (date(2027, 2, 8), "春节"),  # 初三
        (date(2027, 4, 5), "清明"),  # the solar term
        (date(2027, 5, 1), "劳动节"),
        (date(2027, 5, 2), "劳动节"),
        (date(2027, 6, 9), "端午"),
        (date(2027, 9, 15), "中秋"),
        (date(2027, 10, 1), "国庆节"),
        (date(2027, 10, 3), "国庆节"),
    ],
)
def test_R_T1_2027_statutory_holidays_are_computed_and_provisional(day: date, name: str) -> None:
    assert CAL.day_info(day) == DayInfo(day, False, name, True)


def test_R_T1_statutory_days_count_thirteen_and_weekends_stay_closed() -> None:
    from hall.engine.calendar import statutory_holidays

    assert len(statutory_holidays(2027)) == 13
    assert statutory_holidays(2024) == {}  # before the 2024 rules; the library covers it anyway
    assert CAL.day_info(date(2027, 2, 9)) == DayInfo(date(2027, 2, 9), True, "工作日", True)  # 初四: 调休 unknown
    assert CAL.day_info(date(2027, 10, 4)) == DayInfo(date(2027, 10, 4), True, "工作日", True)
    assert CAL.day_info(date(2027, 1, 2)) == DayInfo(date(2027, 1, 2), False, "周末", True)
    january = CAL.month(2027, 1)
    assert all(d.provisional for d in january) and sum(d.working for d in january) == 20


def test_R_T1_official_schedule_replaces_the_computed_days() -> None:
    # the administrator's schedule wins: a computed holiday it does not list is a working day, exact
    assert WITH_2027.day_info(date(2027, 2, 8)) == DayInfo(date(2027, 2, 8), True, "工作日", False)
    assert WITH_2027.day_info(date(2027, 1, 1)) == DayInfo(date(2027, 1, 1), False, "元旦", False)


def test_R_T1_deadline_over_spring_festival_2027_skips_the_computed_days() -> None:
    # Thursday 2027-02-04 16:00 + 2 working days: 02-05..02-08 closed (02-06/07 also a weekend)
    due = CAL.add_working_days(sh(2027, 2, 4, 16, 0), 2)
    assert due == Due(sh(2027, 2, 10, 16, 0).astimezone(UTC), True)
