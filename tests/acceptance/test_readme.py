"""Every code block of the README runs as written (issue 17, item 6): the shell blocks with bash and the
installed `hall`, the Python blocks with this interpreter, in order, in a fresh folder holding the
repository's processes/, forms/ and hall.yaml (the README's "from a clone"). A block preceded by
`<!-- readme-test: skip (why) -->` is not run; only the install block is, and it says why."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import ROOT

FENCE = re.compile(r"(<!-- readme-test: skip \(([^)]+)\) -->\n)?```(\w*)\n(.*?)```", re.S)


def blocks() -> list[tuple[str, str, str | None]]:
    """(language, code, why skipped or None) of each fenced block of the README."""
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    return [(m.group(3), m.group(4), m.group(2)) for m in FENCE.finditer(text)]


def test_every_block_has_a_language_and_only_the_install_block_is_skipped() -> None:
    found = blocks()
    assert found and all(lang in ("sh", "python") for lang, _, _ in found)
    skipped = [code for _, code, why in found if why]
    assert len(skipped) == 1 and "pip install" in skipped[0]


@pytest.mark.timeout(300)
def test_every_readme_block_runs_as_written(tmp_path: Path) -> None:
    for part in ("processes", "forms"):
        shutil.copytree(ROOT / part, tmp_path / part)
    shutil.copy(ROOT / "hall.yaml", tmp_path / "hall.yaml")
    bin_dir = str(Path(sys.executable).parent)  # where pip put `hall`
    env = {**os.environ, "PATH": bin_dir + os.pathsep + os.environ.get("PATH", "")}
    for key in ("HALL_DB", "HALL_USER", "HALL_NOW", "HALL_CONFIG", "HALL_FORMS"):
        env.pop(key, None)
    outputs = []
    for lang, code, why in blocks():
        if why:
            continue
        if lang == "sh":
            command = ["bash", "-euo", "pipefail", "-c", code]
        else:
            command = [sys.executable, "-c", code]
        done = subprocess.run(command, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=240)
        assert done.returncode == 0, f"README block failed:\n{code}\nstdout:\n{done.stdout}\nstderr:\n{done.stderr}"
        outputs.append(done.stdout)
    assert len(outputs) >= 4
    assert (tmp_path / "回执.html").exists()  # the clerk printed the receipt
    owner = next(out for out in outputs if "suggestion" in out and "v2" in out)  # the change is version 2
    assert [line.split()[:2] for line in owner.splitlines() if line.startswith("suggestion ")][-2:] == [
        ["suggestion", "v1"],
        ["suggestion", "v2"],
    ]
