"""R-C11: the suggestion box is opened at the morning inspection and the suggestion book read at closing,
every working day (a timer start on the national calendar); each complaint or 举报 found there starts a
complaint case linked to the day's round (channel 意见箱, R-C1; a 举报 confidential, R-C10), each
opinion or suggestion a linked suggestion case."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from scenario import Hall, at, hall_fixture

hall = hall_fixture(Hall, "2026-11-24T08:00")


def rounds(hall: Hall) -> list[dict]:
    return hall.eng.instances(process="suggestion_round")


def the_round(hall: Hall) -> dict:
    return hall.show({"id": max(r["id"] for r in rounds(hall))})


def item(hall: Hall, case: dict, kind: str, text: str, more: bool, **data: object) -> dict:
    return hall.work(case, "register_item", who="小王", 类别=kind, 内容=text, 有待登记=more, **data)


def test_r_c11_a_round_opens_at_08_50_each_working_day_not_at_weekends(hall: Hall) -> None:
    hall.fire("2026-11-24T08:49")
    assert rounds(hall) == []
    hall.fire("2026-11-24T08:50")
    case = the_round(hall)
    assert [t["name"] for t in case["tasks"]] == ["open_box"] and case["tasks"][0]["role"] == "营业大厅"
    assert datetime.fromisoformat(case["tasks"][0]["due_at"]) == at("2026-11-24T09:50")
    assert case["variables"]["闭店时间"] == "2026-11-24T17:30"
    opened, seen, day = [], 1, date(2026, 11, 25)
    while day <= date(2026, 12, 1):
        hall.fire(f"{day.isoformat()}T08:51")
        if len(rounds(hall)) > seen:
            opened.append(f"{day:%m-%d %a}")
        seen, day = len(rounds(hall)), day + timedelta(days=1)
    assert opened == ["11-25 Wed", "11-26 Thu", "11-27 Fri", "11-30 Mon", "12-01 Tue"]


def test_r_c11_complaints_and_reports_in_the_box_start_linked_complaint_cases(hall: Hall) -> None:
    hall.fire("2026-11-24T08:50")
    case = hall.work(the_round(hall), "open_box", who="小王", when="2026-11-24T09:00", 箱内件数=3, 有待登记=True)
    assert hall.names(case) == ["register_item"]
    case = item(
        hall, case, "投诉", "窗口人员态度差", True, 客户姓名="李经理", 客户电话="13912345678", 被投诉单位="某咨询公司"
    )
    case = item(hall, case, "举报", "服务机构私下收费", True, 客户姓名="张先生")
    case = item(hall, case, "建议", "希望延长午间服务时间", False)
    children = {c["process"]: [] for c in case["links"]["children"]}
    for c in case["links"]["children"]:
        children[c["process"]].append(c)
    assert len(children["complaint"]) == 2 and len(children["suggestion"]) == 1
    complaint, report = (hall.show(c) for c in children["complaint"])
    assert complaint["links"]["parent"]["id"] == case["id"]
    assert complaint["variables"]["渠道"] == "意见箱" and complaint["variables"]["投诉内容"] == "窗口人员态度差"
    assert complaint["variables"]["联系人"] == "李经理" and complaint["variables"]["被投诉企业"] == "某咨询公司"
    assert [t["name"] for t in complaint["tasks"]] == ["register"]  # the receiver registers it as any complaint
    assert report["variables"]["是否保密"] is True and report["variables"]["投诉类型"] == "举报"  # R-C10
    assert case["variables"]["内容"] != "服务机构私下收费"  # the report's content stays in its own case
    suggestion = hall.show(children["suggestion"][0])
    assert suggestion["variables"]["意见内容"] == "建议：希望延长午间服务时间"
    assert case["variables"]["登记件数"] == 3
    # the morning is done: the round waits for closing time, then the book is read
    assert hall.names(case) == [] and [t["element"] for t in case["timers"]] == ["wait_closing"]
    hall.fire("2026-11-24T17:29")
    assert hall.names(case) == []
    hall.fire("2026-11-24T17:30")
    assert hall.names(case) == ["read_book"]
    case = hall.work(case, "read_book", who="刘主任", 新增条数=1, 有待登记=True)
    case = item(hall, case, "投诉", "等候时间过长", False)
    assert case["status"] == "completed"
    later = [hall.show(c) for c in case["links"]["children"] if c["process"] == "complaint"][-1]
    assert later["variables"]["投诉内容"] == "等候时间过长" and later["variables"]["渠道"] == "意见箱"


def test_r_c11_an_empty_box_and_book_close_the_round_without_cases(hall: Hall) -> None:
    hall.fire("2026-11-24T08:50")
    case = hall.work(the_round(hall), "open_box", who="小王", 箱内件数=0, 有待登记=False)
    hall.fire("2026-11-24T17:30")
    case = hall.work(case, "read_book", who="刘主任", 新增条数=0, 有待登记=False)
    assert case["status"] == "completed" and case["links"]["children"] == []
