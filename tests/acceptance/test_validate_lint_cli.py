"""`hall validate` with the modeler's warnings (issue 18): the hall's diagrams pass, with --strict too
(issue 14 laid them out lint-clean), and read no variable that nothing sets; --strict fails on a
warning; a typo in a condition is named with its line."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner
from conftest import ROOT
from hall.cli import main


def validate(tmp_path: Path, *args: str) -> object:
    base = ["--db", str(tmp_path / "none.db"), "--forms", str(ROOT / "forms"), "--config", str(ROOT / "hall.yaml")]
    return CliRunner().invoke(main, base + ["validate", *args])


def test_the_halls_diagrams_pass_with_and_without_strict(tmp_path: Path) -> None:
    diagrams = sorted(str(p) for p in (ROOT / "processes").glob("*.bpmn"))
    result = validate(tmp_path, *diagrams)
    assert result.exit_code == 0, result.output
    assert result.output.strip() == f"ok: {', '.join(diagrams)}"
    assert "reads variable" not in result.output
    strict = validate(tmp_path, "--strict", *diagrams)
    assert strict.exit_code == 0, strict.output


def test_r_c11_a_typo_in_a_condition_is_a_warning_naming_the_variable(tmp_path: Path) -> None:
    text = (ROOT / "processes" / "suggestion.bpmn").read_text(encoding="utf-8")
    bad = tmp_path / "suggestion.bpmn"
    bad.write_text(
        text.replace(">大厅能否处理</bpmn:conditionExpression>", ">大厅能否处理了</bpmn:conditionExpression>")
    )
    result = validate(tmp_path, "--strict", str(bad))
    assert result.exit_code == 1
    line = next(x for x in result.output.splitlines() if "大厅能否处理了" in x)
    assert line.startswith(f"{bad}:") and line.endswith(
        ": warning: reads variable '大厅能否处理了', which no form, script, start form or message of the process sets"
    )
    assert validate(tmp_path, str(bad)).exit_code == 0
