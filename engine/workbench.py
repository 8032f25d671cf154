"""The process owner's workbench behind `hall test`: run scenario files and print them as pytest
does (a line per scenario, the failing step's diff, a summary), JUnit XML for CI, coverage drawn
on the diagrams, and a scenario recorded from a real case. Generic: no service-hall knowledge."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any

from .errors import OutputNotWritable
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
