"""Commands that only read cases do not load RestrictedPython (issue 15): the scripts' sandbox is
imported when the first script or condition is compiled, so `hall tasks` and `hall show` start
without it (about 3 ms), and a command that runs a script still gets it. Nor do they load the rest of
what only running a case needs: SpiffWorkflow, the deadline notation, the timer worker."""

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
HEAVY = ("SpiffWorkflow", "hall.engine.deadlines", "hall.engine.jobs.worker", "hall.engine.jobs.group")
from hall.cli import main
try:
    main(sys.argv[1:], standalone_mode=False)
finally:
    print("RestrictedPython" in sys.modules, file=sys.stderr)
    print(",".join(m for m in HEAVY if m in sys.modules), file=sys.stderr)
"""


def probe(*args: str) -> tuple[bool, str]:
    """(whether RestrictedPython was loaded, which of the other heavy modules were) for one command."""
    done = subprocess.run([sys.executable, "-c", PROBE, *args], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    restricted, heavy = done.stderr.splitlines()[-2:]
    return restricted == "True", heavy


def loads_restricted_python(*args: str) -> bool:
    return probe(*args)[0]


def test_tasks_and_show_do_not_load_restricted_python_and_a_script_does(tmp_path: Path) -> None:
    base = ["--db", str(tmp_path / "hall.db"), "--forms", str(FIXTURES / "forms"), "--config", str(tmp_path / "none")]
    (tmp_path / "none").write_text("calendar: {}\n", encoding="utf-8")
    runner = CliRunner()
    for args in (["init"], ["deploy", str(FIXTURES / "review.bpmn")], ["start", "review", "--set", "amount=3"]):
        assert runner.invoke(main, base + args).exit_code == 0
    for command in (["tasks"], ["show", "1"], ["instances"], ["history", "1"]):
        assert probe(*base, *command) == (False, ""), command
    # completing the registration runs the diagram's script task `number`: the sandbox is loaded then
    assert loads_restricted_python(*base, "complete", "1", "--set", "amount=4")
