"""Simulated time cannot rewrite real cases (issue 15, item 3): `--now` on a rehearsal database, or for
a user with `simulate_time` and never later than the real time; every history row made at a
simulated time says so."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner
from hall.cli import main
from hall.engine import Engine, FixedClock
from hall.engine.errors import ActionTooEarly, RehearsalRefused, SimulatedTimeRefused

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = ROOT / "tests" / "fixtures"
PEOPLE = {
    "roles": {
        "clerk": {"serves": ["clerk", "managers"]},
        "backdater": {"serves": ["clerk", "managers"], "may": ["simulate_time"]},
    },
    "users": [{"id": "ann", "name": "Ann", "roles": ["clerk"]}, {"id": "sim", "name": "Sim", "roles": ["backdater"]}],
}


def real_now() -> datetime:
    return datetime.now(UTC).replace(microsecond=0)


@pytest.fixture
def real_db(db_url: str) -> str:
    """A database made as a real hall's is: `hall init` with the wall clock, the fixtures deployed."""
    with Engine(db_url, forms_dir=FIXTURES / "forms", settings=PEOPLE) as eng:
        eng.init()
        eng.deploy([FIXTURES / "review.bpmn"])
    return db_url


def at(db: str, when: datetime) -> Engine:
    return Engine(db, clock=FixedClock(when), forms_dir=FIXTURES / "forms", settings=PEOPLE)


def test_simulated_time_is_refused_on_a_real_database_without_the_permission(real_db: str) -> None:
    with at(real_db, real_now() - timedelta(days=3)) as eng:
        with pytest.raises(SimulatedTimeRefused, match="ann has no 'simulate_time' permission"):
            eng.start("review", None, {"amount": 1}, user="ann")
        assert eng.instances(user="sim") == []  # nothing was written


def test_a_time_later_than_the_real_one_is_refused_on_a_real_database_even_with_the_permission(real_db: str) -> None:
    """A completion dated 2099 would block every real action on its case until 2099."""
    with at(real_db, datetime(2099, 1, 1, tzinfo=UTC)) as eng:
        with pytest.raises(SimulatedTimeRefused, match="later than the real time"):
            eng.start("review", None, {"amount": 1}, user="sim")
        with pytest.raises(SimulatedTimeRefused, match="later than the real time"):
            eng.run_due_jobs(install_signals=False, user="sim")


def test_a_permitted_backdated_entry_is_marked_and_never_behind_the_cases_last_event(real_db: str) -> None:
    with Engine(real_db, forms_dir=FIXTURES / "forms", settings=PEOPLE) as live:
        case = live.start("review", None, {"amount": 1}, user="ann")  # at the real time
    with at(real_db, real_now() - timedelta(days=1)) as eng:
        with pytest.raises(ActionTooEarly):  # behind the case's last real event
            eng.complete(case["tasks"][0]["id"], {"amount": 1}, user="sim")
        eng.clock.set(real_now() + timedelta(seconds=30))  # within the minute machines' clocks may differ
        eng.complete(case["tasks"][0]["id"], {"amount": 1}, user="sim")
        rows = eng.history(case["id"], user="sim")
    assert [r["simulated"] for r in rows if r["kind"] == "started"] == [False]
    completed = [r for r in rows if r["kind"] == "task_completed"]
    assert completed and all(r["simulated"] for r in completed)


def test_a_rehearsal_database_takes_any_time_and_marks_every_row(db_url: str) -> None:
    with Engine(db_url, forms_dir=FIXTURES / "forms", settings=PEOPLE) as eng:
        eng.init(rehearsal=True)
        eng.deploy([FIXTURES / "review.bpmn"], user=None)
    with at(db_url, datetime(2099, 1, 1, tzinfo=UTC)) as eng:
        case = eng.start("review", None, {"amount": 1}, user="ann")
        eng.claim(case["tasks"][0]["id"], "ann")  # a row the API writes itself, not a step's
        assert eng.is_rehearsal()
        rows = eng.history(case["id"], user="ann")
        assert "task_claimed" in [r["kind"] for r in rows] and {r["simulated"] for r in rows} == {True}


def test_an_engine_with_a_simulated_clock_makes_a_rehearsal_database(db_url: str) -> None:
    """Test fixtures and scenario runners open their fresh databases with a FixedClock: no flag needed."""
    with at(db_url, datetime(2026, 11, 24, tzinfo=UTC)) as eng:
        eng.init()
        assert eng.is_rehearsal()


def test_only_a_new_database_becomes_a_rehearsal(real_db: str) -> None:
    with Engine(real_db) as eng:
        with pytest.raises(RehearsalRefused, match="only a new database"):
            eng.init(rehearsal=True)
        assert not eng.is_rehearsal()


def test_cli_now_needs_a_rehearsal_database(tmp_path: Path) -> None:
    runner = CliRunner()
    real, rehearsal = str(tmp_path / "real.db"), str(tmp_path / "rehearsal.db")
    assert runner.invoke(main, ["--db", real, "init"]).exit_code == 0
    assert runner.invoke(main, ["--db", rehearsal, "init", "--rehearsal"]).exit_code == 0
    for db, code in ((real, 1), (rehearsal, 0)):
        before = Path(db).read_bytes()
        now = ["--db", db, "--forms", str(FIXTURES / "forms"), "--now", "2026-09-30T16:00+08:00"]
        result = runner.invoke(main, [*now, "deploy", str(FIXTURES)])
        assert result.exit_code == code, result.output
        if code:
            assert result.stderr.startswith("error: --now 2026-09-30T08:00:00+00:00 refused: it needs a user")
            assert result.stderr.count("\n") == 1 and Path(db).read_bytes() == before
    result = runner.invoke(main, ["--db", real, "init", "--rehearsal"])
    assert result.exit_code == 1 and "only a new database" in result.stderr
