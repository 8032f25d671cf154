"""`hall deploy --check` (issue 18): before a changed diagram goes live, which unfinished cases could
move to the new version (`hall retry --latest`'s rule) and which element blocks the others, and the
changed process's scenario files run on the new diagram: a failing one refuses the deploy unless --force."""

from __future__ import annotations

import shutil
from pathlib import Path

from click.testing import CliRunner
from conftest import ROOT
from hall.cli import main
from hall.engine import FixedClock
from scenario import Hall, at


def hall(tmp_path: Path, *args: str) -> object:
    base = ["--db", str(tmp_path / "hall.db"), "--forms", str(ROOT / "forms"), "--config", str(ROOT / "hall.yaml")]
    return CliRunner().invoke(main, base + ["--now", "2026-11-24T12:00+08:00"] + list(args))


def setup(tmp_path: Path) -> tuple[Path, int]:
    """The hall's diagrams copied to tmp_path/processes with the complaint scenarios; a complaint at
    its investigation."""
    processes = tmp_path / "processes"
    shutil.copytree(ROOT / "processes", processes, ignore=shutil.ignore_patterns("tests"))
    (processes / "tests").mkdir()
    shutil.copy(ROOT / "processes" / "tests" / "complaint.yaml", processes / "tests")
    with Hall(str(tmp_path / "hall.db"), FixedClock(at("2026-11-24T09:00"))) as h:
        case = h.start("complaint", user="hotline", 渠道="热线")
        case = h.work(case, "register", who="小孙", 渠道="热线", 投诉内容="服务人员态度差")
        case = h.work(case, "classify", who="小孙", 类型="投诉", 专题="服务质量")
        case = h.work(case, "contact", who="张经理")
    return processes, case["id"]


def versions(tmp_path: Path) -> list[str]:
    return [
        line.split()[1] for line in hall(tmp_path, "definitions").output.splitlines() if line.startswith("complaint")
    ]


def test_a_renamed_task_blocks_the_case_there_and_fails_the_scenarios_so_nothing_is_deployed(tmp_path: Path) -> None:
    processes, case = setup(tmp_path)
    diagram = processes / "complaint.bpmn"
    text = diagram.read_text(encoding="utf-8")
    diagram.write_text(text.replace('"investigate"', '"investigate_x"').replace(">investigate<", ">investigate_x<"))
    result = hall(tmp_path, "deploy", "--check", str(processes))
    assert result.exit_code == 1
    out = result.output
    assert "complaint: v2 would be deployed" in out and "1 unfinished case(s): 0 can move to v2, 1 cannot" in out
    assert f"case {case} TS20261124-0001 (running): blocked by element(s) investigate, not in v2" in out
    assert "FAILED" in out and "ready task investigate" in out
    assert out.rstrip().endswith(
        "error: deploy refused: a scenario of a changed process failed (--force deploys anyway)"
    )
    assert versions(tmp_path) == ["v1"]
    result = hall(tmp_path, "deploy", "--check", "--force", str(processes))
    assert result.exit_code == 0, result.output
    assert "deploying anyway (--force)" in result.output and "complaint: deployed as version 2" in result.output
    assert versions(tmp_path) == ["v1", "v2"]


def test_r_c4_a_harmless_change_moves_every_case_and_passes_the_scenarios(tmp_path: Path) -> None:
    processes, _case = setup(tmp_path)
    diagram = processes / "complaint.bpmn"
    diagram.write_text(diagram.read_text(encoding="utf-8").replace('name="联系投诉人"', 'name="电话联系投诉人"'))
    result = hall(tmp_path, "deploy", "--check", str(processes))
    assert result.exit_code == 0, result.output
    assert "1 unfinished case(s): 1 can move to v2, 0 cannot" in result.output
    assert "  6 passed in " in result.output and "complaint: deployed as version 2" in result.output
    result = hall(tmp_path, "deploy", "--check", str(processes))
    assert result.exit_code == 0 and result.output.startswith("no process changed")
