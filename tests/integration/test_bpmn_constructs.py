"""BPMN constructs of issue 12 through the public API, on SQLite and PostgreSQL: multi-instance
activities, send and receive tasks, message throws without a payload, a timer after an event-based
gateway, and an error end event at the top level. One small diagram per construct in
tests/fixtures/bpmn12/; the BPMN 2.0 specification, chapter 13, says what must happen.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import FIXTURES
from hall import Engine
from hall.engine.errors import DefinitionInvalid

BPMN12 = FIXTURES / "bpmn12"


@pytest.fixture
def eng(make_engine) -> Engine:
    e = make_engine()
    e.init()
    return e


def load(eng: Engine, *files: str) -> None:
    """Deploy only the diagrams of one construct (a parent with its child)."""
    eng.deploy([BPMN12 / f for f in files])


def queue(eng: Engine, instance_id: int) -> list[dict]:
    return list(eng.tasks(instance=instance_id))


def names(eng: Engine, instance_id: int) -> list[str]:
    return sorted(t["name"] for t in queue(eng, instance_id))


def kinds(eng: Engine, instance_id: int) -> list[str]:
    return [h["kind"] for h in eng.history(instance_id)]


# -- 1. multi-instance activities ---------------------------------------------------------------
def test_parallel_multi_instance_user_task_queues_each_instance(eng: Engine, make_engine) -> None:
    load(eng, "mi_parallel.bpmn")
    case = eng.start("b12_mi_parallel", data={"copies": 2})
    assert [h["element"] for h in eng.history(case["id"]) if h["kind"] == "incident"] == []
    tasks = queue(eng, case["id"])
    assert [t["name"] for t in tasks] == ["sign"] * 3
    assert len({t["id"] for t in tasks}) == 3
    eng.complete(tasks[0]["id"], {"signed_by": "ann"})
    assert names(eng, case["id"]) == ["sign", "sign"]
    assert eng.show(case["id"])["status"] == "running"
    other = make_engine()  # another process: the instances restored from the database
    for task in tasks[1:]:
        other.complete(task["id"], {"signed_by": "bob"})
    assert eng.show(case["id"])["status"] == "completed"
    assert kinds(eng, case["id"]).count("task_completed") == 3


def test_sequential_multi_instance_over_a_camunda_collection(eng: Engine) -> None:
    load(eng, "mi_sequential.bpmn")
    case = eng.start("b12_mi_sequential", data={"reviewers": [" Ann", "BOB ", "carl"]})
    assert case["variables"]["reviewers"] == ["ann", "bob", "carl"]  # the script ran once per reviewer
    seen = []
    for _ in range(3):
        tasks = queue(eng, case["id"])
        assert [t["name"] for t in tasks] == ["review"]  # one at a time
        seen.append(eng.task(tasks[0]["id"])["id"])
        eng.complete(tasks[0]["id"], {"ok": True})
    assert len(set(seen)) == 3
    shown = eng.show(case["id"])
    assert shown["status"] == "completed"
    assert shown["variables"]["reviewers"] == ["ann", "bob", "carl"]


def test_multi_instance_over_loop_data_input_ref(eng: Engine) -> None:
    load(eng, "mi_collection.bpmn")
    case = eng.start("b12_mi_collection", data={"items": [1, 2, 3]})
    assert case["status"] == "running"
    assert case["variables"]["fees"] == [10, 20, 30]  # the script ran once per item, in order
    tasks = queue(eng, case["id"])
    assert [t["name"] for t in tasks] == ["check"] * 3  # a parallel user task per fee
    for task in tasks:
        eng.complete(task["id"], {})
    assert eng.show(case["id"])["status"] == "completed"


def test_completion_condition_ends_the_remaining_instances(eng: Engine) -> None:
    load(eng, "mi_completion.bpmn")
    case = eng.start("b12_mi_completion", data={"desks": ["A", "B", "C", "D"], "free_desks": ["B", "D"]})
    assert case["variables"]["asked"] == [False, True]  # desks C and D were not asked
    tasks = queue(eng, case["id"])
    assert len(tasks) == 3
    eng.complete(tasks[0]["id"], {"approved": False})
    assert names(eng, case["id"]) == ["vote", "vote"]
    eng.complete(tasks[1]["id"], {"approved": True})
    assert names(eng, case["id"]) == ["after"]  # the third vote is no longer asked for
    assert "task_cancelled" in kinds(eng, case["id"])


def _variant(tmp_path: Path, source: str, old: str, new: str) -> Path:
    text = (BPMN12 / source).read_text()
    assert text.count(old) == 1
    path = tmp_path / source
    path.write_text(text.replace(old, new))
    return path


def test_cardinality_and_loop_data_input_together_are_refused(make_engine, tmp_path: Path) -> None:
    path = _variant(
        tmp_path,
        "mi_parallel.bpmn",
        "<bpmn:loopCardinality>3</bpmn:loopCardinality>",
        "<bpmn:loopCardinality>3</bpmn:loopCardinality><bpmn:loopDataInputRef>items</bpmn:loopDataInputRef>",
    )
    e = make_engine()
    e.init()
    findings = [str(f) for f in e.validate([path])]
    assert len(findings) == 1
    assert findings[0].startswith(f"{path}:")
    assert ": sign: " in findings[0] and "loopCardinality" in findings[0] and "loopDataInputRef" in findings[0]
    with pytest.raises(DefinitionInvalid) as err:
        e.deploy([path])
    assert str(err.value).count("\n") == 0 and ": sign: " in str(err.value)


@pytest.mark.parametrize("behavior", ["None", "One", "Complex"])
def test_multi_instance_behavior_other_than_all_is_refused(make_engine, tmp_path: Path, behavior: str) -> None:
    path = _variant(
        tmp_path,
        "mi_parallel.bpmn",
        "<bpmn:multiInstanceLoopCharacteristics><bpmn:loopCardinality>3",
        f'<bpmn:multiInstanceLoopCharacteristics behavior="{behavior}"><bpmn:loopCardinality>3',
    )
    e = make_engine()
    e.init()
    findings = [str(f) for f in e.validate([path])]
    assert len(findings) == 1 and ": sign: " in findings[0] and f"behavior {behavior!r}" in findings[0]
    with pytest.raises(DefinitionInvalid):
        e.deploy([path])


# -- 2. send and receive tasks ------------------------------------------------------------------
def test_receive_task_waits_for_a_message_from_outside(eng: Engine) -> None:
    load(eng, "receive_task.bpmn")
    case = eng.start("b12_receive")
    assert case["status"] == "running" and queue(eng, case["id"]) == []
    shown = eng.send_message(case["id"], "b12_paid", {"amount": 5})
    assert names(eng, case["id"]) == ["issue"]
    assert shown["variables"]["wait_paid_Response"] == {"amount": 5}
    assert "message_received" in kinds(eng, case["id"])


def test_send_task_answers_the_parent_receive_task(eng: Engine) -> None:
    load(eng, "send_parent.bpmn", "send_child.bpmn")
    parent = eng.start("b12_send_parent", data={"question": "open on Sunday?"})
    child_id = parent["variables"]["child"]
    (answer,) = queue(eng, child_id)
    eng.complete(answer["id"], {"answer": "no"})
    assert eng.show(child_id)["status"] == "completed"
    shown = eng.show(parent["id"])
    assert shown["status"] == "running"
    assert names(eng, parent["id"]) == ["read"]
    assert shown["variables"]["reply"] == {"answer": "no"}


# -- 3. message throws without a payload --------------------------------------------------------
def test_message_throws_without_payload_are_not_incidents(eng: Engine) -> None:
    load(eng, "throw_parent.bpmn", "throw_child.bpmn")
    parent = eng.start("b12_throw_parent")
    child_id = parent["variables"]["child"]
    (work,) = queue(eng, child_id)
    eng.complete(work["id"], {})
    child = eng.show(child_id)
    assert child["status"] == "completed" and child["incident"] is None
    assert eng.incidents() == []
    assert names(eng, parent["id"]) == ["wrap"]  # both messages (intermediate and end) arrived
    assert kinds(eng, parent["id"]).count("message_received") == 2


# -- 4. a timer after an event-based gateway ----------------------------------------------------
def test_timer_after_event_based_gateway_fires_through_the_worker(eng: Engine, make_engine, clock) -> None:
    load(eng, "event_gateway.bpmn")
    case = eng.start("b12_event_gateway")
    assert [t["element"] for t in case["timers"]] == ["two_days"]
    assert "timer_scheduled" in kinds(eng, case["id"])
    worker = make_engine()  # the worker is another process
    worker.run_due_jobs(once=True, install_signals=False)
    assert queue(eng, case["id"]) == []  # not due yet
    clock.advance(days=2, minutes=1)
    assert worker.run_due_jobs(once=True, install_signals=False)["fired"] == 1
    shown = eng.show(case["id"])
    assert names(eng, case["id"]) == ["remind"]
    assert shown["timers"] == []
    assert "timer_fired" in kinds(eng, case["id"])
    with pytest.raises(Exception, match="not waiting for message 'b12_reply'"):
        eng.send_message(case["id"], "b12_reply", {})


def test_message_first_after_event_based_gateway_drops_the_timer(eng: Engine, clock) -> None:
    load(eng, "event_gateway.bpmn")
    case = eng.start("b12_event_gateway")
    shown = eng.send_message(case["id"], "b12_reply", {"text": "thanks"})
    assert names(eng, case["id"]) == ["handle_reply"]
    assert shown["timers"] == []
    clock.advance(days=3)
    summary = eng.run_due_jobs(once=True, install_signals=False)
    assert summary["fired"] == 0
    assert names(eng, case["id"]) == ["handle_reply"]


@pytest.mark.parametrize(
    "old, new, element, what",
    [
        (
            "<bpmn:timeDuration>P2D</bpmn:timeDuration>",
            "<bpmn:timeCycle>R3/P1D</bpmn:timeCycle>",
            "two_days",
            "a cycle timer after an event-based gateway is not supported",
        ),
        (
            '<bpmn:messageEventDefinition messageRef="Message_reply" />',
            "<bpmn:timerEventDefinition><bpmn:timeDuration>P1D</bpmn:timeDuration></bpmn:timerEventDefinition>",
            "wait",
            "more than one timer after an event-based gateway is not supported",
        ),
    ],
    ids=["cycle", "two timers"],
)
def test_event_gateway_timers_hall_cannot_run_are_refused(
    make_engine, tmp_path: Path, old: str, new: str, element: str, what: str
) -> None:
    path = _variant(tmp_path, "event_gateway.bpmn", old, new)
    e = make_engine()
    e.init()
    findings = [str(f) for f in e.validate([path])]
    assert len(findings) == 1 and f": {element}: {what}" in findings[0]
    with pytest.raises(DefinitionInvalid):
        e.deploy([path])


# -- 6. an error end event at the top level -----------------------------------------------------
def test_top_level_error_end_event_is_an_incident_naming_the_code(eng: Engine) -> None:
    load(eng, "error_end.bpmn")
    case = eng.start("b12_error_end")
    (inspect,) = queue(eng, case["id"])
    shown = eng.complete(inspect["id"], {})  # the sub-process's error: caught by its boundary event
    assert shown["status"] == "running" and shown["incident"] is None
    (decide,) = queue(eng, case["id"])
    assert decide["name"] == "decide"
    shown = eng.complete(decide["id"], {})  # the process's own error end event: nothing catches it
    assert shown["status"] == "incident"
    assert shown["incident"]["element"] == "rejected"
    assert "REJECTED" in shown["incident"]["error"]
    assert "\n" not in shown["incident"]["error"]
    assert [i["instance"] for i in eng.incidents()] == [case["id"]]
    assert "message_sent" not in kinds(eng, case["id"])
    assert "ended" not in kinds(eng, case["id"])
    assert eng.retry(case["id"])["status"] == "completed"  # retry acknowledges the error and ends the case


# -- validate and deploy agree ------------------------------------------------------------------
def test_validate_and_deploy_agree_on_every_construct_diagram(make_engine) -> None:
    """Each diagram alone (a parent with its child), then all together: validate finds nothing and
    deploy stores every process."""
    e = make_engine()
    e.init()
    groups = [[p] for p in sorted(BPMN12.glob("*.bpmn")) if not p.name.endswith("_child.bpmn")]
    for group in groups:
        if group[0].name.endswith("_parent.bpmn"):  # a parent starts its child: deployed together
            group.append(group[0].with_name(group[0].name.replace("_parent", "_child")))
    assert len(groups) == 9
    for group in groups:
        assert [str(f) for f in e.validate(group)] == [], group[0].name
        assert all(r["changed"] for r in e.deploy(group)), group[0].name
    top = sorted(BPMN12.glob("*.bpmn"))  # constructs/ has its own tests (test_bpmn_construct_traces.py)
    assert [str(f) for f in e.validate(top)] == []
    assert len(e.deploy(top)) == 11
