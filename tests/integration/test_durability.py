"""Two processes completing one task, and a process killed with -9 mid-work (both databases)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from hall.engine import Clock, Engine

ROOT = Path(__file__).resolve().parents[2]  # the repository (this file is in tests/TIER/)


def spawn(*args: str) -> subprocess.Popen:
    env = dict(os.environ, PYTHONPATH=str(ROOT / "tests"))
    return subprocess.Popen(
        [sys.executable, "-m", "workload", *args],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


@pytest.mark.timeout(300)  # three rounds of two processes, each allowed 60 s
def test_two_processes_complete_the_same_task_exactly_one_wins(engine: Engine, db_url: str) -> None:
    for _ in range(3):
        case = engine.start("linear7", None, {})
        task = case["tasks"][0]["id"]
        gun = str(time.time() + 1.5)
        procs = [spawn("complete", db_url, str(task), who, gun) for who in ("ann", "bob")]
        outs = [p.communicate(timeout=60)[0].strip() for p in procs]
        assert sorted(o.split()[0] for o in outs) == ["error", "ok"], outs
        loser = [o for o in outs if o.startswith("error")][0]
        assert "TaskAlreadyCompleted" in loser and f"task {task} already completed" in loser
        winner = "ann" if outs[0] == "ok" else "bob"
        history = engine.history(case["id"])
        completions = [h for h in history if h["kind"] == "task_completed"]
        assert [(h["actor"], h["detail"]["data"]) for h in completions] == [(winner, {"by": winner})]
        assert [t["name"] for t in engine.show(case["id"])["tasks"]] == ["step2"]


@pytest.mark.timeout(300)  # a subprocess allowed 60 s to acknowledge its steps, then the checks
def test_kill_9_mid_work_keeps_every_acknowledged_step_and_nothing_half_written(
    engine: Engine, db_url: str, make_engine
) -> None:
    for _ in range(5):
        engine.start("linear7", None, {})
    proc = spawn("churn", db_url)
    acked: list[int] = []
    deadline = time.time() + 60
    while len(acked) < 60 and time.time() < deadline:
        line = proc.stdout.readline()
        if line.startswith("ack "):
            acked.append(int(line.split()[1]))
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)
    assert len(acked) >= 60, proc.stderr.read()
    proc.stdout.close()  # the pipes of the killed process (an unclosed one is a ResourceWarning, an error here)
    proc.stderr.close()

    fresh = make_engine(forms_dir=None, clock=Clock())  # the worker ran on the wall clock
    for task_id in acked:
        assert fresh.task(task_id)["status"] == "completed"
    for inst in fresh.instances(process="linear7"):
        view = fresh.show(inst["id"])
        history = fresh.history(inst["id"])
        done = [h["element"] for h in history if h["kind"] == "task_completed"]
        created = [h["element"] for h in history if h["kind"] == "task_created"]
        # the stored state, the task index and the history agree step for step
        assert done == [f"step{i}" for i in range(1, len(done) + 1)]
        if view["status"] == "completed":
            assert len(done) == 7 and view["tasks"] == []
        else:
            assert [t["name"] for t in view["tasks"]] == [f"step{len(done) + 1}"]
            assert created[-1] == f"step{len(done) + 1}"
            assert view["variables"].get("step") == (done[-1] if done else None)
    # and work goes on from where it stopped
    for task in fresh.tasks(process="linear7"):
        fresh.complete(task["id"], {})
