"""R-S5: the one-per-transaction ratings (办理评分) summarised per window and per staff member who served,
in `hall kpi` (text and --json) and in the monthly report."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

from click.testing import CliRunner
from hall.servicehall import kpi, reports
from scenario import ROOT, Hall, at, hall_fixture

hall = hall_fixture(Hall, "2026-11-24T09:00")


def visit(hall: Hall, consultant: str, score: int | None, filed_by: str | None = None, filing_score: int = 0) -> None:
    """A visit consulted by `consultant`; without intent it is rated at once, else filed by `filed_by` and rated."""
    case = hall.start("filing", user="小王")
    case = hall.work(case, "reception", who="小王", 首问处理="引导至咨询窗口")
    case = hall.work(case, "consult", who=consultant, 是否达成服务意向=filed_by is not None)
    if filed_by is None:
        case = hall.work(case, "record_consult", who=consultant)
        hall.work(case, "rate_visit", who=consultant, **({} if score is None else {"办理评分": score}))
        return
    case = hall.work(case, "sign_agreement", who="张经理", 服务开始日期="2026-11-24", 服务结束日期="2027-06-30")
    case = hall.work(case, "review", who=filed_by, 备案意见="同意备案", 大厅备案意见="同意备案")
    hall.work(case, "rate_filing", who=filed_by, 办理评分=filing_score)


def three_visits(hall: Hall) -> None:
    visit(hall, "小李", 10)
    visit(hall, "小李", None)  # the customer would not rate: counted as not rated
    visit(hall, "小刘", 2)
    visit(hall, "小李", 10, filed_by="小陈", filing_score=8)


def test_r_s5_ratings_per_window_and_staff_member(hall: Hall) -> None:
    three_visits(hall)
    hall.clock.set(at("2026-11-30T18:00"))
    g = kpi.indicators(hall.eng, kpi.Period(date(2026, 11, 1), date(2026, 11, 30)))["ratings"]
    assert (g["rated"], g["unrated"], g["average"], g["low"]) == (3, 1, round(20 / 3, 2), 1)
    assert g["by_window"] == [
        {"window": "咨询窗口", "ratings": 2, "average": 6.0, "low": 1},
        {"window": "备案窗口", "ratings": 1, "average": 8.0, "low": 0},
    ]
    assert g["by_staff"] == [
        {"staff": "小李", "window": "咨询窗口", "ratings": 1, "average": 10.0, "low": 0},
        {"staff": "小陈", "window": "备案窗口", "ratings": 1, "average": 8.0, "low": 0},
        {"staff": "小刘", "window": "咨询窗口", "ratings": 1, "average": 2.0, "low": 1},
    ]
    # a period without them has none
    assert kpi.indicators(hall.eng, kpi.Period(date(2026, 10, 1), date(2026, 10, 31)))["ratings"]["rated"] == 0


def test_r_s5_a_complaint_rating_is_the_revisiting_receivers(hall: Hall) -> None:
    case = hall.start("complaint", user="hotline", 渠道="热线")
    case = hall.work(case, "register", who="小孙")
    case = hall.work(case, "classify", who="小孙", 类型="建议", 专题="大厅环境")
    case = hall.work(case, "reply_nonvalid", who="小孙")
    hall.work(case, "rate", who="小孙", 办理评分=9)
    hall.clock.set(at("2026-11-30T18:00"))
    g = kpi.indicators(hall.eng, kpi.Period(date(2026, 11, 1), date(2026, 11, 30)))["ratings"]
    assert g["by_staff"] == [{"staff": "小孙", "window": "受理员", "ratings": 1, "average": 9.0, "low": 0}]


def test_r_s5_ratings_in_hall_kpi_and_the_monthly_report(hall: Hall, db_url: str, tmp_path: Path) -> None:
    from hall import cli

    three_visits(hall)
    runner = CliRunner()
    base = ["--db", db_url, "--now", "2026-12-01T10:00:00+08:00", "--config", str(ROOT / "hall.yaml")]
    out = runner.invoke(cli.main, base + ["kpi", "--from", "2026-11-01", "--to", "2026-11-30", "--json"])
    assert out.exit_code == 0, out.output
    assert json.loads(out.output)["ratings"]["by_window"][0]["window"] == "咨询窗口"
    text = runner.invoke(cli.main, base + ["kpi", "--from", "2026-11-01", "--to", "2026-11-30"]).output
    assert "ratings (办理评分, R-S5): 3 rated, average 6.67, 1 below 6; 1 not rated" in text
    assert "  小刘 (咨询窗口): 1 rating(s), average 2.0, low 1" in text
    hall.clock.set(at("2026-12-01T10:00"))
    md = Path(reports.write(reports.build(hall.eng, "monthly"), tmp_path)["md"]).read_text(encoding="utf-8")
    assert "| 咨询窗口 | 2 | 6.0 | 1 |" in md
    assert "| 小刘 | 咨询窗口 | 1 | 2.0 | 1 |" in md
