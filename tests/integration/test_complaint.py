"""Every path through processes/complaint.bpmn (R-C1..R-C11, R-F5, R-S5), driven through the public
API with the hall's forms at controlled times; deadlines on the working-day calendar (R-T1, R-T2)."""

from __future__ import annotations

from datetime import datetime

import pytest
from scenario import Hall, at, hall_fixture

CHANNELS = ["热线", "大厅窗口", "网站", "意见箱", "信函", "上级转办", "回访"]


class Complaints(Hall):
    """The complaint process, worked by the hall's staff."""

    def receive(self, when: str | None = None, 渠道: str = "热线", **data) -> dict:
        case = self.start("complaint", when, user="hotline", 渠道=渠道)
        return self.work(case, "register", who="小孙", 渠道=渠道, 投诉内容="服务人员态度差", **data)

    def classify(
        self, case: dict, 类型: str = "投诉", major: bool = False, misconduct: bool = False, when: str | None = None
    ) -> dict:
        return self.work(
            case,
            "classify",
            who="小孙",
            when=when,
            类型=类型,
            专题="服务质量",
            是否重大投诉=major,
            涉及工作人员违纪=misconduct,
        )

    def round(self, case: dict, satisfied: bool, n: int) -> dict:
        """One PDCA round (R-C3): the agency's rectification, the hall's review, the customer's answer."""
        case = self.work(case, "rectify", who="张经理", 整改措施=f"第{n}轮整改措施")
        case = self.work(case, "hall_review", who="刘主任", 大厅审核意见="通过")
        return self.work(case, "feedback", who="小孙", 客户是否满意=satisfied, 客户意见=f"第{n}轮客户意见")

    def to_revisit(self, case: dict, when: str | None = None) -> dict:
        """Contact, investigation, one accepted round, the report approved (at `when`): revisit is next."""
        case = self.work(case, "contact", who="张经理")
        case = self.work(case, "investigate", who="张经理", 需要延期=False)
        case = self.round(case, True, 1)
        case = self.work(case, "report", who="张经理")
        return self.work(case, "manager_review", who="黄经理", when=when, 审核结论="同意")

    def finish(self, case: dict, answer: str = "满意") -> dict:
        case = self.work(case, "report", who="张经理")
        case = self.work(case, "manager_review", who="黄经理", 审核结论="同意")
        case = self.work(case, "revisit", who="小孙", 回访满意度=answer, 回访记录="客户认可")
        case = self.work(case, "rate", who="小孙", 办理评分=9)
        return self.work(case, "archive", who="小周")

    def fire_for(self, case: dict, when: str) -> int:
        """Run the worker at `when`; how many timers of this case fired (the daily callback roster's
        timer start event fires too, R-S1)."""
        before = self.kinds(case).count("timer_fired")
        self.fire(when)
        return self.kinds(case).count("timer_fired") - before

    def due(self, case: dict, name: str) -> datetime:
        return datetime.fromisoformat(self.task(case, name)["due_at"])

    def completed_data(self, case: dict, element: str) -> list[dict]:
        return [
            h["detail"]["data"]
            for h in self.eng.history(case["id"])
            if h["kind"] == "task_completed" and h["element"] == element
        ]


hall = hall_fixture(Complaints)


# -- intake and classification (R-C1, R-C2) ------------------------------------------------------------
@pytest.mark.parametrize("channel", CHANNELS)
def test_every_channel_is_received_with_a_complaint_number(hall: Complaints, channel: str) -> None:
    case = hall.receive("2026-11-24T09:00", 渠道=channel)
    assert case["variables"]["投诉编号"] == "TS20261124-0001"
    assert case["variables"]["渠道"] == channel
    assert hall.names(case) == ["classify"]


def test_numbers_are_sequential_per_day_and_restart_the_next_day(hall: Complaints) -> None:
    """R-C1: 投诉编号 TS + date + a per-day sequence."""
    numbers = [hall.receive("2026-11-24T09:00")["variables"]["投诉编号"] for _ in range(3)]
    numbers.append(hall.receive("2026-11-25T09:00")["variables"]["投诉编号"])
    assert numbers == ["TS20261124-0001", "TS20261124-0002", "TS20261124-0003", "TS20261125-0001"]


@pytest.mark.parametrize(
    "pattern,numbers",
    [
        ("{prefix}{date:%Y%m}-{seq:04d}", ["TS202611-0001", "TS202611-0002", "TS202611-0003", "TS202612-0001"]),
        ("{prefix}{date:%Y}-{seq:05d}", ["TS2026-00001", "TS2026-00002", "TS2026-00003", "TS2026-00004"]),
        ("{prefix}-{seq:06d}", ["TS-000001", "TS-000002", "TS-000003", "TS-000004"]),
        ("{prefix}{date:%Y}/{date:%m}-{seq:03d}", ["TS2026/11-001", "TS2026/11-002", "TS2026/11-003", "TS2026/12-001"]),
    ],
)
def test_numbers_never_repeat_whatever_period_the_pattern_shows(db_url: str, pattern: str, numbers: list) -> None:
    """R-C1: 投诉编号 is unique: the sequence restarts only when the date part the pattern shows changes
    (a monthly pattern numbers 11-23 and 11-24 on; a pattern without a date never restarts)."""
    from hall.engine import FixedClock
    from hall.engine.config import load_config
    from scenario import ROOT

    settings = load_config(ROOT / "hall.yaml")
    settings["numbering"] = {"complaint": {"prefix": "TS", "pattern": pattern}}
    with Complaints(db_url, FixedClock(at("2026-11-23T09:00")), settings=settings) as h:
        got = [
            h.receive(when)["variables"]["投诉编号"]
            for when in ("2026-11-23T09:00", "2026-11-24T09:00", "2026-11-30T17:00", "2026-12-01T09:00")
        ]
    assert got == numbers


def test_two_workers_never_hand_out_the_same_monthly_number(db_url: str) -> None:
    """R-C1 with several engines on one database (as several workers / desks): the per-period counter is
    taken with one atomic upsert, so interleaved intakes across a day boundary stay unique and in order."""
    from hall.engine import FixedClock
    from hall.engine.config import load_config
    from scenario import ROOT

    settings = load_config(ROOT / "hall.yaml")
    settings["numbering"] = {"complaint": {"prefix": "TS", "pattern": "{prefix}{date:%Y%m}-{seq:04d}"}}
    clock = FixedClock(at("2026-11-23T09:00"))
    with Complaints(db_url, clock, settings=settings) as a, Complaints(db_url, clock, settings=settings) as b:
        got = [
            desk.receive(when)["variables"]["投诉编号"]
            for desk, when in (
                (a, "2026-11-23T09:00"),
                (b, "2026-11-23T09:01"),
                (a, "2026-11-24T09:00"),
                (b, "2026-11-24T09:01"),
                (b, "2026-11-24T09:02"),
            )
        ]
    assert got == [f"TS202611-000{n}" for n in range(1, 6)]


@pytest.mark.parametrize(
    "received,due",
    [
        ("2026-09-15T09:00", "2026-10-08T17:30"),  # 10-05 is in the National Day holiday
        ("2026-11-24T09:00", "2026-12-07T17:30"),  # 12-05 is a Saturday
        ("2026-12-01T09:00", "2027-01-05T17:30"),  # a working day stays
    ],
)
def test_r_f7_the_archive_deadline_is_the_5th_or_the_next_working_day(
    hall: Complaints, received: str, due: str
) -> None:
    """R-F7: files compiled by the 5th of the following month, on the working-day calendar."""
    case = hall.classify(hall.receive(received), 类型="咨询")
    case = hall.work(case, "reply_nonvalid", who="小孙", 答复内容="已解释", 客户是否满意=True)
    case = hall.work(case, "rate", who="小孙", 办理评分=10)
    assert hall.due(case, "archive") == at(due)


def test_r_c2_an_opinion_not_accepted_is_handled_until_the_customer_is_satisfied(hall: Complaints) -> None:
    """R-C2, R-C3: a 意见 the customer does not accept is not closed: the responsible agency contacts
    the customer (counted from then, R-C4) and the PDCA loop runs; a 咨询 not accepted still closes."""
    opinion = hall.classify(hall.receive("2026-11-24T09:00"), 类型="意见", when="2026-11-24T09:05")
    opinion = hall.work(
        opinion, "reply_nonvalid", who="小孙", when="2026-11-25T10:00", 答复内容="已解释", 客户是否满意=False
    )
    assert hall.names(opinion) == ["contact"]
    assert hall.due(opinion, "contact") == at("2026-11-25T10:45")
    opinion = hall.work(opinion, "contact", who="张经理")
    opinion = hall.work(opinion, "investigate", who="张经理", 需要延期=False)
    assert hall.names(opinion) == ["rectify"]
    question = hall.classify(hall.receive("2026-11-24T09:00"), 类型="咨询")
    question = hall.work(question, "reply_nonvalid", who="小孙", 答复内容="已解释", 客户是否满意=False)
    assert hall.names(question) == ["rate"]


def test_r_c2_after_investigation_the_complaint_is_confirmed_or_reclassified(hall: Complaints) -> None:
    """R-C2 (seed 003 §7.5): the manager's review confirms the classification (blank) or changes it;
    each change is recorded with the classification it replaced."""
    case = hall.classify(hall.receive("2026-11-24T09:00"))
    case = hall.work(case, "contact", who="张经理")
    case = hall.work(case, "investigate", who="张经理", 需要延期=False)
    case = hall.round(case, True, 1)
    case = hall.work(case, "report", who="张经理")
    case = hall.work(case, "manager_review", who="黄经理", 审核结论="同意", 核定类型="意见", 核定专题="信息沟通")
    assert case["variables"]["类型"] == "意见" and case["variables"]["专题"] == "信息沟通"
    [change] = case["variables"]["分类记录"]
    assert (change["原类型"], change["原专题"], change["类型"]) == ("投诉", "服务质量", "意见")
    same = hall.classify(hall.receive("2026-11-24T09:00"))
    same = hall.to_revisit(same)
    assert same["variables"]["类型"] == "投诉" and "分类记录" not in same["variables"]


@pytest.mark.parametrize("kind", ["咨询", "意见", "建议"])
def test_not_a_complaint_is_answered_as_such_rated_and_closed(hall: Complaints, kind: str) -> None:
    """R-C2: a consultation, opinion or suggestion is answered (within 2 working days, R-C5) and closed."""
    case = hall.classify(hall.receive("2026-11-24T09:00"), 类型=kind)
    assert hall.names(case) == ["reply_nonvalid"]
    assert hall.due(case, "reply_nonvalid") == at("2026-11-26T09:00")
    case = hall.work(case, "reply_nonvalid", who="小孙", 答复内容="已解释", 客户是否满意=True)
    assert hall.names(case) == ["rate"]  # R-S5: every finished transaction is rated
    case = hall.work(case, "rate", who="小孙", 办理评分=10)
    # R-F7: November's files by 5 December, a Saturday: the next working day
    assert hall.due(case, "archive") == at("2026-12-07T17:30")
    case = hall.work(case, "archive", who="小周")
    assert case["status"] == "completed"
    assert "contact" not in [h["element"] for h in hall.eng.history(case["id"])]


# -- the main path and the PDCA loop (R-C3..R-C8) --------------------------------------------------------
def test_a_complaint_resolved_in_one_round(hall: Complaints) -> None:
    case = hall.classify(hall.receive("2026-11-24T09:00"), when="2026-11-24T09:10")
    assert hall.names(case) == ["contact"]
    assert hall.due(case, "contact") == at("2026-11-24T09:45")  # R-C4: 45 minutes from receipt
    case = hall.work(case, "contact", who="张经理", when="2026-11-24T09:30")
    assert hall.names(case) == ["investigate"]
    assert hall.due(case, "investigate") == at("2026-12-01T09:00")  # R-C5: 5 working days from receipt
    assert case["variables"]["办结时限"] == "5 working days"
    case = hall.work(case, "investigate", who="张经理", 需要延期=False)
    for name, data in (
        ("rectify", {"整改措施": "第1轮整改措施"}),
        ("hall_review", {"大厅审核意见": "通过"}),
        ("feedback", {"客户是否满意": True}),
    ):  # every handling step shows the same limit
        assert hall.due(case, name) == at("2026-12-01T09:00")
        case = hall.work(case, name, who="张经理", **data)
    assert case["variables"]["处理轮次"] == 1
    assert hall.names(case) == ["report"]
    assert hall.due(case, "report") == at("2026-12-01T09:00")
    case = hall.work(case, "report", who="张经理")
    assert hall.due(case, "manager_review") == at("2026-12-01T09:00")
    case = hall.work(case, "manager_review", who="黄经理", 审核结论="同意", when="2026-11-26T10:00")
    assert hall.names(case) == ["revisit"]
    assert hall.due(case, "revisit") == at("2026-11-30T10:00")  # R-C5: revisit within 2 working days
    case = hall.work(case, "revisit", who="小孙", 回访满意度="满意", 回访记录="客户认可")
    assert case["variables"]["客户是否满意"] is True and case["variables"]["回访情况"] == "满意：客户认可"
    case = hall.work(case, "rate", who="小孙", 办理评分=9)
    case = hall.work(case, "archive", who="小周")
    assert case["status"] == "completed"
    assert hall.kinds(case)[-1] == "ended"


def test_files_of_december_are_compiled_by_the_5th_of_january(hall: Complaints) -> None:
    """R-F7: the archive task is due on the 5th of the following month (hall.yaml 档案整理截止日), also
    across the year; past it, the task shows in the queue as overdue."""
    case = hall.classify(hall.receive("2026-12-30T10:00"), 类型="咨询")
    case = hall.work(case, "reply_nonvalid", who="小孙", 答复内容="已解释")
    case = hall.work(case, "rate", who="小孙", 办理评分=10, when="2026-12-31T16:00")
    assert hall.due(case, "archive") == at("2027-01-05T17:30")
    hall.at("2027-01-06T09:00")
    late = [t for t in hall.eng.tasks(role="档案管理") if t["due_at"] < at("2027-01-06T09:00").isoformat()]
    assert [t["name"] for t in late] == ["archive"]


def test_the_pdca_loop_runs_three_rounds_and_keeps_every_round(hall: Complaints) -> None:
    """R-C3: not accepted → plan, do, check, act again, as often as it takes; every round on record."""
    case = hall.classify(hall.receive("2026-11-24T09:00"))
    case = hall.work(case, "contact", who="张经理")
    case = hall.work(case, "investigate", who="张经理", 需要延期=False)
    for n, satisfied in ((1, False), (2, False), (3, True)):
        case = hall.round(case, satisfied, n)
        assert case["variables"]["处理轮次"] == (n if satisfied else n + 1)  # the next round has begun
        assert hall.names(case) == (["report"] if satisfied else ["rectify"])
    rounds = hall.completed_data(case, "rectify")
    assert [r["整改措施"] for r in rounds] == ["第1轮整改措施", "第2轮整改措施", "第3轮整改措施"]
    assert [f["客户是否满意"] for f in hall.completed_data(case, "feedback")] == [False, False, True]
    assert hall.finish(case)["status"] == "completed"


def test_hall_review_sends_the_rectification_back_to_the_agency(hall: Complaints) -> None:
    case = hall.classify(hall.receive("2026-11-24T09:00"))
    case = hall.work(case, "contact", who="张经理")
    case = hall.work(case, "investigate", who="张经理", 需要延期=False)
    case = hall.work(case, "rectify", who="张经理", 整改措施="口头提醒")
    case = hall.work(case, "hall_review", who="刘主任", 大厅审核意见="退回服务机构", 大厅处理意见="措施不具体")
    assert hall.names(case) == ["rectify"]
    assert case["variables"]["处理轮次"] == 1  # the same round, reworked
    case = hall.work(case, "rectify", who="张经理", 整改措施="书面整改并培训")
    case = hall.work(case, "hall_review", who="刘主任", 大厅审核意见="通过")
    assert hall.names(case) == ["feedback"]


@pytest.mark.parametrize("verdict", ["事实不清，重新调查", "处理不当，重新调查"])
def test_an_unclear_report_is_investigated_again(hall: Complaints, verdict: str) -> None:
    """R-C8: the customer-service manager sends an unclear report back to investigation."""
    case = hall.classify(hall.receive("2026-11-24T09:00"))
    case = hall.work(case, "contact", who="张经理")
    case = hall.work(case, "investigate", who="张经理", 需要延期=False)
    case = hall.round(case, True, 1)
    case = hall.work(case, "report", who="张经理")
    case = hall.work(case, "manager_review", who="黄经理", 审核结论=verdict)
    assert hall.names(case) == ["investigate"]
    case = hall.work(case, "investigate", who="张经理", 需要延期=False)
    case = hall.round(case, True, 2)
    assert hall.finish(case)["status"] == "completed"


def test_an_unsatisfied_revisit_opens_another_round(hall: Complaints) -> None:
    case = hall.to_revisit(hall.classify(hall.receive("2026-11-24T09:00")))
    case = hall.work(case, "revisit", who="小孙", 回访满意度="不满意", 回访记录="问题复发")
    assert hall.names(case) == ["rectify"] and case["variables"]["处理轮次"] == 2
    case = hall.round(case, True, 2)
    assert hall.finish(case, "基本满意")["status"] == "completed"


# -- supervision, major complaints, extensions, transfers (R-C6, R-C7) ----------------------------------
@pytest.mark.parametrize("kind", ["投诉", "举报"])
def test_r_c7_staff_misconduct_goes_to_supervision_which_investigates_it_itself(hall: Complaints, kind: str) -> None:
    """R-C7: serious misconduct (行风) → supervision registers it and handles it directly: contact,
    investigation, rectification and report are 监察部门's; the contact limit counts from receipt (R-C4)."""
    case = hall.classify(hall.receive("2026-11-24T09:00"), 类型=kind, misconduct=True, when="2026-11-24T09:05")
    assert hall.names(case) == ["supervision_handle"]
    assert hall.task(case, "supervision_handle")["role"] == "监察部门"
    assert hall.due(case, "supervision_handle") == at("2026-11-24T09:45")
    case = hall.work(
        case, "supervision_handle", who="郑监察", when="2026-11-24T09:20", 查处情况="已受理", 处理决定="立案查处"
    )
    assert hall.names(case) == ["contact"]
    contact = hall.task(case, "contact")
    assert contact["role"] == "监察部门" and contact["organisation"] is None
    assert hall.due(case, "contact") == at("2026-11-24T09:45")
    case = hall.work(case, "contact", who="郑监察")
    assert hall.task(case, "investigate")["role"] == "监察部门"
    case = hall.work(case, "investigate", who="郑监察", 需要延期=False)
    assert hall.task(case, "rectify")["role"] == "监察部门"
    order = [h["element"] for h in hall.eng.history(case["id"]) if h["kind"] == "task_completed"]
    assert order == ["register", "classify", "supervision_handle", "contact", "investigate"]


def test_r_c7_a_report_without_misconduct_follows_the_normal_path_with_who_may_read_it(hall: Complaints) -> None:
    """R-C7, R-C10: a 举报 that is no staff misconduct skips supervision; being confidential it is
    handled by the hall's receivers (举报处理角色, who may read it), not the accused agency, so the
    contact limit never runs against a queue that cannot open the case."""
    case = hall.classify(hall.receive("2026-11-24T09:00"), 类型="举报", when="2026-11-24T09:05")
    assert hall.names(case) == ["contact"]
    contact = hall.task(case, "contact")
    assert contact["role"] == "受理员" and contact["organisation"] is None
    assert hall.due(case, "contact") == at("2026-11-24T09:45")
    case = hall.work(case, "contact", who="小孙", when="2026-11-24T09:30")
    assert hall.task(case, "investigate")["role"] == "受理员"
    assert "supervision_handle" not in [h["element"] for h in hall.eng.history(case["id"])]


def test_a_plain_complaint_skips_supervision(hall: Complaints) -> None:
    case = hall.work(hall.classify(hall.receive("2026-11-24T09:00")), "contact", who="张经理")
    assert "supervision_handle" not in [h["element"] for h in hall.eng.history(case["id"])]


def test_a_major_complaint_is_reported_and_has_ten_calendar_days(hall: Complaints) -> None:
    """R-C5/R-C6: a major complaint is reported to the leadership and resolved within 10 calendar days."""
    case = hall.classify(hall.receive("2026-11-24T09:00"), major=True)
    case = hall.work(case, "contact", who="张经理", when="2026-11-24T09:30")
    assert hall.names(case) == ["major_report"] and hall.task(case, "major_report")["role"] == "大厅主管"
    case = hall.work(case, "major_report", who="刘主任", 上报领导="钱总")
    assert case["variables"]["办结时限"] == "10 calendar days"
    assert hall.due(case, "investigate") == at("2026-12-04T09:00")  # from receipt


def test_an_extension_tells_the_customer_the_cause_and_the_new_time(hall: Complaints) -> None:
    """R-C6, R-F5: a limit that cannot be met is extended with a stated reason; the customer is told the
    new expected time; the new time is the investigation's deadline."""
    case = hall.classify(hall.receive("2026-11-24T09:00"))
    case = hall.work(case, "contact", who="张经理")
    case = hall.work(case, "investigate", who="张经理", 需要延期=True, 延期原因="需第三方检测")
    assert hall.names(case) == ["extension_notice"]
    assert "因需第三方检测，不能在 2026-12-01 09:00 前处结" in hall.eng.render_task(
        hall.task(case, "extension_notice")["id"]
    )  # what the customer is told
    case = hall.work(
        case,
        "extension_notice",
        who="小孙",
        告知方式="电话",
        告知时间="2026-11-24T10:00",
        新的预计办结时间="2026-12-10T17:00",
    )
    assert hall.names(case) == ["investigate"]
    assert case["variables"]["延期次数"] == 1 and case["variables"]["延期原因"] == "需第三方检测"
    assert case["variables"]["延期告知"] == (
        "投诉编号 TS20261124-0001：因需第三方检测，不能在 2026-12-01T09:00:00+08:00 "
        "前处结，新的预计办结时间为 2026-12-10T17:00:00+08:00。"
    )
    assert case["variables"]["延期记录"] == [
        {
            "原因": "需第三方检测",
            "原期限": "2026-12-01T09:00:00+08:00",
            "新期限": "2026-12-10T17:00:00+08:00",
            "告知方式": "电话",
            "告知时间": "2026-11-24T10:00:00+08:00",
        }
    ]
    assert hall.due(case, "investigate") == at("2026-12-10T17:00")
    case = hall.work(case, "investigate", who="张经理", 需要延期=False)
    assert hall.names(case) == ["rectify"]


def test_an_extension_needs_a_stated_reason(hall: Complaints) -> None:
    """R-C6: 需要延期 without 延期原因 is refused; nothing moves."""
    from hall.engine.errors import FormInvalid

    case = hall.work(hall.classify(hall.receive("2026-11-24T09:00")), "contact", who="张经理")
    task = hall.task(case, "investigate")
    with pytest.raises(FormInvalid) as caught:
        hall.eng.complete(task["id"], hall.fill(task, {"需要延期": True}), user="张经理")
    assert caught.value.errors == {"延期原因": "必填（需要延期为是时）"}
    assert hall.names(case) == ["investigate"]


def test_an_extension_of_a_transferred_complaint_is_reported_upwards(hall: Complaints) -> None:
    """R-C7: for a complaint transferred from a superior unit the extension is reported to that unit."""
    case = hall.classify(hall.receive("2026-11-24T09:00", 渠道="上级转办"))
    case = hall.work(case, "contact", who="张经理")
    case = hall.work(case, "transfer_register", who="小孙", 转办单位="市服务中心", 拟办意见="交服务机构办理")
    case = hall.work(case, "head_approve", who="吴部长", 审批意见="同意")
    case = hall.work(case, "investigate", who="张经理", 需要延期=True, 延期原因="需上级协调")
    case = hall.work(case, "extension_notice", who="小孙", 新的预计办结时间="2026-12-10T17:00")
    assert hall.names(case) == ["extension_report"] and hall.task(case, "extension_report")["role"] == "部门负责人"
    report = hall.eng.render_task(hall.task(case, "extension_report")["id"])
    assert "因需上级协调" in report and "新的预计办结时间为 2026-12-10T17:00:00+08:00" in report
    case = hall.work(case, "extension_report", who="吴部长")
    assert hall.names(case) == ["investigate"]


def test_a_transfer_is_registered_and_approved_by_the_department_head(hall: Complaints) -> None:
    """R-C7: registered centrally, a handling opinion proposed, the head approves or sends it back."""
    case = hall.classify(hall.receive("2026-11-24T09:00", 渠道="上级转办"))
    case = hall.work(case, "contact", who="张经理")
    assert hall.names(case) == ["transfer_register"]
    case = hall.work(case, "transfer_register", who="小孙", 转办单位="市服务中心", 拟办意见="初拟")
    assert hall.names(case) == ["head_approve"]
    case = hall.work(case, "head_approve", who="吴部长", 审批意见="退回重拟", 审批说明="请明确时限")
    assert hall.names(case) == ["transfer_register"]
    case = hall.work(case, "transfer_register", who="小孙", 转办单位="市服务中心", 拟办意见="重拟：3日内办结")
    case = hall.work(case, "head_approve", who="吴部长", 审批意见="同意")
    assert hall.names(case) == ["investigate"]


def test_a_major_transfer_is_approved_by_the_company_leader(hall: Complaints) -> None:
    case = hall.classify(hall.receive("2026-11-24T09:00", 渠道="上级转办"), major=True)
    case = hall.work(case, "contact", who="张经理")
    case = hall.work(case, "transfer_register", who="小孙", 转办单位="省服务中心")
    assert hall.names(case) == ["leader_approve"] and hall.task(case, "leader_approve")["role"] == "公司领导"
    case = hall.work(case, "leader_approve", who="钱总", 审批意见="同意")
    assert hall.names(case) == ["major_report"]


# -- deadlines and escalation (R-C4, R-C5; R-T1, R-T2) ----------------------------------------------------
def test_contact_missed_after_45_minutes_escalates_to_the_supervisor(hall: Complaints) -> None:
    """R-C4: not contacted 45 minutes after receipt (not after classification) → a 督办 task for 大厅主管;
    contact stays open."""
    case = hall.classify(hall.receive("2026-11-24T09:00"), when="2026-11-24T09:10")
    assert hall.fire_for(case, "2026-11-24T09:44") == 0
    assert hall.names(case) == ["contact"]
    assert hall.fire_for(case, "2026-11-24T09:46") == 1
    assert hall.names(case) == ["contact", "escalate_contact"]
    assert hall.task(case, "escalate_contact")["role"] == "大厅主管"
    fired = [h["element"] for h in hall.eng.history(case["id"]) if h["kind"] == "timer_fired"]
    assert fired == ["contact_overdue"]
    overdue = [t for t in hall.eng.tasks(instance=case["id"]) if t["name"] == "contact"]
    assert overdue[0]["due_at"] < at("2026-11-24T09:46").isoformat()


def test_contact_opened_after_the_45_minutes_escalates_at_once(hall: Complaints) -> None:
    """R-C4: registration and classification took an hour: the contact task opens already overdue and
    the next worker run escalates it; the due date the agency sees is 45 minutes after receipt."""
    case = hall.start("complaint", "2026-11-24T09:00", user="hotline", 渠道="热线")
    case = hall.work(case, "register", who="小孙", when="2026-11-24T09:40", 投诉内容="服务人员态度差")
    assert hall.due(case, "classify") == at("2026-11-24T09:45")
    case = hall.classify(case, when="2026-11-24T10:00")
    assert hall.due(case, "contact") == at("2026-11-24T09:45")
    assert hall.fire_for(case, "2026-11-24T10:01") == 1
    assert hall.names(case) == ["contact", "escalate_contact"]


def test_r_c4_45_working_minutes_and_the_public_one_working_day_contact_commitment(hall: Complaints) -> None:
    """R-C4: 45 minutes of office time (30 on Friday before 17:30, 15 from Monday's 08:50), so
    nothing escalates after closing; the public commitment (1 working day) escalates separately."""
    case = hall.classify(hall.receive("2026-11-27T17:00"))  # a Friday
    assert hall.due(case, "contact") == at("2026-11-30T09:05")
    assert hall.fire_for(case, "2026-11-27T18:00") == 0  # 45 clock minutes: the hall is closed
    assert hall.fire_for(case, "2026-11-30T09:04") == 0
    hall.fire("2026-11-30T09:06")
    assert hall.names(case) == ["contact", "escalate_contact"]
    assert hall.fire_for(case, "2026-11-30T16:59") == 0  # Monday, before the working day is up
    assert hall.fire_for(case, "2026-11-30T17:01") == 1
    assert hall.names(case) == ["contact", "escalate_contact", "escalate_contact_public"]


def test_answer_and_resolution_limits_across_the_national_day_holiday(hall: Complaints) -> None:
    """R-C5 on the national calendar: received 2026-09-30 16:00, the holiday (10-01..10-07) does not
    count and Saturday 10-10 is a working day (调休): answer by 10-09 16:00, resolve by 10-13 16:00."""
    case = hall.classify(hall.receive("2026-09-30T16:00"))
    case = hall.work(case, "contact", who="张经理", when="2026-09-30T16:30")
    assert hall.due(case, "investigate") == at("2026-10-13T16:00")
    assert hall.fire_for(case, "2026-10-08T15:59") == 0
    hall.fire("2026-10-08T16:01")  # R-C5: asked for a working day ahead of the 2-working-day answer
    assert hall.names(case) == ["interim_answer", "investigate"]
    assert hall.due(case, "interim_answer") == at("2026-10-09T16:00")
    case = hall.work(case, "interim_answer", who="小孙", 答复内容="正在调查", 预计处结时间="2026-10-13T16:00")
    assert hall.names(case) == ["investigate"]
    assert hall.fire_for(case, "2026-10-13T15:59") == 0
    hall.fire("2026-10-13T16:01")
    assert hall.names(case) == ["escalate_investigate", "investigate"]
    assert hall.task(case, "escalate_investigate")["role"] == "大厅主管"


def test_revisit_missed_after_two_working_days_escalates(hall: Complaints) -> None:
    case = hall.to_revisit(hall.classify(hall.receive("2026-11-24T09:00")), when="2026-11-27T10:00")  # Friday
    assert hall.due(case, "revisit") == at("2026-12-01T10:00")  # Monday and Tuesday count
    assert hall.fire_for(case, "2026-12-01T09:59") == 0
    hall.fire("2026-12-01T10:01")
    assert hall.names(case) == ["escalate_revisit", "revisit"]


def test_a_timer_of_a_finished_task_never_fires(hall: Complaints) -> None:
    """Contacting in time withdraws both contact timers: nothing escalates later."""
    case = hall.classify(hall.receive("2026-11-24T09:00"))
    case = hall.work(case, "contact", who="张经理", when="2026-11-24T09:20")
    case = hall.work(case, "investigate", who="张经理", 需要延期=False, when="2026-11-24T10:00")
    hall.fire("2026-11-25T16:00")  # past the public 1 working day
    fired = [h["element"] for h in hall.eng.history(case["id"]) if h["kind"] == "timer_fired"]
    assert fired == ["rectify_answer_due"]  # the interim answer's warning, no contact timer
    assert hall.names(case) == ["interim_answer", "rectify"]


def test_r_c5_the_interim_answer_is_asked_for_ahead_of_its_deadline(hall: Complaints) -> None:
    """R-C5: the interim answer appears at the warning time (投诉答复提醒时限, 1 working day after
    receipt) with the two-working-day deadline still ahead of it, not overdue on arrival."""
    case = hall.classify(hall.receive("2026-11-24T09:00"))
    case = hall.work(case, "contact", who="张经理", when="2026-11-24T09:20")
    assert case["variables"]["答复提醒时间"] == "2026-11-25T09:00:00+08:00"
    assert hall.fire_for(case, "2026-11-25T08:59") == 0
    hall.fire("2026-11-25T09:01")
    assert hall.names(case) == ["interim_answer", "investigate"]
    assert hall.due(case, "interim_answer") == at("2026-11-26T09:00")


def test_r_c5_a_timely_contact_that_answered_the_customer_counts_as_the_answer(hall: Complaints) -> None:
    """R-C5: the agency answered the customer when it called them, before the answer deadline: no
    interim answer is asked for; a contact that did not answer still gets one."""
    answered = hall.classify(hall.receive("2026-11-24T09:00"))
    answered = hall.work(
        answered, "contact", who="张经理", 联系时间="2026-11-24T09:20", 联系时已答复=True, when="2026-11-24T09:20"
    )
    silent = hall.classify(hall.receive("2026-11-24T09:00"))
    silent = hall.work(silent, "contact", who="张经理", 联系时间="2026-11-24T09:20", when="2026-11-24T09:21")
    hall.fire("2026-11-25T09:01")
    assert hall.names(answered) == ["investigate"]
    fired = [h["element"] for h in hall.eng.history(answered["id"]) if h["kind"] == "timer_fired"]
    assert fired == ["answer_due"]  # the warning came, and found the customer answered
    assert hall.names(silent) == ["interim_answer", "investigate"]


def resolve_timers(hall: Complaints, case: dict) -> tuple[list[str], int]:
    """The resolve-limit timers that fired (the step that was overdue) and how many 督办 tasks they made."""
    history = hall.eng.history(case["id"])
    fired = [
        h["element"]
        for h in history
        if h["kind"] == "timer_fired"
        and h["element"].endswith("_overdue")
        and not h["element"].startswith(("contact", "revisit"))
    ]
    return fired, sum(1 for h in history if h["kind"] == "task_created" and h["element"] == "escalate_investigate")


def test_the_resolve_limit_runs_from_receipt_over_the_whole_handling(hall: Complaints) -> None:
    """R-C5: 5 working days from receipt cover investigation, every PDCA round and the report review;
    going back to investigation (R-C8) does not restart it; the 大厅主管 is asked once, and every step
    after the limit shows as overdue with the same due date."""
    limit = at("2026-12-01T09:00")
    case = hall.classify(hall.receive("2026-11-24T09:00"))
    case = hall.work(case, "contact", who="张经理", when="2026-11-24T09:20")
    case = hall.work(case, "investigate", who="张经理", when="2026-11-24T15:00", 需要延期=False)
    case = hall.round(case, False, 1)
    case = hall.work(case, "rectify", who="张经理", when="2026-11-30T10:00", 整改措施="第2轮整改措施")
    assert hall.due(case, "hall_review") == limit
    hall.fire("2026-12-01T08:59")
    assert resolve_timers(hall, case) == ([], 0) and hall.names(case) == ["hall_review"]  # answered by feedback
    assert hall.fire_for(case, "2026-12-01T09:01") == 1  # the limit passed during the hall's review
    assert hall.names(case) == ["escalate_investigate", "hall_review"]
    assert hall.task(case, "escalate_investigate")["role"] == "大厅主管"
    assert hall.show(case)["variables"]["处结超时"] is True  # the case's overdue flag
    case = hall.work(case, "escalate_investigate", who="刘主任", 督办措施="要求当日办结")
    case = hall.work(case, "hall_review", who="刘主任", 大厅审核意见="通过")
    assert hall.due(case, "feedback") == limit  # overdue, visibly, in the queue
    case = hall.work(case, "feedback", who="小孙", 客户是否满意=True, when="2026-12-01T11:00")
    case = hall.work(case, "report", who="张经理")
    case = hall.work(case, "manager_review", who="黄经理", 审核结论="事实不清，重新调查")
    assert hall.names(case) == ["investigate"] and hall.due(case, "investigate") == limit  # not restarted
    hall.fire("2026-12-01T14:00")
    assert hall.names(case) == ["investigate"]  # no second 督办, no second answer
    assert resolve_timers(hall, case) == (["hall_review_overdue", "investigate_overdue"], 1)
    late = [t for t in hall.eng.tasks(instance=case["id"]) if t["due_at"] < at("2026-12-01T14:00").isoformat()]
    assert [t["name"] for t in late] == ["investigate"]
    case = hall.work(case, "investigate", who="张经理", 需要延期=False)
    case = hall.round(case, True, 3)
    assert hall.finish(case)["status"] == "completed"


def test_an_extension_moves_the_limit_and_its_escalation(hall: Complaints) -> None:
    """R-C5, R-C6: escalated at the first limit; the extension sets a new limit for every later step,
    which escalates once more only when it passes too."""
    case = hall.classify(hall.receive("2026-11-24T09:00"))
    case = hall.work(case, "contact", who="张经理")
    hall.fire("2026-12-01T09:01")
    assert hall.names(case) == ["escalate_investigate", "interim_answer", "investigate"]
    case = hall.work(case, "investigate", who="张经理", 需要延期=True, 延期原因="需第三方检测")
    case = hall.work(case, "extension_notice", who="小孙", 新的预计办结时间="2026-12-10T17:00")
    case = hall.work(case, "investigate", who="张经理", 需要延期=False)
    assert hall.due(case, "rectify") == at("2026-12-10T17:00")
    hall.fire("2026-12-10T16:59")
    assert resolve_timers(hall, case) == (["investigate_overdue"], 1)
    hall.fire("2026-12-10T17:01")
    assert resolve_timers(hall, case) == (["investigate_overdue", "rectify_overdue"], 2)
    assert [t["name"] for t in hall.eng.tasks(instance=case["id"])].count("escalate_investigate") == 2


def test_the_two_day_answer_is_due_from_receipt_whatever_step_the_case_is_at(hall: Complaints) -> None:
    """R-C5: investigation finished quickly, but the rectification is still open two working days after
    receipt and the customer has heard nothing: the receiver answers once; a later step does not ask again."""
    case = hall.classify(hall.receive("2026-11-24T09:00"))
    case = hall.work(case, "contact", who="张经理", when="2026-11-24T09:20")
    case = hall.work(case, "investigate", who="张经理", when="2026-11-24T11:00", 需要延期=False)
    assert hall.fire_for(case, "2026-11-25T08:59") == 0
    hall.fire("2026-11-25T09:01")
    assert hall.names(case) == ["interim_answer", "rectify"]
    assert hall.due(case, "interim_answer") == at("2026-11-26T09:00")
    case = hall.work(case, "interim_answer", who="小孙", 答复内容="整改方案制定中")
    case = hall.work(case, "rectify", who="张经理", 整改措施="第1轮整改措施")
    hall.fire("2026-11-26T10:00")  # hall_review opens after the 2 days
    assert hall.names(case) == ["hall_review"]
    assert [h["element"] for h in hall.eng.history(case["id"]) if h["kind"] == "task_created"].count(
        "interim_answer"
    ) == 1


# -- R-T2: a deadline computed in a script keeps its provisional mark -----------------------------------
def test_R_T2_script_deadline_into_2027_keeps_the_provisional_mark(hall: Complaints) -> None:
    """办结截止时间 = deadline('5 working days', 受理时间) reaches 2027, which has no official schedule:
    the investigation task due at it is provisional (R-T2), counted with 元旦 closed (R-T1)."""
    case = hall.classify(hall.receive("2026-12-30T10:00"), when="2026-12-30T10:10")
    case = hall.work(case, "contact", who="张经理", when="2026-12-30T10:20")
    task = hall.task(case, "investigate")
    assert task["due_provisional"] is True
    assert hall.due(case, "investigate") == at("2027-01-07T10:00")
    marks = hall.show(case)["variables"]["待定截止时间"]
    assert marks["2027-01-07T10:00:00+08:00"]["deadline"] == "5 working days"
    # a deadline inside a year with its schedule is exact and noted nowhere
    early = hall.classify(hall.receive("2026-11-24T09:00"), when="2026-11-24T09:10")
    early = hall.work(early, "contact", who="张经理", when="2026-11-24T09:20")
    assert hall.task(early, "investigate")["due_provisional"] is False
    assert "待定截止时间" not in hall.show(early)["variables"]


def test_R_T1_refresh_moves_provisional_deadlines_once_the_schedule_is_known(hall: Complaints) -> None:
    """`refresh_deadlines` (hall calendar refresh): once 2027's schedule is configured, the open
    provisional deadlines of a complaint received 2026-12-30 are counted again from receipt — the
    investigation task's and the timers' — and each move is a `deadline_moved` history row."""
    from hall.engine import Engine

    case = hall.classify(hall.receive("2026-12-30T10:00"), when="2026-12-30T10:10")
    case = hall.work(case, "contact", who="张经理", when="2026-12-30T10:20")
    assert hall.due(case, "investigate") == at("2027-01-07T10:00") and hall.task(case, "investigate")["due_provisional"]
    timers_before = {t["element"]: t["due_at"] for t in hall.show(case)["timers"]}
    assert hall.eng.refresh_deadlines() == {"cases": 1, "moved": []}  # same calendar: nothing moves

    settings = dict(hall.eng.settings)
    # a schedule as the State Council might publish it: 01-01..01-04 off (01-04 a Monday)
    settings["calendar"] = {
        **(settings.get("calendar") or {}),
        "official": {2027: {"holidays": {"元旦": ["2027-01-01..2027-01-04"]}, "workdays": {}}},
    }
    with Engine(hall.eng.store.url, clock=hall.clock, forms_dir=hall.eng.forms_dir, settings=settings) as eng:
        result = eng.refresh_deadlines()
        task = next(t for t in eng.tasks(instance=case["id"]) if t["name"] == "investigate")
        assert datetime.fromisoformat(task["due_at"]) == at("2027-01-08T10:00") and task["due_provisional"] is False
        moved = {m["element"]: m for m in result["moved"]}
        assert datetime.fromisoformat(moved["investigate"]["to"]) == at("2027-01-08T10:00")
        assert datetime.fromisoformat(moved["investigate"]["from"]) == at("2027-01-07T10:00")
        timers_after = {t["element"]: t["due_at"] for t in eng.show(case["id"])["timers"]}
        assert any(timers_after[e] != timers_before[e] for e in timers_before)
        rows = [h for h in eng.history(case["id"]) if h["kind"] == "deadline_moved"]
        assert len(rows) == len(result["moved"]) and {r["element"] for r in rows} == set(moved)
        assert eng.refresh_deadlines()["moved"] == []  # exact now: a second refresh moves nothing
