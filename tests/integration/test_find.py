"""Finding a case by its number, its customer or a phone number (issue 17, item 1), through the API
on each database: the number a process issues becomes the case's business key, `tasks` and
`instances` show key and customer, `Engine.find` searches the key and the variables hall.yaml's
`cases.search` names, a confidential case stays hidden from who may not read it (R-C10), and a
process that declares its key unique refuses a second case with it."""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy as sa
from conftest import start_time
from hall.engine import Engine, FixedClock
from hall.engine.config import load_config
from hall.engine.errors import HallError
from hall.engine.store import SCHEMA_VERSION
from hall.servicehall.access import with_defaults
from scenario import ROOT, Hall

COMPANY = "甲科技有限公司"
PHONE = "13912345678"

USERS = """
users:
  - {id: 小孙, name: 孙磊, roles: [受理员]}          # confidential permission
  - {id: 小钱, name: 钱多, roles: [见习主管]}        # sees every case, no confidential permission
"""

# A process whose key is a number a clerk types (no numbering): unique, so a second case with it is refused.
NUMBERED = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
    xmlns:camunda="http://camunda.org/schema/1.0/bpmn" id="d" targetNamespace="t">
  <bpmn:process id="numbered" isExecutable="true">
    <bpmn:extensionElements>
      <camunda:properties>
        <camunda:property name="businessKey" value="编号" />
        <camunda:property name="businessKeyUnique" value="true" />
      </camunda:properties>
    </bpmn:extensionElements>
    <bpmn:startEvent id="start"><bpmn:outgoing>f1</bpmn:outgoing></bpmn:startEvent>
    <bpmn:userTask id="enter" name="Enter the number"><bpmn:incoming>f1</bpmn:incoming>
      <bpmn:outgoing>f2</bpmn:outgoing></bpmn:userTask>
    <bpmn:userTask id="work" name="Work"><bpmn:incoming>f2</bpmn:incoming>
      <bpmn:outgoing>f3</bpmn:outgoing></bpmn:userTask>
    <bpmn:endEvent id="end"><bpmn:incoming>f3</bpmn:incoming></bpmn:endEvent>
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="enter" />
    <bpmn:sequenceFlow id="f2" sourceRef="enter" targetRef="work" />
    <bpmn:sequenceFlow id="f3" sourceRef="work" targetRef="end" />
  </bpmn:process>
</bpmn:definitions>
"""


class Desk(Hall):
    """The hall's processes with the hall's `cases` defaults (as the `hall` command runs them)."""

    def filing(self, company: str = COMPANY, phone: str = PHONE) -> dict:
        """A visit up to the filing review: the agreement is signed, the 备案编号 issued."""
        case = self.start("filing", user="小王")
        case = self.work(case, "reception", 首问负责人="小王", 来访企业=company, 来访人="李经理", 来访人电话=phone,
                         来访事项="办理合同备案", 首问处理="引导至咨询窗口")  # fmt: skip
        assert case["business_key"] is None  # no number yet
        case = self.work(case, "consult", 咨询内容="管理咨询", 是否达成服务意向=True)
        return self.work(case, "sign_agreement", 服务机构="合肥某咨询服务公司", 咨询企业=company,
                         联系人移动电话=phone, 咨询项目名称="管理体系咨询", 服务开始日期="2026-11-24",
                         服务结束日期="2026-11-30", 服务收费="12000.00", 协议签订日期="2026-11-24")  # fmt: skip

    def complaint(self, user: str | None = None, **data: object) -> dict:
        case = self.start("complaint", user=user)
        register = {"渠道": "热线", "接待人员": "小孙", "投诉企业": "乙贸易有限公司", "联系人": "王女士",
                    "联系电话": "13800138000", "投诉内容": "服务收费不透明"}  # fmt: skip
        return self.work(case, "register", who=user or "staff", **dict(register, **data))


@pytest.fixture
def desk(db_url: str):
    with Desk(db_url, FixedClock(start_time()), settings=with_defaults(load_config(ROOT / "hall.yaml"))) as d:
        yield d


def test_a_filings_number_becomes_its_business_key_when_issued(desk: Desk) -> None:
    case = desk.filing()
    number = case["variables"]["备案编号"]
    assert number.startswith("BA20261124-") and case["business_key"] == number
    assert desk.eng.show(case["id"])["business_key"] == number
    assert [i["id"] for i in desk.eng.instances(business_key=number)] == [case["id"]]
    complaint = desk.complaint()
    assert complaint["business_key"] == complaint["variables"]["投诉编号"] == "TS20261124-0001"


def test_tasks_and_instances_show_the_key_and_the_customer(desk: Desk) -> None:
    case = desk.filing()
    [listed] = desk.eng.instances(process="filing")
    assert (listed["business_key"], listed["customer"]) == (case["business_key"], COMPANY)
    [task] = desk.eng.tasks(instance=case["id"])
    assert (task["business_key"], task["customer"], task["name"]) == (case["business_key"], COMPANY, "review")


def test_find_by_number_company_fragment_and_phone(desk: Desk) -> None:
    first = desk.filing()
    other = desk.filing(company="丙制造有限公司", phone="13700001111")
    complaint = desk.complaint()
    number = first["business_key"]

    def ids(text: str) -> list[int]:
        return [c["id"] for c in desk.eng.find(text)]

    assert ids(number) == [first["id"]]
    assert ids(number.lower().replace("-", " ")) == [first["id"]]  # case, spaces and dashes do not matter
    assert ids("TS20261124-0001") == [complaint["id"]]
    assert ids("科技有限") == [first["id"]]  # a fragment inside the name
    assert ids("有限公司") == [complaint["id"], other["id"], first["id"]]  # newest first
    assert ids(PHONE) == [first["id"]]
    assert ids("0001111") == [other["id"]]  # the end of a phone number
    assert ids("王女士") == [complaint["id"]]
    assert ids("无此公司") == []
    [found] = desk.eng.find("5678")
    assert found["customer"] == COMPANY and found["business_key"] == number
    assert {"field": "来访人电话", "value": PHONE} in found["matches"]
    assert desk.eng.find("BA2026", limit=1) == [{**desk.eng.find("BA2026")[0]}]
    assert desk.eng.find("BA2026", limit=1).truncated


def test_a_confidential_report_is_not_found_by_a_user_without_the_permission(db_url: str, tmp_path: Path) -> None:
    text = (ROOT / "hall.yaml").read_text(encoding="utf-8").replace("\nusers: []\n", "\n")
    text = text.replace("roles:\n", "roles:\n  见习主管: {serves: [受理员], may: [see_all]}\n", 1)
    (tmp_path / "hall.yaml").write_text(text + USERS, encoding="utf-8")
    settings = with_defaults(load_config(tmp_path / "hall.yaml"))
    with Desk(db_url, FixedClock(start_time()), settings=settings) as desk:
        report = desk.complaint(user="小孙", 投诉企业="秘密科技有限公司", 联系电话="13900001234", 是否保密=True)
        plain = desk.complaint(user="小孙", 投诉企业="公开科技有限公司")
        number = report["business_key"]
        assert [c["id"] for c in desk.eng.find("科技有限公司", user="小孙")] == [plain["id"], report["id"]]
        for text in ("秘密科技", "13900001234", number):
            assert desk.eng.find(text, user="小孙")[0]["id"] == report["id"]
            assert desk.eng.find(text, user="小钱") == []  # not even a placeholder
        assert [c["id"] for c in desk.eng.find("科技有限公司", user="小钱")] == [plain["id"]]
        listed = {i["id"]: i for i in desk.eng.instances(user="小钱")}
        assert listed[report["id"]]["customer"] is None and listed[plain["id"]]["customer"] == "公开科技有限公司"


def test_a_second_case_with_a_unique_key_is_refused(desk: Desk, tmp_path: Path) -> None:
    first = desk.filing()
    with pytest.raises(HallError, match=f"business key {first['business_key']} is taken") as refused:
        desk.eng.start("filing", first["business_key"], {})
    assert type(refused.value).__name__ == "BusinessKeyTaken"
    assert len(desk.eng.instances(process="filing")) == 1  # nothing written
    (tmp_path / "numbered.bpmn").write_text(NUMBERED, encoding="utf-8")
    desk.eng.deploy([tmp_path / "numbered.bpmn"])
    one, two = desk.eng.start("numbered"), desk.eng.start("numbered")
    desk.eng.complete(one["tasks"][0]["id"], {"编号": "N-1"})
    with pytest.raises(HallError, match="another numbered case has it"):
        desk.eng.complete(two["tasks"][0]["id"], {"编号": "N-1"})
    assert desk.eng.show(two["id"])["tasks"][0]["name"] == "enter"  # the step was not written
    assert desk.eng.complete(two["tasks"][0]["id"], {"编号": "N-2"})["business_key"] == "N-2"


def test_the_upgrade_to_v5_and_a_reindex_fill_the_search_table(desk: Desk) -> None:
    case = desk.filing()
    store = desk.eng.store
    with store.engine.begin() as conn:  # back to schema v4, as a database of the last release
        conn.exec_driver_sql("DROP TABLE case_search")
        conn.exec_driver_sql("DELETE FROM hall_schema WHERE version >= 5")  # and any later one
        conn.exec_driver_sql("UPDATE alembic_version SET version_num = 'v4'")
    store.close()
    eng = Engine(store.url, clock=desk.clock, forms_dir=ROOT / "forms", settings=desk.eng.settings)
    try:
        assert eng.init()["schema"] == SCHEMA_VERSION
        assert [c["id"] for c in eng.find("科技有限")] == [case["id"]]
        assert [c["id"] for c in eng.find(case["business_key"])] == [case["id"]]
        narrow = Engine(store.url, clock=desk.clock, settings={"cases": {"search": ["来访人电话"]}})
        try:
            assert narrow.reindex() == {"cases": 1, "values": 2}  # the key and the phone
            assert narrow.find("科技有限") == [] and len(narrow.find(PHONE)) == 1
        finally:
            narrow.close()
    finally:
        eng.close()
    with store.engine.connect() as conn:
        assert conn.execute(sa.text("SELECT count(*) FROM case_search")).scalar() == 2
