"""The hall's scenario files as a whole (issue 18's target: the set runs in under 10 s).

    python bench/scenarios.py [--repeat 3]

Runs `processes/tests/` in this process as `hall test` does (each scenario on a fresh temporary
database with a fixed clock) and prints, best of --repeat runs, the wall time and the CPU time of the
whole set, against the 10 s target. CPU time is what a busy, shared machine changes least. Run on a
quiet machine.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TARGET = 10.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    from hall.engine.scenarios import Runner
    from hall.servicehall import access
    from hall.servicehall.config import load_config

    settings = access.with_defaults(load_config(ROOT / "hall.yaml"))
    best_wall = best_cpu = float("inf")
    count = failed = 0
    for _ in range(args.repeat):
        wall, cpu = time.perf_counter(), time.process_time()
        results = Runner(settings, ROOT / "forms").run([ROOT / "processes" / "tests"])
        best_wall = min(best_wall, time.perf_counter() - wall)
        best_cpu = min(best_cpu, time.process_time() - cpu)
        count, failed = len(results), sum(1 for r in results if r.failure)
    print(f"{count} scenarios, {failed} failed: wall {best_wall:.2f} s, CPU {best_cpu:.2f} s (target < {TARGET:.0f} s)")
    sys.exit(1 if failed or best_wall >= TARGET else 0)


if __name__ == "__main__":
    main()
