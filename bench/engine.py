"""Engine benchmark: durable throughput against raw in-memory SpiffWorkflow, in the same run.

    python bench/engine.py [--instances 300] [--big 100000] [--db /tmp/hall-bench.db]

Prints: durable completions/s (7-user-task process through the Python API on a file SQLite
database) and raw SpiffWorkflow completions/s on the same process in memory, their ratio; bytes
written per step at loop iterations 1 and 50; peak memory; and, with --big N instances in the
database, the wall time of `hall tasks --role R` and `hall complete` as staff run them.
"""
from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
import resource
from datetime import datetime, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
FIXTURES = ROOT / "tests" / "fixtures"


def raw_spiff(n: int) -> float:
    """Completions/s of raw SpiffWorkflow, in memory, on the same linear 7-task process."""
    from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
    from SpiffWorkflow.camunda.parser import CamundaParser
    from SpiffWorkflow.util.task import TaskState
    parser = CamundaParser()
    parser.add_bpmn_file(str(FIXTURES / "linear7.bpmn"))
    spec = parser.get_spec("linear7")
    done = 0
    t0 = time.perf_counter()
    for _ in range(n):
        wf = BpmnWorkflow(spec)
        wf.do_engine_steps()
        while not wf.completed:
            task = wf.get_next_task(state=TaskState.READY, manual=True)
            task.data.update({"step": task.task_spec.name})
            task.run()
            wf.do_engine_steps()
            done += 1
    return done / (time.perf_counter() - t0)


def durable(db: str, n: int) -> tuple[float, float]:
    """(completions/s, starts/s) through the public API on a file SQLite database."""
    from engine import Engine
    eng = Engine(db, forms_dir=None)
    eng.init()
    eng.deploy([FIXTURES / "linear7.bpmn", FIXTURES / "loop.bpmn", FIXTURES / "review.bpmn"])
    t0 = time.perf_counter()
    cases = [eng.start("linear7", None, {}) for _ in range(n)]
    starts = n / (time.perf_counter() - t0)
    done = 0
    t0 = time.perf_counter()
    for case in cases:
        while case["tasks"]:
            task = case["tasks"][0]
            case = eng.complete(task["id"], {"step": task["name"]})
            done += 1
    rate = done / (time.perf_counter() - t0)
    eng.close()
    return rate, starts


def loop_bytes(db: str, iterations: int = 50) -> tuple[int, int]:
    """Bytes written by the 'plan' completion at loop iteration 1 and at iteration N."""
    from engine import Engine
    eng = Engine(db, forms_dir=None)
    case = eng.start("loop", None, {})
    sizes = []
    for _ in range(iterations):
        case = eng.complete(case["tasks"][0]["id"], {"note": "planned"})
        sizes.append(eng.runtime.last_bytes_written)
        case = eng.complete(case["tasks"][0]["id"], {"done": False})
    eng.close()
    return sizes[0], sizes[-1]


def staff_commands(db: str, big: int) -> tuple[float, float, int]:
    """Wall time of `hall tasks --role R` and `hall complete` with `big` instances in the database."""
    from engine import Engine
    eng = Engine(db, forms_dir=None)
    have = sum(sum(by_status.values()) for by_status in eng.counts().values())
    t0 = time.perf_counter()
    for i in range(have, big):
        eng.start("review", f"B{i}", {"amount": i})
        if i % 10_000 == 0:
            print(f"  ... {i} instances", flush=True)
    if big > have:
        print(f"  (filled to {big} instances in {time.perf_counter() - t0:.0f} s)")
    task = eng.tasks(role="clerk")[0]["id"]
    eng.close()
    env = dict(os.environ, HALL_DB=db, PYTHONPATH=str(ROOT))
    hall = [sys.executable, str(ROOT / "cli.py")]

    def timed(*args: str) -> float:
        best = float("inf")
        for _ in range(3):
            t = time.perf_counter()
            subprocess.run(hall + list(args), env=env, check=True, capture_output=True)
            best = min(best, time.perf_counter() - t)
        return best

    t_tasks = timed("tasks", "--role", "clerk")
    t0 = time.perf_counter()
    out = subprocess.run(hall + ["--forms", str(FIXTURES / "forms"), "complete", str(task), "--set", "amount=1"],
                         env=env, capture_output=True, text=True)
    t_complete = time.perf_counter() - t0
    assert out.returncode == 0, out.stderr
    return t_tasks, t_complete, big


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--instances", type=int, default=300)
    ap.add_argument("--big", type=int, default=0, help="fill the database to N instances and time staff commands")
    ap.add_argument("--db", default="/tmp/hall-bench.db")
    args = ap.parse_args()
    if args.big == 0:
        for suffix in ("", "-wal", "-shm"):
            Path(args.db + suffix).unlink(missing_ok=True)
    db = f"sqlite:///{args.db}"

    raw = raw_spiff(args.instances)
    rate, starts = durable(db, args.instances)
    first, last = loop_bytes(db)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    print(f"hall bench on {datetime.now(timezone.utc):%Y-%m-%d}, Python {sys.version.split()[0]}, {os.cpu_count()} cores")
    print(f"raw SpiffWorkflow in memory : {raw:8.0f} completions/s")
    print(f"hall durable (SQLite file)  : {rate:8.0f} completions/s   ratio {rate / raw:.2f} (target >= 0.20)")
    print(f"hall starts                 : {starts:8.0f} instances/s")
    print(f"bytes written per step      : iteration 1 = {first} B, iteration 50 = {last} B, "
          f"ratio {last / first:.2f} (target <= 2)")
    print(f"peak memory (max RSS)       : {peak / 1e6:.1f} MB")
    if args.big:
        t_tasks, t_complete, n = staff_commands(db, args.big)
        print(f"with {n} instances: hall tasks --role clerk = {t_tasks:.2f} s (target <= 0.5), "
              f"hall complete = {t_complete:.2f} s (target <= 0.8)")


if __name__ == "__main__":
    main()
