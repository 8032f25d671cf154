"""`hall validate`'s warnings (issue 18, engine/lint.py): a flow node without a diagram shape, the
rules of bpmnlint's recommended set that Camunda Modeler marks, and a condition or script reading a
variable nothing in the process sets. The Camunda Modeler and bpmn.io exports are clean."""

from __future__ import annotations

import pytest
from conftest import FIXTURES
from hall.engine.lint import Warning_, is_warning, lint

HEAD = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" xmlns:bpmndi="http://www.omg.org/spec/BPMN/20100524/DI" xmlns:dc="http://www.omg.org/spec/DD/20100524/DC" xmlns:camunda="http://camunda.org/schema/1.0/bpmn" id="d">
<bpmn:process id="p" isExecutable="true">
"""


def doc(body: str, drawn: str = "*", named: bool = True) -> bytes:
    """A process of `body`; a diagram drawing each id in `drawn` (`*`: every id in the body). With
    `named`, each flow node without a name is given its id as name (bpmnlint's label-required is
    tested on its own)."""
    import re

    if named:
        body = re.sub(
            r'<bpmn:(?!sequenceFlow\b)(\w+) id="([^"]+)"(?![^>]*\bname=)',
            lambda m: f'<bpmn:{m.group(1)} id="{m.group(2)}" name="{m.group(2)}"',
            body,
        )
    ids = re.findall(r'id="([^"]+)"', body) if drawn == "*" else drawn.split()
    shapes = "".join(
        f'<bpmndi:BPMNShape bpmnElement="{i}"><dc:Bounds x="0" y="0" width="10" height="10"/></bpmndi:BPMNShape>'
        for i in ids
    )
    return (
        HEAD
        + body
        + '</bpmn:process><bpmndi:BPMNDiagram><bpmndi:BPMNPlane bpmnElement="p">'
        + shapes
        + "</bpmndi:BPMNPlane></bpmndi:BPMNDiagram></bpmn:definitions>"
    ).encode()


LINE = """<bpmn:startEvent id="s" name="收到"/>
<bpmn:sequenceFlow id="f1" sourceRef="s" targetRef="t"/>
<bpmn:userTask id="t" name="审核" camunda:formKey="review"/>
<bpmn:sequenceFlow id="f2" sourceRef="t" targetRef="e"/>
<bpmn:endEvent id="e" name="办结"/>
"""


def found(source: bytes, fields: dict | None = None) -> list[str]:
    forms = fields if fields is not None else {"review": ["ok"]}
    return [f"{w.element}: {w.message}" for w in lint({"x.bpmn": source}, forms.get, {"next_number"})]


def test_a_clean_process_has_no_warning() -> None:
    assert found(doc(LINE)) == []


def test_modeler_exports_show_what_the_modeler_marks() -> None:
    """What bpmnlint (the linter inside Camunda Modeler) reports on the same files: the bpmn.io export
    leaves its event sub-process's events unnamed; the Camunda Modeler one joins two flows at its end
    event."""
    assert found((FIXTURES / "diagrams" / "bpmn_io.bpmn").read_bytes()) == [
        "Event_sub_start: startEvent has no name: the modeler marks it (bpmnlint label-required)",
        "Event_sub_end: endEvent has no name: the modeler marks it (bpmnlint label-required)",
    ]
    assert found((FIXTURES / "diagrams" / "camunda_modeler.bpmn").read_bytes(), {"x": []}) == [
        "Event_done: 2 incoming flows join without a gateway: a fake join (bpmnlint fake-join)"
    ]


def test_a_task_added_by_a_text_edit_without_a_shape_is_a_warning_with_its_line() -> None:
    [w] = lint({"x.bpmn": doc(LINE, "s f1 f2 e")}, {"review": ["ok"]}.get)
    assert isinstance(w, Warning_) and is_warning(w)
    assert (
        str(w)
        == "x.bpmn:6: t: warning: userTask without a diagram shape: invisible in every modeler (draw it or remove it)"
    )
    assert w.as_dict()["severity"] == "warning"
    assert found(HEAD.encode() + LINE.encode() + b"</bpmn:process></bpmn:definitions>") == [
        "d: the file has no diagram (bpmndi:BPMNDiagram): no modeler can show it"
    ]


@pytest.mark.parametrize(
    "body,expected",
    [
        (
            LINE.replace(
                '<bpmn:endEvent id="e" name="办结"/>',
                '<bpmn:endEvent id="e" name="办结"/><bpmn:sequenceFlow id="f3" sourceRef="s" targetRef="t"/>',
            ),
            [
                "f3: duplicate sequence flow from s to t (also f1)",
                "s: 2 outgoing flows split without a gateway: an implicit split (bpmnlint implicit-split)",
                "t: 2 incoming flows join without a gateway: a fake join (bpmnlint fake-join)",
            ],
        ),
        (
            LINE + '<bpmn:endEvent id="e2"/><bpmn:sequenceFlow id="f3" sourceRef="t" targetRef="e2"/>',
            ["t: 2 outgoing flows split without a gateway: an implicit split (bpmnlint implicit-split)"],
        ),
        (
            LINE.replace('targetRef="e"', 'targetRef="g"')
            + '<bpmn:exclusiveGateway id="g"/><bpmn:sequenceFlow id="f3" sourceRef="g" targetRef="e"/>',
            ["g: a gateway with one way in and one way out does nothing (bpmnlint superfluous-gateway)"],
        ),
        (
            LINE.replace('targetRef="e"', 'targetRef="g"')
            + '<bpmn:exclusiveGateway id="g"/><bpmn:endEvent id="e2"/>'
            + '<bpmn:sequenceFlow id="f3" sourceRef="g" targetRef="e" name="是"><bpmn:conditionExpression>ok</bpmn:conditionExpression></bpmn:sequenceFlow>'
            + '<bpmn:sequenceFlow id="f4" sourceRef="g" targetRef="e2"><bpmn:conditionExpression>not ok</bpmn:conditionExpression></bpmn:sequenceFlow>',
            ["f4: outgoing flow of gateway g has no label: name the case it takes (bpmnlint label-required)"],
        ),
        (
            '<bpmn:startEvent id="s"/><bpmn:startEvent id="s2"/><bpmn:parallelGateway id="g"/><bpmn:endEvent id="e"/><bpmn:endEvent id="e2"/>'
            '<bpmn:sequenceFlow id="f1" sourceRef="s" targetRef="g"/><bpmn:sequenceFlow id="f2" sourceRef="s2" targetRef="g"/>'
            '<bpmn:sequenceFlow id="f3" sourceRef="g" targetRef="e"/><bpmn:sequenceFlow id="f4" sourceRef="g" targetRef="e2"/>',
            [
                "s2: more than one blank start event (bpmnlint single-blank-start-event)",
                "g: a gateway that joins and forks at once: split it in two (bpmnlint no-gateway-join-fork)",
            ],
        ),
        (
            LINE
            + '<bpmn:task id="lonely"/><bpmn:task id="dead"/><bpmn:sequenceFlow id="f3" sourceRef="dead" targetRef="e"/>',
            [
                "e: 2 incoming flows join without a gateway: a fake join (bpmnlint fake-join)",
                "lonely: not connected to any sequence flow (bpmnlint no-disconnected)",
                "dead: no incoming flow: an implicit start (bpmnlint no-implicit-start)",
            ],
        ),
        (
            '<bpmn:task id="t"/>',
            [
                "p: no start event (bpmnlint start-event-required)",
                "p: no end event (bpmnlint end-event-required)",
                "t: not connected to any sequence flow (bpmnlint no-disconnected)",
            ],
        ),
    ],
)
def test_bpmnlint_recommended_rules(body: str, expected: list[str]) -> None:
    assert sorted(found(doc(body))) == sorted(expected)


SPLIT = LINE.replace('targetRef="e"', 'targetRef="g"') + (
    '<bpmn:exclusiveGateway id="g"/><bpmn:endEvent id="e2"/>'
    '<bpmn:sequenceFlow id="f3" sourceRef="g" targetRef="e" name="是"><bpmn:conditionExpression>{cond}</bpmn:conditionExpression></bpmn:sequenceFlow>'
    '<bpmn:sequenceFlow id="f4" sourceRef="g" targetRef="s2" name="否"><bpmn:conditionExpression>not ok</bpmn:conditionExpression></bpmn:sequenceFlow>'
    '<bpmn:scriptTask id="s2"><bpmn:script>编号 = next_number("x")\nn = len([i for i in range(3)])</bpmn:script></bpmn:scriptTask>'
    '<bpmn:sequenceFlow id="f5" sourceRef="s2" targetRef="e2"/>'
)


def test_label_required_as_the_modeler_marks_it() -> None:
    """Every flow node but a parallel, event-based or non-forking gateway and a sub-process has a
    name; so has every conditional flow and every lane (bpmnlint label-required, an error in Camunda
    Modeler)."""
    body = SPLIT.format(cond="ok").replace(' name="是"', "").replace(' name="审核"', "") + (
        '<bpmn:laneSet><bpmn:lane id="l1"/></bpmn:laneSet><bpmn:parallelGateway id="pg"/>'
        '<bpmn:sequenceFlow id="f6" sourceRef="pg" targetRef="e2"/>'
    )
    assert sorted(found(doc(body, named=False))) == sorted(
        [
            "t: userTask has no name: the modeler marks it (bpmnlint label-required)",
            "g: exclusiveGateway has no name: the modeler marks it (bpmnlint label-required)",
            "e2: endEvent has no name: the modeler marks it (bpmnlint label-required)",
            "s2: scriptTask has no name: the modeler marks it (bpmnlint label-required)",
            "f3: outgoing flow of gateway g has no label: name the case it takes (bpmnlint label-required)",
            "l1: lane has no name: the modeler marks it (bpmnlint label-required)",
            "e2: 2 incoming flows join without a gateway: a fake join (bpmnlint fake-join)",
        ]
    )


def test_a_condition_reading_a_variable_nothing_sets_is_named() -> None:
    assert found(doc(SPLIT.format(cond="ok and 编号"))) == []  # a form field, a script's variable, functions
    assert found(doc(SPLIT.format(cond="ok了 == True"))) == [
        "f3: reads variable 'ok了', which no form, script, start form or message of the process sets"
    ]
    # a form that cannot be read: no claim about what is set
    assert found(doc(SPLIT.format(cond="ok了 == True")), {}) == []
