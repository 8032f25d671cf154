"""Names that become files (issue 15, item 2) and diagrams that carry a DTD (item 5): refused where
they enter, with one line; every path the hall writes stays inside its folder."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import FIXTURES
from hall.engine import Engine
from hall.engine.errors import OutputNotWritable
from hall.engine.paths import inside
from hall.servicehall.config import check_config

REVIEW = (FIXTURES / "review.bpmn").read_text(encoding="utf-8")


def renamed(pid: str) -> str:
    return REVIEW.replace('process id="review"', f'process id="{pid}"').replace(
        'processRef="review"', f'processRef="{pid}"'
    )


@pytest.fixture
def checker(tmp_path: Path) -> Engine:
    return Engine(f"sqlite:///{tmp_path / 'unused.db'}", forms_dir=FIXTURES / "forms")


def diagram(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "x.bpmn"
    path.write_text(text, encoding="utf-8")
    return path


@pytest.mark.parametrize("pid", ["../../x", "a/b", "1st", "has space", "x" * 201])
def test_a_process_id_that_is_not_an_identifier_is_refused(checker: Engine, tmp_path: Path, pid: str) -> None:
    path = diagram(tmp_path, renamed(pid))
    findings = [f for f in checker.validate([path]) if "process id" in f.message]
    assert len(findings) == 1 and findings[0].element == pid, checker.validate([path])
    assert str(findings[0]).startswith(f"{path}:")


@pytest.mark.parametrize("pid", ["review_2", "Process_0abc123", "投诉", "call-back"])
def test_identifiers_and_modelers_ids_pass(checker: Engine, tmp_path: Path, pid: str) -> None:
    path = diagram(tmp_path, renamed(pid))
    assert checker.validate([path]) == []


def test_a_dtd_in_a_diagram_is_refused(checker: Engine, tmp_path: Path) -> None:
    """An internal entity cut a script short without a word; any DTD is refused at line 1."""
    head, rest = REVIEW.split("\n", 1)
    text = f'{head}\n<!DOCTYPE bpmn:definitions [<!ENTITY half "total = ">]>\n{rest}'
    [finding] = checker.validate([diagram(tmp_path, text)])
    assert finding.line == 1 and "DTD" in finding.message


@pytest.mark.parametrize("name", ["../../../tmp/日报", "a/b", "..", "x\\y", "bad\x01name"])
def test_config_check_refuses_a_report_name_that_leaves_its_folder(tmp_path: Path, name: str) -> None:
    path = tmp_path / "hall.yaml"
    path.write_text(f"reports:\n  names: {{daily: {json.dumps(name)}}}\n", encoding="utf-8")
    problems, _ = check_config(path)
    assert len(problems) == 1 and "reports.names.daily" in problems[0] and "plain file name" in problems[0]


def test_a_path_outside_its_folder_is_refused(tmp_path: Path) -> None:
    assert inside(tmp_path, "complaint", "2026") == (tmp_path / "complaint" / "2026").resolve()
    with pytest.raises(OutputNotWritable, match="outside"):
        inside(tmp_path, "..", "x")
