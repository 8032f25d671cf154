"""Routing of work to the right organisation and person (issue 13): R-C10/R-C3 agency queues, R-F6
assignment by person, R-C7 misconduct to supervision, through the hall's real processes and forms."""

from __future__ import annotations

from typing import Any

import pytest
from hall.engine import FixedClock
from hall.engine.config import load_config
from hall.engine.errors import PermissionDenied, TaskClaimedByOther
from hall.servicehall.access import with_defaults
from scenario import ROOT, Hall, at

AGENCY_A = "合肥华信会计师事务所"
AGENCY_B = "安徽启明律师事务所"
USERS = [
    {"id": "小孙", "name": "孙磊", "roles": ["受理员"]},
    {"id": "小钱", "name": "钱多", "roles": ["受理员"]},
    {"id": "黄经理", "name": "黄丽", "roles": ["客服经理"]},
    {"id": "小王", "name": "王晓", "roles": ["前台接待"]},
    {"id": "小吴", "name": "吴凡", "roles": ["前台接待"]},
    {"id": "小李", "name": "李静", "roles": ["咨询窗口"]},
    {"id": "小马", "name": "马琳", "roles": ["咨询窗口"]},
    {"id": "小陈", "name": "陈晨", "roles": ["备案窗口"]},
    {"id": "张经理", "name": "张伟", "roles": ["服务机构"], "organisation": AGENCY_A},
    {"id": "林律师", "name": "林涛", "roles": ["服务机构"], "organisation": AGENCY_B},
    {"id": "散户", "name": "无机构", "roles": ["服务机构"]},
    {"id": "刘主任", "name": "刘洋", "roles": ["大厅主管"]},
    {"id": "郑监察", "name": "郑军", "roles": ["监察部门"]},
]


class Routed(Hall):
    """The hall with users of two agencies configured (permissions enforced)."""

    def __init__(self, url: str, clock: FixedClock) -> None:
        settings = load_config(ROOT / "hall.yaml")
        settings["users"] = USERS
        super().__init__(url, clock, settings=with_defaults(settings))

    def queue(self, who: str) -> list[tuple[int, str]]:
        """(instance, task name) of the user's queue."""
        return sorted((t["instance"], t["name"]) for t in self.eng.tasks(user=who))

    def complaint_against(self, agency: str, **classify: Any) -> dict:
        case = self.start("complaint", user="小孙")
        case = self.work(case, "register", who="小孙", 投诉内容="服务人员态度差", 被投诉企业=agency)
        data = dict(类型="投诉", 专题="服务质量", 是否重大投诉=False, 涉及工作人员违纪=False, 责任单位=agency)
        data.update(classify)
        return self.work(case, "classify", who="小孙", **data)


@pytest.fixture
def hall(db_url: str) -> Any:
    with Routed(db_url, FixedClock(at("2026-11-24T09:00"))) as h:
        yield h


def test_r_c10_r_c3_an_agency_sees_and_works_only_the_complaints_against_itself(hall: Routed) -> None:
    a = hall.complaint_against(AGENCY_A)
    b = hall.complaint_against(AGENCY_B)
    assert hall.queue("张经理") == [(a["id"], "contact")]
    assert hall.queue("林律师") == [(b["id"], "contact")]
    assert hall.queue("散户") == []  # an agency user of no organisation serves no agency's case
    assert {c["id"] for c in hall.eng.instances(user="张经理")} == {a["id"]}
    other = hall.task(b, "contact")
    with pytest.raises(PermissionDenied, match=f"for organisation {AGENCY_B}"):
        hall.eng.task(other["id"], user="张经理")
    with pytest.raises(PermissionDenied):
        hall.eng.complete(other["id"], hall.fill(other, {}), user="张经理")
    with pytest.raises(PermissionDenied):
        hall.eng.claim(other["id"], "张经理")
    with pytest.raises(PermissionDenied):
        hall.eng.show(b["id"], user="张经理")
    with pytest.raises(PermissionDenied, match="is for organisation"):
        hall.eng.reassign(other["id"], "张经理", user="刘主任")
    # the agency named does its work, through investigation and the PDCA round
    case = hall.work(b, "contact", who="林律师")
    case = hall.work(case, "investigate", who="林律师", 需要延期=False)
    assert hall.task(case, "rectify")["organisation"] == AGENCY_B
    assert hall.queue("张经理") == [(a["id"], "contact")]


def test_r_c10_a_filing_agency_signs_only_agreements_it_was_recommended_for(hall: Routed) -> None:
    case = hall.start("filing", user="小王")
    names = sorted(t["name"] for t in hall.eng.tasks(instance=case["id"]))
    case = hall.work(case, names[0], who="小王")
    for _ in range(3):  # through reception and consultation to the agreement
        ready = [t["name"] for t in hall.eng.tasks(instance=case["id"])]
        if "sign_agreement" in ready:
            break
        name = ready[0]
        who = "小李" if name == "consult" else "小王"
        case = hall.work(case, name, who=who, 推荐服务机构=AGENCY_A, 是否达成服务意向=True)
    task = hall.task(case, "sign_agreement")
    assert task["organisation"] == AGENCY_A
    assert [t["name"] for t in hall.eng.tasks(user="林律师")] == []
    assert [t["name"] for t in hall.eng.tasks(user="张经理")] == ["sign_agreement"]


def test_r_f6_the_receiver_of_a_complaint_does_its_revisit(hall: Routed) -> None:
    """Seed 003 §7.4: the receiver (受理人员) who registered the complaint revisits the customer, not
    any other receiver; a supervisor may still hand it on (hall reassign)."""
    case = hall.complaint_against(AGENCY_A)
    case = hall.work(case, "contact", who="张经理")
    case = hall.work(case, "investigate", who="张经理", 需要延期=False)
    case = hall.work(case, "rectify", who="张经理", 整改措施="更换负责人")
    case = hall.work(case, "hall_review", who="刘主任", 大厅审核意见="通过")
    case = hall.work(case, "feedback", who="小钱", 客户是否满意=True)
    case = hall.work(case, "report", who="张经理")
    case = hall.work(case, "manager_review", who="黄经理", 审核结论="同意")
    revisit = hall.task(case, "revisit")
    assert revisit["assignee"] == "小孙" and case["variables"]["受理人账号"] == "小孙"
    with pytest.raises(TaskClaimedByOther):
        hall.eng.complete(revisit["id"], hall.fill(revisit, {}), user="小钱")
    case = hall.work(case, "revisit", who="小孙", 回访满意度="满意", 回访记录="客户认可")
    assert hall.names(case) == ["rate"]
