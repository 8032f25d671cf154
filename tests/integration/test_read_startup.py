"""A staff member's read-only command loads neither the script compiler (RestrictedPython) nor
SpiffWorkflow: they wait on every command, and only a command that runs a step needs them."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

HEAVY = ("RestrictedPython", "SpiffWorkflow")


def test_hall_tasks_loads_no_script_compiler_nor_spiffworkflow(tmp_path: Path) -> None:
    db = tmp_path / "hall.db"
    code = (
        "import sys\n"
        "from hall.cli import main\n"
        f"for args in (['--db', {str(db)!r}, 'init'], ['--db', {str(db)!r}, 'tasks']):\n"
        "    try:\n"
        "        main(args)\n"
        "    except SystemExit as done:\n"
        "        assert not done.code, done.code\n"
        f"print(sorted({{m.split('.')[0] for m in sys.modules if m.startswith({HEAVY!r})}}))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=tmp_path)
    assert out.stdout.splitlines()[-1] == "[]"
