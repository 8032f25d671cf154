"""R-K2: complaint statistics by week as well as by month (`hall report weekly`, a 周报), with the
period's hot issues: the topics ranked, with the change against the period before."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from click.testing import CliRunner
from hall.servicehall import reports
from hall.servicehall.reports import hot_issues, period_for, report_name
from scenario import ROOT, Hall, at, hall_fixture

hall = hall_fixture(Hall, "2026-11-02T09:00")


def complaint(hall: Hall, when: str, topic: str) -> None:
    case = hall.start("complaint", when, user="hotline", 渠道="热线")
    case = hall.work(case, "register", who="小孙")
    hall.work(case, "classify", who="小孙", 类型="投诉", 专题=topic)


def test_r_k2_the_week_is_the_previous_monday_to_sunday() -> None:
    p = period_for("weekly", date(2026, 11, 24))  # a Tuesday
    assert (p.first, p.last) == (date(2026, 11, 16), date(2026, 11, 22))
    assert report_name("weekly", p) == "20261116-1122业务受理周报"
    p = period_for("weekly", date(2027, 1, 4))  # a Monday: the week across the year end
    assert (p.first, p.last) == (date(2026, 12, 28), date(2027, 1, 3))
    assert report_name("weekly", p) == "20261228-20270103业务受理周报"


def test_r_k2_hot_issues_rank_topics_with_the_change() -> None:
    ranked = hot_issues({"服务效率": 3, "服务收费": 3, "其他": 1}, {"服务收费": 4, "服务态度": 2}, top=2)
    assert [(t["rank"], t["topic"], t["count"], t["previous"], t["change"], t["hot"]) for t in ranked] == [
        (1, "服务效率", 3, 0, 3, True),  # same count as 服务收费: the larger rise first
        (2, "服务收费", 3, 4, -1, True),
        (3, "其他", 1, 0, 1, False),
        (4, "服务态度", 0, 2, -2, False),  # gone this week: still listed, with its fall
    ]


def test_r_k2_hall_report_weekly_writes_the_weekly_with_hot_issues(hall: Hall, db_url: str, tmp_path: Path) -> None:
    from hall import cli

    for day, topic in (("2026-11-10", "服务收费"), ("2026-11-11", "服务收费"), ("2026-11-12", "服务态度")):
        complaint(hall, f"{day}T10:00", topic)  # the week before
    for day, topic in (
        ("2026-11-16", "服务效率"),
        ("2026-11-17", "服务效率"),
        ("2026-11-18", "服务效率"),
        ("2026-11-19", "服务收费"),
    ):
        complaint(hall, f"{day}T10:00", topic)
    runner = CliRunner()
    base = ["--db", db_url, "--now", "2026-11-24T10:00:00+08:00", "--config", str(ROOT / "hall.yaml")]
    out = runner.invoke(cli.main, base + ["report", "weekly", "--out", str(tmp_path)])
    assert out.exit_code == 0, out.output
    md = (tmp_path / "weekly" / "2026" / "20261116-1122业务受理周报.md").read_text(encoding="utf-8")
    assert "## 热点问题（R-K2）" in md and "与上周（2026-11-09 至 2026-11-15）比较" in md
    assert "| 1 | 服务效率 | 3 | 0 | +3 | 75.0% | 热点 |" in md
    assert "| 2 | 服务收费 | 1 | 2 | -1 | 25.0% | 热点 |" in md
    assert "| 3 | 服务态度 | 0 | 1 | -1 | 0.0% |  |" in md
    assert "| 专题 | 件数 |" in md and "| 服务效率 | 3 |" in md  # the week's statistics by topic
    csv_text = (tmp_path / "weekly" / "2026" / "20261116-1122业务受理周报.csv").read_text(encoding="utf-8-sig")
    assert "热点问题,服务效率,3,0,3" in csv_text
    # `report due` knows the weekly: the week before this one is written, the one before that is not
    due = runner.invoke(cli.main, base + ["report", "due", "--out", str(tmp_path), "--json"])
    names = [r["name"] for r in __import__("json").loads(due.output)]
    assert "20261109-1115业务受理周报" in names and "20261116-1122业务受理周报" not in names


def test_r_k2_the_monthly_report_has_the_hot_issues_against_the_month_before(hall: Hall, tmp_path: Path) -> None:
    complaint(hall, "2026-11-05T10:00", "合同履行")
    complaint(hall, "2026-12-03T10:00", "合同履行")
    complaint(hall, "2026-12-04T10:00", "合同履行")
    hall.clock.set(at("2027-01-02T10:00"))
    data = reports.build(hall.eng, "monthly")
    assert data["hot_issues"]["previous"] == {"from": "2026-11-01", "to": "2026-11-30"}
    md = Path(reports.write(data, tmp_path)["md"]).read_text(encoding="utf-8")
    assert "与上月（2026-11-01 至 2026-11-30）比较" in md and "| 1 | 合同履行 | 2 | 1 | +1 | 100.0% | 热点 |" in md
    assert reports.build(hall.eng, "daily")["hot_issues"] is None  # daily reports have none
