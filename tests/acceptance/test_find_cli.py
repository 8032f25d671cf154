"""`hall find`, and the key and customer in `hall tasks` / `hall instances` (issue 17, item 1): a clerk
with a number, a company name or a phone number on the line finds the case."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import start_time
from hall.cli import main
from hall.engine import FixedClock
from hall.engine.config import load_config
from hall.servicehall.access import with_defaults
from scenario import ROOT, Hall

NOW = "2026-11-24T10:00:00+08:00"
USERS = """
users:
  - {id: 小孙, name: 孙磊, roles: [受理员]}          # confidential permission
  - {id: 小钱, name: 钱多, roles: [见习主管]}        # sees every case, no confidential permission
"""


def filing_up_to_review(hall: Hall) -> dict:
    """A visit whose agreement is signed and filed: the 备案编号 is issued (R-F2: when filed)."""
    case = hall.start("filing", user="小王")
    case = hall.work(case, "reception", 首问负责人="小王", 来访企业="甲科技有限公司", 来访人="李经理",
                     来访人电话="13912345678", 来访事项="办理合同备案", 首问处理="引导至咨询窗口")  # fmt: skip
    case = hall.work(case, "consult", 咨询内容="管理咨询", 是否达成服务意向=True)
    case = hall.work(case, "sign_agreement", 服务机构="合肥某咨询服务公司", 咨询企业="甲科技有限公司",
                     联系人移动电话="13912345678", 咨询项目名称="管理体系咨询", 服务开始日期="2026-11-24",
                     服务结束日期="2026-11-30", 服务收费="12000.00", 协议签订日期="2026-11-24")  # fmt: skip
    return hall.work(case, "review", 备案意见="同意备案")


def report(hall: Hall, user: str | None = None) -> dict:
    """A complaint the customer asked to keep confidential (R-C10)."""
    case = hall.start("complaint", user=user)
    return hall.work(case, "register", who=user or "staff", 渠道="热线", 接待人员="小孙", 投诉企业="秘密科技有限公司",
                     联系人="保密先生", 联系电话="13900001234", 投诉内容="举报", 是否保密=True)  # fmt: skip


def cli(db: Path, config: Path):
    runner = CliRunner()

    def run(*args: str, user: str | None = None) -> tuple[int, str, str]:
        base = ["--db", str(db), "--forms", str(ROOT / "forms"), "--config", str(config), "--now", NOW]
        if user:
            base += ["--user", user]
        result = runner.invoke(main, base + list(args), catch_exceptions=False)
        return result.exit_code, result.stdout, result.stderr

    return run


@pytest.fixture
def desk(tmp_path: Path):
    """The hall's processes on a SQLite file, worked through the API; `hall` on the same file."""
    config = ROOT / "hall.yaml"
    db = tmp_path / "hall.db"
    with Hall(f"sqlite:///{db}", FixedClock(start_time()), settings=with_defaults(load_config(config))) as hall:
        yield hall, cli(db, config)


def test_a_filings_number_is_its_key_in_instances_tasks_and_find(desk) -> None:
    hall, run = desk
    case = filing_up_to_review(hall)
    number = case["variables"]["备案编号"]
    code, out, _ = run("instances", "--key", number)
    assert code == 0 and number in out and "甲科技有限公司" in out and out.splitlines()[2].split()[0] == str(case["id"])
    code, out, _ = run("tasks")
    assert code == 0 and number in out and "甲科技有限公司" in out and "key -" not in out
    [task] = json.loads(run("tasks", "--json")[1])
    assert (task["business_key"], task["customer"]) == (number, "甲科技有限公司")
    code, out, _ = run("show", str(case["id"]))
    assert f"key {number}" in out


def test_hall_find_by_number_company_fragment_and_phone(desk) -> None:
    hall, run = desk
    case = filing_up_to_review(hall)
    number = case["business_key"]
    for text in (number, number.lower(), "科技有限", "13912345678", "5678"):
        code, out, _ = run("find", text)
        assert code == 0 and number in out and "甲科技有限公司" in out, text
    [found] = json.loads(run("find", "5678", "--json")[1])
    assert found["id"] == case["id"] and found["process"] == "filing" and found["status"] == "running"
    assert {"field": "来访人电话", "value": "13912345678"} in found["matches"]
    assert run("find", "无此公司") == (0, "no case found for '无此公司'\n", "")
    code, _, err = run("find", " - ")
    assert code == 1 and err.startswith("error: nothing to find in ' - '")


def test_a_confidential_report_is_not_found_without_the_permission(tmp_path: Path) -> None:
    text = (ROOT / "hall.yaml").read_text(encoding="utf-8").replace("\nusers: []\n", "\n")
    text = text.replace("roles:\n", "roles:\n  见习主管: {serves: [受理员], may: [see_all]}\n", 1)
    config = tmp_path / "hall.yaml"
    config.write_text(text + USERS, encoding="utf-8")
    db = tmp_path / "hall.db"
    with Hall(f"sqlite:///{db}", FixedClock(start_time()), settings=with_defaults(load_config(config))) as hall:
        case = report(hall, user="小孙")
    run = cli(db, config)
    for text in ("秘密科技", "13900001234", case["business_key"]):
        code, out, _ = run("find", text, user="小孙")
        assert code == 0 and case["business_key"] in out and "秘密科技有限公司" in out
        assert run("find", text, user="小钱") == (0, f"no case found for {text!r}\n", "")
        assert json.loads(run("find", text, "--json", user="小钱")[1]) == []
    code, out, _ = run("instances", user="小钱")
    assert case["business_key"] in out and "秘密" not in out


def test_a_second_case_with_the_same_number_is_refused_with_one_line(desk) -> None:
    hall, run = desk
    number = filing_up_to_review(hall)["business_key"]
    code, out, err = run("start", "filing", "--key", number)
    assert code == 1 and out == ""
    assert err == (
        f"error: business key {number} is taken: another filing case has it, and process filing declares "
        "its business key unique; nothing was written\n"
    )
    assert len(run("instances", "--process", "filing")[1].splitlines()) == 3  # header, rule, one case
