"""`hall complete` at a terminal (issue 17, item 2): conditional fields asked when their condition holds,
each answer checked as typed, numbered choices and unique starts, several lines, the case's values
and the field's help offered, a review that changes any field, and a draft kept on Ctrl-C or a refused
submit that the next `hall complete` resumes. The pty-driven twin is test_prompt_pty.py."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import FIXTURES
from hall.cli import main

NOW = "2026-11-24T09:00:00+08:00"

REGISTER = """\
title: 登记
template: |
  金额：{{ data.amount }}
fields:
  - name: amount
    label: 金额
    type: int
    min: 0
  - name: 意见
    type: choice
    choices: [同意备案, 材料不全, 不予备案]
    help: R-F2 先看材料
  - name: 未办结原因
    type: choice
    required: false
    required_when: {意见: 材料不全}
    choices: [首次来访材料不全, 告知不清, 客户未补齐已告知材料]
  - name: 说明
    type: multiline
    required: false
  - name: 渠道
    type: text
"""


@pytest.fixture
def hall(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """`hall` on a fresh SQLite file with a register form of every prompt feature, at a 'terminal'."""
    from hall import cli

    forms = tmp_path / "forms"
    forms.mkdir()
    (forms / "register.yaml").write_text(REGISTER, encoding="utf-8")
    shutil.copy(FIXTURES / "forms" / "approve.yaml", forms / "approve.yaml")
    monkeypatch.setattr(cli, "stdin_is_terminal", lambda: True)
    runner = CliRunner()
    db = f"sqlite:///{tmp_path / 'hall.db'}"

    def run(*args: str, input: str | None = None) -> tuple[int, str, str]:
        base = ["--db", db, "--forms", str(forms), "--now", NOW]
        result = runner.invoke(main, base + list(args), input=input, catch_exceptions=False)
        return result.exit_code, result.stdout, result.stderr

    assert run("init", "--rehearsal")[0] == 0
    assert run("deploy", str(FIXTURES / "review.bpmn"))[0] == 0
    return run


def variables(hall) -> dict:
    return json.loads(hall("show", "1", "--json")[1])["variables"]


def test_conditional_field_numbered_choice_prefix_lines_defaults_help_and_review(hall) -> None:
    hall("start", "review", "--set", "amount=3", "--set", "渠道=热线")
    answers = [
        "",  # 金额: the case's 3
        "9",  # not a choice number: refused, asked again
        "2",  # 材料不全
        "",  # 未办结原因 is required now: refused
        "告知",  # the unique start of 告知不清
        "第一行",
        "第二行",
        "",  # the empty line ends 说明
        "",  # 渠道: the case's 热线
        "2",  # review: change 意见 ...
        "同意",  # ... to 同意备案: 未办结原因 is no longer asked
        "",  # review: submit
    ]
    code, out, err = hall("complete", "1", input="\n".join(answers) + "\n")
    assert code == 0, err
    assert "help: R-F2 先看材料" in out and "1) 同意备案   2) 材料不全   3) 不予备案" in out
    assert "金额 (整数，≥0) [3]" in out and "渠道 [热线]" in out
    assert "没有这个选项：9" in err and "必填（意见为材料不全时）" in err
    assert "3. 未办结原因：告知不清" in out  # the first review
    assert out.count("Review before submitting:") == 2
    got = variables(hall)
    assert got["意见"] == "同意备案" and got["未办结原因"] is None
    assert got["说明"] == "第一行\n第二行" and got["渠道"] == "热线" and got["amount"] == 3


def test_hall_task_shows_each_fields_help(hall) -> None:
    hall("start", "review", "--set", "amount=3")
    out = hall("task", "1")[1]
    assert "  - 意见 [同意备案/材料不全/不予备案]\n      R-F2 先看材料\n" in out


def test_an_ambiguous_start_is_asked_again_naming_the_choices(hall) -> None:
    hall("start", "review", "--set", "amount=3", "--set", "渠道=热线")
    code, out, err = hall("complete", "1", input="\n".join(["", "备案", "不予", "", "", ""]) + "\n")
    assert code == 0, err
    assert "“备案”可指：同意备案、不予备案" in err
    assert variables(hall)["意见"] == "不予备案"


def test_interrupted_prompt_keeps_a_draft_that_the_next_complete_resumes(hall, tmp_path: Path) -> None:
    hall("start", "review", "--set", "amount=3", "--set", "渠道=热线")
    code, out, err = hall("complete", "1", input="7\n1\n")  # then the input ends, as Ctrl-C does
    assert code == 130 and "draft kept: `hall complete 1` goes on from here" in err
    code, out, err = hall("complete", "1", input="\n\n\n")  # 说明, 渠道, then submit at the review
    assert code == 0, err
    assert "resuming your draft of 2026-11-24 09:00" in out
    assert " 1. 金额：7" in out and " 2. 意见：同意备案" in out
    assert variables(hall)["amount"] == 7
    from hall.engine import Engine

    with Engine(f"sqlite:///{tmp_path / 'hall.db'}") as eng:
        assert eng.draft(1) is None  # submitted: the draft is gone


def test_q_at_the_review_keeps_the_draft_and_a_refused_submit_too(hall) -> None:
    hall("start", "review", "--set", "amount=3", "--set", "渠道=热线")
    code, _, err = hall("complete", "1", input="\n1\n\n\nq\n")
    assert code == 1 and "draft kept" in err
    assert variables(hall)["amount"] == "3"  # nothing submitted: as `hall start --set` gave it
    # a submit the engine refuses (a name the form has not) keeps the form's answers as the draft
    code, out, err = hall("complete", "1", "--set", "bogus=1", input="\n")
    assert code == 1 and "bogus" in err and "draft kept" in err
    code, out, err = hall("complete", "1", input="\n")
    assert code == 0 and "resuming your draft" in out, err


def test_without_a_terminal_nothing_is_asked_and_no_draft_is_read(hall, monkeypatch) -> None:
    from hall import cli

    hall("start", "review", "--set", "amount=3", "--set", "渠道=热线")
    hall("complete", "1", input="5\n")  # a draft with 金额 5
    monkeypatch.setattr(cli, "stdin_is_terminal", lambda: False)
    code, _, err = hall("complete", "1", "--set", "amount=4", "--set", "意见=同意备案", "--set", "渠道=窗口")
    assert code == 0, err
    assert variables(hall)["amount"] == 4
