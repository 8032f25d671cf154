"""The interactive `hall complete` in a real terminal (a pty, driven by pexpect; issue 17 item 2):
Ctrl-C in the middle of a form keeps a draft, and the next `hall complete` resumes it."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import FIXTURES

pexpect = pytest.importorskip("pexpect")

NOW = "2026-11-24T09:00:00+08:00"
FORM = """\
title: 登记
template: |
  登记：金额
fields:
  - name: amount
    label: 金额
    type: int
  - name: 意见
    type: choice
    choices: [同意, 退回]
"""


@pytest.mark.timeout(90)
def test_ctrl_c_keeps_a_draft_that_the_next_complete_resumes(tmp_path: Path) -> None:
    forms = tmp_path / "forms"
    forms.mkdir()
    (forms / "register.yaml").write_text(FORM, encoding="utf-8")
    shutil.copy(FIXTURES / "forms" / "approve.yaml", forms / "approve.yaml")
    hall = [sys.executable, "-m", "hall.cli", "--db", str(tmp_path / "hall.db"), "--forms", str(forms), "--now", NOW]
    env = {**os.environ, "HALL_LANG": "en", "NO_COLOR": "1"}

    def run(*args: str) -> str:
        done = subprocess.run([*hall, *args], env=env, capture_output=True, text=True, check=True, cwd=tmp_path)
        return done.stdout

    run("init", "--rehearsal")
    run("deploy", str(FIXTURES / "review.bpmn"))
    run("start", "review")

    child = pexpect.spawn(hall[0], [*hall[1:], "complete", "1"], env=env, cwd=str(tmp_path), encoding="utf-8")
    child.expect("金额")
    child.sendline("42")
    child.expect("1\\) 同意")
    child.expect("意见")
    child.sendintr()  # Ctrl-C at the second question
    child.expect("draft kept: `hall complete 1` goes on from here")
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 130

    child = pexpect.spawn(hall[0], [*hall[1:], "complete", "1"], env=env, cwd=str(tmp_path), encoding="utf-8")
    child.expect("resuming your draft of 2026-11-24 09:00")
    child.expect("意见")  # 金额 is filled in: the first question is the one left
    child.sendline("退")
    child.expect("1. 金额：42")
    child.expect("Enter submits")
    child.sendline("")
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0
    assert '"amount": 42' in run("show", "1", "--json")
