"""Papers for the customer as print-ready HTML from the case's data (issue 17, item 5): the one-time
list of missing items (R-F3), the delay notice (R-F5), the complaint receipt with its number (R-C1);
and `hall notice` printing them."""

from __future__ import annotations

from html.parser import HTMLParser
from pathlib import Path

import pytest
from click.testing import CliRunner
from hall.engine import FixedClock
from hall.engine.errors import DocumentNotReady
from hall.servicehall import notices
from scenario import ROOT, Hall, at


class Text(HTMLParser):
    """The text of an HTML document, and whether its tags are balanced (a well-formed page)."""

    def __init__(self) -> None:
        super().__init__()
        self.parts: list[str] = []
        self.open: list[str] = []

    def handle_starttag(self, tag: str, attrs: list) -> None:
        if tag not in ("meta", "br", "link"):
            self.open.append(tag)

    def handle_endtag(self, tag: str) -> None:
        assert self.open and self.open.pop() == tag, tag

    def handle_data(self, data: str) -> None:
        self.parts.append(data)


def text_of(html: str) -> str:
    parser = Text()
    parser.feed(html)
    assert parser.open == [], parser.open
    return "".join(parser.parts)


@pytest.fixture
def hall(db_url: str):
    with Hall(db_url, FixedClock(at("2026-11-24T09:00"))) as h:
        yield h


def filing_at_review(hall: Hall, when: str = "2026-11-24T09:00") -> dict:
    """A filing whose agreement is signed: the hall's review is next (R-F2)."""
    case = hall.start("filing", when, user="小王")
    case = hall.work(
        case, "reception", who="小王", 首问负责人="小王", 来访企业="甲科技有限公司", 来访人="李经理",
        来访人电话="13912345678", 来访事项="办理合同备案", 首问处理="引导至咨询窗口",
    )  # fmt: skip
    case = hall.work(case, "consult", who="小李", 咨询内容="管理咨询服务", 是否达成服务意向=True)
    return hall.work(
        case, "sign_agreement", who="张经理", 服务机构="合肥某咨询服务公司", 咨询企业="甲科技有限公司",
        联系人移动电话="13912345678", 咨询项目名称="管理体系咨询", 服务开始日期="2026-11-24",
        服务结束日期="2026-11-30", 服务收费="12000.00", 协议签订日期="2026-11-24",
    )  # fmt: skip


def filing_with_missing_items(hall: Hall) -> dict:
    case = filing_at_review(hall)
    return hall.work(
        case, "review", who="小陈", 备案意见="材料不全", 未办结原因="首次来访材料不全", 大厅备案意见="材料不全"
    )


def test_r_f3_the_missing_items_list_names_every_item_once_in_writing(hall: Hall) -> None:
    case = filing_with_missing_items(hall)
    with pytest.raises(DocumentNotReady, match="has no 缺件清单"):
        notices.render(hall.eng, case["id"], "missing-items")
    hall.work(case, "missing_list", who="小陈", 缺件清单="1. 营业执照复印件\n2. 法人授权书 <原件>\n\n3. 收费明细")
    html = notices.render(hall.eng, case["id"], "missing-items")
    assert html.startswith("<!DOCTYPE html>") and "@page { size: A4" in html and "Noto Sans CJK SC" in html
    assert "&lt;原件&gt;" in html  # the data is escaped
    text = text_of(html)
    assert "一次性告知单" in text and "甲科技有限公司（李经理）" in text
    # R-F2: the 备案编号 is issued when the contract is filed, so the list carries none yet; the case
    # number in its foot is what the clerk finds the case by on the second visit
    assert case["variables"]["备案编号"] == "" and "备案编号" not in text and "案件 1" in text
    assert html.count("<li>") == 3 and "3. 收费明细" in text
    assert "打印时间：2026-11-24 09:00" in text


def test_r_c1_the_complaint_receipt_carries_its_number_and_local_times(hall: Hall) -> None:
    case = hall.start("complaint", user="hotline", 渠道="热线")
    with pytest.raises(DocumentNotReady, match="has no 投诉内容"):
        notices.render(hall.eng, case["id"], "receipt")
    case = hall.work(
        case, "register", who="小孙", 渠道="热线", 投诉内容="服务人员态度差", 接待人员="小孙", 投诉企业="乙公司",
        联系人="王女士", 联系电话="13800001111",
    )  # fmt: skip
    text = text_of(notices.render(hall.eng, case["id"], "receipt"))
    number = case["variables"]["投诉编号"]
    assert f"投诉编号：{number}" in text and "受理时间2026-11-24 09:00" in text and "乙公司" in text
    with pytest.raises(DocumentNotReady, match="a complaint case; the 一次性告知单 is for filing cases"):
        notices.render(hall.eng, case["id"], "missing-items")


def test_r_f5_the_delay_notice_tells_the_cause_and_the_new_time(hall: Hall) -> None:
    case = filing_at_review(hall, "2026-11-27T16:00")
    with pytest.raises(DocumentNotReady, match="has no 延期原因, 新的预计办结时间"):
        notices.render(hall.eng, case["id"], "delay")
    hall.fire("2026-11-30T16:01")  # the review's committed limit passed: the delay notice is due
    hall.work(
        case,
        "delay_notice_review",
        who="小陈",
        延期原因="需核对收费标准",
        新的预计办结时间="2026-12-01T17:00",
        告知方式="电话",
    )
    text = text_of(notices.render(hall.eng, case["id"], "delay"))
    assert "延期告知书" in text and "延期原因需核对收费标准" in text
    assert "新的预计办结时间2026-12-01 17:00" in text and "甲科技有限公司（李经理）" in text


def test_hall_notice_writes_the_paper_and_refuses_with_one_line(tmp_path: Path) -> None:
    from hall.cli import main

    db = tmp_path / "hall.db"
    with Hall(f"sqlite:///{db}", FixedClock(at("2026-11-24T09:00"))) as h:
        case = h.start("complaint", user="hotline", 渠道="热线")
        h.work(case, "register", who="小孙", 渠道="热线", 投诉内容="服务人员态度差")
    base = ["--db", str(db), "--config", str(ROOT / "hall.yaml"), "--forms", str(ROOT / "forms")]
    base += ["--now", "2026-11-24T10:00+08:00"]
    runner = CliRunner()
    out = tmp_path / "回执.html"
    result = runner.invoke(main, [*base, "notice", str(case["id"]), "receipt", "--out", str(out)])
    assert result.exit_code == 0 and result.stdout == f"投诉受理回执 of case {case['id']} written to {out}\n"
    assert "投诉受理回执" in text_of(out.read_text(encoding="utf-8"))
    result = runner.invoke(main, [*base, "notice", str(case["id"]), "delay"])
    assert result.exit_code == 1 and result.stderr.startswith("error: case 1 cannot print the 延期告知书 yet")
    assert result.stderr.count("\n") == 1 and result.stdout == ""
    result = runner.invoke(
        main, [*base, "notice", str(case["id"]), "receipt", "--out", str(tmp_path / "no" / "x.html")]
    )
    assert result.exit_code == 1 and result.stderr.startswith("error: cannot write")


def test_r_c10_a_confidential_complaints_receipt_only_for_who_may_read_it(make_engine, tmp_path: Path) -> None:
    from hall.engine.config import load_config
    from hall.engine.errors import PermissionDenied

    text = (ROOT / "hall.yaml").read_text(encoding="utf-8").replace("\nusers: []\n", "\n")
    text = text.replace("roles:\n", "roles:\n  见习主管: {serves: [受理员], may: [see_all]}\n", 1)
    text += "users:\n  - {id: 小孙, roles: [受理员]}\n  - {id: 小钱, roles: [见习主管]}\n"
    (tmp_path / "hall.yaml").write_text(text, encoding="utf-8")
    eng = make_engine(forms_dir=ROOT / "forms", settings=load_config(tmp_path / "hall.yaml"))
    eng.init()
    eng.deploy([ROOT / "processes"])
    case = eng.start("complaint", None, {}, user="小孙")
    answers = {"渠道": "热线", "接待人员": "小孙", "投诉企业": "秘密科技有限公司", "联系人": "保密先生"}
    answers |= {"联系电话": "13900001234", "投诉内容": "绝密XYZ", "是否保密": True}
    case = eng.complete(case["tasks"][0]["id"], answers, user="小孙")
    assert "秘密科技有限公司" in notices.render(eng, case["id"], "receipt", user="小孙")  # 受理员 may
    with pytest.raises(PermissionDenied) as refused:
        notices.render(eng, case["id"], "receipt", user="小钱")
    assert "confidential" in str(refused.value) and "秘密" not in str(refused.value)
