"""R-S1: the daily callback roster names the enterprise's contact, and a callback that does not reach
the customer is retried the next working day (无法联系) or at the time agreed (改约), instead of going
overdue."""

from __future__ import annotations

from datetime import datetime

from scenario import Hall, at, hall_fixture

hall = hall_fixture(Hall, "2026-11-24T09:00")


def at_callback(hall: Hall) -> dict:
    """A contract filed on 11-24, ended 11-30: its callback is due at 15:00 on 12-01 (R-S1)."""
    case = hall.start("filing", user="小王")
    case = hall.work(
        case, "reception", who="小王", 首问负责人="小王", 来访企业="甲科技有限公司", 首问处理="引导至咨询窗口"
    )
    case = hall.work(case, "consult", who="小李", 是否达成服务意向=True)
    case = hall.work(
        case,
        "sign_agreement",
        who="张经理",
        服务机构="合肥某咨询服务公司",
        咨询企业="甲科技有限公司",
        企业联系人="李经理",
        联系人移动电话="13912345678",
        服务开始日期="2026-11-24",
        服务结束日期="2026-11-30",
    )
    case = hall.work(case, "review", who="小陈", 备案意见="同意备案", 大厅备案意见="同意备案")
    case = hall.work(case, "rate_filing", who="小陈", 办理评分=10)
    hall.fire("2026-11-30T00:01")
    hall.fire("2026-12-01T15:00")
    return hall.show(case)


# A call that reached the customer (R-S1 script, R-S2 scores).
REACHED = dict(
    联系人="李经理",
    客户身份已确认=True,
    是否签订协议=True,
    是否按时完成=True,
    履行是否达到约定=True,
    服务态度=10,
    服务效率=10,
    服务价格=10,
    是否有抱怨或投诉=False,
    回访内容="满意",
)


def roster(hall: Hall) -> dict:
    return hall.show({"id": max(i["id"] for i in hall.eng.instances(process="callback_day"))})


def test_r_s1_the_roster_shows_the_enterprise_contact(hall: Hall) -> None:
    at_callback(hall)
    day = roster(hall)
    [listed] = day["variables"]["今日回访"]
    assert listed["企业联系人"] == "李经理"
    text = hall.eng.render_task(day["tasks"][0]["id"])
    assert "联系人 李经理 13912345678" in text


def test_r_s1_unreachable_is_called_again_the_next_working_day(hall: Hall) -> None:
    case = at_callback(hall)
    case = hall.work(case, "callback", who="小赵", when="2026-12-01T15:20", 回访结果="无法联系", 未完成说明="无人接听")
    assert hall.names(case) == [] and [t["element"] for t in case["timers"]] == ["wait_callback"]
    assert datetime.fromisoformat(case["timers"][0]["due_at"]) == at("2026-12-02T15:00")
    assert "服务满意度调查情况" not in case["variables"]
    hall.fire("2026-12-02T15:00")
    assert hall.names(case) == ["callback"]
    [listed] = roster(hall)["variables"]["今日回访"]
    assert listed["回访结果"] == "无法联系"
    text = hall.eng.render_task(roster(hall)["tasks"][0]["id"])
    assert "上次无法联系" in text
    case = hall.work(case, "callback", who="小赵", **REACHED)
    assert hall.names(case) == ["archive"] and case["variables"]["综合得分"] == 10.0
    # the missed call on 12-01 was not escalated: it was made, the customer was not there
    assert "escalate_callback" not in [h["element"] for h in hall.eng.history(case["id"])]


def test_r_s1_a_rebooked_call_waits_for_the_agreed_time(hall: Hall) -> None:
    case = at_callback(hall)
    case = hall.work(
        case, "callback", who="小赵", when="2026-12-01T15:10", 回访结果="改约", 改约时间="2026-12-03T10:30"
    )
    assert [t["element"] for t in case["timers"]] == ["wait_rebooked"]
    hall.fire("2026-12-03T10:29")
    assert hall.names(case) == []
    hall.fire("2026-12-03T10:30")
    assert hall.names(case) == ["callback"]
    hall.fire("2026-12-03T15:01")  # the callback was due the next working day, not overdue yet
    assert hall.names(case) == ["callback"]
    text = hall.eng.render_task(roster(hall)["tasks"][0]["id"])  # the day's roster at 15:00
    assert "甲科技有限公司" in text and "已改约：2026-12-03 10:30" in text


def test_r_s1_a_rebooking_needs_the_agreed_time(hall: Hall) -> None:
    from hall.engine.errors import FormInvalid

    case = at_callback(hall)
    task = hall.task(case, "callback")
    try:
        hall.eng.complete(
            task["id"], {"回访结果": "改约", "回访人员": "小赵", "回访时间": "2026-12-01T15:10"}, user="小赵"
        )
    except FormInvalid as problem:
        assert "改约时间" in problem.errors
    else:
        raise AssertionError("a rebooking without a time was accepted")
    assert hall.names(case) == ["callback"]
