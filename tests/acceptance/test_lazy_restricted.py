"""Commands that only read cases do not load RestrictedPython (issue 15): the scripts' sandbox is
imported when the first script or condition is compiled, so `hall tasks` and `hall show` start
without it (about 3 ms), and a command that runs a script still gets it."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from click.testing import CliRunner
from conftest import FIXTURES
from hall.cli import main

# runs one `hall` command in a fresh interpreter, then says whether RestrictedPython was imported
PROBE = """
import sys
from hall.cli import main
try:
    main(sys.argv[1:], standalone_mode=False)
finally:
    print("RestrictedPython" in sys.modules, file=sys.stderr)
"""


def loads_restricted_python(*args: str) -> bool:
    done = subprocess.run([sys.executable, "-c", PROBE, *args], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    return done.stderr.strip().splitlines()[-1] == "True"


def test_tasks_and_show_do_not_load_restricted_python_and_a_script_does(tmp_path: Path) -> None:
    base = ["--db", str(tmp_path / "hall.db"), "--forms", str(FIXTURES / "forms"), "--config", str(tmp_path / "none")]
    (tmp_path / "none").write_text("calendar: {}\n", encoding="utf-8")
    runner = CliRunner()
    for args in (["init"], ["deploy", str(FIXTURES / "review.bpmn")], ["start", "review", "--set", "amount=3"]):
        assert runner.invoke(main, base + args).exit_code == 0
    for command in (["tasks"], ["show", "1"], ["instances"], ["history", "1"]):
        assert not loads_restricted_python(*base, *command), command
    # completing the registration runs the diagram's script task `number`: the sandbox is loaded then
    assert loads_restricted_python(*base, "complete", "1", "--set", "amount=4")
