"""The suggestion box and book (R-C11, R-F5) and the daily callback roster (R-S1): every path of
processes/suggestion.bpmn and processes/callback_day.bpmn, with their timers on the national calendar."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from hall.engine import FixedClock
from scenario import Hall, at, hall_fixture

hall = hall_fixture(Hall, "2026-11-24T08:50")


def opened(hall: Hall, found: bool = True, when: str = "2026-11-24T08:50") -> dict:
    """The morning inspection opens the box (R-C11)."""
    case = hall.start("suggestion", when, user="小王")
    return hall.work(
        case,
        "open_box",
        who="小王",
        来源="意见箱（晨检开启）",
        开启时间=when,
        开启人="小王",
        见证人="刘主任",
        有无意见=found,
        意见内容="希望延长午间服务时间" if found else "",
    )


def due(hall: Hall, case: dict, name: str) -> datetime:
    return datetime.fromisoformat(hall.task(case, name)["due_at"])


# -- suggestion.bpmn ---------------------------------------------------------------------------------
def test_an_empty_box_is_recorded_and_closed(hall: Hall) -> None:
    case = opened(hall, found=False)
    assert case["status"] == "completed" and case["tasks"] == []
    assert [h["element"] for h in hall.eng.history(case["id"]) if h["kind"] == "task_completed"] == ["open_box"]


def test_what_the_hall_can_settle_it_answers_itself(hall: Hall) -> None:
    case = hall.work(opened(hall), "hall_handle", who="刘主任", 大厅能否处理=True, 处理情况="已调整排班")
    assert hall.names(case) == ["hall_reply"]
    case = hall.work(case, "hall_reply", who="刘主任", 答复方式="电话", 答复内容="午间增设一个窗口")
    assert case["status"] == "completed"
    assert case["variables"]["答复内容"] == "午间增设一个窗口"


def test_what_it_cannot_goes_to_management_who_contacts_within_a_working_day(hall: Hall) -> None:
    """R-C11: the management department contacts the customer within 1 working day, then answers by the
    time it committed to."""
    case = hall.work(opened(hall), "hall_handle", who="刘主任", 大厅能否处理=False, when="2026-11-27T16:00")
    assert hall.names(case) == ["mgmt_contact"] and hall.task(case, "mgmt_contact")["role"] == "管理部门"
    assert due(hall, case, "mgmt_contact") == at("2026-11-30T16:00")  # Friday → Monday
    case = hall.work(
        case,
        "mgmt_contact",
        who="管理部",
        when="2026-11-30T10:00",
        联系时间="2026-11-30T10:00",
        联系情况="已联系",
        承诺答复时间="2026-12-04T17:00",
    )
    assert hall.names(case) == ["mgmt_answer"]
    assert due(hall, case, "mgmt_answer") == at("2026-12-04T17:00")
    case = hall.work(
        case, "mgmt_answer", who="管理部", 答复时间="2026-12-03T10:00", 答复内容="明年起调整", 客户是否满意=True
    )
    assert case["status"] == "completed"
    assert not [h for h in hall.eng.history(case["id"]) if h["kind"] == "timer_fired"]


def test_the_management_contact_limit_is_configuration(db_url: str) -> None:
    """R-C11: the 1 working day is hall.yaml's 意见管理部门联系时限, for the due date and the escalation."""
    from hall.engine.config import load_config
    from scenario import ROOT

    settings = load_config(ROOT / "hall.yaml")
    settings["settings"] = dict(settings.get("settings") or {}, 意见管理部门联系时限="4 working hours")
    with Hall(db_url, FixedClock(at("2026-11-24T08:50")), settings=settings) as h:
        case = h.work(opened(h), "hall_handle", who="刘主任", 大厅能否处理=False, when="2026-11-27T10:00")
        assert due(h, case, "mgmt_contact") == at("2026-11-27T14:00")
        h.fire("2026-11-27T14:01")
        assert h.names(case) == ["escalate_suggestion_contact", "mgmt_contact"]


def test_management_not_contacting_in_time_is_escalated(hall: Hall) -> None:
    case = hall.work(opened(hall), "hall_handle", who="刘主任", 大厅能否处理=False, when="2026-11-27T16:00")
    hall.fire("2026-11-30T15:59")
    assert hall.names(case) == ["mgmt_contact"]
    hall.fire("2026-11-30T16:01")
    assert hall.names(case) == ["escalate_suggestion_contact", "mgmt_contact"]
    assert hall.task(case, "escalate_suggestion_contact")["role"] == "大厅主管"
    case = hall.work(case, "escalate_suggestion_contact", who="刘主任")
    assert hall.names(case) == ["mgmt_contact"]  # still to be done


def test_a_missed_answer_time_makes_the_hall_tell_the_customer_why_and_when(hall: Hall) -> None:
    """R-F5: when the committed time cannot be met the customer is told the cause and the new time."""
    case = hall.work(opened(hall), "hall_handle", who="刘主任", 大厅能否处理=False)
    case = hall.work(case, "mgmt_contact", who="管理部", 承诺答复时间="2026-11-26T17:00")
    hall.fire("2026-11-26T17:01")
    assert hall.names(case) == ["delay_notice", "mgmt_answer"]
    case = hall.work(
        case, "delay_notice", who="刘主任", 延期原因="需上级批准", 新的预计时间="2026-12-02T17:00", 告知方式="电话"
    )
    assert case["variables"]["延期原因"] == "需上级批准"
    assert case["variables"]["新的预计时间"].startswith("2026-12-02T17:00")
    assert hall.names(case) == ["mgmt_answer"]


# -- callback_day.bpmn (R-S1) -------------------------------------------------------------------------
def rosters_by_day(hall: Hall, first: date, last: date) -> list[str]:
    """Run the worker at 15:01 each day from `first` to `last`: the days a new roster was opened."""
    opened, seen = [], 0
    day = first
    while day <= last:
        hall.fire(f"{day.isoformat()}T15:01")
        count = len(hall.eng.instances(process="callback_day"))
        if count > seen:
            opened.append(f"{day:%m-%d %a}")
        seen, day = count, day + timedelta(days=1)
    return opened


def test_a_roster_opens_at_15_00_each_working_day_and_not_at_weekends(hall: Hall) -> None:
    hall.fire("2026-11-24T14:59")
    assert hall.eng.instances(process="callback_day") == []
    hall.fire("2026-11-24T15:00")
    [roster] = hall.eng.instances(process="callback_day")
    case = hall.show(roster)
    assert [t["name"] for t in case["tasks"]] == ["daily_callbacks"]
    assert case["tasks"][0]["role"] == "回访员"
    assert datetime.fromisoformat(case["tasks"][0]["due_at"]) == at("2026-11-24T17:00")  # 2 working hours
    assert case["variables"]["今日回访数"] == 0 and case["variables"]["回访日期"] == "2026-11-24"
    text = hall.eng.render_task(case["tasks"][0]["id"])  # what 回访员 reads
    assert text.startswith("R-S1 ") and "办理时限：2026-11-24 17:00" in text
    assert rosters_by_day(hall, date(2026, 11, 25), date(2026, 12, 1)) == [
        "11-25 Wed",
        "11-26 Thu",
        "11-27 Fri",
        "11-30 Mon",
        "12-01 Tue",
    ]


def test_no_roster_on_the_national_day_holiday_but_one_on_the_working_saturday(db_url: str) -> None:
    """R-S1 on the national calendar: 10-01..10-07 are off; Saturday 10-10 is a working day (调休)."""
    with Hall(db_url, FixedClock(at("2026-09-30T09:00"))) as h:
        assert rosters_by_day(h, date(2026, 9, 30), date(2026, 10, 12)) == [
            "09-30 Wed",
            "10-08 Thu",
            "10-09 Fri",
            "10-10 Sat",
            "10-12 Mon",
        ]
