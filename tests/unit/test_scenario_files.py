"""Reading scenario files (`hall test`, issue 18): every mistake is one line naming the file and line,
before anything runs; JUnit XML and the in-order check of passed elements."""

from __future__ import annotations

from pathlib import Path

import pytest
from hall.engine.errors import ScenarioInvalid
from hall.engine.scenarios import Failure, Result, _in_order, collect, junit_xml, load_file

GOOD = """\
process: complaint
scenarios:
  - name: 受理
    at: 2026-09-30 16:00
    start: {渠道: 热线}
    steps:
      - complete: register
        as: 小孙
        with: {投诉类型: 服务质量}
      - advance: 1 working day
      - expect_history: [timer_fired: contact_overdue]
"""


def write(tmp_path: Path, text: str, name: str = "s.yaml") -> Path:
    p = tmp_path / name
    p.write_text(text, encoding="utf-8")
    return p


def test_a_scenario_file_is_read_with_its_steps_and_lines(tmp_path: Path) -> None:
    sf = load_file(write(tmp_path, GOOD))
    [sc] = sf.scenarios
    assert (sc.name, sc.process, sc.start, sc.line) == ("受理", "complaint", {"渠道": "热线"}, 3)
    assert [(s.kind, s.value, s.line) for s in sc.steps] == [
        ("complete", "register", 7),
        ("advance", "1 working day", 10),
        ("expect_history", [{"timer_fired": "contact_overdue"}], 11),
    ]
    assert sc.steps[0].options == {"as": "小孙", "with": {"投诉类型": "服务质量"}}
    assert sf.definitions == [tmp_path]  # beside the diagrams unless in a tests/ folder


def test_files_in_a_tests_folder_rehearse_the_diagrams_above_it(tmp_path: Path) -> None:
    (tmp_path / "tests").mkdir()
    assert load_file(write(tmp_path / "tests", GOOD)).definitions == [tmp_path]


@pytest.mark.parametrize(
    "broken,line,words",
    [
        (GOOD.replace("      - advance: 1 working day\n", "      - advance 1 working day: [\n"), 11, "not valid YAML"),
        (GOOD.replace("complete: register", "finish: register"), 7, "no step in one item"),
        (GOOD.replace("        as: 小孙\n", "        by: 小孙\n"), 8, "complete: unknown option 'by'"),
        (GOOD.replace("    at: 2026-09-30 16:00\n", ""), 3, "needs `at:`"),
        (GOOD.replace("    at: 2026-09-30 16:00\n", "    at: 昨天\n"), 4, "is not a time"),
        (GOOD.replace("process: complaint\n", "proces: complaint\n"), 1, "unknown key 'proces'"),
        (GOOD.replace("      - advance: 1 working day\n", "      - expect_tasks: contact\n"), 10, "lists element ids"),
        (GOOD + GOOD[GOOD.index("  - name") :], 12, "named twice"),
    ],
)
def test_a_broken_file_is_one_line_with_its_line(tmp_path: Path, broken: str, line: int, words: str) -> None:
    p = write(tmp_path, broken)
    with pytest.raises(ScenarioInvalid) as caught:
        load_file(p)
    message = str(caught.value)
    assert message.startswith(f"{p}:{line}: ") and words in message and "\n" not in message


def test_collect_takes_a_folders_yaml_files_and_refuses_a_missing_path(tmp_path: Path) -> None:
    write(tmp_path, GOOD, "b.yaml")
    write(tmp_path, GOOD, "a.yml")
    write(tmp_path, "not a scenario", "notes.txt")
    assert [p.name for p in collect([tmp_path])] == ["a.yml", "b.yaml"]
    with pytest.raises(ScenarioInvalid, match="no such file or folder"):
        collect([tmp_path / "missing"])


def test_passed_in_order_allows_elements_between_but_not_another_order() -> None:
    passed = ["start", "register", "classify", "gw", "contact", "rectify", "feedback", "rectify", "feedback"]
    assert _in_order(["register", "contact", "rectify", "rectify"], passed)
    assert not _in_order(["contact", "register"], passed)
    assert not _in_order(["rectify", "rectify", "rectify"], passed)


def test_junit_xml_has_a_testcase_per_scenario_and_the_failure_diff(tmp_path: Path) -> None:
    from xml.etree import ElementTree

    f = tmp_path / "c.yaml"
    results = [
        Result(f, "一轮处结", 3, 0.5),
        Result(f, "逾期督办", 20, 0.25, Failure(4, 27, "expect_task: contact", ["due: 16:45"], ["due: 17:00"])),
    ]
    suite = ElementTree.fromstring(junit_xml(results))
    assert (suite.get("tests"), suite.get("failures")) == ("2", "1")
    cases = suite.findall("testcase")
    assert [c.get("name") for c in cases] == ["一轮处结", "逾期督办"]
    failure = cases[1].find("failure")
    assert failure is not None and "step 4 (line 27) expect_task: contact" in (failure.text or "")
    assert "- due: 16:45" in (failure.text or "") and cases[0].find("failure") is None
