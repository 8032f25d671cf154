"""The constructs SpiffWorkflow 3.2 lacks or runs wrongly (issue 12), each a small diagram in
tests/fixtures/bpmn12/constructs/ with the trace the BPMN 2.0 specification (chapter 13) asks of it
in expected.yaml, played through the public API on SQLite and PostgreSQL: the user tasks ready after
each step, the variables, the final status. Each step runs on a new Engine (another process), so
every construct also survives being stored and loaded. A case marked `refused` is one validate and
deploy refuse with one line naming the file, line and element.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import FIXTURES
from hall import Engine
from hall.engine.errors import DefinitionInvalid
from lxml import etree
from ruamel.yaml import YAML

CONSTRUCTS = FIXTURES / "bpmn12" / "constructs"
CASES: dict[str, dict] = dict(YAML(typ="safe").load((CONSTRUCTS / "expected.yaml").read_text(encoding="utf-8")))
RUN = sorted(name for name, case in CASES.items() if "refused" not in case)
REFUSED = sorted(name for name, case in CASES.items() if "refused" in case)


def process_id(path: Path) -> str:
    return etree.parse(str(path)).getroot().find("{http://www.omg.org/spec/BPMN/20100524/MODEL}process").get("id")


def ready(eng: Engine, instance_id: int) -> list[str]:
    return sorted(t["name"] for t in eng.tasks(instance=instance_id))


@pytest.mark.parametrize("name", RUN)
def test_construct_runs_as_the_specification_says(make_engine, name: str) -> None:
    case = CASES[name]
    path = (CONSTRUCTS / case["file"]).resolve()
    eng = make_engine()
    eng.init()
    assert [str(f) for f in eng.validate([path])] == []
    eng.deploy([path])
    started = eng.start(process_id(path), data=case.get("data") or {})
    iid = started["id"]
    assert started["incident"] is None
    assert ready(eng, iid) == sorted(case["ready"])
    for var, value in (case.get("vars") or {}).items():
        assert started["variables"][var] == value
    for step in case.get("steps") or []:
        other = make_engine()  # the next step in another process: the instance loaded from the database
        task = next(t for t in other.tasks(instance=iid) if t["name"] == step["complete"])
        shown = other.complete(task["id"], step.get("data") or {})
        assert shown["incident"] is None, shown["incident"]
        assert ready(other, iid) == sorted(step["ready"]), f"after {step['complete']}"
    if "status" in case:
        assert make_engine().show(iid)["status"] == case["status"]


@pytest.mark.parametrize("name", REFUSED)
def test_construct_hall_cannot_run_is_refused_in_one_line(make_engine, name: str) -> None:
    case = CASES[name]
    path = (CONSTRUCTS / case["file"]).resolve()
    eng = make_engine()
    eng.init()
    findings = [str(f) for f in eng.validate([path])]
    assert len(findings) == 1, findings
    assert findings[0].startswith(f"{path}:") and case["refused"] in findings[0]
    assert "\n" not in findings[0] and "Error(" not in findings[0] and " at 0x" not in findings[0]
    with pytest.raises(DefinitionInvalid):
        eng.deploy([path])
    assert eng.definitions() == []  # nothing stored


def test_r_none_an_activity_with_only_false_conditions_and_no_default_is_an_incident(make_engine, tmp_path) -> None:
    """Without a default flow, an activity whose conditions are all false has nowhere to go: the case
    stops as an incident at the activity's split, not silently."""
    text = (CONSTRUCTS / "activity_split.bpmn").read_text()
    path = tmp_path / "no_default.bpmn"
    path.write_text(
        text.replace(' default="f_small"', "").replace(
            '<bpmn:sequenceFlow id="f_small" sourceRef="weigh" targetRef="small" />',
            '<bpmn:sequenceFlow id="f_small" sourceRef="weigh" targetRef="small">'
            "<bpmn:conditionExpression>amount &lt; 10</bpmn:conditionExpression></bpmn:sequenceFlow>",
        )
    )
    eng = make_engine()
    eng.init()
    eng.deploy([path])
    case = eng.start("c_activity_split", data={"amount": 50, "urgent": False})
    (weigh,) = eng.tasks(instance=case["id"])
    shown = eng.complete(weigh["id"], {})
    assert shown["status"] == "incident"
    assert "weigh" in shown["incident"]["element"]


def test_link_throw_without_its_catch_is_refused(make_engine, tmp_path) -> None:
    path = tmp_path / "link.bpmn"
    path.write_text(
        (CONSTRUCTS / "link_events.bpmn").read_text().replace('id="l2" name="page2"', 'id="l2" name="page3"')
    )
    eng = make_engine()
    eng.init()
    findings = [str(f) for f in eng.validate([path])]
    assert any(": go_on: no link catch event named 'page2' in this process level" in f for f in findings), findings


@pytest.mark.parametrize("name", ["terminate_end", "escalation_uncaught"])
def test_events_that_stay_in_the_case_are_no_message_sent(make_engine, name: str) -> None:
    """SpiffWorkflow passes every event it did not catch out of the workflow; hall recorded a terminate
    end event and an uncaught escalation as `message_sent`. Neither leaves the case."""
    case = CASES[name]
    eng = make_engine()
    eng.init()
    eng.deploy([(CONSTRUCTS / case["file"]).resolve()])
    iid = eng.start(process_id((CONSTRUCTS / case["file"]).resolve()))["id"]
    for step in case["steps"]:
        task = next(t for t in eng.tasks(instance=iid) if t["name"] == step["complete"])
        eng.complete(task["id"], {})
    kinds = [h["kind"] for h in eng.history(iid)]
    assert "message_sent" not in kinds and kinds[-1] == "ended"


def test_conditional_event_on_a_variable_not_set_yet_waits_for_it(make_engine) -> None:
    eng = make_engine()
    eng.init()
    eng.deploy([CONSTRUCTS / "conditional_boundary.bpmn"])
    case = eng.start("c_conditional_boundary")  # no `urgent` yet: the boundary event waits
    assert case["incident"] is None and ready(eng, case["id"]) == ["flag", "work"]
    flag = next(t for t in eng.tasks(instance=case["id"]) if t["name"] == "flag")
    eng.complete(flag["id"], {"urgent": True})
    assert ready(eng, case["id"]) == ["rush"]


def test_conditional_event_whose_condition_fails_is_an_incident_naming_it(make_engine, tmp_path) -> None:
    path = tmp_path / "failing.bpmn"
    path.write_text((CONSTRUCTS / "conditional_boundary.bpmn").read_text().replace("urgent == True", "urgent &gt; 1"))
    eng = make_engine()
    eng.init()
    eng.deploy([path])
    case = eng.start("c_conditional_boundary", data={"urgent": "no"})
    assert case["status"] == "incident"
    assert case["incident"]["element"] == "on_urgent"
    assert "condition 'urgent > 1' of a conditional event failed: TypeError" in case["incident"]["error"]
    assert "\n" not in case["incident"]["error"]
