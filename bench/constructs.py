"""Count the construct diagrams of issue 12 that raw SpiffWorkflow and hall run as the BPMN 2.0
specification (chapter 13) says, from the traces in tests/fixtures/bpmn12/constructs/expected.yaml.

    python bench/constructs.py [--verbose]

Each case is played twice: by raw SpiffWorkflow 3.2 (its CamundaParser and BpmnWorkflow, in a
separate interpreter that never imports hall, so none of hall's patches apply), and by hall through
its public API on a fresh SQLite file. A case counts as run when every list of ready user tasks,
the variables and the final status are those expected; a case the expectations mark `refused`
counts for hall when validate refuses it with that one line (the library has no such check).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
CASES_DIR = HERE.parent / "tests" / "fixtures" / "bpmn12" / "constructs"


def load_cases() -> dict[str, dict]:
    """The cases of expected.yaml, by name."""
    from ruamel.yaml import YAML

    return dict(YAML(typ="safe").load((CASES_DIR / "expected.yaml").read_text(encoding="utf-8")))


def play(
    case: dict,
    start: Callable[[dict], None],
    ready: Callable[[], list[str]],
    complete: Callable[[str, dict], None],
    status: Callable[[], str],
    variables: Callable[[], dict],
) -> str:
    """'ok', or what first differed from the case's expectations."""
    start(case.get("data") or {})
    if sorted(ready()) != sorted(case["ready"]):
        return f"after start: ready {sorted(ready())}, expected {sorted(case['ready'])}"
    for name, value in (case.get("vars") or {}).items():
        if variables().get(name) != value:
            return f"after start: {name} = {variables().get(name)!r}, expected {value!r}"
    for step in case.get("steps") or []:
        complete(step["complete"], step.get("data") or {})
        if sorted(ready()) != sorted(step["ready"]):
            return f"after {step['complete']}: ready {sorted(ready())}, expected {sorted(step['ready'])}"
    if "status" in case and status() != case["status"]:
        return f"status {status()}, expected {case['status']}"
    return "ok"


def run_raw(case: dict) -> str:
    """The case under raw SpiffWorkflow (no hall module imported in this interpreter)."""
    from SpiffWorkflow.bpmn import BpmnWorkflow
    from SpiffWorkflow.camunda.parser import CamundaParser
    from SpiffWorkflow.util.task import TaskState

    parser = CamundaParser()
    parser.add_bpmn_file(str((CASES_DIR / case["file"]).resolve()))
    pid = parser.get_process_ids()[0]
    wf = BpmnWorkflow(parser.get_spec(pid), parser.get_subprocess_specs(pid))

    def manual() -> list[Any]:
        return list(wf.get_tasks(state=TaskState.READY, manual=True))

    def start(data: dict) -> None:
        for task in wf.get_tasks(state=TaskState.READY):
            task.data.update(data)
        wf.do_engine_steps()

    def complete(name: str, data: dict) -> None:
        task = next(t for t in manual() if t.task_spec.bpmn_id == name)
        task.data.update(data)
        task.run()
        wf.refresh_waiting_tasks()
        wf.do_engine_steps()

    def variables() -> dict:
        tasks = manual()
        return dict(tasks[0].data) if tasks else dict(wf.data)

    return play(
        case,
        start,
        lambda: [t.task_spec.bpmn_id for t in manual()],
        complete,
        lambda: "completed" if wf.is_completed() else "running",
        variables,
    )


def run_hall(case: dict, folder: Path) -> str:
    """The case under hall, through its public API on a fresh SQLite file."""
    from hall import Engine
    from hall.engine.clock import FixedClock
    from lxml import etree

    path = (CASES_DIR / case["file"]).resolve()
    eng = Engine(f"sqlite:///{folder / 'hall.db'}", clock=FixedClock(datetime.fromisoformat("2026-11-24T09:00+08:00")))
    eng.init()
    findings = [str(f) for f in eng.validate([path])]
    if "refused" in case:
        if len(findings) == 1 and case["refused"] in findings[0]:
            return "refused"
        return f"expected one finding with {case['refused']!r}, got {findings}"
    if findings:
        return f"refused: {findings[0]}"
    eng.deploy([path])
    process = etree.parse(str(path)).getroot().find("{http://www.omg.org/spec/BPMN/20100524/MODEL}process")
    instance: dict = {}

    def start(data: dict) -> None:
        instance.update(eng.start(process.get("id"), data=data))

    def ready() -> list[str]:
        return [t["name"] for t in eng.tasks(instance=instance["id"])]

    def complete(name: str, data: dict) -> None:
        task = next(t for t in eng.tasks(instance=instance["id"]) if t["name"] == name)
        eng.complete(task["id"], data)

    return play(
        case,
        start,
        ready,
        complete,
        lambda: eng.show(instance["id"])["status"],
        lambda: eng.show(instance["id"])["variables"],
    )


def guarded(run: Callable[[], str]) -> str:
    """The run's outcome, an exception as its first line."""
    try:
        return run()
    except Exception as exc:  # noqa: BLE001 - a crash is an outcome to count
        return f"crash: {type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}"


def main() -> None:
    """Print each case's outcome under both, then the counts."""
    args = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    args.add_argument("--verbose", action="store_true", help="print each case's outcome")
    args.add_argument("--raw-json", action="store_true", help=argparse.SUPPRESS)
    opts = args.parse_args()
    cases = load_cases()
    if opts.raw_json:  # the child interpreter: raw SpiffWorkflow only
        print(json.dumps({name: guarded(lambda c=case: run_raw(c)) for name, case in cases.items()}))
        return
    child = subprocess.run(
        [sys.executable, __file__, "--raw-json"], capture_output=True, text=True, check=True, cwd=HERE.parent
    )
    raw = json.loads(child.stdout.strip().splitlines()[-1])
    hall = {}
    for name, case in cases.items():
        with tempfile.TemporaryDirectory() as tmp:
            hall[name] = guarded(lambda c=case, t=tmp: run_hall(c, Path(t)))
    if opts.verbose:
        for name in cases:
            print(f"{name:32} raw: {raw[name]}\n{'':32} hall: {hall[name]}")
    runnable = [n for n, c in cases.items() if "refused" not in c]
    print(f"cases: {len(cases)} ({len(runnable)} to run, {len(cases) - len(runnable)} hall refuses by design)")
    print(f"raw SpiffWorkflow 3.2 runs as specified: {sum(raw[n] == 'ok' for n in cases)} of {len(cases)}")
    print(
        f"hall runs as specified: {sum(hall[n] == 'ok' for n in runnable)} of {len(runnable)}; "
        f"refuses in validate as intended: {sum(hall[n] == 'refused' for n in cases if n not in runnable)} "
        f"of {len(cases) - len(runnable)}"
    )


if __name__ == "__main__":
    main()
