"""Diagrams that `validate` accepts also run: spiff-arena's extensions and a deadline held in a variable
(the database half of the validate tests, tests/unit/test_validate.py)."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import FIXTURES
from hall.engine import Engine

REVIEW = (FIXTURES / "review.bpmn").read_text()


def broken(tmp_path: Path, old: str, new: str, text: str = REVIEW) -> tuple[Path, str]:
    assert old in text
    changed = text.replace(old, new, 1)
    path = tmp_path / "broken.bpmn"
    path.write_text(changed, encoding="utf-8")
    return path, changed


def test_spiff_arena_diagram_runs_with_its_extensions(engine: Engine) -> None:
    case = engine.start("Process_intake_x1", None, {"who": "Li"})
    [task] = case["tasks"]
    # spiff-arena names the form by its JSON schema file: review-schema.json is forms/review.yaml
    assert task["title"] == "Review request" and task["form"] == "review"
    case = engine.complete(task["id"], {})
    assert [t["name"] for t in case["tasks"]] == ["Activity_0qpzdpu"]  # a manual task waits for a person too
    assert case["variables"]["seen"] is True  # the script task's spiffworkflow:preScript ran
    case = engine.complete(case["tasks"][0]["id"], {})
    assert case["status"] == "completed" and case["variables"]["result"] == {"normalized": True, "who": "Li"}


@pytest.mark.parametrize(
    "due, expected",
    [
        ("2026-11-30T17:00:00+08:00", "2026-11-30T09:00:00+00:00"),
        ("2 working days", "2026-11-26T01:00:00+00:00"),
    ],
)
def test_due_date_from_a_variable_in_camunda_syntax(engine: Engine, tmp_path: Path, due: str, expected: str) -> None:
    path, _ = broken(tmp_path, 'camunda:formKey="register"', 'camunda:formKey="register" camunda:dueDate="${期限}"')
    assert engine.validate([path]) == []
    engine.deploy([path])
    case = engine.start("review", None, {"amount": 1, "期限": due})
    assert case["tasks"][0]["due_at"] == expected
