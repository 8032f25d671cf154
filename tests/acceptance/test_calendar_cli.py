"""`hall calendar` and `hall task` on years without an official holiday schedule (R-T1, R-T2):
the hall's real processes, forms and hall.yaml on a SQLite file, worked through the API, read
through the command."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner
from conftest import ROOT
from hall.cli import main
from hall.engine import FixedClock
from scenario import Hall, at


def base(tmp_path: Path, now: str, config: Path = ROOT / "hall.yaml") -> list[str]:
    db = tmp_path / "hall.db"
    return ["--db", str(db), "--forms", str(ROOT / "forms"), "--config", str(config), "--now", now]


def complaint_at_investigation(tmp_path: Path) -> int:
    """A complaint received 2026-12-30 10:00, at its investigation (due 5 working days after receipt,
    in 2027): the investigation task's id."""
    with Hall(str(tmp_path / "hall.db"), FixedClock(at("2026-12-30T10:00"))) as hall:
        case = hall.start("complaint", user="hotline", 渠道="热线")
        case = hall.work(case, "register", who="小孙", 渠道="热线", 投诉内容="服务人员态度差")
        case = hall.work(
            case, "classify", who="小孙", 类型="投诉", 专题="服务质量", 是否重大投诉=False, 涉及工作人员违纪=False
        )
        case = hall.work(case, "contact", who="张经理", when="2026-12-30T10:20")
        return int(hall.task(case, "investigate")["id"])


def test_R_T2_staff_form_shows_the_provisional_mark(tmp_path: Path) -> None:
    task = complaint_at_investigation(tmp_path)
    result = CliRunner().invoke(main, base(tmp_path, "2026-12-30T10:30+08:00") + ["task", str(task)])
    assert result.exit_code == 0, result.output
    assert "2027-01-07 10:00（暂定）" in result.stdout  # the form's template, in Beijing time
    assert "~ (provisional" in result.stdout  # the task's heading


def test_R_T1_calendar_2027_01_shows_new_year_closed_and_provisional(tmp_path: Path) -> None:
    runner = CliRunner()
    args = base(tmp_path, "2026-12-30T10:00+08:00")
    assert runner.invoke(main, args + ["init"]).exit_code == 0
    result = runner.invoke(main, args + ["calendar", "2027-01"])
    assert result.exit_code == 0, result.output
    [new_year] = [line for line in result.stdout.splitlines() if "2027-01-01" in line]
    assert "closed" in new_year and "~" in new_year and "元旦" in new_year
    [feb] = [
        line for line in runner.invoke(main, args + ["calendar", "2027-02"]).stdout.splitlines() if "2027-02-05" in line
    ]
    assert "closed" in feb and "春节" in feb and "~" in feb
    assert "provisional" in result.stderr


def test_R_T1_calendar_refresh_moves_deadlines_once_hall_yaml_has_the_schedule(tmp_path: Path) -> None:
    """The administrator adds 2027's schedule to hall.yaml, then `hall calendar refresh`: the
    investigation's provisional deadline is counted again and exact; `hall history` shows the move."""
    task = complaint_at_investigation(tmp_path)
    runner = CliRunner()
    now = "2026-12-30T11:00+08:00"
    unchanged = runner.invoke(main, base(tmp_path, now) + ["calendar", "refresh"])
    assert unchanged.exit_code == 0, unchanged.output
    assert "0 deadline(s) moved in 1 case(s) checked" in unchanged.stdout
    config = tmp_path / "hall.yaml"
    text = (ROOT / "hall.yaml").read_text(encoding="utf-8")
    office = '  office_hours: "08:50-17:30"        # R-T1\n'
    assert office in text
    official = "  official:\n    2027:\n      holidays: {元旦: [2027-01-01..2027-01-04]}\n"
    config.write_text(text.replace(office, office + official), encoding="utf-8")
    result = runner.invoke(main, base(tmp_path, now, config) + ["calendar", "refresh"])
    assert result.exit_code == 0, result.output
    [line] = [x for x in result.stdout.splitlines() if f"task {task} investigate" in x]
    assert line.endswith("-> 2027-01-08T02:00:00+00:00 ")  # 10:00 Beijing time, no longer provisional
    shown = runner.invoke(main, base(tmp_path, now, config) + ["task", str(task)])
    assert "2027-01-08 10:00" in shown.stdout and "暂定" not in shown.stdout
    history = runner.invoke(main, base(tmp_path, now, config) + ["history", "1"])
    assert "deadline_moved" in history.stdout
