"""A driver for scenario tests: the hall's real processes and forms on a test database, worked by
staff at controlled times (FixedClock), through the public Engine API only."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from hall.engine import Engine, FixedClock
from hall.engine.config import load_config

ROOT = Path(__file__).resolve().parent.parent
TZ = "+08:00"

# What a staff member types into a required field the scenario does not care about.
SAMPLES = {
    "bool": False,
    "score": 8,
    "int": 1,
    "decimal": 1.0,
    "money": "0.00",
    "date": "2026-11-02",
    "datetime": "2026-11-02T10:00",
    "phone": "13800000000",
}


def at(text: str) -> datetime:
    """A Beijing wall-clock time, `2026-11-02T09:00`, as an aware datetime."""
    return datetime.fromisoformat(text if "+" in text else text + TZ)


class Hall:
    """processes/, forms/ and hall.yaml of the repository, deployed on `url`, driven at the clock's time."""

    def __init__(self, url: str, clock: FixedClock, **engine_kwargs: Any) -> None:
        self.clock = clock
        engine_kwargs.setdefault("settings", load_config(ROOT / "hall.yaml"))
        self.eng = Engine(url, clock=clock, forms_dir=ROOT / "forms", **engine_kwargs)
        self.eng.init()
        self.eng.deploy([ROOT / "processes"])

    def __enter__(self) -> Hall:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.eng.close()

    def at(self, when: str | None) -> None:
        if when:
            self.clock.set(at(when))

    def start(
        self, process: str, when: str | None = None, *, user: str | None = None, key: str | None = None, **data: Any
    ) -> dict:
        self.at(when)
        return self.eng.start(process, key, data, user=user)

    def names(self, case: dict) -> list[str]:
        """The element ids of the instance's ready human tasks, sorted."""
        return sorted(t["name"] for t in self.eng.tasks(instance=case["id"]))

    def task(self, case: dict, name: str) -> dict:
        ready = self.eng.tasks(instance=case["id"])
        for t in ready:
            if t["name"] == name:
                return t
        raise AssertionError(
            f"no ready task {name!r} on instance {case['id']}; ready: {sorted(t['name'] for t in ready)}"
        )

    def fill(self, task: dict, data: dict) -> dict:
        """The values given, and ordinary answers for the form's other required fields (also those
        that the answers given or the defaults make required, `required_when`)."""
        form = self.eng.form(task["form"])
        return form.filled(data, SAMPLES) if form else dict(data)

    def work(self, case: dict, name: str, who: str = "staff", when: str | None = None, **data: Any) -> dict:
        """Complete the ready task `name` of `case` as `who`; returns the instance as `show` does."""
        self.at(when)
        task = self.task(case, name)
        return self.eng.complete(task["id"], self.fill(task, data), user=who)

    def fire(self, when: str) -> dict:
        """Move the clock to `when` and run the job runner once, as `hall worker --once` would."""
        self.at(when)
        return self.eng.run_due_jobs(once=True, install_signals=False)

    def show(self, case: dict) -> dict:
        return self.eng.show(case["id"])

    def kinds(self, case: dict) -> list[str]:
        """The history kinds of the instance, in order."""
        return [h["kind"] for h in self.eng.history(case["id"])]


def hall_fixture(cls: type[Hall] = Hall, when: str = "2026-11-24T09:00") -> Any:
    """A pytest fixture `hall`: a `cls` on each test database, its clock at `when` (Beijing time)."""

    @pytest.fixture
    def hall(db_url: str) -> Any:
        with cls(db_url, FixedClock(at(when))) as h:
            yield h

    return hall
