"""`hall test` (issue 18) through the command: a line per scenario, the failing step's diff, exit 1 on a
failure, JUnit XML for CI, a broken file as one `error:` line; the hall's own database is never touched."""

from __future__ import annotations

from pathlib import Path
from xml.etree import ElementTree

from click.testing import CliRunner
from conftest import ROOT
from hall.cli import main

SCENARIO = f"""\
process: complaint
definitions: [{ROOT / "processes"}]
scenarios:
  - name: 联系时限
    at: 2026-09-30 16:00
    start: {{渠道: 热线}}
    steps:
      - complete: register
        as: 小孙
        with: {{渠道: 热线, 投诉内容: 服务人员态度差}}
      - complete: classify
        with: {{类型: 投诉, 专题: 服务质量}}
      - expect_task: contact
        due: {{due}}
"""


def hall(tmp_path: Path, *args: str) -> object:
    base = ["--db", str(tmp_path / "never.db"), "--forms", str(ROOT / "forms"), "--config", str(ROOT / "hall.yaml")]
    return CliRunner().invoke(main, base + list(args))


def test_r_c4_a_passing_and_a_failing_scenario(tmp_path: Path) -> None:
    (tmp_path / "ok.yaml").write_text(SCENARIO.replace("{due}", "2026-09-30 16:45"), encoding="utf-8")
    (tmp_path / "late.yaml").write_text(SCENARIO.replace("{due}", "2026-09-30 17:00"), encoding="utf-8")
    result = hall(tmp_path, "test", str(tmp_path / "ok.yaml"))
    assert result.exit_code == 0, result.output
    assert f"{tmp_path / 'ok.yaml'}:4: 联系时限 PASSED" in result.output and "1 passed in" in result.output
    junit = tmp_path / "out" / "junit.xml"
    result = hall(tmp_path, "test", str(tmp_path), "--junit-xml", str(junit))
    assert result.exit_code == 1
    lines = result.output.splitlines()
    assert f"{tmp_path / 'late.yaml'}:4: 联系时限 FAILED" in lines[0]
    assert lines[1:4] == [
        "    step 3 (line 13) expect_task: contact",
        "      - due: 2026-09-30 17:00",
        "      + due: 2026-09-30 16:45",
    ]
    assert lines[-1].startswith("1 passed, 1 failed in ")
    assert ElementTree.parse(junit).getroot().get("failures") == "1"
    assert not (tmp_path / "never.db").exists()  # scenarios never use the hall's database


def test_a_broken_scenario_file_is_one_error_line(tmp_path: Path) -> None:
    (tmp_path / "bad.yaml").write_text(SCENARIO.replace("      - complete: register\n", "      - finish: register\n"))
    result = hall(tmp_path, "test", str(tmp_path / "bad.yaml"))
    assert result.exit_code == 1
    assert (
        result.output
        == f"error: {tmp_path / 'bad.yaml'}:8: no step in one item: write one of "
        + (result.output.split("write one of ", 1)[1])
    )
    assert result.output.count("\n") == 1 and "Traceback" not in result.output


def test_without_paths_it_runs_processes_tests_of_the_current_folder(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    result = hall(tmp_path, "test")
    assert result.exit_code == 1 and "error: processes/tests:1: no such file or folder" in result.output
