"""Read-only commands take no write lock on SQLite (issue 11): while another connection holds it (a
busy worker's transaction), `hall tasks` and `hall show` answer at once, and a write still waits."""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import FIXTURES
from hall.cli import main
from hall.engine import Engine, FixedClock
from hall.engine.errors import DatabaseFailed, DatabaseUnavailable

TIMEOUT = 0.5  # SQLite's wait for a lock in these tests: a regression fails in half a second, not 30


@pytest.fixture
def db(tmp_path: Path, clock: FixedClock) -> Iterator[tuple[str, int]]:
    """A SQLite file with one case waiting at a task, and another connection holding the write lock."""
    path = tmp_path / "hall.db"
    with Engine(str(path), clock=clock, forms_dir=FIXTURES / "forms") as eng:
        eng.init()
        eng.deploy([FIXTURES])
        case = eng.start("review", "K-1", {"amount": 2})
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")  # a worker's step, not yet committed
    try:
        yield f"sqlite:///{path}?timeout={TIMEOUT}", case["id"]
    finally:
        holder.rollback()
        holder.close()


def test_the_api_reads_while_another_connection_holds_the_write_lock(db, clock) -> None:
    url, case_id = db
    with Engine(url, clock=clock, forms_dir=FIXTURES / "forms") as eng:  # a new process: checks the schema
        started = time.perf_counter()
        tasks = eng.tasks()
        view = eng.show(case_id)
        assert time.perf_counter() - started < TIMEOUT
        assert [t["instance"] for t in tasks] == [case_id] and view["status"] == "running"
        with pytest.raises(
            (DatabaseFailed, DatabaseUnavailable), match="database is locked"
        ):  # the lock is real: a write waits, then fails
            eng.claim(tasks[0]["id"], "li")


def test_hall_tasks_reads_while_another_connection_holds_the_write_lock(db) -> None:
    url, case_id = db
    started = time.perf_counter()
    result = CliRunner().invoke(
        main, ["--db", url, "--forms", str(FIXTURES / "forms"), "tasks"], catch_exceptions=False
    )
    assert result.exit_code == 0, result.output
    assert time.perf_counter() - started < TIMEOUT + 0.5  # the command's own work, no lock wait
    assert "review" in result.stdout or str(case_id) in result.stdout
