"""`validate` on real modeler output and on broken diagrams: one finding per problem, never a traceback."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import FIXTURES
from hall.engine import Engine

REVIEW = (FIXTURES / "review.bpmn").read_text()


def line_of(text: str, needle: str) -> int:
    return text[: text.index(needle)].count("\n") + 1


@pytest.fixture
def checker(tmp_path: Path) -> Engine:
    return Engine(f"sqlite:///{tmp_path / 'unused.db'}", forms_dir=FIXTURES / "forms")


def broken(tmp_path: Path, old: str, new: str, text: str = REVIEW) -> tuple[Path, str]:
    assert old in text
    changed = text.replace(old, new, 1)
    path = tmp_path / "broken.bpmn"
    path.write_text(changed, encoding="utf-8")
    return path, changed


def test_camunda_and_spiff_arena_diagrams_pass(checker: Engine) -> None:
    assert checker.validate([FIXTURES / "review.bpmn", FIXTURES / "spiff_arena.bpmn"]) == []


@pytest.mark.parametrize(
    "old, new, element, at, message",
    [
        (
            "<spiffworkflow:preScript>seen = True",
            "<spiffworkflow:preScript>seen = = True",
            "ScriptTask_1",
            "<spiffworkflow:preScript>",
            "preScript does not compile",
        ),
        (
            'value="review-schema.json"',
            'value="reveiw-schema.json"',
            "UserTask_1",
            'id="UserTask_1"',
            "form 'reveiw' not found (formJsonSchemaFilename 'reveiw-schema.json')",
        ),
    ],
)
def test_spiff_arena_extensions_are_checked(
    checker: Engine, tmp_path: Path, old: str, new: str, element: str, at: str, message: str
) -> None:
    path, text = broken(tmp_path, old, new, (FIXTURES / "spiff_arena.bpmn").read_text())
    [finding] = checker.validate([path])
    assert (finding.element, finding.line) == (element, line_of(text, at)) and message in finding.message


def test_unparsable_xml_names_the_line(checker: Engine, tmp_path: Path) -> None:
    path, text = broken(tmp_path, '<bpmn:endEvent id="done" name="Done">', '<bpmn:endEvent id="done" name="Done>')
    [finding] = checker.validate([path])
    line = line_of(text, 'name="Done>')
    assert str(finding).startswith(f"{path}:{line}: -: not well-formed XML")


@pytest.mark.parametrize(
    "old, new, element, message",
    [
        ('targetRef="number" />', 'targetRef="numbr" />', "f2", "targetRef points to unknown element 'numbr'"),
        ("total = amount * 2", "total = = 2", "number", "script does not compile"),
        ("approved == True", "approved ==", "f_yes", "condition does not compile"),
        (
            '<bpmn:exclusiveGateway id="decide" name="Approved?" default="f_no">',
            '<bpmn:exclusiveGateway id="decide" name="Approved?">',
            "decide",
            "outgoing flow(s) f_no have no condition and are not the default",
        ),
        ('default="f_no"', 'default="f_nope"', "decide", "default flow 'f_nope' is not an outgoing flow"),
        ('camunda:formKey="approve"', 'camunda:formKey="aprove"', "approve", "form 'aprove' not found"),
        (
            '<bpmn:lane id="lane_boss" name="boss">',
            '<bpmn:lane id="register" name="boss">',
            "register",
            "duplicate id (also on line",
        ),
        (
            'camunda:formKey="register"',
            'camunda:formKey="register" camunda:dueDate="2 wrking days"',
            "register",
            "dueDate: unknown unit 'wrking'",
        ),
        (
            'camunda:formKey="register"',
            'camunda:formKey="register" camunda:dueDate="every working day at 15:00"',
            "register",
            "dueDate: a repeating value only fits a timeCycle",
        ),
        (
            'camunda:formKey="register"',
            'camunda:formKey="register" camunda:dueDate="=合同截止日期 +"',
            "register",
            "dueDate: expression does not compile",
        ),
        (
            "<bpmn:flowNodeRef>decide</bpmn:flowNodeRef>",
            "<bpmn:flowNodeRef>decid</bpmn:flowNodeRef>",
            "lane_boss",
            "lane lists unknown element 'decid'",
        ),
    ],
)
def test_each_broken_reference_is_one_finding(
    checker: Engine, tmp_path: Path, old: str, new: str, element: str, message: str
) -> None:
    path, text = broken(tmp_path, old, new)
    findings = checker.validate([path])
    assert len(findings) == 1, findings
    [finding] = findings
    assert finding.element == element and message in finding.message
    if "duplicate id" in message:  # reported on the later element, naming the earlier one
        assert f"also on line {line_of(text, new)}" in finding.message
        assert finding.line == line_of(text, 'id="register" name="Register request"')
    else:
        assert finding.line == line_of(text, new)
    assert str(finding).startswith(f"{path}:{finding.line}: {element}: ")


def test_form_with_a_template_error_is_reported_at_validate(checker: Engine, tmp_path: Path) -> None:
    forms = tmp_path / "forms"
    forms.mkdir()
    (forms / "register.yaml").write_text(
        "title: R\ntemplate: |\n  {{ data.amount \nfields:\n  - name: amount\n    type: int\n"
    )
    (forms / "approve.yaml").write_text((FIXTURES / "forms" / "approve.yaml").read_text())
    eng = Engine(f"sqlite:///{tmp_path / 'x.db'}", forms_dir=forms)
    [finding] = eng.validate([FIXTURES / "review.bpmn"])
    assert finding.element == "register" and "register.yaml:3" in finding.message


def test_files_that_are_not_bpmn(checker: Engine, tmp_path: Path) -> None:
    (tmp_path / "latin1.bpmn").write_bytes('<?xml version="1.0" encoding="UTF-8"?><a>\xe9</a>'.encode("latin-1"))
    (tmp_path / "other.bpmn").write_text("<html/>")
    findings = {Path(f.file).name: f.message for f in checker.validate([tmp_path, tmp_path / "missing.bpmn"])}
    assert "not well-formed XML" in findings["latin1.bpmn"]
    assert "not a BPMN 2.0 document" in findings["other.bpmn"]
    assert findings["missing.bpmn"] == "no such file or folder"


def test_non_executable_process(checker: Engine, tmp_path: Path) -> None:
    path, _ = broken(tmp_path, 'isExecutable="true"', 'isExecutable="false"')
    [finding] = checker.validate([path])
    assert "no executable process" in finding.message


def test_parser_errors_become_findings(checker: Engine, tmp_path: Path) -> None:
    # a business rule task without camunda:decisionRef makes SpiffWorkflow's Camunda parser raise KeyError
    path, text = broken(
        tmp_path,
        '<bpmn:scriptTask id="number" name="Number it" scriptFormat="python">',
        '<bpmn:businessRuleTask id="number" name="Number it">',
    )
    path.write_text(text.replace("</bpmn:scriptTask>", "</bpmn:businessRuleTask>"))
    [finding] = checker.validate([path])
    assert finding.element == "number" and finding.line == line_of(text, 'id="number"')


@pytest.mark.parametrize(
    "old, new, at, message",
    [
        (
            "<bpmn:incoming>f1</bpmn:incoming><bpmn:outgoing>f2</bpmn:outgoing></bpmn:userTask>",
            "<bpmn:incoming>f9</bpmn:incoming><bpmn:outgoing>f2</bpmn:outgoing></bpmn:userTask>",
            "<bpmn:incoming>f9",
            "incoming names unknown sequence flow 'f9'",
        ),
        (
            "<bpmn:incoming>f1</bpmn:incoming><bpmn:outgoing>f2</bpmn:outgoing></bpmn:userTask>",
            "<bpmn:incoming>f1</bpmn:incoming><bpmn:outgoing>f3</bpmn:outgoing></bpmn:userTask>",
            "<bpmn:outgoing>f3",
            "outgoing names sequence flow 'f3', which does not start here",
        ),
    ],
)
def test_incoming_and_outgoing_name_flows_of_the_element(
    checker: Engine, tmp_path: Path, old: str, new: str, at: str, message: str
) -> None:
    path, text = broken(tmp_path, old, new)
    [finding] = checker.validate([path])
    assert (finding.element, finding.line, finding.message) == ("register", line_of(text, at), message)


def test_an_element_no_flow_reaches_or_leaves(checker: Engine, tmp_path: Path) -> None:
    path, text = broken(
        tmp_path,
        '<bpmn:endEvent id="done" name="Done">',
        '<bpmn:task id="orphan" name="Forgotten" />\n    <bpmn:endEvent id="done" name="Done">',
    )
    findings = checker.validate([path])
    line = line_of(text, 'id="orphan"')
    assert [(f.line, f.element, f.message) for f in findings] == [
        (line, "orphan", "no sequence flow leads here"),
        (line, "orphan", "no sequence flow leaves here"),
    ]


def test_a_problem_only_spiffworkflow_finds_is_reported_at_its_element(checker: Engine, tmp_path: Path) -> None:
    sub = (FIXTURES / "subprocess.bpmn").read_text()
    two_starts = sub.replace(
        '<bpmn:startEvent id="check_start">',
        '<bpmn:startEvent id="check_start2"><bpmn:outgoing>s0</bpmn:outgoing></bpmn:startEvent>\n'
        '      <bpmn:sequenceFlow id="s0" sourceRef="check_start2" targetRef="check_papers" />\n'
        '      <bpmn:startEvent id="check_start">',
    )
    path = tmp_path / "subprocess.bpmn"
    path.write_text(two_starts)
    [finding] = checker.validate([path, FIXTURES / "stamping.bpmn"])
    assert (finding.file, finding.line, finding.element) == (str(path), line_of(two_starts, 'id="check"'), "check")
    assert "Exactly one start event is required" in finding.message


def test_a_call_activity_needs_its_process(checker: Engine) -> None:
    [finding] = checker.validate([FIXTURES / "subprocess.bpmn"])
    text = (FIXTURES / "subprocess.bpmn").read_text()
    assert (finding.element, finding.line) == ("stamp", line_of(text, 'id="stamp"'))
    assert finding.message == "calls process 'stamping', which is in none of the files given"


def test_a_camunda_expression_that_is_not_a_variable_is_still_a_finding(checker: Engine, tmp_path: Path) -> None:
    path, _ = broken(
        tmp_path, 'camunda:formKey="register"', 'camunda:formKey="register" camunda:dueDate="${dateTime().plusDays(2)}"'
    )
    [finding] = checker.validate([path])
    assert finding.element == "register" and finding.message.startswith("dueDate: write expressions as =")
