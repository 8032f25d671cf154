"""At least once (issue 15, item 4): a step killed before its commit runs again and calls its service
handlers again; each call's idempotency key (case, task, the version the step started from, the call's
number in the step) is the same on the re-run, so a handler that remembers its keys acts once."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import FIXTURES

PREPARED = (
    '<bpmn:startEvent id="start"><bpmn:outgoing>f0</bpmn:outgoing></bpmn:startEvent>'
    '<bpmn:userTask id="prepare" name="Prepare"><bpmn:incoming>f0</bpmn:incoming><bpmn:outgoing>f1</bpmn:outgoing>'
    "</bpmn:userTask>"
    '<bpmn:sequenceFlow id="f0" sourceRef="start" targetRef="prepare" />'
    '<bpmn:sequenceFlow id="f1" sourceRef="prepare" targetRef="send_sms" />'
)


class Killed(BaseException):
    """The process dies between the handler's effect and the step's commit (kill -9, power cut)."""


@pytest.fixture
def eng(make_engine, tmp_path: Path):
    def setup(handler):
        text = (FIXTURES / "service.bpmn").read_text(encoding="utf-8")
        text = text.replace('<bpmn:startEvent id="start"><bpmn:outgoing>f1</bpmn:outgoing></bpmn:startEvent>', "")
        text = text.replace('<bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="send_sms" />', PREPARED)
        (tmp_path / "prepared.bpmn").write_text(text, encoding="utf-8")
        e = make_engine(services={"sms": handler})
        e.init()
        e.deploy([tmp_path / "prepared.bpmn"])
        return e

    return setup


def test_a_handler_acts_once_across_a_crash_and_rerun_of_its_step(eng) -> None:
    sent: dict[str, str] = {}  # the SMS gateway's own record, outside the hall's database
    keys: list[str] = []
    crash = {"once": True}

    def send_sms(params: dict, data: dict) -> dict:
        key = params["idempotency_key"]
        keys.append(key)
        if key not in sent:  # acts once per key; a re-run gets the first outcome
            sent[key] = f"M-{len(sent) + 1}"
        if crash.pop("once", False):
            raise Killed()  # the effect happened, the step's commit never will
        return {"message": sent[key]}

    e = eng(send_sms)
    case = e.start("notify", None, {"phone": "139"})
    task = case["tasks"][0]["id"]
    with pytest.raises(Killed):
        e.complete(task, {})
    assert e.show(case["id"])["status"] == "running"  # nothing of the step was kept
    done = e.complete(task, {})  # the step runs again
    assert done["status"] == "completed"
    assert len(keys) == 2 and keys[0] == keys[1] == f"{case['id']}:send_sms:1.1"
    assert sent == {keys[0]: "M-1"} and done["variables"]["spiff__send_sms_result"] == {"message": "M-1"}


def test_each_step_and_each_case_calls_with_its_own_key(eng) -> None:
    keys: list[str] = []
    e = eng(lambda params, data: keys.append(params["idempotency_key"]) or "ok")
    for _ in range(2):
        case = e.start("notify", None, {})
        e.complete(case["tasks"][0]["id"], {})
    assert len(keys) == 2 and len(set(keys)) == 2
