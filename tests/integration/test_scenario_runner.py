"""`hall test`'s runner (issue 18): the hall's own scenario files (processes/tests/, the rules of
RULES.md as process owners read them) pass in CI within 10 s, each scenario on a fresh database; every
kind of expectation fails with a diff naming its step when the case does not do what it says."""

from __future__ import annotations

from pathlib import Path

import pytest
from hall.engine.scenarios import Runner
from hall.servicehall import access
from hall.servicehall.config import load_config
from scenario import ROOT

HEADER = f"""\
process: complaint
definitions: [{ROOT / "processes"}]
scenarios:
  - name: 受理
    at: 2026-09-30 16:00
    as: hotline
    start: {{渠道: 热线}}
    steps:
      - complete: register
        as: 小孙
        with: {{渠道: 热线, 投诉内容: 服务人员态度差}}
      - complete: classify
        as: 小孙
        with: {{类型: 投诉, 专题: 服务质量, 是否重大投诉: false, 涉及工作人员违纪: false}}
"""


def runner() -> Runner:
    return Runner(access.with_defaults(load_config(ROOT / "hall.yaml")), ROOT / "forms")


def run(tmp_path: Path, steps: str) -> list:
    p = tmp_path / "s.yaml"
    p.write_text(HEADER + steps, encoding="utf-8")
    return runner().run([p])


def test_r_rules_the_halls_scenario_files_pass() -> None:
    # how long the set takes is measured by bench/scenarios.py (its target: under 10 s)
    results = runner().run([ROOT / "processes" / "tests"])
    failed = [(r.name, r.failure.lines()) for r in results if r.failure]
    assert failed == []
    assert len(results) >= 12
    assert {r.file.name for r in results} >= {
        "complaint.yaml",
        "complaint_routing.yaml",
        "filing.yaml",
        "suggestion.yaml",
        "callback_day.yaml",
    }


def test_r_c4_advance_fires_the_timer_at_its_due_time_and_the_expectations_hold(tmp_path: Path) -> None:
    [result] = run(
        tmp_path,
        """\
      - expect_task: contact
        role: 服务机构
        due: 2026-09-30 16:45
        provisional: false
      - advance: 44 minutes
      - expect_tasks: [contact]
      - expect_no_task: escalate_contact
      - advance: 1 working day
      - expect_history: [started, task_completed: register, {kind: timer_fired, element: contact_overdue}]
      - expect_tasks: [contact, escalate_contact, escalate_contact_public]
      - expect_passed: [classify, register]
      - expect_passed_in_order: [register, classify, gw_valid]
      - expect_not_passed: [contact]
      - expect: {status: running, business_key: TS20260930-0001, variables: {类型: 投诉, 渠道: 热线}}
      - expect_linked: {parent: null, children: []}
""",
    )
    assert result.failure is None, result.failure.lines()


@pytest.mark.parametrize(
    "step,expected,actual",
    [
        ("- expect_task: contact\n        due: 2026-09-30 16:50", "- due: 2026-09-30 16:50", "+ due: 2026-09-30 16:45"),
        ("- expect_task: contact\n        role: 大厅主管", "- role: 大厅主管", "+ role: 服务机构"),
        ("- expect_task: contact\n        organisation: 甲公司", "- organisation: 甲公司", "+ organisation: x"),
        ("- expect_task: investigate", "- ready task investigate", "+ ready tasks: contact"),
        ("- expect_no_task: contact", "- no ready task contact", "+ ready tasks: contact"),
        (
            "- expect_tasks: [contact, escalate_contact]",
            "- ready tasks: contact, escalate_contact",
            "+ ready tasks: contact",
        ),
        ("- expect_passed: [contact]", "- passed: contact", "+ not passed: contact"),
        ("- expect_not_passed: [register]", "- not passed: register", "+ passed: register"),
        ("- expect_passed_in_order: [classify, register]", "- passed in order: classify, register", "+ passed: start"),
        ("- expect: {status: completed}", "- status: completed", "+ status: running"),
        ("- expect: {variables: {类型: 举报}}", "- variables.类型: 举报", "+ variables.类型: 投诉"),
        ("- expect: {variables: {没有: 1}}", "- variables.没有: 1", "+ variables.没有: (not set)"),
        ("- expect_history: [timer_fired: contact_overdue]", "- history rows in order: timer_fired", "+ missing from"),
        ("- expect_incident: contact", "- incident at contact", "+ status: running"),
        ("- expect_linked: {children: [complaint]}", "- children: complaint", "+ children: none"),
        ("- message: 不存在的消息", "- the step succeeds", "+ error: instance 1 is not waiting for message"),
        ("- advance: 2026-09-30 15:00", "- a time after 2026-09-30 16:00", "+ 2026-09-30 15:00 is earlier"),
    ],
)
def test_a_failing_step_is_named_with_its_line_and_diff(tmp_path: Path, step: str, expected: str, actual: str) -> None:
    [result] = run(tmp_path, f"      {step}\n      - expect: {{status: running}}\n")
    assert result.failure is not None
    lines = result.failure.lines()
    assert lines[0].startswith("step 3 (line 15) ")
    assert any(line.strip().startswith(expected) for line in lines), lines
    assert any(line.strip().startswith(actual) for line in lines), lines


def test_r_c6_a_form_refusal_can_be_expected_and_an_unexpected_completion_fails(tmp_path: Path) -> None:
    steps = """\
      - complete: contact
        as: 张经理
      - complete: investigate
        as: 张经理
        with: {需要延期: %s}
        refused: 延期原因
"""
    [refused] = run(tmp_path, steps % "true")
    assert refused.failure is None
    [completed] = run(tmp_path, steps % "false")
    assert completed.failure is not None and completed.failure.actual == ["completed"]


def test_each_scenario_has_a_fresh_database_and_a_message_reaches_the_case(tmp_path: Path) -> None:
    """Two scenarios both get the first complaint number of the day: nothing is shared between them."""
    p = tmp_path / "two.yaml"
    p.write_text(HEADER + HEADER[HEADER.index("  - name") :].replace("受理", "再受理"), encoding="utf-8")
    one, two = runner().run([p])
    assert one.passed and two.passed
    p.write_text(
        HEADER
        + "      - expect: {business_key: TS20260930-0001}\n"
        + HEADER[HEADER.index("  - name") :].replace("受理", "再受理")
        + "      - expect: {business_key: TS20260930-0001}\n",
        encoding="utf-8",
    )
    assert [r.passed for r in runner().run([p])] == [True, True]


def test_coverage_records_the_elements_and_transitions_the_scenarios_reached(tmp_path: Path) -> None:
    p = tmp_path / "s.yaml"
    p.write_text(HEADER, encoding="utf-8")
    r = runner()
    r.run([p])
    nodes, moves = r.coverage.nodes["complaint"], r.coverage.transitions["complaint"]
    assert {"start", "register", "classify", "contact"} <= nodes and "investigate" not in nodes
    assert ("register", "classify") in moves and ("classify", "register") not in moves
    assert r.coverage.sources["complaint"].name == "complaint.bpmn"


def test_message_retry_cancel_and_claim_steps_drive_the_case(tmp_path: Path) -> None:
    """The actions besides complete and advance, on the engine's test diagrams (no hall.yaml)."""
    from conftest import FIXTURES

    p = tmp_path / "actions.yaml"
    p.write_text(
        f"""\
definitions: [{FIXTURES / "bpmn12" / "receive_task.bpmn"}, {FIXTURES / "divide.bpmn"}]
scenarios:
  - name: payment
    process: b12_receive
    at: 2026-11-24 09:00
    steps:
      - expect_tasks: []
      - message: b12_paid
        with: {{amount: 5}}
      - expect: {{variables: {{wait_paid_Response: {{amount: 5}}}}}}
      - claim: issue
        as: ann
      - expect_task: issue
        assignee: ann
      - expect_history: [message_received, task_claimed]
      - cancel: 客户撤回
      - expect: {{status: cancelled}}
  - name: divide
    process: divide
    at: 2026-11-24 09:00
    steps:
      - complete: enter
        with: {{divisor: 0}}
      - expect_incident: {{element: compute, error: ZeroDivisionError}}
      - expect: {{status: incident, incident: compute}}
      - retry:
        with: {{divisor: 4}}
      - expect: {{status: running, variables: {{result: 25}}}}
      - expect_tasks: [after]
""",
        encoding="utf-8",
    )
    results = Runner({}, FIXTURES / "forms").run([p])
    assert [(r.name, r.failure.lines() if r.failure else None) for r in results] == [
        ("payment", None),
        ("divide", None),
    ]


def test_r_c11_a_missing_task_names_the_incident_that_stopped_the_case(tmp_path: Path) -> None:
    """A typo in a condition stops the case; the failing step says so instead of only `none`."""
    processes = tmp_path / "processes"
    processes.mkdir()
    text = (ROOT / "processes" / "suggestion.bpmn").read_text(encoding="utf-8")
    (processes / "suggestion.bpmn").write_text(
        text.replace(">大厅能否处理</bpmn:conditionExpression>", ">大厅能否处理了</bpmn:conditionExpression>"),
        encoding="utf-8",
    )
    (processes / "tests").mkdir()
    p = processes / "tests" / "s.yaml"
    p.write_text(
        """\
process: suggestion
scenarios:
  - name: 大厅自行答复
    at: 2026-11-24 08:50
    steps:
      - complete: open_box
        with: {有无意见: true, 意见内容: 希望延长午间服务时间}
      - complete: hall_handle
        with: {大厅能否处理: true, 处理情况: 已调整排班}
      - expect_tasks: [hall_reply]
""",
        encoding="utf-8",
    )
    [result] = runner().run([p])
    assert result.failure is not None
    assert result.failure.actual[0].startswith("ready tasks: none (the case is in incident at gw_settle: ")
    assert "大厅能否处理了" in result.failure.actual[0]


def test_issue_18_signal_and_correlated_message_steps_reach_the_cases_waiting(tmp_path: Path) -> None:
    """`signal:` broadcasts (waiting cases catch it, signal start events start cases); `message:` with
    `key:` or `correlate: true` reaches the case waiting with that key, else starts one by its message
    start event, `process:` narrowing it; a message nobody waits for fails the step."""
    from conftest import FIXTURES

    m = FIXTURES / "messages"
    p = tmp_path / "between.yaml"
    p.write_text(
        f"""\
definitions: [{m / "signal_wait.bpmn"}, {m / "signal_start.bpmn"}, {m / "receive_keyed.bpmn"}, {m / "start_by_message.bpmn"}]
scenarios:
  - name: closing
    process: sig_wait
    at: 2026-11-24 17:30
    steps:
      - expect_tasks: []
      - signal: hall_closing
        with: {{closed_by: ann}}
      - expect_tasks: [tidy]
      - expect: {{variables: {{closed_by: ann}}}}
      - expect_tasks: [report]
        process: sig_start
  - name: keyed
    process: msg_receive_keyed
    at: 2026-11-24 09:00
    start: {{order_no: A-1}}
    steps:
      - start: msg_receive_keyed
        with: {{order_no: A-2}}
      - message: order_stamped
        key: A-2
        with: {{stamp: ok}}
      - expect_tasks: []
      - expect_tasks: [hand_out]
        process: msg_receive_keyed
      - message: order_stamped
        key: A-1
      - expect_tasks: [hand_out]
      - message: filing_received
        correlate: true
        process: msg_start_filing
      - expect_tasks: [check]
        process: msg_start_filing
      - expect: {{variables: {{}}}}
        process: msg_start_filing
  - name: nobody waits
    process: msg_receive_keyed
    at: 2026-11-24 09:00
    start: {{order_no: A-1}}
    steps:
      - message: order_stamped
        key: B-9
""",
        encoding="utf-8",
    )
    results = Runner({}, FIXTURES / "forms").run([p])
    outcome = {r.name: r.failure.lines() if r.failure else None for r in results}
    assert outcome["closing"] is None and outcome["keyed"] is None, outcome
    failure = outcome["nobody waits"]
    assert failure is not None and failure[0].startswith("step 1 (line ") and "message: order_stamped" in failure[0]
    assert any("error:" in line for line in failure), failure
