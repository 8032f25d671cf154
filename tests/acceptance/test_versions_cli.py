"""`hall definitions`, `hall instances` and `hall undeploy` show and withdraw versions (issue 18)."""

from __future__ import annotations

import re
from pathlib import Path

from click.testing import CliRunner
from conftest import FIXTURES
from hall.cli import main


def test_versions_with_their_cases_and_a_withdrawn_latest_version(tmp_path: Path) -> None:
    def hall(*args: str) -> object:
        base = [
            "--db",
            str(tmp_path / "hall.db"),
            "--forms",
            str(FIXTURES / "forms"),
            "--config",
            str(tmp_path / "none.yaml"),
        ]
        return CliRunner().invoke(main, base + list(args))

    (tmp_path / "none.yaml").write_text("{}\n")
    assert hall("init").exit_code == 0
    hall("deploy", str(FIXTURES / "review.bpmn"))
    hall("start", "review", "--set", "amount:=1")
    changed = tmp_path / "review.bpmn"
    changed.write_text((FIXTURES / "review.bpmn").read_text().replace("total = amount * 2", "total = amount * 3"))
    hall("deploy", str(changed))
    rows = versions(hall("definitions").output)
    assert [(r[1], r[4]) for r in rows] == [("v1", "1"), ("v2", "0")]  # version, running cases
    assert re.search(r"\breview\s+v1\s+running\b", hall("instances").output)
    result = hall("undeploy", "review", "--version", "1")
    assert result.exit_code == 1 and result.output.startswith("error: review v1 still has 1 case(s) (1 running)")
    result = hall("undeploy", "review", "--version", "2")
    assert result.exit_code == 0 and result.output == "review v2 withdrawn; new cases start v1\n"
    assert "undeployed" in hall("history").output
    hall("deploy", str(changed))
    hall("start", "review", "--set", "amount:=2")
    result = hall("rollback", "review")
    assert (
        result.exit_code == 0 and result.output == "review: new cases start v1 again; v2 withdrawn (1 case(s) run on)\n"
    )
    assert [(r[1], r[4]) for r in versions(hall("definitions").output)] == [("v1", "1"), ("v2 (withdrawn)", "1")]
    assert " review v1 " in hall("start", "review", "--set", "amount:=3").output.replace("instance", " ")
    result = hall("rollback", "review")
    assert result.exit_code == 1 and "no earlier version to roll back to" in result.output


def versions(table: str) -> list[list[str]]:
    """The rows of `hall definitions`' table for the process review, split into their columns."""
    return [re.split(r"\s{2,}", line.strip()) for line in table.splitlines() if line.startswith("review ")]
