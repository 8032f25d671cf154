"""The hall's own diagrams are clean for the modeler (issue 14, "the diagrams themselves"): `hall
validate --strict` (bpmnlint's recommended rules, as Camunda Modeler marks them) finds nothing in any
diagram of processes/, and every named event, gateway and sequence flow has its own label bounds, so
a modeler draws the label where the layout put it: a timer's label not over a task's name, a
gateway's label not crossed by the gateway's own flows."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import ROOT
from hall.cli import main
from hall.engine.diagram.model import ACTIVITIES, EVENTS, GATEWAYS, Bounds, read_diagram

DIAGRAMS = sorted((ROOT / "processes").glob("*.bpmn"))


def overlaps(a: Bounds, b: Bounds) -> bool:
    return a.x < b.x + b.w and b.x < a.x + a.w and a.y < b.y + b.h and b.y < a.y + a.h


def crosses(b: Bounds, p: tuple[float, float], q: tuple[float, float]) -> bool:
    """Whether the straight segment p-q (horizontal or vertical, as the diagrams draw them) runs
    through the rectangle b."""
    (x1, y1), (x2, y2) = p, q
    return min(x1, x2) < b.x + b.w and b.x < max(x1, x2) and min(y1, y2) < b.y + b.h and b.y < max(y1, y2)


def test_the_bundled_diagrams_are_found() -> None:
    assert {p.stem for p in DIAGRAMS} >= {"complaint", "filing", "suggestion", "suggestion_round", "callback_day"}


def test_issue_14_hall_validate_strict_finds_nothing_in_the_halls_diagrams(tmp_path: Path) -> None:
    base = ["--db", str(tmp_path / "none.db"), "--forms", str(ROOT / "forms"), "--config", str(ROOT / "hall.yaml")]
    result = CliRunner().invoke(main, base + ["validate", "--strict", *map(str, DIAGRAMS)])
    assert result.exit_code == 0, result.output
    assert "warning" not in result.output, result.output
    assert result.output.strip() == f"ok: {', '.join(map(str, DIAGRAMS))}"


@pytest.mark.parametrize("path", DIAGRAMS, ids=lambda p: p.stem)
def test_issue_14_every_named_event_gateway_and_flow_has_label_bounds_clear_of_tasks(path: Path) -> None:
    d = read_diagram(path.read_bytes())
    missing = [s.id for s in d.shapes.values() if s.kind in EVENTS | GATEWAYS and s.name and s.label is None]
    missing += [e.id for e in d.edges.values() if e.kind == "sequenceFlow" and e.name and e.label is None]
    assert missing == [], f"{path.name}: no label bounds for {missing}"
    tasks = [s for s in d.shapes.values() if s.kind in ACTIVITIES]
    over = [
        (s.id, t.id)
        for s in d.shapes.values()
        if s.label is not None and s.kind in EVENTS | GATEWAYS
        for t in tasks
        if overlaps(s.label, t.bounds)
    ]
    assert over == [], f"{path.name}: labels over tasks {over}"
    crossed = [
        (s.id, e.id)
        for s in d.shapes.values()
        if s.label is not None and s.kind in GATEWAYS
        for e in d.edges.values()
        if s.id in (e.source, e.target)
        and any(crosses(s.label, e.points[i], e.points[i + 1]) for i in range(len(e.points) - 1))
    ]
    assert crossed == [], f"{path.name}: gateway labels crossed by their own flows {crossed}"
