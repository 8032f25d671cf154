"""BPMN features beyond tasks and gateways, validated, deployed and run through the public API:
embedded sub-processes, call activities, decision tables, service tasks, spiff-arena extensions."""

from __future__ import annotations

from pathlib import Path

from conftest import FIXTURES
from hall.engine import Engine


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


def test_a_rule_task_picks_a_value_from_a_decision_table(engine: Engine, make_engine) -> None:
    assert engine.validate([FIXTURES / "fee.bpmn", FIXTURES / "fee.dmn"]) == []
    case = engine.start("fee", None, {"kind": "filing"})
    other = make_engine()  # the decision table travels inside the stored spec
    case = other.complete(case["tasks"][0]["id"], {})
    assert [t["name"] for t in case["tasks"]] == ["collect"] and case["variables"]["fee"] == 200
    case = engine.complete(case["tasks"][0]["id"], {})
    assert case["status"] == "completed" and case["variables"] == {"kind": "filing", "fee": 200}
    case = engine.start("fee", None, {"kind": "passport"})
    assert engine.complete(case["tasks"][0]["id"], {})["variables"]["fee"] == 50  # the "-" rule


def test_a_changed_decision_table_is_a_new_version_of_the_processes_using_it(engine: Engine, tmp_path: Path) -> None:
    for name in ("fee.bpmn", "fee.dmn"):
        (tmp_path / name).write_bytes((FIXTURES / name).read_bytes())
    assert engine.deploy([tmp_path]) == [
        {"process": "fee", "version": 1, "file": str(tmp_path / "fee.bpmn"), "changed": False}
    ]
    old = engine.start("fee", None, {"kind": "filing"})
    dmn = tmp_path / "fee.dmn"
    dmn.write_text(dmn.read_text().replace("<text>200</text>", "<text>300</text>"))
    assert engine.deploy([tmp_path])[0] == {
        "process": "fee",
        "version": 2,
        "file": str(tmp_path / "fee.bpmn"),
        "changed": True,
    }
    new = engine.start("fee", None, {"kind": "filing"})
    assert engine.complete(new["tasks"][0]["id"], {})["variables"]["fee"] == 300
    assert engine.complete(old["tasks"][0]["id"], {})["variables"]["fee"] == 200  # running cases keep theirs


def test_a_rule_task_naming_an_unknown_decision_is_a_finding(engine: Engine, tmp_path: Path) -> None:
    text = (FIXTURES / "fee.bpmn").read_text().replace('decisionRef="fee_decision"', 'decisionRef="fee_decsion"')
    (tmp_path / "fee.bpmn").write_text(text)
    (tmp_path / "fee.dmn").write_bytes((FIXTURES / "fee.dmn").read_bytes())
    [finding] = engine.validate([tmp_path])
    assert (finding.element, finding.line) == ("pick_fee", text[: text.index('id="pick_fee"')].count("\n") + 1)
    assert finding.message.startswith("decision 'fee_decsion' is in none of the .dmn files given")
    (tmp_path / "fee.dmn").write_text("<definitions/>")
    assert "not a DMN document" in engine.validate([tmp_path / "fee.dmn"])[0].message


def test_spiff_arena_rule_task_with_pre_and_post_scripts(engine: Engine) -> None:
    assert engine.validate([FIXTURES / "spiff_rule.bpmn", FIXTURES / "fee.dmn"]) == []
    case = engine.start("fee_spiff", None, {"kind": " Filing "})
    # preScript normalised the kind before calledDecisionId's table ran; postScript used its result
    assert case["variables"] == {"kind": "filing", "fee": 200, "fee_text": "200 yuan"}
    case = engine.complete(case["tasks"][0]["id"], {})
    assert case["status"] == "completed" and case["variables"]["collected"] is True  # the user task's postScript


def test_a_camunda_rule_task_with_a_spiff_arena_pre_script(engine: Engine, tmp_path: Path) -> None:
    text = (FIXTURES / "spiff_rule.bpmn").read_text()
    text = text.replace(
        '<bpmn:businessRuleTask id="Activity_fee" name="Pick the fee">',
        '<bpmn:businessRuleTask id="Activity_fee" name="Pick the fee" camunda:decisionRef="fee_decision">',
    )
    text = text.replace("<spiffworkflow:calledDecisionId>fee_decision</spiffworkflow:calledDecisionId>", "")
    text = text.replace(
        "xmlns:spiffworkflow=", 'xmlns:camunda="http://camunda.org/schema/1.0/bpmn" xmlns:spiffworkflow='
    )
    (tmp_path / "mixed.bpmn").write_text(text)
    (tmp_path / "fee.dmn").write_bytes((FIXTURES / "fee.dmn").read_bytes())
    engine.deploy([tmp_path])
    assert engine.start("fee_spiff", None, {"kind": " Filing "})["variables"]["fee_text"] == "200 yuan"


def test_a_service_task_deploys_and_an_unhandled_call_is_an_incident(engine: Engine) -> None:
    case = engine.start("notify", "N-1", {})
    assert case["status"] == "incident"
    assert case["incident"] == {
        "element": "send_sms",
        "error": "service task send_sms: no service named 'sms' is configured",
    }
    [incident] = engine.incidents()
    assert (incident["instance"], incident["element"]) == (case["id"], "send_sms")
    assert engine.retry(case["id"])["status"] == "incident"  # still nothing configured: the same incident


def test_service_tasks_of_both_modelers_and_one_with_no_service(engine: Engine, tmp_path: Path) -> None:
    text = (FIXTURES / "service.bpmn").read_text()
    spiff = text.replace(
        'camunda:type="external" camunda:topic="sms">',
        "><bpmn:extensionElements>"
        '<spiffworkflow:serviceTaskOperator id="http/GetRequest" resultVariable="answer">'
        '<spiffworkflow:parameters><spiffworkflow:parameter id="url" type="str" value="\'http://x\'" />'
        "</spiffworkflow:parameters></spiffworkflow:serviceTaskOperator></bpmn:extensionElements>",
    )
    spiff = spiff.replace(
        "xmlns:camunda=", 'xmlns:spiffworkflow="http://spiffworkflow.org/bpmn/schema/1.0/core" xmlns:camunda='
    ).replace('id="notify"', 'id="notify_spiff"')
    (tmp_path / "spiff.bpmn").write_text(spiff)
    engine.deploy([tmp_path / "spiff.bpmn"])
    case = engine.start("notify_spiff")
    assert case["incident"]["error"] == "service task send_sms: no service named 'http/GetRequest' is configured"
    bare = tmp_path / "bare.bpmn"
    bare.write_text(text.replace(' camunda:type="external" camunda:topic="sms"', ""))
    [finding] = engine.validate([bare])
    assert (finding.element, finding.line) == ("send_sms", text[: text.index('id="send_sms"')].count("\n") + 1)
    assert finding.message.startswith("service task names no service (camunda:topic")


def test_a_task_with_several_candidate_groups_is_in_each_queue(make_engine) -> None:
    from hall.engine.access import People
    from ruamel.yaml import YAML

    config = (
        "roles:\n  cashier: {serves: [cashier]}\n  auditor: {serves: [auditors]}\n  clerk: {serves: [clerk]}\n"
        "users:\n  - {id: cat, name: Cat, roles: [cashier]}\n  - {id: al, name: Al, roles: [auditor]}\n"
        "  - {id: ann, name: Ann, roles: [clerk]}\n"
    )
    engine = make_engine(people=People.from_config(YAML(typ="safe").load(config)))
    engine.init()
    engine.deploy([FIXTURES / "fee.bpmn", FIXTURES / "fee.dmn"])
    case = engine.start("fee", None, {"kind": "filing"}, user="ann")
    case = engine.complete(case["tasks"][0]["id"], {}, user="ann")
    [task] = case["tasks"]
    assert (task["role"], task["roles"]) == ("cashier", ["cashier", "auditors"])  # role: the first group
    assert [t["id"] for t in engine.tasks(role="cashier")] == [task["id"]]
    assert [t["id"] for t in engine.tasks(role="auditors")] == [task["id"]]
    assert engine.tasks(role="audit") == [] and engine.tasks(role="cashier, auditors") == []
    assert [t["id"] for t in engine.tasks(user="cat")] == [t["id"] for t in engine.tasks(user="al")] == [task["id"]]
    assert engine.tasks(user="ann") == []
    assert engine.complete(task["id"], {}, user="al")["status"] == "completed"
