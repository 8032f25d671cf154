"""`hall diagram` and `hall test --coverage` (issue 18): where a case stands, drawn from its version's
diagram (path, current task with its role and overdue mark, waiting timers, loop rounds), the deployed
process, and the coverage of the hall's scenarios drawn and listed."""

from __future__ import annotations

from pathlib import Path
from xml.etree import ElementTree

from click.testing import CliRunner
from conftest import ROOT
from hall.cli import main
from hall.engine import FixedClock
from scenario import Hall, at

SVG = "{http://www.w3.org/2000/svg}"


def hall(tmp_path: Path, now: str, *args: str) -> object:
    base = ["--db", str(tmp_path / "hall.db"), "--forms", str(ROOT / "forms"), "--config", str(ROOT / "hall.yaml")]
    return CliRunner().invoke(main, base + ["--now", now] + list(args))


def classes(svg: Path) -> dict[str, str | None]:
    root = ElementTree.parse(svg).getroot()
    return {g.get("data-element-id"): g.get("class") for g in root.iter(f"{SVG}g") if g.get("data-element-id")}


def test_r_c3_r_c4_a_case_at_its_second_round_with_the_contact_overdue(tmp_path: Path) -> None:
    with Hall(str(tmp_path / "hall.db"), FixedClock(at("2026-11-24T09:00"))) as h:
        case = h.start("complaint", user="hotline", 渠道="热线")
        case = h.work(case, "register", who="小孙", 渠道="热线", 投诉内容="服务人员态度差")
        case = h.work(
            case, "classify", who="小孙", 类型="投诉", 专题="服务质量", 是否重大投诉=False, 涉及工作人员违纪=False
        )
        case_id = case["id"]
    out = tmp_path / "case.svg"
    result = hall(tmp_path, "2026-11-24T10:00+08:00", "diagram", str(case_id), "--out", str(out))
    assert result.exit_code == 0, result.output
    assert result.output == f"wrote {out}\n"
    drawn = classes(out)
    assert drawn["register"] == "passed" and drawn["classify"] == "passed" and drawn["start"] == "passed"
    assert drawn["contact"] == "overdue"  # due 09:45, shown at 10:00
    assert drawn["contact_overdue"] == "current" and drawn["investigate"] is None
    text = out.read_text(encoding="utf-8")
    assert "截止 11-24 09:45  逾期" in text and "定时 11-24 09:45" in text and "服务机构" in text
    assert "complaint v1 · 案件 1 TS20261124-0001 · running · 2026-11-24 10:00" in text
    with Hall(str(tmp_path / "hall.db"), FixedClock(at("2026-11-24T10:05"))) as h:
        case = h.work({"id": case_id}, "contact", who="张经理")
        case = h.work(case, "investigate", who="张经理", 需要延期=False)
        case = h.work(case, "rectify", who="张经理", 整改措施="第1轮")
        case = h.work(case, "hall_review", who="刘主任", 大厅审核意见="通过")
        case = h.work(case, "feedback", who="小孙", 客户是否满意=False, 客户意见="不满意")
    result = hall(tmp_path, "2026-11-24T10:10+08:00", "diagram", str(case_id), "--out", str(out))
    assert result.exit_code == 0, result.output
    assert "第2轮" in out.read_text(encoding="utf-8")  # rectify reached a second time: the PDCA round


def test_a_deployed_process_and_an_unknown_one(tmp_path: Path) -> None:
    Hall(str(tmp_path / "hall.db"), FixedClock(at("2026-11-24T09:00"))).eng.close()
    out = tmp_path / "p.svg"
    result = hall(tmp_path, "2026-11-24T10:00+08:00", "diagram", "suggestion", "--out", str(out))
    assert result.exit_code == 0, result.output
    assert "suggestion v1" in out.read_text(encoding="utf-8") and "open_box" in classes(out)
    result = hall(tmp_path, "2026-11-24T10:00+08:00", "diagram", "nosuch", "--out", str(out))
    assert result.exit_code == 1 and result.output.startswith("error: unknown process 'nosuch'")
    result = hall(tmp_path, "2026-11-24T10:00+08:00", "diagram", "suggestion", "--version", "9")
    assert result.exit_code == 1 and "has no version 9 (deployed: 1)" in result.output


def test_coverage_of_the_halls_scenarios_is_drawn_and_the_untaken_branches_listed(tmp_path: Path) -> None:
    result = hall(
        tmp_path,
        "2026-11-24T10:00+08:00",
        "test",
        str(ROOT / "processes" / "tests" / "suggestion.yaml"),
        "--coverage",
        str(tmp_path / "cov"),
    )
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    line = next(x for x in lines if x.startswith("coverage suggestion: "))
    assert line.endswith(f"[{tmp_path / 'cov' / 'suggestion.svg'}]")
    assert "uncovered gateway branches: f_gw_any__end_empty" in result.output
    drawn = classes(tmp_path / "cov" / "suggestion.svg")
    assert drawn["open_box"] == "covered" and drawn["end_empty"] == "uncovered"
