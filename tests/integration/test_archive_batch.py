"""R-F7's monthly batch (processes/archive_batch.bpmn, issue 13): on the first working day of each
month a case lists the files archived during the last month (the 档案明细), due by the 5th or the
next working day; the archivist binds them, the director signs for them, the list goes to 企业管理部."""

from __future__ import annotations

from datetime import datetime

from hall.engine import FixedClock
from scenario import Hall, at


def archived_complaint(h: Hall, when: str, **register: object) -> dict:
    """A consultation received, answered, rated and archived at `when` (Beijing time)."""
    case = h.start("complaint", when, user="小孙", 渠道="热线")
    case = h.work(case, "register", who="小孙", 投诉内容="咨询办理流程", **register)
    case = h.work(case, "classify", who="小孙", 类型="咨询", 专题="其他")
    case = h.work(case, "reply_nonvalid", who="小孙", 答复内容="已解释")
    case = h.work(case, "rate", who="小孙", 办理评分=9)
    return h.work(case, "archive", who="小周", 档案编号="DA-" + when[:10], 保存期限="一年")


def test_r_f7_the_monthly_batch_lists_last_months_archived_files_due_by_the_5th(db_url: str) -> None:
    with Hall(db_url, FixedClock(at("2026-09-28T09:00"))) as h:
        september = archived_complaint(h, "2026-09-28T10:00")
        h.fire("2026-10-07T09:00")  # 10-01..10-07: the National Day holiday
        assert h.eng.instances(process="archive_batch") == []
        h.fire("2026-10-08T09:00")
        [first] = h.eng.instances(process="archive_batch")
        listed = h.show(first)["variables"]
        assert listed["档案月份"] == "2026-09" and [c["instance"] for c in listed["投诉档案"]] == [september["id"]]
        october = archived_complaint(h, "2026-10-20T10:00", 是否保密=True, 投诉企业="秘密科技有限公司")
        november = archived_complaint(h, "2026-11-02T08:00")
        h.fire("2026-11-02T08:59")
        assert len(h.eng.instances(process="archive_batch")) == 1
        h.fire("2026-11-02T09:00")  # Sunday 11-01 is closed: Monday at 09:00
        [batch] = [b for b in h.eng.instances(process="archive_batch") if b["id"] != first["id"]]
        case = h.show(batch)
        data = case["variables"]
        assert data["档案月份"] == "2026-10" and data["档案份数"] == 1
        assert [c["instance"] for c in data["投诉档案"]] == [october["id"]]
        assert september["id"] != october["id"] != november["id"]
        assert data["投诉档案"][0]["business_key"] == october["business_key"]
        assert data["投诉档案"][0]["completed_by"] == "小周" and data["备案档案"] == []
        [task] = case["tasks"]
        assert task["name"] == "compile_files" and task["role"] == "档案管理"
        assert datetime.fromisoformat(task["due_at"]) == at("2026-11-05T17:30")
        text = h.eng.render_task(task["id"])
        assert f"投诉 {october['business_key']} 咨询 档案编号 DA-2026-10-20" in text and "【保密件" in text
        assert "秘密科技" not in text  # R-C10: the list names the confidential file by its number only
        case = h.work(batch, "compile_files", who="小周", 装订册数=1, 明细已核对=True)
        case = h.work(batch, "director_receive", who="刘主任", 签收人="刘主任")
        assert h.task(batch, "report_mgmt")["role"] == "档案管理"
        case = h.work(batch, "report_mgmt", who="小周", 报送方式="纸质", 报送日期="2026-11-03")
        assert case["status"] == "completed"


def test_r_f7_a_batch_not_bound_by_the_5th_is_escalated_and_the_next_month_opens_on_a_working_day(
    db_url: str,
) -> None:
    with Hall(db_url, FixedClock(at("2026-11-30T09:00"))) as h:
        h.fire("2026-12-01T09:00")
        [batch] = h.eng.instances(process="archive_batch")
        assert datetime.fromisoformat(h.task(batch, "compile_files")["due_at"]) == at("2026-12-07T17:30")  # 5th: Sat
        h.fire("2026-12-07T17:29")
        assert h.names(batch) == ["compile_files"]
        h.fire("2026-12-07T17:31")
        assert h.names(batch) == ["compile_files", "escalate_compile"]
        assert h.task(batch, "escalate_compile")["role"] == "大厅主管"
        h.fire("2027-01-01T09:00")  # 元旦 (computed for 2027: provisional), then a weekend
        assert len(h.eng.instances(process="archive_batch")) == 1
        h.fire("2027-01-04T09:00")
        january = [b for b in h.eng.instances(process="archive_batch") if b["id"] != batch["id"]]
        assert len(january) == 1 and h.show(january[0])["variables"]["档案月份"] == "2026-12"
