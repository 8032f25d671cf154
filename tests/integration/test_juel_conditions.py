"""Conditions drawn in Camunda Modeler (JUEL `${...}` / `#{...}`, FEEL `=...`) run as the Python they
are translated to at deploy, on SQLite and PostgreSQL; what cannot be translated is a validate
finding at its line, and deploy refuses exactly what validate refuses (issue 12)."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import FIXTURES
from hall import Engine
from hall.engine.errors import DefinitionInvalid

DIAGRAM = FIXTURES / "messages" / "juel_conditions.bpmn"


@pytest.fixture
def eng(make_engine) -> Engine:
    e = make_engine()
    e.init()
    return e


@pytest.mark.parametrize(
    "data, route",
    [
        ({"amount": 2000, "urgent": False, "customer": {"level": "a"}, "note": "x"}, "big"),
        ({"amount": 2000, "urgent": True, "customer": {"level": "a"}, "note": "x"}, "vip"),
        ({"amount": 5, "urgent": False, "customer": {"level": "vip"}, "note": "x"}, "vip"),
        ({"amount": 5, "urgent": False, "customer": {"level": "a"}, "note": None}, "ask"),
        ({"amount": 5, "urgent": False, "customer": {"level": "a"}, "note": "x"}, "normal"),
    ],
)
def test_juel_and_feel_conditions_route_a_case(eng: Engine, data: dict, route: str) -> None:
    assert eng.validate([DIAGRAM]) == []
    eng.deploy([DIAGRAM])
    case = eng.start("juel_route", data=data)
    assert case["status"] == "running"
    assert [t["name"] for t in eng.tasks(instance=case["id"])] == [route]


def test_an_untranslatable_condition_is_a_finding_at_its_line_and_deploy_refuses_it(
    eng: Engine, tmp_path: Path
) -> None:
    text = DIAGRAM.read_text().replace("${customer.level eq 'vip'", "${customer.level.toUpperCase() eq 'VIP'")
    path = tmp_path / "bad.bpmn"
    path.write_text(text, encoding="utf-8")
    [finding] = eng.validate([path])
    line = text[: text.index("toUpperCase")].count("\n") + 1
    assert (finding.line, finding.element) == (line, "f_vip")
    assert "method calls (toUpperCase())" in finding.message
    assert "conditions are Python expressions; `${approved}` means `approved`" in finding.message
    with pytest.raises(DefinitionInvalid):
        eng.deploy([path])
    assert eng.definitions() == []


def test_a_translated_condition_still_runs_restricted(eng: Engine, tmp_path: Path) -> None:
    text = DIAGRAM.read_text().replace("#{amount &gt; 1000", "#{open &gt; 1000")
    path = tmp_path / "open.bpmn"
    path.write_text(text, encoding="utf-8")
    [finding] = eng.validate([path])
    assert finding.element == "f_big" and "open" in finding.message
