"""Benchmark of `hall kpi` and `hall report monthly` on a SQLite database with 1,000,000 history rows.

    python bench/kpi.py [--rows 1000000] [--db /tmp/hall-kpi.db] [--keep] [--no-index]

Builds the database (bulk-inserted rows shaped like the ones the complaint and filing processes
write: started, task_created with due_at, task_completed with the form data, gateway_taken,
timer_scheduled, ended), then times whole `hall` commands (interpreter start, imports, queries,
output) for one month, one quarter and one year. Target: `hall kpi` over a year of 1,000,000
history rows <= 2 s.
The generated rows are test data; nothing here is used by the engine.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sqlite3
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

# The KPI target, stated once: `hall kpi` over a year of 1,000,000 history rows in at most 2 s.
TARGET_YEAR_S = 2.0
YEAR = "kpi, one year"
FMT = "%Y-%m-%d %H:%M:%S.%f"
TYPES = ["投诉"] * 6 + ["举报", "咨询", "意见", "建议"]
TOPICS = ["安全", "质量", "管网建设", "服务质量", "信息沟通", "其他"]
STAFF = ["小孙", "张经理", "刘主任", "黄经理", "小周", "小赵", "小陈", "小李", "小王"]
AGENCIES = ["合肥甲咨询", "乙会计师事务所", "丙律师事务所", "丁知识产权", "戊人力资源"]


def dumps(v: object) -> str:
    return json.dumps(v, ensure_ascii=False, separators=(",", ":"))


def build(db: Path, rows_wanted: int, start: datetime, days: int, seed: int = 7) -> dict[str, int]:
    from hall.engine import Engine

    if db.exists():
        db.unlink()
    for suffix in ("-wal", "-shm"):
        Path(str(db) + suffix).unlink(missing_ok=True)
    eng = Engine(str(db), forms_dir=None)
    eng.init()
    eng.close()
    rnd = random.Random(seed)
    con = sqlite3.connect(db)
    con.execute("PRAGMA journal_mode=WAL")
    con.execute("PRAGMA synchronous=OFF")
    now_s = start.strftime(FMT)
    con.execute(
        "INSERT INTO definitions (id, process_id, version, name, content_hash, source_file, source, spec,"
        " deployed_at) VALUES (1, 'complaint', 1, 'complaint', 'x', 'complaint.bpmn', '', '{}', ?),"
        " (2, 'filing', 1, 'filing', 'y', 'filing.bpmn', '', '{}', ?)",
        (now_s, now_s),
    )
    hist, insts, humans = [], [], []
    iid = 0
    total = 0
    span = days * 86400

    def h(i: int, p: str, at: datetime, actor: str | None, kind: str, el: str | None, detail: dict | None) -> None:
        hist.append((i, p, at.strftime(FMT), actor, kind, el, None, dumps(detail) if detail else None))

    def flush() -> None:
        con.executemany(
            "INSERT INTO instances (id, definition_id, process_id, business_key, status, started_at,"
            " updated_at, ended_at, version, state, variables) VALUES (?,?,?,?,?,?,?,?,1,'{}','{}')",
            insts,
        )
        con.executemany(
            "INSERT INTO history (instance_id, process_id, at, actor, kind, element, task_id, detail)"
            " VALUES (?,?,?,?,?,?,?,?)",
            hist,
        )
        con.executemany(
            "INSERT INTO human_tasks (instance_id, process_id, spiff_task_id, name, status, created_at,"
            " due_at, due_provisional) VALUES (?,?,?,?,'ready',?,?,0)",
            humans,
        )
        insts.clear(), hist.clear(), humans.clear()

    end_of_data = start + timedelta(days=days)
    while total < rows_wanted:
        iid += 1
        t = start + timedelta(seconds=rnd.randrange(span))
        if rnd.random() < 0.8:  # a complaint
            p = "complaint"
            h(iid, p, t, "小孙", "started", None, {"business_key": None, "data": {"渠道": "热线"}, "version": 1})
            kind = rnd.choice(TYPES)

            def task(name: str, minutes: float, data: dict, due: datetime | None = None) -> None:
                nonlocal t
                h(
                    iid,
                    p,
                    t,
                    rnd.choice(STAFF),
                    "task_created",
                    name,
                    {"title": name, "role": "x", "due_at": due.isoformat() if due else None},
                )
                t = t + timedelta(minutes=minutes)
                h(iid, p, t, rnd.choice(STAFF), "task_completed", name, {"data": data})

            task("register", 5, {"接待人员": "小孙", "投诉企业": "某公司", "投诉内容": "内容" * 10})
            task(
                "classify",
                20,
                {"类型": kind, "专题": rnd.choice(TOPICS), "是否重大投诉": False},
                t + timedelta(minutes=45),
            )
            h(iid, p, t, None, "gateway_taken", "gw_valid", {"targets": ["contact"]})
            open_at = None
            if kind in ("投诉", "举报"):
                task("contact", 30, {"联系方式": "电话"}, t + timedelta(minutes=45))
                h(iid, p, t, None, "timer_scheduled", "contact_overdue", {"due_at": t.isoformat(), "timer": "duration"})
                limit = t + timedelta(days=7)
                dur = rnd.expovariate(1 / (4 * 86400))
                h(
                    iid,
                    p,
                    t,
                    None,
                    "timer_scheduled",
                    "investigate_overdue",
                    {"due_at": limit.isoformat(), "timer": "date"},
                )
                if t + timedelta(seconds=dur) > end_of_data:
                    h(
                        iid,
                        p,
                        t,
                        None,
                        "task_created",
                        "investigate",
                        {"title": "调查处理", "due_at": limit.isoformat()},
                    )
                    open_at = ("investigate", t, limit)
                else:
                    task("investigate", dur / 60, {"调查结论": "属实", "需要延期": False}, limit)
                    for _r in range(1 + (rnd.random() < 0.2)):
                        task("rectify", 60, {"整改意见": "整改"})
                        task("hall_review", 30, {"大厅审核意见": "通过"})
                        task("feedback", 30, {"客户是否满意": True})
                    task("report", 60, {"报告结论": "属实"})
                    task("manager_review", 30, {"审核结论": "同意"})
                    revisit_due = t + timedelta(days=2)
                    answer = rnd.choice(["满意"] * 8 + ["基本满意", "不满意"])
                    task("revisit", rnd.expovariate(1 / 1500), {"回访满意度": answer, "回访记录": "ok"}, revisit_due)
                    task("rate", 5, {"办理评分": 9})
                    task("archive", 5, {"档案编号": "A"})
                    h(iid, p, t, None, "ended", None, None)
            else:
                task("reply_nonvalid", 60, {"答复内容": "已答复"}, t + timedelta(days=2))
                task("archive", 5, {"档案编号": "A"})
                h(iid, p, t, None, "ended", None, None)
        else:  # a filing with its satisfaction callback
            p = "filing"
            h(iid, p, t, "小王", "started", None, {"business_key": None, "data": {}, "version": 1})
            for name in ("reception", "consult"):
                h(iid, p, t, "小王", "task_created", name, {"title": name, "due_at": None})
                t += timedelta(minutes=15)
                h(iid, p, t, "小李", "task_completed", name, {"data": {"x": 1}})
            h(iid, p, t, "张经理", "task_created", "sign_agreement", {"title": "签订", "due_at": None})
            t += timedelta(minutes=40)
            h(
                iid,
                p,
                t,
                "张经理",
                "task_completed",
                "sign_agreement",
                {"data": {"服务机构": rnd.choice(AGENCIES), "咨询企业": "某企业", "服务收费": "1000.00"}},
            )
            h(
                iid,
                p,
                t,
                "小陈",
                "task_created",
                "review",
                {"title": "审查", "due_at": (t + timedelta(days=1)).isoformat()},
            )
            t += timedelta(hours=2)
            h(iid, p, t, "小陈", "task_completed", "review", {"data": {"大厅备案意见": "同意"}})
            t += timedelta(days=rnd.randrange(5, 60))
            h(iid, p, t, None, "timer_fired", "wait_callback", None)
            h(
                iid,
                p,
                t,
                None,
                "task_created",
                "callback",
                {"title": "回访", "due_at": (t + timedelta(days=1)).isoformat()},
            )
            t += timedelta(hours=3)
            h(
                iid,
                p,
                t,
                "小赵",
                "task_completed",
                "callback",
                {
                    "data": {
                        "服务态度": rnd.choice([10, 8, 6]),
                        "服务效率": rnd.choice([10, 8, 6, 2]),
                        "服务价格": rnd.choice([10, 8, 6]),
                    }
                },
            )
            h(iid, p, t, None, "ended", None, None)
        first, last = hist[-1][2], hist[-1][2]
        started = next(x[2] for x in reversed(hist) if x[0] == iid and x[4] == "started")
        ended = hist[-1][4] == "ended"
        insts.append(
            (
                iid,
                1 if p == "complaint" else 2,
                p,
                None,
                "completed" if ended else "running",
                started,
                last,
                last if ended else None,
            )
        )
        if open_at if p == "complaint" else False:
            humans.append((iid, p, f"t{iid}", open_at[0], open_at[1].strftime(FMT), open_at[2].strftime(FMT)))
        total += sum(1 for x in hist if x[0] == iid)
        if len(hist) > 50_000:
            flush()
        del first
    flush()
    con.commit()
    n_hist = con.execute("SELECT COUNT(*) FROM history").fetchone()[0]
    n_inst = con.execute("SELECT COUNT(*) FROM instances").fetchone()[0]
    con.close()
    return {"history": n_hist, "instances": n_inst}


def run(cmd: list[str]) -> tuple[float, str]:
    t0 = time.perf_counter()
    out = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, check=True)
    return time.perf_counter() - t0, out.stdout


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--db", default="/tmp/hall-kpi.db")
    ap.add_argument("--keep", action="store_true", help="reuse an existing database")
    ap.add_argument("--no-index", action="store_true", help="drop the indicator index (schema v2) first, to compare")
    args = ap.parse_args()
    db = Path(args.db)
    start = datetime(2025, 1, 1, tzinfo=UTC)
    if not (args.keep and db.exists()):
        t0 = time.perf_counter()
        sizes = build(db, args.rows, start, days=700)
        print(
            f"built {db}: {sizes['history']} history rows, {sizes['instances']} instances "
            f"in {time.perf_counter() - t0:.1f} s"
        )
    con = sqlite3.connect(db)
    if args.no_index:
        con.execute("DROP INDEX IF EXISTS ix_history_process_kind_element_at")
    con.close()
    py = sys.executable
    now = "2026-12-01T09:00:00+08:00"
    base = [py, "-m", "hall.cli", "--db", str(db), "--now", now, "--config", str(ROOT / "hall.yaml")]
    if not args.no_index:
        elapsed, _ = run(base + ["kpi", "--from", "2026-11-01", "--to", "2026-11-01"])
        print(f"first run (cold file cache): {elapsed:.2f} s")
    else:
        # time the indicators in-process on the database without its indicator index
        from hall.engine import Engine, FixedClock
        from hall.engine.config import load_config
        from hall.servicehall import kpi

        eng = Engine(
            str(db),
            clock=FixedClock(datetime.fromisoformat(now)),
            forms_dir=None,
            settings=load_config(ROOT / "hall.yaml"),
        )
        for first, last in (("2026-11-01", "2026-11-30"), ("2026-01-01", "2026-12-31")):
            from datetime import date

            t0 = time.perf_counter()
            kpi.indicators(eng, kpi.Period(date.fromisoformat(first), date.fromisoformat(last)))
            print(f"no index: indicators {first}..{last} in-process {time.perf_counter() - t0:.2f} s")
        return
    for label, extra in (
        ("kpi, one month", ["kpi", "--from", "2026-11-01", "--to", "2026-11-30"]),
        ("kpi, one quarter", ["kpi", "--from", "2026-07-01", "--to", "2026-09-30"]),
        (YEAR, ["kpi", "--from", "2026-01-01", "--to", "2026-12-31"]),
        ("report monthly", ["report", "monthly", "--out", "/tmp/hall-kpi-reports"]),
    ):
        best = min(run(base + extra)[0] for _ in range(3))
        target = (
            f"   target <= {TARGET_YEAR_S:.0f} s: {'met' if best <= TARGET_YEAR_S else 'MISSED'}"
            if label == YEAR
            else ""
        )
        print(f"{label:<18}: {best:.2f} s   ({' '.join(['hall', '--db', str(db), '--now', now] + extra)}){target}")
    _, out = run(base + ["kpi", "--from", "2026-11-01", "--to", "2026-11-30"])
    print(out.split("\n", 4)[:4] and "\n".join(out.splitlines()[:4]))


if __name__ == "__main__":
    os.environ.setdefault("PYTHONHASHSEED", "0")
    main()
