"""The process owner's workbench behind `hall test`: run scenario files and print them as pytest
does (a line per scenario, the failing step's diff, a summary), JUnit XML for CI, coverage drawn
on the diagrams, and a scenario recorded from a real case. Generic: no service-hall knowledge."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any

from .errors import HallError, OutputNotWritable
from .scenarios import Result, Runner, elapsed, junit_xml


def write_text(path: str | Path, text: str) -> None:
    """Write an output file; OutputNotWritable (one line) when the folder or file cannot be written."""
    p = Path(path)
    try:
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise OutputNotWritable(str(p), exc.strerror or str(exc)) from None


def run_tests(
    paths: Iterable[str | Path],
    settings: Mapping[str, Any],
    forms_dir: str | Path | None,
    echo: Callable[[str], Any],
    junit: str | Path | None = None,
    coverage_dir: str | Path | None = None,
) -> bool:
    """`hall test`: run the scenarios, print a line per scenario and each failure's diff; True when
    all passed. A file that cannot be read stops before anything runs (ScenarioInvalid)."""
    began = time.perf_counter()
    runner = Runner(settings, forms_dir)

    def show(r: Result) -> None:
        mark = "PASSED" if r.passed else "FAILED"
        echo(f"{r.file}:{r.line}: {r.name} {mark} ({elapsed(r.seconds)})")
        if r.failure is not None:
            for line in r.failure.lines():
                echo("    " + line)

    results = runner.run(paths, show)
    failed = sum(1 for r in results if not r.passed)
    passed = len(results) - failed
    summary = f"{passed} passed" + (f", {failed} failed" if failed else "")
    echo(f"{summary} in {elapsed(time.perf_counter() - began)}")
    if junit:
        write_text(junit, junit_xml(results))
    if coverage_dir:
        from .diagram.coverage import write_coverage

        for line in write_coverage(runner.coverage, Path(coverage_dir)):
            echo(line)
    return failed == 0


def record(eng: Any, instance_id: Any, user: str | None = None) -> str:
    """`hall test record INSTANCE`: a scenario file replaying a case's history — its start data, each
    completion, claim, message, retry and cancellation with its user and time, the timers as the
    clock moving on — and expecting the path it took, its ready tasks and its status. A case the
    user may not read (confidential) is recorded without its content."""
    import json

    view = eng.show(instance_id, user=user)
    rows = eng.history(instance_id, user=user)
    hidden = bool(view.get("redacted"))
    tz = eng.deadlines.calendar.tz

    def when(text: str) -> str:
        from datetime import datetime

        return datetime.fromisoformat(text).astimezone(tz).strftime("%Y-%m-%d %H:%M:%S")

    def flow(value: Any) -> str:
        return json.dumps(value, ensure_ascii=False, default=str)

    def given(data: Any) -> dict:
        return {k: v for k, v in (data or {}).items() if v is not None} if not hidden else {}

    started = next((r for r in rows if r["kind"] == "started"), None)
    if started is None:
        raise HallError(f"case {instance_id} has no `started` row in its history to replay")
    name = f"案件 {view.get('business_key') or view['id']} 回放"
    out = [
        f"# Recorded by `hall test record {view['id']}` from case {view['id']} ({view['process']} v{view['version']}).",
        "# Save it under processes/tests/ and edit the expectations to what the case should have done.",
    ]
    if hidden:
        out.append("# The case is confidential: its data is left out (required fields get ordinary answers).")
    out += [
        f"process: {view['process']}",
        "scenarios:",
        f"  - name: {flow(name)}",
        f'    at: "{when(started["at"])}"',
    ]
    if started.get("actor"):
        out.append(f"    as: {flow(started['actor'])}")
    out.append(f"    start: {flow(given((started.get('detail') or {}).get('data')))}")
    out.append("    steps:")
    for r in rows:
        kind, detail, element = r["kind"], r.get("detail") or {}, r.get("element")
        actor = f"\n        as: {flow(r['actor'])}" if r.get("actor") else ""
        at = f'\n        at: "{when(r["at"])}"'
        if kind == "task_completed":
            data = given(detail.get("data"))
            out.append(f"      - complete: {element}{at}{actor}" + (f"\n        with: {flow(data)}" if data else ""))
        elif kind in ("task_claimed", "task_unclaimed"):
            verb = "claim" if kind == "task_claimed" else "unclaim"
            out.append(f"      - {verb}: {element}{at}{actor}")
        elif kind == "timer_fired":
            out.append(f'      - advance: "{when(r["at"])}"        # timer {element}')
        elif kind == "message_received" and detail.get("source") is None:
            payload = detail.get("payload") if not hidden else None
            out.append(f"      - message: {flow(detail.get('name'))}{at}{actor}")
            if isinstance(payload, dict) and payload:
                out.append(f"        with: {flow(payload)}")
        elif kind == "retried":
            data = given(detail.get("data"))
            out.append(f"      - retry:{at}{actor}" + (f"\n        with: {flow(data)}" if data else ""))
        elif kind == "cancelled":
            out.append(f"      - cancel: {flow(detail.get('reason') if not hidden else '撤销')}{at}{actor}")
        elif kind in ("suspended", "resumed", "migrated", "task_reassigned"):
            out.append(f"      # {kind} at {when(r['at'])}: not replayed")
    if not hidden:
        passed = [p["element"] for p in eng.path(instance_id, user=user) if p["state"] == "passed"]
        out.append(f"      - expect_passed_in_order: {flow(passed)}")
    out.append(f"      - expect_tasks: {flow(sorted(t['name'] for t in view.get('tasks') or []))}")
    out.append(f"      - expect: {{status: {view['status']}}}")
    return "\n".join(out) + "\n"


def scenario_files_for(paths: Iterable[str | Path], processes: set[str]) -> list[Path]:
    """The scenario files (`tests/*.yaml` beside the diagrams deployed) with a scenario of one of
    `processes`."""
    from .scenarios import collect, load_file

    found: list[Path] = []
    for raw in paths:
        p = Path(raw)
        folder = (p if p.is_dir() else p.parent) / "tests"
        if not folder.is_dir():
            continue
        for f in collect([folder]):
            if f not in found and any(sc.process in processes for sc in load_file(f).scenarios):
                found.append(f)
    return found


def check_deploy(
    eng: Any,
    paths: Iterable[str | Path],
    settings: Mapping[str, Any],
    forms_dir: str | Path | None,
    echo: Callable[[str], Any],
    user: str | None = None,
) -> bool:
    """`hall deploy --check`: for each changed process, which unfinished cases could move to the new
    version (`hall retry --latest`'s rule) and which element blocks the others; then the scenario
    files of the changed processes, run on the new diagrams. True when every scenario passed."""
    paths = list(paths)
    changes = eng.deploy_check(paths, user=user)
    if not changes:
        echo("no process changed")
        return True
    for c in changes:
        movable = sum(1 for case in c["cases"] if case["movable"])
        echo(
            f"{c['process']}: v{c['version']} would be deployed [{c['file']}]; {len(c['cases'])} unfinished case(s): "
            f"{movable} can move to v{c['version']}, {len(c['cases']) - movable} cannot"
        )
        for case in c["cases"]:
            if not case["movable"]:
                echo(
                    f"  case {case['id']} {case['business_key'] or ''} ({case['status']}): blocked by "
                    f"element(s) {', '.join(case['blocking'])}, not in v{c['version']}"
                )
    files = scenario_files_for(paths, {c["process"] for c in changes})
    if not files:
        echo("no scenario file for the changed processes (write one under tests/ beside the diagrams)")
        return True
    echo(f"scenarios of the changed processes ({len(files)} file(s)):")
    return run_tests(files, settings, forms_dir, lambda line: echo("  " + line))
