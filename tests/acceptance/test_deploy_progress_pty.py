"""`hall deploy` of several files in a real terminal (a pty, driven by pexpect; issue 17 item 4): each
file is shown as it is checked and each process as it is stored, then the bar gives way to the result."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import FIXTURES

pexpect = pytest.importorskip("pexpect")


@pytest.mark.timeout(90)
def test_deploying_several_files_shows_each_file_on_a_terminal(tmp_path: Path) -> None:
    folder = tmp_path / "processes"
    folder.mkdir()
    for name in ("review.bpmn", "divide.bpmn", "follow_up.bpmn"):
        shutil.copy(FIXTURES / name, folder / name)
    hall = [sys.executable, "-m", "hall.cli", "--db", str(tmp_path / "hall.db"), "--forms", str(FIXTURES / "forms")]
    env = {**os.environ, "HALL_LANG": "en", "NO_COLOR": "1"}
    subprocess.run([*hall, "init"], env=env, cwd=tmp_path, capture_output=True, check=True)

    child = pexpect.spawn(
        hall[0], [*hall[1:], "deploy", str(folder)], env=env, cwd=str(tmp_path), encoding="utf-8", dimensions=(24, 250)
    )
    for name in ("divide.bpmn", "follow_up.bpmn", "review.bpmn"):  # in order, each with how far the deploy is
        child.expect(f"checking {folder / name}")
    child.expect("storing divide")
    child.expect("storing review .*3")
    child.expect("review: deployed as version 1")
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0
    # not on a terminal: the result only, no progress
    done = subprocess.run([*hall, "deploy", str(folder)], env=env, cwd=tmp_path, capture_output=True, text=True)
    assert "checking" not in done.stdout + done.stderr and "review: unchanged (version 1)" in done.stdout
