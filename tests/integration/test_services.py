"""Service tasks call the integrator's handlers (engine/services.py): from the Python API or from
hall.yaml; a missing, unimportable or failing handler is an incident at the task, and `retry`
calls it again."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner
from conftest import FIXTURES
from hall.cli import main

SPIFF_OPERATOR = (
    '<bpmn:extensionElements><spiffworkflow:serviceTaskOperator id="sms" resultVariable="answer">'
    '<spiffworkflow:parameters><spiffworkflow:parameter id="to" type="str" value="phone" />'
    '<spiffworkflow:parameter id="text" type="str" value="\'已受理 \' + case_no" />'
    "</spiffworkflow:parameters></spiffworkflow:serviceTaskOperator></bpmn:extensionElements>"
)


def _engine(make_engine, **services):
    eng = make_engine(services=services)
    eng.init()
    eng.deploy([FIXTURES / "service.bpmn"])
    return eng


def test_a_configured_handler_runs_and_its_result_is_stored(make_engine) -> None:
    calls = []

    def send_sms(params: dict, data: dict) -> dict:
        calls.append((params, dict(data)))
        data["phone"] = "changed"  # a copy: the instance keeps its own data
        return {"sent": True, "id": "M-1"}

    eng = _engine(make_engine, sms=send_sms)
    case = eng.start("notify", "N-1", {"phone": "13800000000"})
    assert case["status"] == "completed"
    assert calls == [({"idempotency_key": f"{case['id']}:send_sms:0.1"}, {"phone": "13800000000"})]
    assert case["variables"]["spiff__send_sms_result"] == {"sent": True, "id": "M-1"}
    assert case["variables"]["phone"] == "13800000000"


def test_spiff_parameters_are_evaluated_and_the_result_goes_to_its_variable(make_engine, tmp_path: Path) -> None:
    text = (FIXTURES / "service.bpmn").read_text()
    text = text.replace('camunda:type="external" camunda:topic="sms">', ">" + SPIFF_OPERATOR).replace(
        "xmlns:camunda=", 'xmlns:spiffworkflow="http://spiffworkflow.org/bpmn/schema/1.0/core" xmlns:camunda='
    )
    (tmp_path / "spiff.bpmn").write_text(text)
    eng = make_engine(services={"sms": lambda params, data: f"to {params['to']}: {params['text']}"})
    eng.init()
    eng.deploy([tmp_path / "spiff.bpmn"])
    case = eng.start("notify", None, {"phone": "139", "case_no": "TS-7"})
    assert case["variables"]["answer"] == "to 139: 已受理 TS-7"


def test_a_failing_handler_is_an_incident_and_retry_calls_it_again(make_engine) -> None:
    gateway = {"up": False}

    def send_sms(params: dict, data: dict) -> str:
        if not gateway["up"]:
            raise ConnectionError("SMS gateway unreachable")
        return "ok"

    eng = _engine(make_engine, sms=send_sms)
    case = eng.start("notify", "N-1", {})
    assert case["status"] == "incident"
    assert case["incident"] == {
        "element": "send_sms",
        "error": "service task send_sms: service 'sms' failed: ConnectionError: SMS gateway unreachable",
    }
    gateway["up"] = True
    case = eng.retry(case["id"])
    assert case["status"] == "completed" and case["variables"]["spiff__send_sms_result"] == "ok"


def test_a_result_that_cannot_be_stored_is_an_incident(make_engine) -> None:
    eng = _engine(make_engine, sms=lambda params, data: object())
    case = eng.start("notify", "N-1", {})
    assert case["status"] == "incident"
    assert "service 'sms' returned a object, which cannot be stored" in case["incident"]["error"]


def _cli(tmp_path: Path, config: str, *args: str):
    cfg = tmp_path / "hall.yaml"
    cfg.write_text(config)
    base = ["--config", str(cfg), "--db", str(tmp_path / "h.db"), "--forms", str(FIXTURES / "forms")]
    result = CliRunner().invoke(main, base + list(args))
    return result.exit_code, result.stdout, result.stderr


def test_hall_yaml_names_handlers_by_import_path(tmp_path: Path, monkeypatch) -> None:
    (tmp_path / "hall_sms_demo.py").write_text("def send(params, data):\n    return {'to': data.get('phone')}\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    config = "services:\n  sms: hall_sms_demo:send\n"
    assert _cli(tmp_path, config, "init")[0] == 0
    assert _cli(tmp_path, config, "deploy", str(FIXTURES / "service.bpmn"))[0] == 0
    code, out, err = _cli(tmp_path, config, "start", "notify", "--set", "phone=139", "--json")
    assert code == 0, err
    case = json.loads(out)
    assert case["status"] == "completed" and case["variables"]["spiff__send_sms_result"] == {"to": "139"}
    assert _cli(tmp_path, config, "config", "check")[0] == 0


def test_bad_handler_paths_are_named_with_their_line(tmp_path: Path) -> None:
    code, _, err = _cli(tmp_path, "calendar: {}\nservices:\n  sms: send_sms\n", "tasks")
    assert code == 1 and "hall.yaml:3:" in err and "services.sms: must be `module:function`" in err
    config = "services:\n  sms: no_such_module_here:send\n"
    code, out, err = _cli(tmp_path, config, "config", "check")
    assert code == 1
    assert "hall.yaml:2: services.sms: cannot import no_such_module_here:send: ModuleNotFoundError" in out + err
    # every other command reads the path but imports it only when a service task calls it
    assert _cli(tmp_path, config, "init")[0] == 0
    assert _cli(tmp_path, config, "deploy", str(FIXTURES / "service.bpmn"))[0] == 0
    code, out, _ = _cli(tmp_path, config, "start", "notify", "--json")
    assert code == 0 and json.loads(out)["incident"]["error"].startswith(
        "service task send_sms: service 'sms': cannot import no_such_module_here:send: ModuleNotFoundError"
    )
