"""BPMN features beyond tasks and gateways, validated, deployed and run through the public API:
embedded sub-processes, call activities, decision tables, service tasks, spiff-arena extensions."""
from __future__ import annotations

from pathlib import Path

from engine import Engine

from .conftest import FIXTURES


def test_embedded_subprocess_and_call_activity_run_to_completion(engine: Engine, make_engine) -> None:
    assert engine.validate([FIXTURES / "subprocess.bpmn", FIXTURES / "stamping.bpmn"]) == []
    case = engine.start("subprocess", None, {"pages": 3})
    [task] = case["tasks"]
    assert (task["name"], task["role"]) == ("check_papers", "clerk")  # inside the embedded sub-process
    other = make_engine()  # another process: the instance is restored from the database mid-sub-process
    case = other.complete(task["id"], {})
    [task] = case["tasks"]
    assert task["name"] == "stamp_papers"  # inside the called process, with the caller's data
    case = engine.complete(task["id"], {})
    assert case["status"] == "completed" and case["variables"] == {"pages": 6, "stamp": "S-6"}

