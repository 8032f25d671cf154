"""Reports the hall hands out (issue 17, item 5): a CSV Excel opens (UTF-8 BOM), a chart with axis titles,
office hours and the processes' Chinese names in a CJK font stack, a Markdown in Chinese with local times,
and `report due` without periods from before the hall ran anything (R-K3)."""

from __future__ import annotations

import xml.dom.minidom
from datetime import datetime
from pathlib import Path

import pytest
from hall.engine import Engine, FixedClock
from hall.servicehall import reports

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def eng(db_url: str):
    clock = FixedClock(datetime.fromisoformat("2026-11-24T09:00:00+08:00"))
    e = Engine(db_url, clock=clock, forms_dir=ROOT / "forms")
    e.init()
    e.deploy([ROOT / "processes"])
    for when in ("2026-11-24T08:55", "2026-11-24T10:20", "2026-11-24T22:40"):
        clock.set(datetime.fromisoformat(when + ":00+08:00"))
        e.start("complaint", None, {"渠道": "热线"}, user="hotline")
    yield e
    e.close()


def test_r_k3_daily_chart_over_office_hours_with_axis_titles_and_chinese_legend(eng: Engine, tmp_path: Path) -> None:
    eng.clock.set(datetime.fromisoformat("2026-11-25T08:30:00+08:00"))
    data = reports.build(eng, "daily")
    assert data["buckets"] == [f"{h:02d}:00" for h in range(8, 18)] + ["非办公时间"]  # 08:50–17:30, then the rest
    counts = dict(zip(data["buckets"], data["started"]["complaint"]))
    assert counts["08:00"] == 1 and counts["10:00"] == 1 and counts["非办公时间"] == 1
    svg = Path(reports.write(data, tmp_path)["svg"]).read_text(encoding="utf-8")
    xml.dom.minidom.parseString(svg)
    assert ">受理量（件）</text>" in svg and ">时段（办公时间，每小时）</text>" in svg
    assert ">投诉处理（PDCA） 3 件</text>" in svg  # the diagram's name, not the id `complaint`
    assert "font-family=\"'Noto Sans CJK SC', 'Source Han Sans SC', 'Source Han Sans', 'Microsoft YaHei', " in svg
    assert "'PingFang SC', sans-serif\"" in svg
    assert ">03:00</text>" not in svg


def test_r_k3_monthly_chart_has_a_date_axis(eng: Engine, tmp_path: Path) -> None:
    eng.clock.set(datetime.fromisoformat("2026-12-01T08:30:00+08:00"))
    svg = Path(reports.write(reports.build(eng, "monthly"), tmp_path)["svg"]).read_text(encoding="utf-8")
    assert ">日期</text>" in svg and ">受理量（件）</text>" in svg


def test_r_k3_csv_opens_in_excel_and_markdown_is_chinese_with_local_times(eng: Engine, tmp_path: Path) -> None:
    eng.clock.set(datetime.fromisoformat("2026-12-01T08:30:00+08:00"))
    paths = reports.write(reports.build(eng, "monthly"), tmp_path)
    assert Path(paths["csv"]).read_bytes()[:3] == b"\xef\xbb\xbf"
    md = Path(paths["md"]).read_text(encoding="utf-8")
    assert "- 生成时间：2026-12-01 08:30" in md  # local, to the minute
    assert "- 报送期限：2026-12-10 24:00 前（R-K3）" in md  # by the 10th
    assert "## 超时（截至 2026-12-01 08:30）" in md
    assert "+00:00" not in md and "T0" not in md
    for english in ("period", "generated", "due:", "complaints received", "overdue at", "case(s)"):
        assert english not in md


def test_r_k3_no_report_is_due_for_periods_before_the_first_deployment(eng: Engine, tmp_path: Path) -> None:
    eng.clock.set(datetime.fromisoformat("2026-12-01T10:00:00+08:00"))
    due = {r["kind"]: r for r in reports.due_reports(eng, tmp_path)}
    assert set(due) == {"daily", "weekly", "monthly"}  # no quarter, half-year or year before 11-24
    days = [r["from"] for r in reports.due_reports(eng, tmp_path) if r["kind"] == "daily"]
    assert min(days) == "2026-11-24"  # deployed 09:00 that day: its report is due, the 23rd's is not


def test_r_k3_nothing_is_due_on_a_database_without_processes(db_url: str, tmp_path: Path) -> None:
    with Engine(db_url, clock=FixedClock(datetime.fromisoformat("2026-12-01T10:00:00+08:00"))) as e:
        e.init()
        assert reports.due_reports(e, tmp_path) == []
