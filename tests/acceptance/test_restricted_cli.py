"""`hall validate` reports a script's forbidden construct at its line of the file, and `hall deploy`
refuses the diagram (issue 15)."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner
from conftest import FIXTURES
from hall.cli import main

SCRIPT = "partial = 1\nresult = 100 / divisor"


def test_validate_names_the_file_line_and_task_of_a_forbidden_construct(tmp_path: Path) -> None:
    bad = tmp_path / "bad.bpmn"
    hostile = "partial = 1\nimport socket\nx = ().__class__.__base__.__subclasses__()\ny = open('/etc/hostname').read()"
    bad.write_text((FIXTURES / "divide.bpmn").read_text().replace(SCRIPT, hostile))
    runner = CliRunner()
    result = runner.invoke(main, ["validate", str(bad)], catch_exceptions=False)
    assert result.exit_code == 1
    lines = result.stdout.splitlines()
    assert f"{bad}:7: compute: script uses import" in lines
    assert f"{bad}:8: compute: script uses dunder attribute __class__" in lines
    assert f"{bad}:9: compute: script uses forbidden builtin open" in lines
    db = tmp_path / "hall.db"
    assert runner.invoke(main, ["--db", str(db), "init"]).exit_code == 0
    result = runner.invoke(main, ["--db", str(db), "deploy", str(bad)], catch_exceptions=False)
    assert (
        result.exit_code == 1 and result.stderr.startswith("error: ") and "compute: script uses import" in result.stderr
    )
    assert result.stderr.count("\n") == 1


def test_validate_passes_the_halls_own_diagrams() -> None:
    result = CliRunner().invoke(main, ["validate", str(FIXTURES.parent.parent / "processes")], catch_exceptions=False)
    assert result.exit_code == 0 and result.stdout.startswith("ok")
