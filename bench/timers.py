"""Timer benchmark: `hall worker --once` against a big jobs table, and raw SpiffWorkflow in the same run.

    python bench/timers.py [--pg postgresql+psycopg://postgres@127.0.0.1:5432/test] [--due 10000]
                           [--pending 10000,100000] [--million] [--scale 10000,100000,1000000]
                           [--no-sqlite] [--no-fire]

1. Firing: ``--due`` instances of tests/fixtures/timer_wait.bpmn (a PT1H intermediate timer, then
   a user task) are started through the API at T, once per database. For each size in
   ``--pending`` (``--million`` adds 1,000,000) a copy of that database gets its jobs table filled
   up to that many rows with timers due a year later: bulk-inserted rows of one parked instance,
   real rows the worker would fire when due (as stale: the parked instance does not wait for them),
   but never due during the run, so they only cost the index (PostgreSQL: then VACUUM, as autovacuum
   would have run in the hour between the starts and the timers). Then `hall --now T+1h worker --once`
   runs as 1 or 2 processes on a fresh copy (SQLite: file copy; PostgreSQL: CREATE DATABASE ...
   TEMPLATE, then CHECKPOINT so that no checkpoint left over from the set-up runs during the
   measurement) and the wall time, the timers fired per second per worker and the total are printed.
2. Raw SpiffWorkflow: the same process in memory, the same number of timers fired
   (refresh_timers + do_engine_steps), no persistence; and the same with SpiffWorkflow's own JSON
   serializer around each firing (restore, fire, serialize: what a cold load and save cost at least).
3. Lookup scaling: the claim statement (`jobstore.acquire`, 100 due rows, rolled back) timed with
   each ``--scale`` pending rows, and its plan (EXPLAIN) at the largest size.

The bulk-insert statements below are test-data generation only; the engine's job SQL lives in
engine/jobs/table.py.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
FIXTURE = ROOT / "tests" / "fixtures" / "timer_wait.bpmn"
T0 = datetime(2026, 11, 24, 1, 0, tzinfo=UTC)

import sqlalchemy as sa  # noqa: E402
from hall.engine import Engine, FixedClock  # noqa: E402
from hall.engine import jobs as jobstore  # noqa: E402
from hall.engine.store import normalise_url  # noqa: E402


# -- databases ----------------------------------------------------------------------------------
class PgDatabases:
    """Creates and drops benchmark databases next to the one in the URL."""

    def __init__(self, url: str) -> None:
        self.url = sa.engine.make_url(normalise_url(url))
        self.admin = sa.create_engine(self.url, isolation_level="AUTOCOMMIT")
        self.made: list[str] = []

    def create(self, template: str | None = None) -> str:
        name = f"hall_bench_{uuid.uuid4().hex[:10]}"
        with self.admin.connect() as conn:
            conn.exec_driver_sql(f'CREATE DATABASE "{name}"' + (f' TEMPLATE "{template}"' if template else ""))
        self.made.append(name)
        return name

    def url_of(self, name: str) -> str:
        return self.url.set(database=name).render_as_string(hide_password=False)

    def drop(self, name: str) -> None:
        with self.admin.connect() as conn:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        self.made.remove(name)

    def drop_all(self) -> None:
        with self.admin.connect() as conn:
            for name in self.made:
                conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        self.admin.dispose()


def bulk_pending(eng: Engine, n: int, instance_ids: list[int], offset: int = 0) -> None:
    """Add n job rows due far in the future (test data: never due during the run)."""
    if n <= 0:
        return
    with eng.store.tx() as tx:
        ids = instance_ids[:1000]
        if tx.dialect == "postgresql":
            tx.conn.exec_driver_sql(
                "INSERT INTO jobs (instance_id, element, spiff_task_id, kind, due_at, attempts, created_at)"
                " SELECT (%(ids)s::int[])[1 + n %% %(k)s::int], 'pending', md5(n::text), 'timer',"
                " timestamptz '2027-11-24 00:00:00+00' + n * interval '1 second', 0, now()"
                " FROM generate_series(%(a)s::int, %(b)s::int) AS n",
                {"ids": ids, "k": len(ids), "a": offset, "b": offset + n - 1},
            )
        else:
            tx.conn.exec_driver_sql("CREATE TEMP TABLE IF NOT EXISTS bench_ids (i INTEGER PRIMARY KEY, id INTEGER)")
            tx.conn.exec_driver_sql("DELETE FROM bench_ids")
            tx.conn.exec_driver_sql("INSERT INTO bench_ids VALUES (?, ?)", [(i, v) for i, v in enumerate(ids)])
            tx.conn.exec_driver_sql(
                "WITH RECURSIVE s(n) AS (SELECT ? UNION ALL SELECT n + 1 FROM s WHERE n < ?)"
                " INSERT INTO jobs (instance_id, element, spiff_task_id, kind, due_at, attempts, created_at)"
                " SELECT (SELECT id FROM bench_ids WHERE i = n % ?), 'pending', printf('p%d', n), 'timer',"
                " printf('2027-%02d-%02d %02d:%02d:%02d.000000', 1 + n % 12, 1 + (n / 12) % 28, (n / 336) % 24,"
                " (n / 8064) % 60, (n / 483840) % 60), 0, '2026-11-24 01:00:00.000000' FROM s",
                (offset, offset + n - 1, len(ids)),
            )
    with eng.store.tx() as tx:
        tx.conn.exec_driver_sql("ANALYZE")


# -- 1. firing ------------------------------------------------------------------------------------
def parking(eng: Engine) -> list[int]:
    """One instance that holds the bulk-inserted pending jobs and is never fired in the run.

    Pending rows need a real instance (foreign key); hanging them on the instances that do fire
    would make each firing load and withdraw dozens of foreign timers, which no real case has.
    """
    pid = eng.start("timer_wait")["id"]
    with eng.store.tx() as tx:
        tx.conn.exec_driver_sql(f"DELETE FROM jobs WHERE instance_id = {int(pid)}")
    return [pid]


def prepare(url: str, due: int) -> tuple[float, list[int]]:
    """A database with ``due`` started instances, each waiting for its timer, and the parked one."""
    eng = Engine(url, clock=FixedClock(T0), forms_dir=None)
    eng.init()
    eng.deploy([FIXTURE])
    park = parking(eng)
    t0 = time.perf_counter()
    [eng.start("timer_wait")["id"] for _ in range(due)]
    starts = due / (time.perf_counter() - t0)
    eng.close()
    return starts, park


def fill(url: str, pending: int, due: int, park: list[int]) -> None:
    """Fill the jobs table of a copy of the prepared database up to ``pending`` rows; PostgreSQL:
    then VACUUM it, as autovacuum does in the hour between the starts and their timers (a copy
    taken seconds after 10,000 starts still holds each instance's dead row versions and unset
    hint bits, which the first firings pay for: about 400/s instead of 630/s with one worker)."""
    eng = Engine(url, clock=FixedClock(T0), forms_dir=None)
    bulk_pending(eng, pending - due, park)
    eng.close()
    if url.startswith("postgresql"):
        _outside_transaction(url, "VACUUM (ANALYZE)")


def checkpoint(url: str) -> None:
    """PostgreSQL: write out what the set-up left in memory, so the measured run does not pay for it."""
    _outside_transaction(url, "CHECKPOINT")


def _outside_transaction(url: str, sql: str) -> None:
    """PostgreSQL: a statement that cannot run inside a transaction block (VACUUM, CHECKPOINT)."""
    engine = sa.create_engine(normalise_url(url), isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.exec_driver_sql(sql)
    engine.dispose()


def run_workers(url: str, workers: int, batch: int, tmp: Path) -> dict:
    now = (T0 + timedelta(hours=1)).isoformat()
    cmd = [
        sys.executable,
        "-m",
        "hall.cli",
        "--db",
        url,
        "--now",
        now,
        "worker",
        "--once",
        "--batch",
        str(batch),
        "--json",
    ]
    t0 = time.perf_counter()
    procs = [
        subprocess.Popen(cmd, cwd=tmp, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for _ in range(workers)
    ]
    results = []
    for p in procs:
        out, err = p.communicate()
        if p.returncode != 0:
            raise SystemExit(f"worker failed: {err}")
        results.append(json.loads(out))
    wall = time.perf_counter() - t0
    fired = sum(r["fired"] for r in results)
    loop = max(r["seconds"] for r in results)
    return {
        "workers": workers,
        "fired": fired,
        "wall": wall,
        "loop": loop,
        "per_worker": [r["fired"] / r["seconds"] for r in results],
        "total_rate": fired / loop,
    }


# -- 2. raw SpiffWorkflow -------------------------------------------------------------------------
def raw_spiff(n: int) -> tuple[float, float]:
    """Timers fired per second by raw SpiffWorkflow in memory (same process, a zero-length timer),
    and with SpiffWorkflow's JSON serializer around each firing (restore, fire, serialize)."""
    from lxml import etree
    from SpiffWorkflow.bpmn.serializer import BpmnWorkflowSerializer
    from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
    from SpiffWorkflow.camunda.parser import CamundaParser
    from SpiffWorkflow.camunda.serializer import DEFAULT_CONFIG
    from SpiffWorkflow.util.task import TaskState

    parser = CamundaParser()
    xml = FIXTURE.read_text().replace(">PT1H<", '>"PT0S"<')
    parser.add_bpmn_xml(etree.fromstring(xml.encode()), filename="timer_wait.bpmn")
    spec = parser.get_spec("timer_wait")
    flows = []
    for _ in range(n):
        wf = BpmnWorkflow(spec)
        wf.do_engine_steps()
        flows.append(wf)
    serializer = BpmnWorkflowSerializer(BpmnWorkflowSerializer.configure(DEFAULT_CONFIG))
    stored = [serializer.serialize_json(wf) for wf in flows]
    t0 = time.perf_counter()
    for wf in flows:
        wf.refresh_timers()
        wf.do_engine_steps()
    rate = n / (time.perf_counter() - t0)
    assert all(wf.get_next_task(state=TaskState.READY, manual=True) is not None for wf in flows)
    t0 = time.perf_counter()
    saved = []
    for text in stored:
        wf = serializer.deserialize_json(text)
        wf.refresh_timers()
        wf.do_engine_steps()
        saved.append(serializer.serialize_json(wf))
    serialized = n / (time.perf_counter() - t0)
    return rate, serialized


# -- 3. lookup scaling ----------------------------------------------------------------------------
def lookup_scaling(url: str, sizes: list[int]) -> tuple[list[tuple[int, float]], list[str]]:
    eng = Engine(url, clock=FixedClock(T0), forms_dir=None)
    eng.init()
    eng.deploy([FIXTURE])
    ids = parking(eng)
    for _ in range(100):  # 100 due timers
        eng.start("timer_wait")
    now = T0 + timedelta(hours=1)
    have, out = 100, []
    for size in sizes:
        bulk_pending(eng, size - have + 100, ids, offset=have)
        have = size + 100
        times = []
        for _ in range(15):
            conn = eng.store.engine.connect()
            from hall.engine.store import Tx

            trans = conn.begin()
            tx = Tx(conn, eng.store.dialect)
            t0 = time.perf_counter()
            claimed = jobstore.acquire(tx, "bench:0", now, 100, 60)
            times.append(time.perf_counter() - t0)
            trans.rollback()
            conn.close()
            assert len(claimed) == 100, len(claimed)
        out.append((size, statistics.median(times) * 1000))
    with eng.store.tx() as tx:
        plan = jobstore.explain_acquire(tx, now, 100)
    eng.close()
    return out, plan


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--due", type=int, default=10_000)
    ap.add_argument("--pending", default="10000,100000", help="pending sizes to fire among (comma-separated)")
    ap.add_argument("--million", action="store_true", help="also fire among 1,000,000 pending (a few minutes more)")
    ap.add_argument("--batch", type=int, default=100)
    ap.add_argument("--pg", default=os.environ.get("HALL_TEST_DATABASE_URL"))
    ap.add_argument("--scale", default="10000,100000,1000000", help="pending sizes for the lookup timing")
    ap.add_argument("--no-sqlite", action="store_true")
    ap.add_argument("--no-fire", action="store_true", help="only raw SpiffWorkflow and the lookup")
    args = ap.parse_args()
    sizes = [int(s) for s in args.scale.split(",") if s]
    pendings = [int(s) for s in args.pending.split(",") if s] + ([1_000_000] if args.million else [])
    tmp = Path(tempfile.mkdtemp(prefix="hall-bench-timers-"))
    pg = PgDatabases(args.pg) if args.pg else None
    print(
        f"firing: {args.due:,} due timers (real instances) among N pending jobs (the rest: bulk-inserted rows of one"
        f" parked instance, due a year later); worker --once --batch {args.batch}"
    )
    try:
        if not args.no_fire and not args.no_sqlite:
            base = tmp / "base.db"
            starts, park = prepare(str(base), args.due)
            print(f"  sqlite      prepared ({starts:.0f} starts/s)")
            for pending in pendings:
                sized = tmp / f"sized{pending}.db"
                shutil.copy(base, sized)
                fill(str(sized), pending, args.due, park)
                for workers in (1, 2):
                    db = tmp / f"run{workers}.db"
                    shutil.copy(sized, db)
                    r = run_workers(str(db), workers, args.batch, tmp)
                    assert r["fired"] == args.due, r
                    _report("sqlite", pending, r)
                    db.unlink()
                sized.unlink()
        if not args.no_fire and pg:
            base = pg.create()
            starts, park = prepare(pg.url_of(base), args.due)
            print(f"  postgresql  prepared ({starts:.0f} starts/s)")
            for pending in pendings:
                sized = pg.create(template=base)
                fill(pg.url_of(sized), pending, args.due, park)
                for workers in (1, 2):
                    run = pg.create(template=sized)
                    checkpoint(pg.url_of(run))
                    r = run_workers(pg.url_of(run), workers, args.batch, tmp)
                    assert r["fired"] == args.due, r
                    _report("postgresql", pending, r)
                    pg.drop(run)
                pg.drop(sized)
        rate, serialized = raw_spiff(args.due)
        print(
            f"  raw SpiffWorkflow in memory: {args.due:,} timers fired at {rate:,.0f}/s (no persistence);"
            f" with its JSON serializer around each (restore, fire, serialize): {serialized:,.0f}/s"
        )

        print(
            "lookup: claim 100 due jobs (median of 15, rolled back) among N pending jobs"
            " (100 real due timers; the rest bulk-inserted rows of one parked instance)"
        )
        backends = [("sqlite", lambda: str(tmp / "scale.db"))] if not args.no_sqlite else []
        if pg:
            backends.append(("postgresql", lambda: pg.url_of(pg.create())))
        for name, make in backends:
            timings, plan = lookup_scaling(make(), sizes)
            for size, ms in timings:
                print(f"  {name:<11} {size:>9,} pending  {ms:7.2f} ms")
            print(f"  {name} plan at {sizes[-1]:,} pending:")
            for line in plan:
                print(f"    {line}")
    finally:
        if pg:
            pg.drop_all()
        shutil.rmtree(tmp, ignore_errors=True)


def _report(backend: str, pending: int, r: dict) -> None:
    per = ", ".join(f"{x:.0f}" for x in r["per_worker"])
    print(
        f"  {backend:<11} {pending:>9,} pending, {r['workers']} worker(s): fired {r['fired']:,} in {r['loop']:.2f}s loop "
        f"({r['wall']:.2f}s wall with process start) = {r['total_rate']:.0f}/s total, per worker {per}/s"
        ""
    )


if __name__ == "__main__":
    main()
