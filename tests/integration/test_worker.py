"""The job runner (`hall worker`): timers fire on the engine's clock, exactly once, on both databases.

Time never passes by sleeping: the FixedClock is moved and the worker is run once.
Subprocess tests cover what only real processes show: SIGTERM, kill -9 and several workers.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from click.testing import CliRunner
from conftest import FIXTURES, PG_URL
from hall.engine import jobs as jobstore
from hall.engine.store import history, jobs

ROOT = Path(__file__).resolve().parents[2]  # the repository (this file is in tests/TIER/)
CST = "+08:00"


def at(text: str) -> datetime:
    return datetime.fromisoformat(text + (CST if "+" not in text[10:] else ""))


def run_once(eng, **kwargs) -> tuple[dict, list]:
    events: list = []
    summary = eng.run_due_jobs(once=True, on_event=events.append, install_signals=False, **kwargs)
    return summary, events


def fired(events) -> list[tuple[int, str]]:
    return [(e.job.instance_id, e.job.element) for e in events if e.kind == "fired"]


def job_rows(eng) -> list[dict]:
    with eng.store.tx(write=False) as tx:
        return [dict(r) for r in tx.conn.execute(sa.select(jobs).order_by(jobs.c.id)).mappings()]


def kinds(eng, instance_id: int, kind: str) -> list[str]:
    return [h["element"] for h in eng.history(instance_id) if h["kind"] == kind]


# -- what fires when --------------------------------------------------------------------------
def test_boundary_timers_across_the_national_day_holiday(engine, clock):
    clock.set(at("2026-09-30T16:00"))
    case = engine.start("timer_boundary")
    due = {t["element"]: datetime.fromisoformat(t["due_at"]) for t in case["timers"]}
    assert due == {"remind": at("2026-09-30T16:45"), "escalate": at("2026-10-09T16:00")}

    clock.set(at("2026-09-30T16:44:59"))
    assert fired(run_once(engine)[1]) == []
    clock.set(at("2026-09-30T16:45"))
    summary, events = run_once(engine)
    assert fired(events) == [(case["id"], "remind")] and summary["fired"] == 1
    view = engine.show(case["id"])
    assert view["variables"]["reminded"] is True  # non-interrupting: the task is still there
    assert [t["name"] for t in view["tasks"]] == ["handle"]
    assert [t["element"] for t in view["timers"]] == ["escalate"]

    # The seven days of 国庆节 are not working days: nothing during the holiday, nor the day before.
    for moment in ("2026-10-01T09:00", "2026-10-07T23:00", "2026-10-08T16:00", "2026-10-09T15:59:59"):
        clock.set(at(moment))
        assert fired(run_once(engine)[1]) == [], moment
    clock.set(at("2026-10-09T16:00"))
    assert fired(run_once(engine)[1]) == [(case["id"], "escalate")]
    view = engine.show(case["id"])
    assert [t["name"] for t in view["tasks"]] == ["escalated"]  # interrupting: handle was cancelled
    assert view["timers"] == [] and job_rows(engine) == []
    assert kinds(engine, case["id"], "timer_fired") == ["remind", "escalate"]


def test_intermediate_iso_duration_and_time_date(engine, clock):
    wait = engine.start("timer_wait")
    date = engine.start("timer_date")
    clock.advance(minutes=59)
    assert fired(run_once(engine)[1]) == []
    clock.advance(minutes=1)
    assert fired(run_once(engine)[1]) == [(wait["id"], "wait")]
    assert [t["name"] for t in engine.show(wait["id"])["tasks"]] == ["follow_up"]

    clock.set(at("2026-12-01T08:59:59"))
    assert fired(run_once(engine)[1]) == []
    clock.set(at("2026-12-01T09:00"))
    assert fired(run_once(engine)[1]) == [(date["id"], "until")]
    assert [t["name"] for t in engine.show(date["id"])["tasks"]] == ["on_date"]
    assert job_rows(engine) == []


def test_cycle_r3_fires_three_times_then_stops(engine, clock):
    start = clock.now()
    case = engine.start("timer_cycle")
    clock.set(start + timedelta(minutes=10))
    assert fired(run_once(engine)[1]) == [(case["id"], "every")]
    clock.set(start + timedelta(minutes=15))
    assert fired(run_once(engine)[1]) == []
    # A worker that was down catches up in one pass: the 20- and 30-minute firings.
    clock.set(start + timedelta(minutes=35))
    assert fired(run_once(engine)[1]) == [(case["id"], "every")] * 2
    clock.set(start + timedelta(days=3))
    assert fired(run_once(engine)[1]) == []
    assert kinds(engine, case["id"], "timer_fired") == ["every"] * 3
    assert job_rows(engine) == []
    assert [t["name"] for t in engine.show(case["id"])["tasks"]] == ["watch"]


def test_a_cycle_fires_its_last_time_on_its_own_and_then_no_job_remains(engine, clock):
    """R3/PT1H with a worker at each firing (not a catch-up pass): the third and last firing starts its
    branch like the first two (one `tick` task each), schedules no fourth and leaves no job."""
    engine.deploy([ROOT / "tests" / "cycle_tasks"])  # kept apart: its tasks would show in other tests' queues
    start = clock.now()
    case = engine.start("timer_cycle_tasks")
    for n in (1, 2, 3):
        due = start + timedelta(hours=n)
        assert [(t["element"], t["due_at"]) for t in engine.show(case["id"])["timers"]] == [
            ("every", due.astimezone(UTC).isoformat())
        ]
        assert [r["due_at"] for r in job_rows(engine)] == [due]
        clock.set(due - timedelta(seconds=1))
        assert fired(run_once(engine)[1]) == []
        clock.set(due)
        assert fired(run_once(engine)[1]) == [(case["id"], "every")]
        assert kinds(engine, case["id"], "timer_fired") == ["every"] * n
        assert sorted(t["name"] for t in engine.show(case["id"])["tasks"]) == ["tick"] * n + ["watch"]
    view = engine.show(case["id"])
    assert view["timers"] == [] and job_rows(engine) == []
    assert kinds(engine, case["id"], "timer_scheduled") == ["every"] * 3
    clock.set(start + timedelta(days=30))
    assert fired(run_once(engine)[1]) == []
    for task in view["tasks"]:
        case = engine.complete(task["id"], {})
    assert case["status"] == "completed"


def test_every_working_day_at_15_skips_the_holiday(engine, clock):
    clock.set(at("2026-09-30T10:00"))
    case = engine.start("timer_daily")
    assert datetime.fromisoformat(case["timers"][0]["due_at"]) == at("2026-09-30T15:00")
    clock.set(at("2026-09-30T15:00"))
    assert fired(run_once(engine)[1]) == [(case["id"], "every")]
    (row,) = job_rows(engine)
    assert row["due_at"] == at("2026-10-08T15:00")  # next working day after 国庆节
    clock.set(at("2026-10-08T14:59"))
    assert fired(run_once(engine)[1]) == []
    clock.set(at("2026-10-08T15:00"))
    assert fired(run_once(engine)[1]) == [(case["id"], "every")]
    assert [r["due_at"] for r in job_rows(engine)] == [at("2026-10-09T15:00")]


# -- what the worker does with jobs that cannot fire ------------------------------------------------
def test_stale_job_is_deleted_and_suspended_instance_waits(engine, clock):
    case = engine.start("timer_wait")
    with engine.store.tx() as tx:
        jobstore.add_job(
            tx,
            instance_id=case["id"],
            element="ghost",
            spiff_task_id=str(uuid.uuid4()),
            kind="timer",
            due_at=clock.now(),
            attempts=0,
            created_at=clock.now(),
        )
    summary, events = run_once(engine)
    assert [(e.kind, e.job.element) for e in events] == [("stale", "ghost")] and summary["stale"] == 1
    assert [r["element"] for r in job_rows(engine)] == ["wait"]

    engine.suspend(case["id"], "waiting for papers")
    clock.advance(hours=2)
    assert run_once(engine)[1] == []  # a suspended instance's timer waits
    assert [r["element"] for r in job_rows(engine)] == ["wait"]
    engine.resume(case["id"])
    assert fired(run_once(engine)[1]) == [(case["id"], "wait")]


def test_failing_firing_backs_off_then_becomes_an_incident_and_retry_fires(engine, clock, monkeypatch):
    case = engine.start("timer_wait")
    clock.advance(hours=1)
    real = engine.runtime.fire_timer

    def broken(*args, **kwargs):
        raise RuntimeError("connection to the message bus lost")

    monkeypatch.setattr(engine.runtime, "fire_timer", broken)

    delays = []
    for attempt in (1, 2):
        summary, events = run_once(engine, max_attempts=3, backoff=30)
        (event,) = events
        assert event.kind == "retry" and "message bus lost" in event.error
        (row,) = job_rows(engine)
        assert row["attempts"] == attempt and row["locked_by"] is None and "message bus" in row["last_error"]
        delays.append(row["due_at"] - clock.now())
        assert run_once(engine, max_attempts=3)[1] == []  # not due again yet
        clock.set(row["due_at"])
    assert delays == [timedelta(seconds=30), timedelta(seconds=60)]

    summary, events = run_once(engine, max_attempts=3, backoff=30)
    assert [e.kind for e in events] == ["incident"] and summary["incidents"] == 1
    view = engine.show(case["id"])
    assert view["status"] == "incident" and view["incident"]["element"] == "wait"
    assert "3 attempts" in view["incident"]["error"] and "message bus lost" in view["incident"]["error"]
    assert run_once(engine)[1] == []  # nobody hammers an instance in incident

    monkeypatch.setattr(engine.runtime, "fire_timer", real)
    engine.retry(case["id"])
    assert fired(run_once(engine)[1]) == [(case["id"], "wait")]
    assert [t["name"] for t in engine.show(case["id"])["tasks"]] == ["follow_up"]


def test_lease_expiry_hands_the_job_to_another_worker(engine, make_engine, clock):
    case = engine.start("timer_wait")
    clock.advance(hours=1)
    with engine.store.tx() as tx:
        (held,) = jobstore.acquire(tx, "host-a:1", clock.now(), 10, lease=60)
    other = make_engine()
    assert run_once(other, worker_id="host-b:2")[1] == []  # the lease is live
    clock.advance(seconds=61)
    assert fired(run_once(other, worker_id="host-b:2")[1]) == [(case["id"], "wait")]
    # The first worker wakes up: its claim is gone, it does nothing.
    from hall.engine.jobs import Worker

    events: list = []
    Worker(engine.store, engine.runtime, clock, worker_id="host-a:1", on_event=events.append)._run(held)
    assert [e.kind for e in events] == ["lost"]
    assert kinds(engine, case["id"], "timer_fired") == ["wait"]


def test_acquire_walks_the_due_index(engine, clock):
    ids = _start_many(engine, "timer_wait", 20)
    later = clock.now() + timedelta(days=30)
    with engine.store.tx() as tx:  # many pending timers, few instances
        tx.conn.execute(
            jobs.insert(),
            [
                {
                    "instance_id": ids[n % 20],
                    "element": "pending",
                    "spiff_task_id": str(uuid.uuid4()),
                    "kind": "timer",
                    "due_at": later + timedelta(seconds=n),
                    "attempts": 0,
                    "created_at": clock.now(),
                }
                for n in range(5000)
            ],
        )
    with engine.store.tx() as tx:
        tx.conn.exec_driver_sql("ANALYZE")
    with engine.store.tx() as tx:
        plan = " ".join(jobstore.explain_acquire(tx, clock.now(), 100))
    assert "ix_jobs_due" in plan, plan


def test_pending_stats_and_count_due(engine, clock):
    engine.start("timer_wait")
    engine.start("timer_boundary")
    clock.advance(minutes=50)
    with engine.store.tx(write=False) as tx:
        assert jobstore.count_due(tx, clock.now()) == 1
        stats = jobstore.pending_stats(tx, clock.now())
    assert stats == {"pending": 3, "due": 1, "locked": 0, "failing": 0, "next_due": "2026-11-24T02:00:00+00:00"}


# -- the command line ------------------------------------------------------------------------------
def test_cli_worker_once_and_calendar(tmp_path):
    from hall.cli import main

    db = str(tmp_path / "hall.db")
    runner = CliRunner()

    def hall(now: str, *args: str):
        result = runner.invoke(main, ["--db", db, "--forms", str(FIXTURES / "forms"), "--now", now, *args])
        return result.exit_code, result.output

    assert hall("2026-09-30T16:00+08:00", "init", "--rehearsal")[0] == 0
    assert hall("2026-09-30T16:00+08:00", "deploy", str(FIXTURES))[0] == 0
    assert hall("2026-09-30T16:00+08:00", "start", "timer_boundary")[0] == 0
    code, out = hall("2026-10-08T16:00+08:00", "worker", "--once")
    assert code == 0
    lines = out.splitlines()
    assert lines[0].split()[:4] == ["fired", "instance", "1", "remind"] and "2026-09-30T08:45:00+00:00" in lines[0]
    assert "fired 1, stale 0, retried 0, incidents 0" in lines[1]
    assert "1 pending, 0 due" in lines[2] and "next due 2026-10-09T08:00:00+00:00" in lines[2]
    code, out = hall("2026-10-09T16:00+08:00", "worker", "--once", "--group", "0")
    assert code == 2 and "--group" in out and "0 is not in the range x>=1" in out
    code, out = hall("2026-10-09T16:00+08:00", "worker", "--once", "--batch", "5", "--group", "1", "--json")
    import json

    summary = json.loads(out)
    assert code == 0 and summary["fired"] == 1 and summary["jobs"]["pending"] == 0

    code, out = hall("2026-10-09T16:00+08:00", "calendar", "2026-10")
    assert code == 0
    assert "Thu 2026-10-01  closed   国庆节" in out and "Sat 2026-10-10  working  调休" in out
    assert "schedule from library" in out and "coverage: library" in out and "warning" not in out
    code, out = hall("2026-10-09T16:00+08:00", "calendar", "2099-03")
    assert code == 0 and "working~" in out and "warning: 2099 has no official schedule" in out
    code, out = hall("2026-10-09T16:00+08:00", "calendar")
    assert code == 0 and out.startswith("2026-10 ")
    assert hall("2026-10-09T16:00+08:00", "calendar", "2026-13")[0] == 1


# -- real processes: SIGTERM, kill -9, several workers ---------------------------------------------
def _hall_cmd(url: str, now: str, *args: str) -> list[str]:
    return [sys.executable, "-u", "-m", "hall.cli", "--db", url, "--now", now, "worker", *args]


def _start_many(eng, process: str, n: int) -> list[int]:
    return [eng.start(process)["id"] for _ in range(n)]


def _fired_per_instance(eng) -> dict[int, int]:
    with eng.store.tx(write=False) as tx:
        q = (
            sa.select(history.c.instance_id, sa.func.count())
            .where(history.c.kind == "timer_fired")
            .group_by(history.c.instance_id)
        )
        return dict(tx.conn.execute(q).all())


def test_sigterm_finishes_the_job_in_hand_and_exits_cleanly(engine, db_url, clock, tmp_path):
    ids = _start_many(engine, "timer_wait", 300)
    now = (clock.now() + timedelta(hours=1)).isoformat()
    proc = subprocess.Popen(
        _hall_cmd(db_url, now, "--batch", "50", "--poll", "0.2"),
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    first = proc.stdout.readline()
    assert first.startswith("fired"), first + proc.stderr.read()
    proc.send_signal(signal.SIGTERM)
    began = time.monotonic()
    # read through the text buffer that readline filled (communicate() would skip what it holds)
    out = proc.stdout.read()
    err = proc.stderr.read()
    proc.wait(timeout=20)
    proc.stdout.close()  # read to the end: close the pipes (an unclosed one is a ResourceWarning, an error here)
    proc.stderr.close()
    assert proc.returncode == 0, err
    assert time.monotonic() - began < 5
    assert "stopped by SIGTERM" in out
    rows = job_rows(engine)
    assert all(r["locked_by"] is None for r in rows)  # what was held is released
    done = _fired_per_instance(engine)
    assert set(done.values()) <= {1} and len(done) + len(rows) == len(ids)
    assert len(done) == len([ln for ln in (first + out).splitlines() if ln.startswith("fired")])
    # What was left fires on the next pass, once.
    clock.advance(hours=1)
    run_once(engine)
    assert _fired_per_instance(engine) == {i: 1 for i in ids}


@pytest.mark.skipif(not PG_URL, reason="needs PostgreSQL (HALL_TEST_DATABASE_URL)")
@pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)
@pytest.mark.timeout(600)  # 2000 starts, five worker processes and a 30 s lease: its waits alone allow 7 minutes
def test_three_worker_processes_fire_2000_timers_exactly_once_despite_kill_9(engine, db_url, clock, tmp_path):
    ids = _start_many(engine, "timer_wait", 2000)
    now = clock.now() + timedelta(hours=1)
    env = dict(os.environ, PYTHONUNBUFFERED="1")

    def worker(batch: int, moment: datetime = now) -> subprocess.Popen:
        return subprocess.Popen(
            _hall_cmd(db_url, moment.isoformat(), "--once", "--batch", str(batch), "--lease", "30"),
            cwd=tmp_path,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )

    victim = worker(400)  # claims a big batch, dies in the middle of it
    others = [worker(25), worker(25)]
    line = victim.stdout.readline()
    assert line.startswith("fired"), line + victim.stderr.read()
    victim.kill()  # SIGKILL: no cleanup at all
    victim.wait()
    victim.stdout.close()  # an unclosed pipe is a ResourceWarning, an error in the tests
    victim.stderr.close()
    for p in others:
        out, err = p.communicate(timeout=120)
        assert p.returncode == 0, err
    orphaned = [r for r in job_rows(engine) if r["locked_by"]]
    assert orphaned, "the killed worker held no jobs: it was not killed mid-batch"
    assert len({r["locked_by"] for r in orphaned}) == 1

    # Before the lease runs out nobody may take the orphans; after it, the survivors finish them.
    early = worker(100, now + timedelta(seconds=29))
    out, _ = early.communicate(timeout=60)
    assert "fired 0," in out
    late = [worker(100, now + timedelta(seconds=31)) for _ in range(2)]
    for p in late:
        out, err = p.communicate(timeout=120)
        assert p.returncode == 0, err
    assert job_rows(engine) == []
    assert _fired_per_instance(engine) == {i: 1 for i in ids}


def test_a_fired_timer_leaves_exactly_the_next_timer_scheduled(engine, clock) -> None:
    """The step that fires a timer deletes its job row and writes the next one, in one transaction
    (an SQLite rowid reused by the new row once made the worker delete the wrong job)."""
    case = engine.start("timer_chain", None, {})  # Tuesday 2026-11-24 09:00 +08:00
    assert [t["element"] for t in engine.show(case["id"])["timers"]] == ["first_wait"]
    clock.advance(hours=1, minutes=1)
    assert engine.run_due_jobs(once=True, install_signals=False)["fired"] == 1
    [timer] = engine.show(case["id"])["timers"]
    assert (timer["element"], timer["due_at"]) == ("second_wait", "2026-11-25T07:00:00+00:00")  # Wed 15:00
    assert engine.run_due_jobs(once=True, install_signals=False)["fired"] == 0
    clock.advance(days=1, hours=6)
    assert engine.run_due_jobs(once=True, install_signals=False)["fired"] == 1
    case = engine.show(case["id"])
    assert case["timers"] == [] and [t["name"] for t in case["tasks"]] == ["call"]


def test_a_timer_start_event_starts_an_instance_each_working_day(engine, clock) -> None:
    """`every working day at 15:00` on a start event: one new case per working day, none at weekends."""
    engine.deploy([ROOT / "tests" / "start_timers"])  # kept apart: it would fire in the other tests
    assert [s["process"] for s in engine.start_schedule()] == ["timer_start_daily"]
    assert engine.start_schedule()[0]["due_at"] == "2026-11-24T07:00:00+00:00"  # Tuesday 15:00 +08:00
    clock.set(datetime.fromisoformat("2026-11-24T14:59:00+08:00"))
    assert engine.run_due_jobs(once=True, install_signals=False)["fired"] == 0
    clock.set(datetime.fromisoformat("2026-11-24T15:01:00+08:00"))
    assert engine.run_due_jobs(once=True, install_signals=False)["fired"] == 1
    [case] = engine.instances(process="timer_start_daily")
    assert [t["name"] for t in engine.show(case["id"])["tasks"]] == ["today"]
    assert engine.history(case["id"])[0]["detail"]["timer"] == "every_day"
    assert engine.start_schedule()[0]["due_at"] == "2026-11-25T07:00:00+00:00"
    clock.set(datetime.fromisoformat("2026-11-25T15:00:00+08:00"))
    assert engine.run_due_jobs(once=True, install_signals=False)["fired"] == 1
    # no worker from Wednesday 15:00 to the next Monday morning: Thursday's and Friday's starts are
    # missed; they are coalesced into one start now, not one per missed day, and the weekend is skipped
    clock.set(datetime.fromisoformat("2026-11-30T09:00:00+08:00"))
    assert engine.run_due_jobs(once=True, install_signals=False)["fired"] == 1
    assert len(engine.instances(process="timer_start_daily")) == 3
    assert engine.start_schedule()[0]["due_at"] == "2026-11-30T07:00:00+00:00"
    engine.deploy([ROOT / "tests" / "start_timers"])  # unchanged: the schedule stays as it is
    assert [(s["process"], s["fired"]) for s in engine.start_schedule()] == [("timer_start_daily", 3)]


def test_a_timer_start_event_starts_its_case_and_schedules_the_next_in_one_transaction(
    engine, clock, monkeypatch
) -> None:
    """The new case and the start job's next due time commit together: a start that cannot schedule
    its next firing leaves no case behind (it would start again when the job is retried)."""
    from hall.engine.jobs import table

    engine.deploy([ROOT / "tests" / "start_timers"])
    clock.set(datetime.fromisoformat("2026-11-24T15:01:00+08:00"))

    def refuse(*args) -> None:
        raise RuntimeError("no next firing")

    monkeypatch.setattr(table, "reschedule_start_job", refuse)
    summary, events = run_once(engine)
    assert [e.kind for e in events] == ["retry"] and summary["fired"] == 0
    assert engine.instances(process="timer_start_daily") == []
    monkeypatch.undo()
    clock.advance(minutes=1)  # the retry's backoff (30 s)
    assert run_once(engine)[0]["fired"] == 1 and len(engine.instances(process="timer_start_daily")) == 1


# -- firing in groups on PostgreSQL (engine.jobs.group.GroupTx) ------------------------------------------
def _pg_only(engine) -> None:
    if engine.store.dialect != "postgresql":
        pytest.skip("firing in groups is PostgreSQL's (SQLite has one writer: a transaction per timer)")


def _xmin(engine, instance_id: int) -> int:
    """The transaction that last wrote the instance row (PostgreSQL)."""
    with engine.store.tx(write=False) as tx:
        return tx.conn.exec_driver_sql(
            f"SELECT xmin::text::bigint FROM instances WHERE id = {int(instance_id)}"
        ).scalar()


def test_the_group_load_reads_what_the_ordinary_load_reads(engine, clock) -> None:
    _pg_only(engine)
    case, _other = engine.start("timer_boundary"), engine.start("timer_wait")
    clock.advance(hours=1)  # the reminder (45 min) and the wait (1 h) are due
    with engine.store.tx() as tx:
        claimed = jobstore.acquire(tx, "w:1", clock.now(), 10, lease=60)
    (job,) = [j for j in claimed if j.instance_id == case["id"]]
    with engine.store.tx() as tx:
        plain = tx.load(case["id"])
    with engine.store.tx() as tx:
        assert jobstore.GroupTx(tx).hold_group(claimed, "w:2") == {}  # not our claims
        held = jobstore.GroupTx(tx).hold_group(claimed, "w:1")
    assert sorted(held) == sorted(j.id for j in claimed) and len(claimed) == 2
    status, version, loaded = held[job.id]
    assert (status, version) == ("running", plain["row"]["version"])
    assert loaded["row"] == plain["row"] and loaded["task_rows"] == plain["task_rows"]
    assert loaded["human"] == plain["human"] and len(loaded["human"]) == 1
    assert sorted((j["spiff_task_id"], j["due_at"], j["element"]) for j in loaded["jobs"]) == sorted(
        (j["spiff_task_id"], j["due_at"], j["element"]) for j in plain["jobs"]
    )
    assert loaded["has_children"] is plain["has_children"] is False


def test_a_moved_version_writes_nothing_through_the_group_save(engine, clock) -> None:
    """The group's save is one statement followed by COMMIT in the same round trip: a version that
    moved must fail that statement (and so the transaction) for every instance of the group, not be
    noticed after the commit."""
    _pg_only(engine)
    case, other = engine.start("timer_wait"), engine.start("timer_wait")
    before = ([len(engine.history(c["id"])) for c in (case, other)], job_rows(engine))

    row = {
        "state": "{}",
        "variables": "{}",
        "updated_at": clock.now(),
        "ended_at": None,
        "definition_id": 1,
        "incident_element": None,
        "incident_error": None,
    }
    hist = {
        "instance_id": case["id"],
        "process_id": "timer_wait",
        "at": clock.now(),
        "actor": "x",
        "kind": "timer_fired",
        "element": "wait",
        "task_id": None,
        "detail": '{"a":"中"}',
    }
    with pytest.raises(jobstore.VersionMoved):
        with engine.store.tx() as tx:
            gtx = jobstore.GroupTx(tx)
            assert gtx.save_step(other["id"], 1, row, {"t": "{}"}, [], ["wait"], [], [], last=True)
            assert gtx.save_step(case["id"], 99, row, {"t": "{}"}, ["x"], ["wait"], [], [hist], last=True)
            gtx.commit()
    assert ([len(engine.history(c["id"])) for c in (case, other)], job_rows(engine)) == before
    assert [t["name"] for t in engine.show(case["id"])["tasks"]] == []
    assert engine.show(other["id"])["timers"] != []


def test_a_group_fires_the_timers_of_several_cases_in_one_transaction(engine, clock) -> None:
    _pg_only(engine)
    cases = [engine.start("timer_boundary") for _ in range(5)]
    clock.advance(minutes=45)
    engine.runtime._cache.clear()  # cold, as in a worker process that never saw the cases
    summary, events = run_once(engine)
    assert fired(events) == [(c["id"], "remind") for c in cases] and summary["fired"] == 5
    assert len({_xmin(engine, c["id"]) for c in cases}) == 1
    for case in cases:
        view = engine.show(case["id"])
        assert view["variables"]["reminded"] is True and [t["name"] for t in view["tasks"]] == ["handle"]
        assert [t["element"] for t in view["timers"]] == ["escalate"]
        assert kinds(engine, case["id"], "timer_fired") == ["remind"]
    # the next timers were written with the group: they fire in a week, once each
    clock.advance(days=7)
    assert fired(run_once(engine)[1]) == [(c["id"], "escalate") for c in cases]
    assert [t["name"] for t in engine.show(cases[0]["id"])["tasks"]] == ["escalated"] and job_rows(engine) == []


def test_r_c10_a_task_made_by_a_grouped_firing_stays_bound_to_its_organisation(engine, clock) -> None:
    """A timer fired in a group creates its next human task through the group's own save: the task
    keeps the organisation it is bound to (candidateOrganisation), as the single firing's save does."""
    _pg_only(engine)
    engine.deploy([ROOT / "tests" / "agency_timer"])  # kept apart: its tasks would show in other queues
    cases = [engine.start("agency_timer", data={"unit": unit}) for unit in ("甲机构", "乙机构")]
    clock.advance(hours=1)
    engine.runtime._cache.clear()
    summary, _events = run_once(engine)
    assert summary["fired"] == 2
    assert len({_xmin(engine, c["id"]) for c in cases}) == 1  # fired together, by the group's own save
    with engine.store.engine.connect() as conn:
        bound = dict(conn.exec_driver_sql("SELECT instance_id, organisation FROM human_tasks").fetchall())
    assert bound == {cases[0]["id"]: "甲机构", cases[1]["id"]: "乙机构"}


def test_the_group_statements_are_planned_for_the_tables_as_they_are(engine, clock) -> None:
    """The group's statements are never prepared: PostgreSQL would keep a generic plan made for the
    tables as they were when the worker started (a load planned on a nearly empty human_tasks
    scanned the whole table ever after)."""
    _pg_only(engine)
    cases = [engine.start("timer_wait") for _ in range(16)]
    clock.advance(hours=1)
    summary, _ = run_once(engine, group=2)  # eight groups: psycopg prepares from the fifth use on
    assert summary["fired"] == 16
    with engine.store.tx(write=False) as tx:  # the worker's own connection (a Store keeps one)
        prepared = [r[0] for r in tx.conn.exec_driver_sql("SELECT statement FROM pg_prepared_statements")]
    assert prepared and not [p for p in prepared if "human_tasks" in p and "ANY" in p], prepared
    assert all(kinds(engine, c["id"], "timer_fired") == ["wait"] for c in cases)


def test_two_timers_of_one_case_in_one_batch_fire_one_after_the_other(engine, clock) -> None:
    """A group holds each case once: the second due timer of a case fires after the group, from
    the state the first left (the escalation cancels the task the reminder left waiting)."""
    cases = [engine.start("timer_boundary") for _ in range(3)]
    clock.advance(days=7)  # the reminder and the escalation of every case are due
    summary, events = run_once(engine)
    assert sorted(fired(events)) == sorted((c["id"], e) for c in cases for e in ("remind", "escalate"))
    assert summary["fired"] == 6 and job_rows(engine) == []
    for case in cases:
        assert kinds(engine, case["id"], "timer_fired") == ["remind", "escalate"]
        assert [t["name"] for t in engine.show(case["id"])["tasks"]] == ["escalated"]


def test_a_failing_timer_in_a_group_leaves_the_others_fired_once(engine, clock, monkeypatch) -> None:
    """One step of a group raises: the group rolls back, its timers fire one by one, the failing
    one is retried later (its case untouched), the others are fired once, with one history row."""
    a, b, c = (engine.start("timer_boundary") for _ in range(3))
    clock.advance(minutes=45)
    fire = engine.runtime.fire_timer

    def failing(tx, instance_id, *args, **kwargs):
        if instance_id == b["id"]:
            raise RuntimeError("the reminder service is down")
        return fire(tx, instance_id, *args, **kwargs)

    monkeypatch.setattr(engine.runtime, "fire_timer", failing)
    summary, events = run_once(engine)
    assert fired(events) == [(a["id"], "remind"), (c["id"], "remind")]
    # the group's own failure is reported too (issue 11; test_a_failed_group_is_logged_and_reported)
    assert [(e.kind, e.job.instance_id) for e in events if e.kind not in ("fired", "group_failed")] == [
        ("retry", b["id"])
    ]
    for case in (a, c):
        assert kinds(engine, case["id"], "timer_fired") == ["remind"]
        assert engine.show(case["id"])["variables"]["reminded"] is True
    assert kinds(engine, b["id"], "timer_fired") == [] and "reminded" not in engine.show(b["id"])["variables"]
    monkeypatch.undo()
    clock.advance(minutes=1)  # the retry's backoff
    assert fired(run_once(engine)[1]) == [(b["id"], "remind")]
    assert engine.show(b["id"])["variables"]["reminded"] is True


def test_a_failed_group_is_logged_and_reported(engine, clock, monkeypatch, caplog) -> None:
    """A group that fails is rolled back and its timers fire alone; its exception is not dropped: a
    warning in the log and a `group_failed` event (the CLI prints events) naming the job in hand."""
    _pg_only(engine)
    a, b, c = (engine.start("timer_boundary") for _ in range(3))
    clock.advance(minutes=45)
    fire = engine.runtime.fire_timer

    def failing(tx, instance_id, *args, **kwargs):
        if instance_id == b["id"] and len(args) > 3:  # in the group (the loaded instance handed in) only
            raise RuntimeError("the reminder service is down")
        return fire(tx, instance_id, *args, **kwargs)

    monkeypatch.setattr(engine.runtime, "fire_timer", failing)
    with caplog.at_level("WARNING", logger="hall.engine.jobs.worker"):
        _summary, events = run_once(engine)
    failed = [e for e in events if e.kind == "group_failed"]
    assert [(e.job.instance_id, e.error) for e in failed] == [(b["id"], "RuntimeError: the reminder service is down")]
    assert "RuntimeError: the reminder service is down" in caplog.text and "rolled back" in caplog.text
    assert sorted(fired(events)) == sorted((case["id"], "remind") for case in (a, b, c))  # then each alone


def test_a_case_locked_by_a_clerk_is_left_out_of_the_group_and_fires_after_it(engine, make_engine, clock) -> None:
    """The group does not wait for a lock while it holds others (two workers could deadlock): a
    case a clerk's transaction holds fires alone once the clerk commits, from what the clerk left."""
    import threading

    _pg_only(engine)
    a, b, c = (engine.start("timer_boundary") for _ in range(3))
    clock.advance(minutes=45)
    clerk, worker = make_engine(), make_engine()
    result: list = []
    with clerk.store.tx() as tx:  # the clerk's step on b, not yet committed
        assert tx.instance_version(b["id"], lock=True) is not None
        thread = threading.Thread(target=lambda: result.append(run_once(worker)))
        thread.start()
        thread.join(1.0)
        assert thread.is_alive()  # a and c are fired; b waits for the clerk
        assert kinds(engine, a["id"], "timer_fired") == kinds(engine, c["id"], "timer_fired") == ["remind"]
    thread.join(30)
    summary, events = result[0]
    assert fired(events) == [(a["id"], "remind"), (c["id"], "remind"), (b["id"], "remind")]
    assert _xmin(engine, a["id"]) == _xmin(engine, c["id"]) != _xmin(engine, b["id"])
    assert engine.show(b["id"])["variables"]["reminded"] is True


def test_a_firing_that_waited_for_the_instance_lock_sees_the_step_that_held_it(engine, make_engine, clock) -> None:
    """Worker A holds the reminder of a case, worker B its escalation (which cancels the reminder).
    B fires first; A's hold waits for B's lock on the instance. Once B commits, A must load the
    instance as B left it (the reminder no longer waits: stale), never B's new instance row with
    the task rows from before B (the reminder would fire on a case that was escalated)."""
    import threading

    from hall.engine.jobs import Worker

    case = engine.start("timer_boundary")
    clock.advance(days=7)  # both the reminder and the escalation are due
    with engine.store.tx() as tx:
        (job,) = jobstore.acquire(tx, "w:a", clock.now(), 1, lease=60)
    other = make_engine()
    with other.store.tx() as tx:
        (taken,) = jobstore.acquire(tx, "w:b", clock.now(), 1, lease=60)
    assert (job.element, taken.element) == ("remind", "escalate")
    events: list = []
    worker_a = Worker(engine.store, engine.runtime, clock, worker_id="w:a", on_event=events.append)
    engine.runtime._cache.clear()  # a cold load, as in a worker process that never saw the case
    with other.store.tx() as tx:  # worker B's transaction, held open while A starts
        _status, version = jobstore.hold(tx, taken, "w:b")
        assert other.runtime.fire_timer(tx, case["id"], taken.spiff_task_id, "worker w:b", version)
        thread = threading.Thread(target=worker_a._run, args=(job,))
        thread.start()
        thread.join(0.5 if engine.store.dialect == "postgresql" else 0)
    thread.join(30)
    # PostgreSQL: A's claim check saw its row before B deleted it, so A waited and then loaded;
    # SQLite: one writer at a time, A starts after B's commit and finds its job gone
    assert [e.kind for e in events] == (["stale"] if engine.store.dialect == "postgresql" else ["lost"]), events
    assert kinds(engine, case["id"], "timer_fired") == ["escalate"]
    view = engine.show(case["id"])
    assert [t["name"] for t in view["tasks"]] == ["escalated"] and "reminded" not in view["variables"]
    assert job_rows(engine) == []


# -- asynchronous continuations (camunda:asyncBefore / asyncAfter) -------------------------------------
def test_async_before_and_after_run_in_the_worker_not_in_the_clerks_step(engine, clock):
    case = engine.start("async_steps")
    (enter,) = engine.show(case["id"])["tasks"]
    view = engine.complete(enter["id"], {"total": 90, "parts": 3})
    # The clerk's completion is committed; the calculation waits for the worker (asyncBefore).
    assert view["status"] == "running" and view["tasks"] == [] and "share" not in view["variables"]
    assert [(j["element"], j["kind"]) for j in job_rows(engine)] == [("calc", "async")]
    assert [t["element"] for t in view["timers"]] == ["calc"]

    summary, events = run_once(engine)
    # one pass runs both continuations: before the calculation, then after it (asyncAfter)
    assert fired(events) == [(case["id"], "calc"), (case["id"], "calc")] and summary["fired"] == 2
    view = engine.show(case["id"])
    assert view["variables"]["share"] == 30 and view["variables"]["notice"] == "each pays 30.0"
    assert [t["name"] for t in view["tasks"]] == ["check"] and job_rows(engine) == []
    history = engine.history(case["id"])
    assert [
        (h["kind"], h["element"], (h["detail"] or {}).get("at")) for h in history if h["kind"].startswith("async_")
    ] == [
        ("async_scheduled", "calc", "before"),
        ("async_continued", "calc", "before"),
        ("async_scheduled", "calc", "after"),
        ("async_continued", "calc", "after"),
    ]


def test_a_failing_async_task_is_an_incident_and_retry_runs_it_in_the_worker(engine, clock):
    case = engine.start("async_steps")
    (enter,) = engine.show(case["id"])["tasks"]
    engine.complete(enter["id"], {"total": 90, "parts": 0})  # the completion stands, whatever follows
    assert engine.history(case["id"])[-1]["kind"] == "async_scheduled"
    clock.advance(seconds=1)
    run_once(engine)
    view = engine.show(case["id"])
    assert view["status"] == "incident" and view["incident"]["element"] == "calc"
    assert "ZeroDivisionError" in view["incident"]["error"] and job_rows(engine) == []
    assert [t["name"] for t in view["tasks"]] == []

    clock.advance(minutes=5)
    view = engine.retry(case["id"], {"parts": 2})
    # retry hands the calculation back to the worker (a new job), it does not run it in place
    assert view["status"] == "running" and "share" not in view["variables"]
    assert [(j["element"], j["kind"], j["locked_by"]) for j in job_rows(engine)] == [("calc", "async", None)]
    run_once(engine)
    view = engine.show(case["id"])
    assert view["variables"]["share"] == 45 and [t["name"] for t in view["tasks"]] == ["check"]


def test_an_async_continuation_at_the_same_moment_it_was_written(engine, clock):
    """A rehearsal runs `start` and `worker --once` with the same --now: the job is due at once."""
    case = engine.start("async_steps")
    (enter,) = engine.show(case["id"])["tasks"]
    engine.complete(enter["id"], {"total": 10, "parts": 0})
    run_once(engine)
    assert engine.show(case["id"])["status"] == "incident"
    engine.retry(case["id"], {"parts": 5})
    run_once(engine)
    assert engine.show(case["id"])["variables"]["share"] == 2


# -- the warning time of a task (camunda:followUpDate) ---------------------------------------------
def test_a_task_is_due_soon_from_its_follow_up_date_on_the_working_day_calendar(engine, clock, tmp_path):
    from hall.cli import main

    clock.set(at("2026-09-30T10:00"))  # the day before the National Day holiday
    case = engine.start("follow_up")
    (task,) = engine.tasks(instance=case["id"])
    # 国庆节 1-7 October is not counted: 1 working day later is 8 October, 2 are 9 October
    assert datetime.fromisoformat(task["warn_at"]) == at("2026-10-08T10:00")
    assert datetime.fromisoformat(task["due_at"]) == at("2026-10-09T10:00")

    def line(now: str) -> str:
        result = CliRunner().invoke(
            main,
            [
                "--db",
                engine.store.url,
                "--forms",
                str(FIXTURES / "forms"),
                "--now",
                now,
                "tasks",
                "--instance",
                str(case["id"]),
            ],
        )
        assert result.exit_code == 0, result.output
        return next(ln for ln in result.output.splitlines() if "Answer the customer" in ln)

    assert "(soon)" not in line("2026-10-08T09:59+08:00")  # a day left, before the warning time
    assert "(soon)" in line("2026-10-08T10:00+08:00")  # still a day left, but past the warning
    assert "OVERDUE" in line("2026-10-09T10:01+08:00")


def test_validate_checks_the_follow_up_date(tmp_path):
    from hall.cli import main

    bad = tmp_path / "bad.bpmn"
    bad.write_text(
        (FIXTURES / "follow_up.bpmn").read_text().replace('followUpDate="1 working day"', 'followUpDate="1 wrking day"')
    )
    result = CliRunner().invoke(main, ["--forms", str(FIXTURES / "forms"), "validate", str(bad)])
    assert result.exit_code == 1
    assert f"{bad}:7: answer: followUpDate: unknown unit 'wrking'" in result.output
