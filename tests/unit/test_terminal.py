"""Tables and times for people (issue 17, items 3 and 4): columns lined up by display width, colour
only when wanted and never with NO_COLOR, local time to the minute, working time left."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from hall.engine.calendar import BusinessCalendar, CalendarConfig
from hall.terminal.table import colour_wanted, table
from hall.terminal.timefmt import local, working_between, working_span
from rich.cells import cell_len


def test_columns_line_up_by_display_width_with_chinese_text() -> None:
    text = table(["id", "任务", "role"], [[1, "备案审查", "备案窗口"], [22, "ab", "x"]], right=(0,))
    header, rule, first, second = text.splitlines()
    assert set(rule) == {"-"}
    # the third column starts at the same display column on every line
    starts = [
        cell_len(line[: line.index(word)]) for line, word in ((header, "role"), (first, "备案窗口"), (second, "x"))
    ]
    assert len(set(starts)) == 1
    assert first.startswith(" 1  ") and second.startswith("22  ")  # numbers aligned right
    assert "\x1b[" not in text


def test_colour_marks_overdue_rows_only_when_asked(monkeypatch: pytest.MonkeyPatch) -> None:
    coloured = table(["id"], [[1], [2]], states=["overdue", None], colour=True)
    assert "\x1b[1;31m" in coloured.splitlines()[2] and "\x1b[" not in coloured.splitlines()[3]
    monkeypatch.delenv("NO_COLOR", raising=False)
    assert colour_wanted(True) and not colour_wanted(False)
    monkeypatch.setenv("NO_COLOR", "1")
    assert not colour_wanted(True)


def test_local_time_to_the_minute_in_the_halls_zone() -> None:
    from zoneinfo import ZoneInfo

    tz = ZoneInfo("Asia/Shanghai")
    assert local("2026-11-24T01:02:03.456789+00:00", tz) == "2026-11-24 09:02"
    assert local(None, tz) == "-" and local("not a time", tz) == "not a time"


def test_r_t2_working_time_between_leaves_out_nights_weekends_and_lunch() -> None:
    cal = BusinessCalendar(CalendarConfig.from_dict({"office_hours": "09:00-17:00", "lunch": "12:00-13:00"}))
    friday_4pm = datetime.fromisoformat("2026-11-27T16:00:00+08:00")
    monday_10am = datetime.fromisoformat("2026-11-30T10:00:00+08:00")
    assert working_between(cal, friday_4pm, monday_10am) == timedelta(hours=2)
    assert working_between(cal, monday_10am, friday_4pm) == timedelta(0)
    assert working_span(timedelta(hours=7), cal.office_day) == "about 1 working day(s)"
    assert working_span(timedelta(hours=10, minutes=30), cal.office_day) == "about 1.5 working day(s)"
    assert working_span(timedelta(hours=2, minutes=5), cal.office_day) == "2h05m"


def test_progress_shows_only_on_a_terminal() -> None:
    import io

    from hall.terminal.progress import working

    quiet = io.StringIO()
    with working("deploying", quiet, is_terminal=False):
        pass
    assert quiet.getvalue() == ""
    shown = io.StringIO()
    with working("deploying 12 files", shown, is_terminal=True):
        pass
    assert "deploying 12 files" in shown.getvalue()


def test_progress_steps_draw_each_step_on_a_terminal_only() -> None:
    import io

    from hall.terminal.progress import steps

    quiet = io.StringIO()
    with steps("deploying", quiet, is_terminal=False) as step:
        step("checking a.bpmn", 0, 2)
    assert quiet.getvalue() == ""
    shown = io.StringIO()
    with steps("deploying", shown, is_terminal=True) as step:
        step("checking a.bpmn", 0, 2)
        step("checking [b].bpmn", 1, 2)  # a file name is not markup
    drawn = shown.getvalue()
    assert "checking a.bpmn" in drawn and "0/2" in drawn and "checking [b].bpmn" in drawn and "1/2" in drawn
