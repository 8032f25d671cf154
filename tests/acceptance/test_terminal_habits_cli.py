"""Terminal habits (issue 17, item 4): --version, examples in --help, shell completion, and the
worker's log: a line per firing (INFO), retry (WARNING) and incident (ERROR), more with --verbose."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import FIXTURES
from hall.cli import main


def test_version_and_examples_in_help() -> None:
    from importlib.metadata import version

    runner = CliRunner()
    result = runner.invoke(main, ["--version"])
    assert result.exit_code == 0 and result.stdout == f"hall {version('hall')}\n"
    result = runner.invoke(main, ["--help"])
    assert "Examples (a clerk's day):" in result.stdout and "hall find TS20261124-0002" in result.stdout
    result = runner.invoke(main, ["complete", "--help"])
    assert "hall complete 12 --set 备案意见=同意备案" in result.stdout


def test_shell_completion_as_documented() -> None:
    result = CliRunner().invoke(main, [], prog_name="hall", env={"_HALL_COMPLETE": "bash_source"})
    assert result.exit_code == 0 and "_hall_completion()" in result.stdout
    result = CliRunner().invoke(
        main,
        [],
        prog_name="hall",
        env={"_HALL_COMPLETE": "bash_complete", "COMP_WORDS": "hall compl", "COMP_CWORD": "1"},
    )
    assert "plain,complete" in result.stdout


@pytest.fixture
def hall(tmp_path: Path):
    runner = CliRunner()
    db = str(tmp_path / "hall.db")

    def run(now: str, *args: str) -> tuple[int, str]:
        result = runner.invoke(main, ["--db", db, "--forms", str(FIXTURES / "forms"), "--now", now, *args])
        return result.exit_code, result.stdout

    assert run("2026-11-24T09:00+08:00", "init", "--rehearsal")[0] == 0
    assert (
        run("2026-11-24T09:00+08:00", "deploy", str(FIXTURES / "timers.bpmn"), str(FIXTURES / "timer_wait.bpmn"))[0]
        == 0
    )
    return run


def test_worker_logs_a_firing_and_with_verbose_its_start(hall) -> None:
    hall("2026-11-24T09:00+08:00", "start", "timer_wait")
    code, out = hall("2026-11-25T09:00+08:00", "worker", "--once", "--verbose")
    lines = out.splitlines()
    assert code == 0 and lines[0].startswith("worker starting: batch 100, lease 60 s")
    assert lines[1].startswith("fired    instance 1 ")
    code, out = hall("2026-11-25T09:00+08:00", "worker", "--once")
    assert code == 0 and "starting" not in out


def test_worker_logs_a_retry_as_warning_and_an_incident_as_error(hall, monkeypatch) -> None:
    from hall.engine.runtime import Runtime

    def broken(*args, **kwargs):
        raise RuntimeError("connection to the message bus lost")

    hall("2026-11-24T09:00+08:00", "start", "timer_wait")
    monkeypatch.setattr(Runtime, "fire_timer", broken)
    code, out = hall("2026-11-25T09:00+08:00", "worker", "--once", "--max-attempts", "2")
    assert code == 0
    assert out.splitlines()[0].startswith("WARNING retry    instance 1 ")
    assert "error: RuntimeError: connection to the message bus lost  next attempt" in out
    code, out = hall("2026-11-25T10:00+08:00", "worker", "--once", "--max-attempts", "2")
    assert out.splitlines()[0].startswith("ERROR incident instance 1 ")
