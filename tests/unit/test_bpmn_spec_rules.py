"""What the BPMN 2.0 specification forbids is refused by validate, one line each naming the file, the
line and the element (issue 12); SpiffWorkflow's parser messages reach the user without Python reprs.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from hall.engine.definitions import Checker
from hall.engine.parsemessages import plain_message

BASE = """\
<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" id="defs" targetNamespace="x">
  <bpmn:process id="p" isExecutable="true">
    <bpmn:startEvent id="start" />
    <bpmn:userTask id="a" />
    <bpmn:exclusiveGateway id="gw" default="f3" />
    <bpmn:userTask id="b" />
    <bpmn:userTask id="c" />
    <bpmn:endEvent id="end" />
    <bpmn:endEvent id="end2" />
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="a" />
    <bpmn:sequenceFlow id="f2" sourceRef="a" targetRef="gw" />
    <bpmn:sequenceFlow id="f3" sourceRef="gw" targetRef="b" />
    <bpmn:sequenceFlow id="f4" sourceRef="gw" targetRef="c"><bpmn:conditionExpression>x</bpmn:conditionExpression></bpmn:sequenceFlow>
    <bpmn:sequenceFlow id="f5" sourceRef="b" targetRef="end" />
    <bpmn:sequenceFlow id="f6" sourceRef="c" targetRef="end2" />
    <!-- more -->
  </bpmn:process>
</bpmn:definitions>
"""


def check(tmp_path: Path, text: str) -> tuple[Path, list[str]]:
    path = tmp_path / "d.bpmn"
    path.write_text(text, encoding="utf-8")
    findings, _ = Checker().check({str(path): text.encode()})
    return path, [str(f) for f in findings]


def test_the_base_diagram_is_valid(tmp_path: Path) -> None:
    assert check(tmp_path, BASE)[1] == []


@pytest.mark.parametrize(
    "old, new, element, needle, message",
    [
        (
            "<!-- more -->",
            '<bpmn:sequenceFlow id="back" sourceRef="c" targetRef="start" />',
            "start",
            '<bpmn:startEvent id="start"',
            "a start event has no incoming sequence flow",
        ),
        (
            "<!-- more -->",
            '<bpmn:sequenceFlow id="on" sourceRef="end" targetRef="c" />',
            "end",
            '<bpmn:endEvent id="end"',
            "an end event has no outgoing sequence flow",
        ),
        (
            "<!-- more -->",
            '<bpmn:boundaryEvent id="bd" attachedToRef="gw"><bpmn:timerEventDefinition><bpmn:timeDuration>PT1H'
            '</bpmn:timeDuration></bpmn:timerEventDefinition></bpmn:boundaryEvent><bpmn:endEvent id="e3" />'
            '<bpmn:sequenceFlow id="f9" sourceRef="bd" targetRef="e3" />',
            "bd",
            '<bpmn:boundaryEvent id="bd"',
            "a boundary event is attached to an activity, not to exclusiveGateway 'gw'",
        ),
        (
            '<bpmn:endEvent id="end2" />',
            '<bpmn:endEvent id="end2">\n<bpmn:timerEventDefinition /></bpmn:endEvent>',
            "end2",
            "<bpmn:timerEventDefinition />",
            "a timer event definition is not allowed on an endEvent",
        ),
        (
            '<bpmn:startEvent id="start" />',
            '<bpmn:startEvent id="start"><bpmn:errorEventDefinition /></bpmn:startEvent>',
            "start",
            "<bpmn:startEvent",
            "an error event definition is not allowed on a startEvent",
        ),
        (
            '<bpmn:exclusiveGateway id="gw" default="f3" />',
            '<bpmn:exclusiveGateway id="gw" default="f3" gatewayDirection="Converging" />',
            "gw",
            '<bpmn:exclusiveGateway id="gw"',
            'a converging gateway (gatewayDirection="Converging") has one outgoing sequence flow',
        ),
        (
            '<bpmn:sequenceFlow id="f5" sourceRef="b" targetRef="end" />',
            '<bpmn:sequenceFlow id="f5" sourceRef="b" targetRef="w" /><bpmn:intermediateCatchEvent id="w" />'
            '<bpmn:sequenceFlow id="f7" sourceRef="w" targetRef="end" />',
            "w",
            '<bpmn:intermediateCatchEvent id="w"',
            "an intermediate catch event needs an event definition",
        ),
        (
            "<!-- more -->",
            '<bpmn:boundaryEvent id="bd" attachedToRef="b" cancelActivity="false"><bpmn:errorEventDefinition />'
            '</bpmn:boundaryEvent><bpmn:endEvent id="e3" /><bpmn:sequenceFlow id="f9" sourceRef="bd" targetRef="e3" />',
            "bd",
            '<bpmn:boundaryEvent id="bd"',
            "an error boundary event always interrupts (cancelActivity)",
        ),
        (
            '<bpmn:userTask id="c" />',
            '<bpmn:subProcess id="c"><bpmn:startEvent id="s2" /><bpmn:endEvent id="e2" />'
            '<bpmn:sequenceFlow id="in" sourceRef="s2" targetRef="e2" /></bpmn:subProcess>'
            '<bpmn:sequenceFlow id="across" sourceRef="b" targetRef="e2" />',
            "across",
            '<bpmn:sequenceFlow id="across"',
            "a sequence flow connects elements of the same process or sub-process, not across its border",
        ),
        (
            '<bpmn:exclusiveGateway id="gw" default="f3" />',
            '<bpmn:parallelGateway id="gw" />',
            "f4",
            '<bpmn:sequenceFlow id="f4"',
            "a sequence flow leaving a parallel gateway has no condition",
        ),
        (
            '<bpmn:exclusiveGateway id="gw" default="f3" />',
            '<bpmn:eventBasedGateway id="gw" />',
            "gw",
            '<bpmn:sequenceFlow id="f3"',
            "an event-based gateway leads to intermediate catch events or receive tasks only, not to userTask 'b'",
        ),
        (
            '<bpmn:userTask id="c" />',
            '<bpmn:subProcess id="c"><bpmn:startEvent id="s2"><bpmn:messageEventDefinition /></bpmn:startEvent>'
            '<bpmn:endEvent id="e2" /><bpmn:sequenceFlow id="in" sourceRef="s2" targetRef="e2" /></bpmn:subProcess>',
            "s2",
            '<bpmn:startEvent id="s2"',
            "the start event of a sub-process has no trigger (no event definition)",
        ),
        (
            '<bpmn:userTask id="a" />',
            '<bpmn:userTask id="a" default="f1" />',
            "a",
            '<bpmn:userTask id="a"',
            "default flow 'f1' is not an outgoing flow of this activity",
        ),
    ],
    ids=[
        "start-incoming",
        "end-outgoing",
        "boundary-on-gateway",
        "timer-on-end",
        "error-on-top-start",
        "converging-split",
        "catch-without-definition",
        "error-boundary-not-interrupting",
        "flow-across-subprocess",
        "parallel-condition",
        "event-gateway-to-task",
        "subprocess-start-trigger",
        "activity-default-elsewhere",
    ],
)
def test_spec_violation_is_one_line_at_the_element(
    tmp_path: Path, old: str, new: str, element: str, needle: str, message: str
) -> None:
    assert old in BASE
    text = BASE.replace(old, new, 1)
    path, findings = check(tmp_path, text)
    line = text[: text.index(needle)].count("\n") + 1
    assert any(f.startswith(f"{path}:{line}: {element}: {message}") for f in findings), findings


def test_data_stores_are_refused_at_their_line(tmp_path: Path) -> None:
    text = BASE.replace("  <bpmn:process", '  <bpmn:dataStore id="archive" name="archive" />\n  <bpmn:process', 1)
    path, findings = check(tmp_path, text)
    assert findings == [
        f"{path}:3: archive: data stores are not supported: keep the data in the case's variables or call a service"
    ]


def test_link_catch_names_are_unique_per_level(tmp_path: Path) -> None:
    text = BASE.replace(
        "<!-- more -->",
        '<bpmn:intermediateCatchEvent id="l1"><bpmn:linkEventDefinition name="x" /></bpmn:intermediateCatchEvent>'
        '<bpmn:intermediateCatchEvent id="l2"><bpmn:linkEventDefinition name="x" /></bpmn:intermediateCatchEvent>'
        '<bpmn:endEvent id="e8" /><bpmn:endEvent id="e9" />'
        '<bpmn:sequenceFlow id="g1" sourceRef="l1" targetRef="e8" /><bpmn:sequenceFlow id="g2" sourceRef="l2" targetRef="e9" />',
    )
    findings = check(tmp_path, text)[1]
    assert [f.split(": ", 1)[1] for f in findings] == [
        "l2: two link catch events are named 'x' in one process level (also 'l1')"
    ]


@pytest.mark.parametrize(
    "raw, kind, plain",
    [
        (
            "Multiple outgoing flows are not supported for tasks of type. ",
            "intermediateCatchEvent",
            "several outgoing sequence flows leave this intermediateCatchEvent: not supported here, draw a gateway "
            "after it",
        ),
        ("There is no support implemented for this task type.. ", "complexGateway", "complexGateway is not supported"),
        (
            "NotImplementedError('Unsupported Catch Event: %r', b'<bpmn:boundaryEvent xmlns:bpmn=\"x\" id=\"b\"/>\\n  '). ",
            "boundaryEvent",
            "this boundaryEvent has no event definition hall can run",
        ),
        (
            "Invalid Script Task.  No Script Provided. Expected 1 result. Received 0 results..",
            None,
            "Invalid Script Task. No Script Provided. Expected 1 result. Received 0 results",
        ),
        (
            "Cannot use <Element {http://www.omg.org/spec/BPMN/20100524/MODEL}userTask at 0x7f3a2b> here",
            None,
            "Cannot use userTask here",
        ),
        ("KeyError('decisionRef')", None, "decisionRef (KeyError)"),
    ],
    ids=["of-type", "double-stop", "catch-event-repr", "found-0", "element-repr", "exception-repr"],
)
def test_library_messages_have_no_python_repr(raw: str, kind: str | None, plain: str) -> None:
    assert plain_message(raw, kind) == plain
