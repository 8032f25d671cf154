"""A worker process for the concurrency and crash tests: completes tasks and reports each one.

python -m tests.workload complete URL TASK_ID WHO      # complete one task, print ok/error
python -m tests.workload churn URL                     # complete linear7 tasks forever, print "ack <task>"
"""

from __future__ import annotations

import sys
import time

from hall.engine import Engine
from hall.engine.errors import HallError


def complete_one(url: str, task_id: str, who: str, start_at: str) -> None:
    eng = Engine(url, forms_dir=None)
    eng.tasks()  # connect and check the schema before the starting gun
    while time.time() < float(start_at):
        pass
    try:
        eng.complete(int(task_id), {"by": who}, user=who)
        print("ok", flush=True)
    except HallError as exc:
        print(f"error {type(exc).__name__}: {exc}", flush=True)


def churn(url: str) -> None:
    eng = Engine(url, forms_dir=None)
    while True:
        for task in eng.tasks(process="linear7")[:50]:
            eng.complete(task["id"], {"step": task["name"]}, user="churn")
            print(f"ack {task['id']}", flush=True)
        if not eng.tasks(process="linear7"):
            eng.start("linear7", None, {})


if __name__ == "__main__":
    if sys.argv[1] == "complete":
        complete_one(*sys.argv[2:6])
    else:
        churn(sys.argv[2])
