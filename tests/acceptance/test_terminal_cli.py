"""What people read at the terminal (issue 17, items 3 and 4): the hall's language (zh_CN, HALL_LANG or
hall.yaml display.locale), local time to the minute, time left in working time, tables with header
rows, empty lists that say so, --version, and --json unchanged (keys, ISO UTC)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import FIXTURES
from hall.cli import main

CONFIG = """\
calendar:
  timezone: Asia/Shanghai
  office_hours: "09:00-17:00"
display:
  locale: zh_CN
"""
THURSDAY_CLOSING = "2026-11-26T17:00:00+08:00"  # counted from Friday 09:00: due Monday 17:00
SATURDAY = "2026-11-28T10:00:00+08:00"
TUESDAY = "2026-12-01T10:00:00+08:00"


@pytest.fixture
def hall(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """`hall` on a fresh database with a hall.yaml in Chinese; HALL_LANG unset unless a test sets it."""
    monkeypatch.delenv("HALL_LANG")
    config = tmp_path / "hall.yaml"
    config.write_text(CONFIG, encoding="utf-8")
    runner = CliRunner()
    db = f"sqlite:///{tmp_path / 'hall.db'}"

    def run(*args: str, now: str = THURSDAY_CLOSING) -> tuple[int, str, str]:
        base = ["--db", db, "--config", str(config), "--forms", str(FIXTURES / "forms"), "--now", now]
        result = runner.invoke(main, base + list(args), catch_exceptions=False)
        return result.exit_code, result.stdout, result.stderr

    assert run("init", "--rehearsal")[0] == 0
    assert run("deploy", str(FIXTURES / "follow_up.bpmn"))[0] == 0
    return run


def test_r_t2_time_left_on_a_saturday_counts_working_time_in_chinese(hall) -> None:
    assert hall("tasks")[1].strip() == "没有待办任务"  # an empty list says so, in the hall's language
    hall("start", "follow_up")
    code, out, _ = hall("tasks", now=SATURDAY)
    assert code == 0
    header, rule, row = out.splitlines()
    assert header.split() == ["编号", "剩余时间", "角色", "案件", "案件编号", "任务", "客户", "认领人"]
    assert set(rule) == {"-"}
    # Monday's office hours are all that is left (2 days 7 hours of calendar time), and it is past the
    # warning time (1 working day): 约1个工作日, soon
    assert "剩余 约1个工作日（即将到期）" in row
    code, out, _ = hall("tasks", now=TUESDAY)
    assert "已超时 17小时0分" in out


def test_people_read_local_time_to_the_minute_and_json_keeps_iso_utc(hall) -> None:
    hall("start", "follow_up")
    code, out, _ = hall("instances")
    assert "2026-11-26 17:00" in out and "办理中" in out and "T09:00" not in out
    code, out, _ = hall("history", "1")
    assert out.splitlines()[2].startswith("2026-11-26 17:00")
    code, out, _ = hall("show", "1")
    assert out.startswith("案件 1  follow_up 第1版  编号 -  [办理中]")
    code, out, _ = hall("instances", "--json")
    [case] = json.loads(out)
    assert case["status"] == "running" and case["started_at"] == "2026-11-26T09:00:00+00:00"
    code, out, _ = hall("tasks", "--json", now=SATURDAY)
    assert json.loads(out)[0]["due_at"] == "2026-11-30T09:00:00+00:00"


def test_hall_lang_overrides_hall_yaml(hall, monkeypatch: pytest.MonkeyPatch) -> None:
    hall("start", "follow_up")
    monkeypatch.setenv("HALL_LANG", "en")
    code, out, _ = hall("tasks", now=SATURDAY)
    assert out.splitlines()[0].split()[:3] == ["id", "time", "left"]
    assert "about 1 working day(s) left (soon)" in out
    assert "OVERDUE 17h00m" in hall("tasks", now=TUESDAY)[1]


def test_empty_lists_say_so(hall) -> None:
    assert hall("instances")[1].strip() == "没有案件"
    assert hall("incidents")[1].strip() == "没有故障"
    assert hall("find", "TS2026")[1].strip() == "没有找到 'TS2026' 的案件"


def test_a_locale_without_catalog_is_refused_with_file_and_line(tmp_path: Path) -> None:
    config = tmp_path / "hall.yaml"
    config.write_text("display:\n  locale: fr\n", encoding="utf-8")
    result = CliRunner().invoke(main, ["--config", str(config), "config", "check"])
    assert result.exit_code == 1
    assert "display.locale: 'fr' has no catalog (available: en, zh_CN)" in result.stdout


def test_errors_staff_meet_every_day_are_in_the_halls_language(hall, monkeypatch: pytest.MonkeyPatch) -> None:
    hall("start", "follow_up")
    assert hall("--user", "小陈", "claim", "1")[0] == 0
    code, _, err = hall("--user", "小王", "claim", "1")
    assert code == 1 and err == "error: 任务 1 已由 小陈 认领\n"
    assert hall("show", "99")[2] == "error: 没有案件 99\n"
    assert hall("task", "99")[2] == "error: 没有任务 99\n"
    monkeypatch.setenv("HALL_LANG", "en")
    assert hall("--user", "小王", "claim", "1")[2] == "error: task 1 is claimed by 小陈\n"


PEOPLE = """\
roles:
  窗口: {serves: [clerk]}
  主管: {serves: [boss], may: [manage, see_all, deploy]}
users:
  - {id: 小王, name: 王晓, roles: [窗口]}
  - {id: 刘主任, name: 刘洋, roles: [主管]}
"""


def test_more_everyday_errors_are_in_the_halls_language(hall, tmp_path: Path, monkeypatch) -> None:
    """Issue 17, item 3: a task of another role, a task or case no longer open, a bad --set or --data,
    a case one may not see, and --now on a real database, each in Chinese from the error's data."""
    (tmp_path / "hall.yaml").write_text(CONFIG + PEOPLE, encoding="utf-8")
    assert hall("--user", "刘主任", "deploy", str(FIXTURES / "review.bpmn"))[0] == 0
    code, out, err = hall("--user", "刘主任", "start", "review", "--set", "amount=1", "--json")
    assert code == 0, err
    assert hall("--user", "刘主任", "claim", "1")[2] == (
        "error: 权限不足：刘主任 不能认领任务 1：该任务属于角色 clerk（您的角色：主管），且未指派给您\n"
    )
    assert hall("--user", "小王", "cancel", "1", "--reason", "x")[2] == (
        "error: 权限不足：小王 不能撤销案件 1：需要 'manage' 权限（您的角色：窗口）\n"
    )
    assert hall("--user", "刘主任", "kpi")[0] == 0
    assert (
        hall("--user", "小王", "kpi")[2]
        == "error: 权限不足：小王 不能查看统计指标：需要 'see_all' 权限（您的角色：窗口）\n"
    )
    assert hall("--user", "刘主任", "cancel", "1", "--reason", "撤回")[0] == 0
    assert hall("--user", "刘主任", "cancel", "1", "--reason", "撤回")[2] == "error: 不能撤销案件 1：案件已撤销\n"
    assert hall("--user", "小王", "complete", "1", "--set", "amount=2")[2] == "error: 任务 1 不能办理（已撤销）\n"
    assert hall("--user", "小王", "start", "review", "--set", "amount")[2] == (
        "error: --set amount：应写作 名称=值（文本）或 名称:=JSON\n"
    )
    data = tmp_path / "data.yaml"
    data.write_text("amount: 1\nsigned: 2026-02-30\n", encoding="utf-8")
    assert hall("--user", "小王", "start", "review", "--data", str(data))[2] == (
        f"error: {data}:2：signed：日期不存在（该月没有这一天）\n"
    )
    # a case 小王 may not see is answered as an id that is no case, in the same words
    assert hall("--user", "小王", "start", "review", "--set", "amount=1")[0] == 0  # case 2, 小王's queue
    assert hall("--user", "刘主任", "start", "follow_up")[0] == 0  # case 3: no task of 小王's role
    assert (
        hall("--user", "小王", "show", "3")[2]
        == "error: 没有案件 3\n"
        == hall("--user", "小王", "show", "99")[2].replace("99", "3")
    )
    monkeypatch.setenv("HALL_LANG", "en")
    assert hall("--user", "刘主任", "claim", "2")[2] == (
        "error: permission denied: 刘主任 may not claim task 2: it is for role clerk (yours: 主管) and not assigned to you\n"
    )


def test_simulated_time_on_a_real_database_is_refused_in_the_halls_language(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.delenv("HALL_LANG")
    config = tmp_path / "hall.yaml"
    config.write_text(CONFIG, encoding="utf-8")
    base = ["--db", f"sqlite:///{tmp_path / 'real.db'}", "--config", str(config)]
    runner = CliRunner()
    assert runner.invoke(main, [*base, "init"]).exit_code == 0
    result = runner.invoke(main, [*base, "--now", "2026-11-26T09:00:00+08:00", "instances"])
    assert result.exit_code == 1
    assert result.stderr == (
        "error: --now 2026-11-26T01:00:00+00:00 被拒绝：需要有 'simulate_time' 权限的用户，而本数据库不是演练库"
        "（`hall init --rehearsal` 可建演练库）；未写入任何内容\n"
    )


def test_kpi_and_reports_speak_the_halls_language_in_local_time(hall, tmp_path: Path) -> None:
    code, out, err = hall("kpi", "--from", "2026-11-01", "--to", "2026-11-30")
    assert code == 0, err
    lines = out.splitlines()
    assert lines[0] == "投诉指标 2026-11-01 至 2026-11-30（Asia/Shanghai；截至 2026-11-26 17:00）"
    assert "(期限内办结的投诉 / 本期应办结的投诉)" in lines[1] and "本期受理投诉：0 件" in out
    assert "处理时长（受理至办结，工作小时）：办结 0 件，平均 —" in out and "每位工作人员办结的任务： —" in out
    code, out, err = hall("report", "daily", "--date", "2026-11-26", "--out", str(tmp_path / "reports"))
    assert code == 0, err
    assert out.splitlines()[0] == "20261125业务受理日报（2026-11-25 至 2026-11-25）"
    assert out.splitlines()[1].startswith("  已写入 ") and out.splitlines()[1].endswith(".md")
    code, out, err = hall("report", "due", "--out", str(tmp_path / "reports"), now=TUESDAY)
    assert code == 0 and "daily      20261126业务受理日报" in out, out
    assert "已超期，截止 2026-11-27 09:00  -> " in out, out
