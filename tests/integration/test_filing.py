"""Every path through processes/filing.bpmn (R-F1..R-F7, R-S1..R-S5), driven through the public API
with the hall's forms at controlled times; deadlines on the working-day calendar (R-T1, R-T2)."""

from __future__ import annotations

from datetime import datetime

import pytest
from hall.engine import FixedClock
from hall.engine.config import load_config
from hall.engine.errors import TaskClaimedByOther
from scenario import ROOT, Hall, at, hall_fixture


class Filings(Hall):
    """The filing process, worked by the hall's staff."""

    def visit(self, when: str | None = "2026-11-24T09:00", handover: bool = False) -> dict:
        """A customer reaches the front desk (R-F1, R-F6: 小王 is the first receiver)."""
        case = self.start("filing", when, user="小王")
        return self.work(
            case,
            "reception",
            who="小王",
            首问负责人="小王",
            来访企业="甲科技有限公司",
            来访人="李经理",
            来访人电话="13912345678",
            来访事项="办理合同备案",
            首问处理="登记转交" if handover else "引导至咨询窗口",
        )

    def consult(self, case: dict, intent: bool = True) -> dict:
        return self.work(case, "consult", who="小李", 咨询内容="管理咨询服务", 是否达成服务意向=intent)

    def sign(self, case: dict, end: str = "2026-11-30") -> dict:
        """The agreement signed on site (R-F2 fields filled by the agency); the filing review is next."""
        return self.work(
            case,
            "sign_agreement",
            who="张经理",
            服务机构="合肥某咨询服务公司",
            咨询企业="甲科技有限公司",
            联系人移动电话="13912345678",
            咨询项目名称="管理体系咨询",
            服务开始日期="2026-11-24",
            服务结束日期=end,
            服务收费="12000.00",
            协议签订日期="2026-11-24",
        )

    def review(self, case: dict, verdict: str = "同意备案", reason: str | None = None, when: str | None = None) -> dict:
        data = {"备案意见": verdict, "大厅备案意见": verdict}
        if reason:
            data["未办结原因"] = reason
        return self.work(case, "review", who="小陈", when=when, **data)

    def filed(self, when: str = "2026-11-24T09:00", end: str = "2026-11-30") -> dict:
        """Filed on the first visit and rated: the performance period runs."""
        case = self.review(self.sign(self.consult(self.visit(when)), end))
        return self.work(case, "rate_filing", who="小陈", 办理评分=10)

    def call(self, case: dict, scores: tuple[int, int, int], grievance: bool = False) -> dict:
        """The satisfaction callback (R-S1 script, R-S2 scores)."""
        a, e, p = scores
        return self.work(
            case,
            "callback",
            who="小赵",
            服务态度=a,
            服务效率=e,
            服务价格=p,
            是否有抱怨或投诉=grievance,
            抱怨投诉内容="收费偏高" if grievance else "",
        )

    def at_callback(self) -> dict:
        """Filed, the contract ended, and the callback is due (15:00 the next working day, R-S1)."""
        case = self.filed(end="2026-11-30")
        self.fire("2026-11-30T00:01")  # the end date: performance period over
        self.fire("2026-12-01T15:00")  # the next working day at 15:00
        return self.show(case)

    def due(self, case: dict, name: str) -> datetime:
        return datetime.fromisoformat(self.task(case, name)["due_at"])


hall = hall_fixture(Filings)


# -- reception, consultation (R-F1, R-F6) ---------------------------------------------------------------
def test_no_service_intent_records_the_consultation_and_ends(hall: Filings) -> None:
    """R-F1: intent not reached → the consultation is recorded and the visit ends, rated (R-S5)."""
    case = hall.consult(hall.visit(), intent=False)
    assert hall.names(case) == ["record_consult"]
    case = hall.work(case, "record_consult", who="小李", 未达成原因="暂无需求")
    assert hall.names(case) == ["rate_visit"]
    case = hall.work(case, "rate_visit", who="小王", 办理评分=9)
    assert case["status"] == "completed"
    assert case["variables"]["备案编号"] == "" and case["variables"]["首问负责人"] == "小王"


def test_r_f6_handover_is_registered_and_the_named_receiver_contacts_the_customer(hall: Filings) -> None:
    """R-F6: the right person cannot be reached → hand-over registered; the receiver it names (by
    user id), and nobody else of the window, contacts the customer within the limit (1 working day)."""
    case = hall.visit("2026-11-27T16:00", handover=True)  # a Friday
    assert hall.names(case) == ["handover_register"]
    case = hall.work(
        case, "handover_register", who="小王", 转交对象="咨询窗口小李", 转交对象账号="小李", 拟办事项="政策补贴咨询"
    )
    contact = hall.task(case, "handover_contact")
    assert hall.names(case) == ["handover_contact"] and contact["role"] == "咨询窗口"
    assert contact["assignee"] == "小李"
    with pytest.raises(TaskClaimedByOther):
        hall.eng.complete(contact["id"], hall.fill(contact, {}), user="小马")
    assert hall.due(case, "handover_contact") == at("2026-11-30T16:00")
    case = hall.work(case, "handover_contact", who="小李", when="2026-11-30T10:00", 联系情况="已电话联系")
    assert hall.names(case) == ["consult"]
    assert case["variables"]["转交对象"] == "咨询窗口小李" and case["variables"]["来访企业"] == "甲科技有限公司"


def test_r_f6_a_handover_not_contacted_in_time_returns_to_the_first_receiver_in_person(hall: Filings) -> None:
    """R-F6: past the limit the first receiver (who did the reception, not any receptionist)
    reports to their leader and answers the customer."""
    case = hall.work(
        hall.visit("2026-11-27T16:00", handover=True),
        "handover_register",
        who="小王",
        转交对象="咨询窗口小李",
        转交对象账号="小李",
        拟办事项="政策补贴咨询",
    )
    hall.fire("2026-11-30T15:59")
    assert hall.names(case) == ["handover_contact"]
    hall.fire("2026-11-30T16:01")
    assert hall.names(case) == ["first_receiver_answer"]  # the hand-over is withdrawn
    answer = hall.task(case, "first_receiver_answer")
    assert answer["role"] == "前台接待" and answer["assignee"] == "小王"
    with pytest.raises(TaskClaimedByOther):
        hall.eng.complete(answer["id"], hall.fill(answer, {}), user="小吴")
    case = hall.work(case, "first_receiver_answer", who="小王", 报告领导="刘主任", 答复内容="已致歉并安排咨询")
    assert hall.names(case) == ["consult"]


def test_r_f6_an_in_scope_question_is_handled_at_the_desk(hall: Filings) -> None:
    """R-F6: the first receiver handles a question in their scope at once: rated, and the visit ends."""
    case = hall.start("filing", "2026-11-24T09:00", user="小王")
    case = hall.work(case, "reception", who="小王", 首问处理="当场办结", 办理情况="已说明补贴申报时间")
    assert hall.names(case) == ["rate_visit"]
    case = hall.work(case, "rate_visit", who="小王", 办理评分=10)
    assert case["status"] == "completed" and case["variables"]["首问负责人账号"] == "小王"


# -- filing review and the 123 rule (R-F2..R-F5) ----------------------------------------------------------
def test_r_f2_filed_on_the_first_visit_with_a_filing_number_issued_when_filed(hall: Filings) -> None:
    """R-F4 一次限时 and R-F2: complete materials are filed in one visit; the 备案编号 is issued
    when the contract is filed, not when it reaches review."""
    case = hall.sign(hall.consult(hall.visit()))
    assert hall.names(case) == ["review"]
    assert case["variables"]["备案编号"] == "" and case["variables"]["来访次数"] == 1
    assert hall.due(case, "review") == at("2026-11-25T09:00")  # R-F5: 1 working day
    case = hall.review(case)
    assert case["variables"]["备案编号"] == "BA20261124-0001" and case["business_key"] == "BA20261124-0001"
    assert case["variables"]["备案状态"] == "已备案" and case["variables"]["备案日期"] == "2026-11-24"
    assert hall.names(case) == ["rate_filing"]  # R-S5
    case = hall.work(case, "rate_filing", who="小陈", 办理评分=10)
    assert case["status"] == "running" and case["tasks"] == []
    assert [t["element"] for t in case["timers"]] == ["wait_contract_end"]
    other = hall.review(hall.sign(hall.consult(hall.visit())))
    assert other["variables"]["备案编号"] == "BA20261124-0002"


def test_second_visit_finishes_after_one_written_list(hall: Filings) -> None:
    """R-F3: every missing item in one written list; R-F4 二次办结: finished on the second visit."""
    case = hall.review(hall.sign(hall.consult(hall.visit())), "材料不全", "首次来访材料不全")
    assert hall.names(case) == ["missing_list"]
    case = hall.work(case, "missing_list", who="小陈", 缺件清单="1. 营业执照复印件\n2. 法人授权书\n3. 收费明细")
    assert hall.names(case) == ["second_visit"]
    case = hall.work(case, "second_visit", who="小陈", 补交材料="营业执照复印件、法人授权书、收费明细")
    assert case["variables"]["来访次数"] == 2 and case["variables"]["备案编号"] == ""
    case = hall.review(case)
    assert case["variables"]["备案编号"] == "BA20261124-0001"
    assert hall.names(case) == ["rate_filing"]
    lists = [
        h for h in hall.eng.history(case["id"]) if h["kind"] == "task_completed" and h["element"] == "missing_list"
    ]
    assert len(lists) == 1 and "3. 收费明细" in lists[0]["detail"]["data"]["缺件清单"]


def test_an_unclear_notice_on_the_second_visit_means_on_site_service(hall: Filings) -> None:
    """R-F4 三次上门: the second visit fails because the notice was unclear → staff serve on site until done."""
    case = hall.review(hall.sign(hall.consult(hall.visit())), "材料不全", "首次来访材料不全")
    case = hall.work(case, "missing_list", who="小陈", 缺件清单="1. 法人授权书")
    case = hall.work(case, "second_visit", who="小陈", 补交材料="授权书（格式不符）")
    case = hall.review(case, "材料不全", "告知不清")
    assert hall.names(case) == ["onsite_service"] and case["variables"]["来访次数"] == 2
    case = hall.work(case, "onsite_service", who="小陈", 上门人员="小陈", 上门办理情况="指导重填", 材料是否齐全=False)
    assert hall.names(case) == ["onsite_service"]  # until done
    case = hall.work(case, "onsite_service", who="小陈", 上门人员="小陈", 上门办理情况="材料已齐", 材料是否齐全=True)
    assert hall.names(case) == ["review"] and case["variables"]["来访次数"] == 3
    assert hall.names(hall.review(case)) == ["rate_filing"]


def test_a_customer_who_did_not_bring_the_listed_items_keeps_the_one_list(hall: Filings) -> None:
    """R-F3, R-F4: the customer's own omission is not the staff's unclear notice: no on-site service, and
    no new list either — every further visit is recorded against the one written list until it is done."""
    case = hall.review(hall.sign(hall.consult(hall.visit())), "材料不全", "首次来访材料不全")
    case = hall.work(case, "missing_list", who="小陈", 缺件清单="1. 法人授权书\n2. 收费明细")
    case = hall.work(case, "second_visit", who="小陈", 补交材料="收费明细")
    for visit in (2, 3):
        case = hall.review(case, "材料不全", "客户未补齐已告知材料")
        assert hall.names(case) == ["second_visit"] and case["variables"]["来访次数"] == visit
        assert case["variables"]["缺件清单"] == "1. 法人授权书\n2. 收费明细"
        assert "1. 法人授权书\n2. 收费明细" in hall.eng.render_task(hall.task(case, "second_visit")["id"])
        case = hall.work(case, "second_visit", who="小陈", 补交材料="法人授权书" if visit == 3 else "无")
    case = hall.review(case)
    assert hall.names(case) == ["rate_filing"] and case["variables"]["来访次数"] == 4
    done = [h["element"] for h in hall.eng.history(case["id"]) if h["kind"] == "task_completed"]
    assert done.count("missing_list") == 1 and done.count("second_visit") == 3 and "onsite_service" not in done


def test_a_later_visit_without_the_unclear_notice_never_reissues_the_list(hall: Filings) -> None:
    """R-F3: whatever else is chosen on a later visit, the written list is not issued a second time."""
    case = hall.review(hall.sign(hall.consult(hall.visit())), "材料不全", "告知不清")  # first visit: the list
    assert hall.names(case) == ["missing_list"]
    case = hall.work(case, "missing_list", who="小陈", 缺件清单="1. 法人授权书")
    case = hall.work(case, "second_visit", who="小陈", 补交材料="无")
    case = hall.review(case, "材料不全", "首次来访材料不全")
    assert hall.names(case) == ["second_visit"]


def test_the_reason_is_required_when_materials_are_incomplete(hall: Filings) -> None:
    """R-F4: 未办结原因 decides the route, so 材料不全 without it is refused and nothing moves."""
    from hall.engine.errors import FormInvalid

    case = hall.sign(hall.consult(hall.visit()))
    task = hall.task(case, "review")
    with pytest.raises(FormInvalid) as caught:
        hall.eng.complete(task["id"], {"备案意见": "材料不全", "大厅备案意见": "缺件"}, user="小陈")
    assert caught.value.errors == {"未办结原因": "必填（备案意见为材料不全时）"}
    assert hall.names(case) == ["review"]
    assert hall.names(hall.review(case)) == ["rate_filing"]  # not needed when filed


def test_r_f2_a_refused_filing_is_explained_and_rated_and_uses_no_number(hall: Filings) -> None:
    case = hall.review(hall.sign(hall.consult(hall.visit())), "不予备案")
    assert hall.names(case) == ["refuse_notice"]
    case = hall.work(case, "refuse_notice", who="小陈", 不予备案理由="超出备案范围", 告知方式="当面")
    case = hall.work(case, "rate_visit", who="小王", 办理评分=6)
    assert case["status"] == "completed" and "备案状态" not in case["variables"]
    assert case["variables"]["备案编号"] == "" and case["business_key"] is None
    filed = hall.review(hall.sign(hall.consult(hall.visit())))
    assert filed["variables"]["备案编号"] == "BA20261124-0001"  # the refused case took no number


def test_r_f5_a_review_past_its_limit_tells_the_customer_and_its_deadline_moves_to_the_new_time(hall: Filings) -> None:
    """R-F5: the committed limit passes → a delay notice with the cause and the new expected time."""
    case = hall.sign(hall.consult(hall.visit("2026-11-27T16:00")))
    hall.fire("2026-11-30T15:59")
    assert hall.names(case) == ["review"]
    hall.fire("2026-11-30T16:01")
    assert hall.names(case) == ["delay_notice_review", "review"]
    case = hall.work(
        case,
        "delay_notice_review",
        who="小陈",
        延期原因="需核对收费标准",
        新的预计办结时间="2026-12-01T17:00",
        告知方式="电话",
    )
    assert case["variables"]["延期原因"] == "需核对收费标准"
    assert case["variables"]["新的预计办结时间"].startswith("2026-12-01T17:00")
    assert hall.names(case) == ["review"]
    # R-F5: the review's deadline is now the time the customer was promised
    assert hall.due(case, "review") == at("2026-12-01T17:00")
    moved = [h for h in hall.eng.history(case["id"]) if h["kind"] == "deadline_moved"]
    assert [(h["element"], h["detail"]["to"]) for h in moved] == [("review", "2026-12-01T09:00:00+00:00")]


def test_r_f5_the_moved_deadline_escalates_again_when_the_promised_time_passes(hall: Filings) -> None:
    """R-F5: once the customer was told a new time, the review's escalation follows its deadline there:
    the boundary timer that fired at the committed limit is armed again at the promised time."""
    case = hall.sign(hall.consult(hall.visit("2026-11-27T16:00")))
    hall.fire("2026-11-30T16:01")
    case = hall.work(
        case, "delay_notice_review", who="小陈", 延期原因="需核对收费标准", 新的预计办结时间="2026-12-01T17:00"
    )
    rearmed = [h for h in hall.eng.history(case["id"]) if h["kind"] == "timer_rearmed"]
    assert [(h["element"], h["detail"]["task"]) for h in rearmed] == [("review_overdue", "review")]
    assert [(t["element"], datetime.fromisoformat(t["due_at"])) for t in hall.show(case)["timers"]] == [
        ("review_overdue", at("2026-12-01T17:00"))
    ]
    hall.fire("2026-12-01T16:59")
    assert hall.names(case) == ["review"]
    hall.fire("2026-12-01T17:01")  # the promised time passed: the customer is told again
    assert hall.names(case) == ["delay_notice_review", "review"]
    assert [h["element"] for h in hall.eng.history(case["id"]) if h["kind"] == "timer_fired"] == [
        "review_overdue",
        "review_overdue",
    ]
    case = hall.work(
        case, "delay_notice_review", who="小陈", 延期原因="等待上级批复", 新的预计办结时间="2026-12-03T12:00"
    )
    assert hall.due(case, "review") == at("2026-12-03T12:00")
    case = hall.work(case, "review", who="小陈", 备案意见="同意备案", 大厅备案意见="同意备案")
    assert hall.show(case)["timers"] == [] or all(t["element"] != "review_overdue" for t in hall.show(case)["timers"])


# -- performance period and the satisfaction callback (R-S1..R-S4) ---------------------------------------
def test_the_callback_comes_at_15_00_the_working_day_after_the_contract_ends(hall: Filings) -> None:
    case = hall.filed(end="2026-11-30")
    hall.fire("2026-11-29T23:59")
    assert hall.show(case)["timers"][0]["element"] == "wait_contract_end"
    hall.fire("2026-11-30T00:01")
    assert [t["element"] for t in hall.show(case)["timers"]] == ["wait_callback"]
    hall.fire("2026-12-01T14:59")
    assert hall.names(case) == []
    hall.fire("2026-12-01T15:00")
    assert hall.names(case) == ["callback"] and hall.task(case, "callback")["role"] == "回访员"
    assert hall.due(case, "callback") == at("2026-12-02T15:00")
    roster = hall.show({"id": max(i["id"] for i in hall.eng.instances(process="callback_day"))})
    assert roster["variables"]["回访日期"] == "2026-12-01"
    listed = roster["variables"]["今日回访"]
    assert [c["备案编号"] for c in listed] == ["BA20261124-0001"]  # R-S1: the day's list


def test_a_missed_callback_is_escalated(hall: Filings) -> None:
    case = hall.at_callback()
    hall.fire("2026-12-02T15:01")
    assert hall.names(case) == ["callback", "escalate_callback"]
    assert hall.task(case, "escalate_callback")["role"] == "大厅主管"


@pytest.mark.parametrize("scores,composite", [((10, 8, 6), 8.0), ((7, 7, 7), 7.0)])
def test_satisfied_at_or_above_7_goes_straight_to_the_archive(hall: Filings, scores, composite) -> None:
    """R-S2: the composite is the mean by default; 7 is not below 7 (R-S3)."""
    case = hall.call(hall.at_callback(), scores)
    assert case["variables"]["综合得分"] == composite
    assert hall.names(case) == ["archive"]
    assert "综合得分%s" % composite in case["variables"]["服务满意度调查情况"]
    assert hall.due(case, "archive") == at("2027-01-05T17:30")  # R-F7: December's files by 5 January
    assert hall.task(case, "archive")["role"] == "档案管理"
    case = hall.work(case, "archive", who="小周", 档案编号="BA-2026-001")
    assert case["status"] == "completed"
    assert hall.eng.instances(process="complaint") == []


def test_below_7_the_agency_rectifies_and_a_linked_complaint_decides_the_archive(hall: Filings) -> None:
    """R-S3/R-S4: composite below 7 → supervisor review → the agency's rectification → a complaint
    carrying the 合同备案编号; the filing waits for its outcome before it is archived."""
    case = hall.call(hall.at_callback(), (7, 7, 6))
    assert case["variables"]["综合得分"] == 6.7
    assert hall.names(case) == ["supervisor_review"]
    case = hall.work(case, "supervisor_review", who="刘主任", 投诉内容摘要="效率偏低")
    assert hall.names(case) == ["agency_rectify"]
    case = hall.work(case, "agency_rectify", who="张经理", 服务机构整改意见="增派人员")
    [child] = case["links"]["children"]
    assert child["process"] == "complaint" and case["tasks"] == []
    complaint = hall.show({"id": child["id"]})
    assert complaint["variables"]["合同备案编号"] == "BA20261124-0001"
    assert complaint["variables"]["渠道"] == "回访" and complaint["variables"]["服务机构整改意见"] == "增派人员"
    assert complaint["links"]["parent"]["id"] == case["id"]
    complaint = hall.work(complaint, "register", who="小孙", 渠道="回访", 投诉内容="效率偏低")
    complaint = hall.work(complaint, "classify", who="小孙", 类型="投诉", 专题="服务质量")
    for name, data in (
        ("contact", {}),
        ("investigate", {"需要延期": False}),
        ("rectify", {}),
        ("hall_review", {"大厅审核意见": "通过"}),
        ("feedback", {"客户是否满意": True}),
        ("report", {}),
        ("manager_review", {"审核结论": "同意"}),
        ("revisit", {"回访满意度": "满意"}),
        ("rate", {}),
    ):
        assert hall.names(case) == [] and hall.show(case)["status"] == "running"  # still waiting
        complaint = hall.work(complaint, name, who="小孙" if name == "revisit" else "staff", **data)
    complaint = hall.work(complaint, "archive", who="小周")
    assert complaint["status"] == "completed"
    case = hall.show(case)
    assert hall.names(case) == ["close_case"]
    assert case["variables"]["投诉结果"]["结果"] is True
    assert case["variables"]["投诉结果"]["投诉编号"] == complaint["variables"]["投诉编号"]
    case = hall.work(case, "close_case", who="刘主任", 结案处理意见="客户满意，继续跟踪")
    case = hall.work(case, "archive", who="小周")
    assert case["status"] == "completed"


def test_a_grievance_with_good_scores_goes_to_a_complaint_without_rectification(hall: Filings) -> None:
    """R-S3: any grievance voiced in the call enters the complaint process, whatever the scores."""
    case = hall.call(hall.at_callback(), (9, 9, 9), grievance=True)
    assert hall.names(case) == ["supervisor_review"]
    case = hall.work(case, "supervisor_review", who="刘主任", 投诉内容摘要="收费偏高")
    assert [c["process"] for c in case["links"]["children"]] == ["complaint"]
    assert "agency_rectify" not in [h["element"] for h in hall.eng.history(case["id"])]


def test_the_composite_rule_is_configuration(db_url: str) -> None:
    """R-S2 leaves the formula open: `最低分` takes the lowest score, weights weigh the mean."""
    settings = load_config(ROOT / "hall.yaml")
    settings["settings"]["综合得分规则"] = "最低分"
    with Filings(db_url, FixedClock(at("2026-11-24T09:00")), settings=settings) as h:
        case = h.call(h.at_callback(), (10, 10, 6))
        assert case["variables"]["综合得分"] == 6
        assert h.names(case) == ["supervisor_review"]
    settings["settings"].update({"综合得分规则": "加权平均", "综合得分权重": [2, 1, 1]})
    other = db_url.replace("hall.db", "hall2.db") if db_url.startswith("sqlite") else db_url
    with Filings(other, FixedClock(at("2026-11-24T09:00")), settings=settings) as h:
        case = h.call(h.at_callback(), (10, 6, 6))
        assert case["variables"]["综合得分"] == 8.0


def test_R_F2_agreement_refuses_a_service_end_before_its_start(hall) -> None:
    """服务起止时间 (R-F2): an end date before the start date is a field error, nothing is saved
    (the form's `after: 服务开始日期`); the same day is a valid one-day service."""
    from hall.engine.errors import FormInvalid

    case = hall.consult(hall.visit("2026-11-24T09:00"))
    with pytest.raises(FormInvalid) as refused:
        hall.sign(case, end="2026-11-23")
    assert refused.value.errors == {"服务结束日期": "不能早于服务开始日期（2026-11-24）"}
    assert hall.names(case) == ["sign_agreement"]
    assert hall.names(hall.sign(case, end="2026-11-24")) == ["review"]


def test_r_s3_a_cancelled_linked_complaint_raises_an_incident_on_its_waiting_filing(hall: Filings) -> None:
    """A linked complaint cancelled (a duplicate, withdrawn) never sends complaint_closed: its filing,
    which nothing else moves on, is put in incident naming the complaint, for the supervisor to see;
    retried and given the message by hand, it goes on to close the case (issue 13)."""
    case = hall.call(hall.at_callback(), (5, 5, 5))
    case = hall.work(case, "supervisor_review", who="刘主任", 投诉内容摘要="效率偏低")
    case = hall.work(case, "agency_rectify", who="张经理", 服务机构整改意见="增派人员")
    [child] = case["links"]["children"]
    hall.eng.cancel(child["id"], "客户撤回投诉")
    case = hall.show(case)
    assert case["status"] == "incident"
    [incident] = [i for i in hall.eng.incidents() if i["instance"] == case["id"]]
    assert f"linked case {child['id']} (complaint) was cancelled (客户撤回投诉)" in incident["error"]
    hall.eng.retry(case["id"])
    hall.eng.send_message(case["id"], "complaint_closed", {"结果": False, "投诉编号": "撤回"})
    assert hall.names(hall.show(case)) == ["close_case"]


def test_a_cancelled_case_without_a_waiting_parent_changes_no_other_case(hall: Filings) -> None:
    """Cancelling a case with no parent, or whose parent still has work of its own, raises nothing."""
    case = hall.visit()
    hall.eng.cancel(case["id"], "误建")
    assert hall.eng.incidents() == []
