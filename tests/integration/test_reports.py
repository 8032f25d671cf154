"""Reports (R-K3): the period and name of every kind at month, quarter and year edges; files; `report due`."""

from __future__ import annotations

import csv
import io
from datetime import date, datetime
from pathlib import Path

import pytest
from click.testing import CliRunner
from hall.engine import Engine, FixedClock
from hall.servicehall import reports
from hall.servicehall.reports import ReportsConfig, deadline, period_for, report_name

ROOT = Path(__file__).resolve().parents[2]  # the repository (this file is in tests/TIER/)


def named(kind: str, day: str) -> tuple[str, str, str]:
    p = period_for(kind, date.fromisoformat(day))
    return p.first.isoformat(), p.last.isoformat(), report_name(kind, p)


@pytest.mark.parametrize(
    "kind, day, expected",
    [
        ("daily", "2026-11-24", ("2026-11-23", "2026-11-23", "20261123业务受理日报")),
        ("daily", "2027-01-01", ("2026-12-31", "2026-12-31", "20261231业务受理日报")),  # year boundary
        ("daily", "2026-03-01", ("2026-02-28", "2026-02-28", "20260228业务受理日报")),
        ("daily", "2028-03-01", ("2028-02-29", "2028-02-29", "20280229业务受理日报")),  # leap day
        ("monthly", "2026-11-05", ("2026-10-01", "2026-10-31", "20261001-1031业务受理总量月报")),  # R-K3's pattern
        ("monthly", "2027-01-01", ("2026-12-01", "2026-12-31", "20261201-1231业务受理总量月报")),
        ("monthly", "2026-03-10", ("2026-02-01", "2026-02-28", "20260201-0228业务受理总量月报")),
        ("quarterly", "2026-10-01", ("2026-07-01", "2026-09-30", "20260701-0930业务受理总量季报")),  # quarter boundary
        ("quarterly", "2026-09-30", ("2026-04-01", "2026-06-30", "20260401-0630业务受理总量季报")),
        ("quarterly", "2027-01-10", ("2026-10-01", "2026-12-31", "20261001-1231业务受理总量季报")),
        ("quarterly", "2026-02-15", ("2025-10-01", "2025-12-31", "20251001-1231业务受理总量季报")),
        ("half-year", "2026-07-01", ("2026-01-01", "2026-06-30", "20260101-0630业务受理总量半年报")),
        ("half-year", "2026-06-30", ("2025-07-01", "2025-12-31", "20250701-1231业务受理总量半年报")),
        ("half-year", "2027-01-01", ("2026-07-01", "2026-12-31", "20260701-1231业务受理总量半年报")),
        ("yearly", "2027-01-01", ("2026-01-01", "2026-12-31", "20260101-1231业务受理总量年报")),
        ("yearly", "2026-12-31", ("2025-01-01", "2025-12-31", "20250101-1231业务受理总量年报")),
    ],
)
def test_period_and_name(kind: str, day: str, expected: tuple[str, str, str]) -> None:
    assert named(kind, day) == expected


def test_deadlines() -> None:
    cfg = ReportsConfig.from_settings({})
    assert deadline("daily", period_for("daily", date(2027, 1, 1)), cfg).isoformat() == "2027-01-01T09:00:00+08:00"
    assert deadline("monthly", period_for("monthly", date(2026, 12, 3)), cfg).isoformat() == "2026-12-11T00:00:00+08:00"
    assert (
        deadline("quarterly", period_for("quarterly", date(2027, 1, 3)), cfg).isoformat() == "2027-01-11T00:00:00+08:00"
    )
    assert deadline("yearly", period_for("yearly", date(2027, 3, 3)), cfg).isoformat() == "2027-01-11T00:00:00+08:00"


def test_names_are_configuration() -> None:
    cfg = ReportsConfig.from_settings({"reports": {"names": {"daily": "业务日报"}}})
    assert report_name("daily", period_for("daily", date(2026, 11, 24)), cfg) == "20261123业务日报"


@pytest.fixture
def eng(db_url: str):
    clock = FixedClock(datetime.fromisoformat("2026-11-02T09:00:00+08:00"))
    e = Engine(db_url, clock=clock, forms_dir=ROOT / "forms")
    e.init()
    e.deploy([ROOT / "processes"])
    for hour in (9, 10, 10, 15):
        clock.set(datetime.fromisoformat(f"2026-11-02T{hour:02d}:00:00+08:00"))
        e.start("complaint", None, {"渠道": "热线"}, user="hotline")
    clock.set(datetime.fromisoformat("2026-11-05T09:00:00+08:00"))
    e.start("complaint", None, {}, user="hotline")
    yield e
    e.close()


def test_monthly_report_files(eng: Engine, tmp_path: Path) -> None:
    eng.clock.set(datetime.fromisoformat("2026-12-01T08:00:00+08:00"))
    data = reports.build(eng, "monthly")
    assert data["name"] == "20261101-1130业务受理总量月报"
    assert data["started_total"] == {"complaint": 5}
    assert data["started"]["complaint"][1] == 4 and data["started"]["complaint"][4] == 1  # 11-02, 11-05
    paths = reports.write(data, tmp_path)
    assert paths["md"] == str(tmp_path / "monthly" / "2026" / "20261101-1130业务受理总量月报.md")  # by kind and date
    md = Path(paths["md"]).read_text(encoding="utf-8")
    assert md.startswith("# 20261101-1130业务受理总量月报")
    assert "| 投诉及时办结率 | 0/0 = — |" in md and "| 投诉处理（PDCA） | 5 | 0 | 0 |" in md
    assert Path(paths["csv"]).read_bytes().startswith("\ufeff分组".encode())  # a BOM: Excel reads UTF-8
    rows = list(csv.reader(io.StringIO(Path(paths["csv"]).read_text(encoding="utf-8-sig"))))
    assert rows[0] == ["分组", "项目", "数值", "分子", "分母"]
    assert ["受理量:投诉处理（PDCA）", "2026-11-02", "4", "", ""] in rows
    assert ["投诉指标", "投诉及时办结率", "", "0", "0"] in rows
    svg = Path(paths["svg"]).read_text(encoding="utf-8")
    import xml.dom.minidom

    xml.dom.minidom.parseString(svg)  # well-formed
    assert svg.count("<rect") >= 2 + 3 * 2


def test_daily_report_covers_the_previous_day_by_hour(eng: Engine, tmp_path: Path) -> None:
    eng.clock.set(datetime.fromisoformat("2026-11-03T08:30:00+08:00"))
    data = reports.build(eng, "daily")
    assert data["name"] == "20261102业务受理日报" and data["bucket"] == "hour"
    counts = dict(zip(data["buckets"], data["started"]["complaint"]))
    assert counts["09:00"] == 1 and counts["10:00"] == 2 and counts["15:00"] == 1 and sum(counts.values()) == 4


def test_report_due_lists_missing_reports(eng: Engine, tmp_path: Path) -> None:
    eng.settings["reports"] = {
        "look_back": {"daily": 2, "weekly": 0, "monthly": 1, "quarterly": 1, "half-year": 1, "yearly": 1}
    }
    eng.clock.set(datetime.fromisoformat("2026-12-01T08:30:00+08:00"))
    due = {r["name"]: r for r in reports.due_reports(eng, tmp_path)}
    assert set(due) == {
        "20261130业务受理日报",
        "20261129业务受理日报",
        "20261101-1130业务受理总量月报",
    }  # the quarter, half-year and year before ended before the processes were deployed (2026-11-02)
    assert due["20261130业务受理日报"]["overdue"] is False  # by 09:00, it is 08:30
    assert due["20261129业务受理日报"]["overdue"] is True
    assert due["20261101-1130业务受理总量月报"]["overdue"] is False  # by the 10th
    reports.write(reports.build(eng, "daily"), tmp_path)
    reports.write(reports.build(eng, "monthly"), tmp_path)
    left = {r["name"] for r in reports.due_reports(eng, tmp_path)}
    assert "20261130业务受理日报" not in left and "20261101-1130业务受理总量月报" not in left
    assert "20261129业务受理日报" in left


def test_cli_report_and_due(eng: Engine, db_url: str, tmp_path: Path) -> None:
    from hall import cli

    eng.close()
    runner = CliRunner()
    base = ["--db", db_url, "--now", "2026-12-01T10:00:00+08:00", "--config", str(ROOT / "hall.yaml")]
    out = runner.invoke(cli.main, base + ["report", "monthly", "--out", str(tmp_path)])
    assert out.exit_code == 0, out.output
    assert out.output.splitlines()[0] == "20261101-1130业务受理总量月报  (2026-11-01 .. 2026-11-30)"
    assert (tmp_path / "monthly" / "2026" / "20261101-1130业务受理总量月报.svg").exists()
    out = runner.invoke(cli.main, base + ["report", "quarterly", "--date", "2027-01-01", "--out", str(tmp_path)])
    assert out.exit_code == 1 and "2026-10-01..2026-12-31, which has not ended yet" in out.output  # future period
    assert not (tmp_path / "quarterly").exists()
    due = runner.invoke(cli.main, base + ["report", "due", "--out", str(tmp_path)])
    assert due.exit_code == 0
    assert "20261101-1130业务受理总量月报" not in due.output
    assert "daily      20261130业务受理日报" in due.output and "OVERDUE since 2026-12-01 09:00" in due.output


def test_bad_dates_and_unwritable_folders_are_one_line_errors(eng: Engine, db_url: str, tmp_path: Path) -> None:
    from hall import cli

    eng.close()
    runner = CliRunner()
    base = ["--db", db_url, "--now", "2026-12-01T10:00:00+08:00", "--config", str(ROOT / "hall.yaml")]
    for args in (
        ["kpi", "--from", "0001-01-01"],
        ["report", "due", "--date", "0001-01-01"],
        ["purge", "--before", "0001-01-01"],
        ["report", "yearly", "--date", "0001-01-01"],
    ):
        r = runner.invoke(cli.main, base + args)
        assert r.exit_code == 1 and r.exception.__class__ is SystemExit, (args, r.output)
        assert r.stderr == f"error: {args[-2]} '0001-01-01' is out of range: give a day from 1900-01-01 to 9998-12-31\n"
    r = runner.invoke(cli.main, base + ["report", "daily", "--out", "/proc/x"])
    assert (
        r.exit_code == 1 and r.stderr.startswith("error: cannot write /proc/x/daily/2026/11") and "\n" == r.stderr[-1:]
    )
    r = runner.invoke(cli.main, base + ["export", "1", "--out", str(tmp_path / "no" / "such" / "f.json")])
    assert (
        r.exit_code == 1
        and r.stderr == f"error: cannot write {tmp_path / 'no' / 'such' / 'f.json'}: No such file or directory\n"
    )


def test_daily_report_of_a_day_before_a_closed_day_is_due_the_next_working_day(eng: Engine, tmp_path: Path) -> None:
    """R-K3: sent by 09:00; nobody sends it on a closed day: Friday's, Saturday's, Sunday's are due Monday 09:00."""
    eng.settings["reports"] = {
        "look_back": {"daily": 4, "weekly": 0, "monthly": 0, "quarterly": 0, "half-year": 0, "yearly": 0}
    }
    eng.clock.set(datetime.fromisoformat("2026-11-30T08:00:00+08:00"))  # Monday morning
    due = {r["from"]: r for r in reports.due_reports(eng, tmp_path)}
    assert set(due) == {"2026-11-26", "2026-11-27", "2026-11-28", "2026-11-29"}
    assert due["2026-11-26"]["deadline"] == "2026-11-27T09:00:00+08:00" and due["2026-11-26"]["overdue"]
    for day in ("2026-11-27", "2026-11-28", "2026-11-29"):  # Friday, Saturday, Sunday
        assert due[day]["deadline"] == "2026-11-30T09:00:00+08:00" and not due[day]["overdue"]
    assert due["2026-11-29"]["path"] == str(tmp_path / "daily" / "2026" / "11" / "20261129业务受理日报.md")
    # asked about a later day: the periods not over yet by the engine's clock are not due
    later = {r["from"] for r in reports.due_reports(eng, tmp_path, date(2026, 12, 2))}
    assert later == {"2026-11-28", "2026-11-29"}  # 11-30 and 12-01 have not ended at 2026-11-30 08:00
