"""`hall find` at scale: the wall time of whole `hall find` commands with N cases in the database.

    python bench/find.py [--cases 100000] [--db /tmp/hall-find.db] [--pg URL]

Fills the database (once; a later run reuses it) through the API with cases of a small process that
declares its business key (a number like BA20261124-00001) and holds a company name, a person's
name and a phone number, as the hall's forms do (the hall's `cases` defaults: 来访企业, 来访人,
来访人电话), then times `hall find` for a full number, a company-name fragment, the last digits of a
phone number, a fragment most cases share and a text no case has (the worst case: the whole search
table read), and `hall tasks` (500 of N, with their cases' keys and customers). Best of 3 runs each,
wall time and the command's own CPU time (user + system: what a busy, shared machine changes least).
"""

from __future__ import annotations

import argparse
import os
import random
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

PROCESS = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
    xmlns:camunda="http://camunda.org/schema/1.0/bpmn" id="d" targetNamespace="t">
  <bpmn:process id="visit" isExecutable="true">
    <bpmn:extensionElements>
      <camunda:properties>
        <camunda:property name="businessKey" value="编号" />
        <camunda:property name="businessKeyUnique" value="true" />
      </camunda:properties>
    </bpmn:extensionElements>
    <bpmn:startEvent id="start"><bpmn:outgoing>f1</bpmn:outgoing></bpmn:startEvent>
    <bpmn:userTask id="work" name="办理" camunda:candidateGroups="clerk"><bpmn:incoming>f1</bpmn:incoming>
      <bpmn:outgoing>f2</bpmn:outgoing></bpmn:userTask>
    <bpmn:endEvent id="end"><bpmn:incoming>f2</bpmn:incoming></bpmn:endEvent>
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="work" />
    <bpmn:sequenceFlow id="f2" sourceRef="work" targetRef="end" />
  </bpmn:process>
</bpmn:definitions>
"""
CITIES = "合肥 上海 深圳 杭州 南京 苏州 芜湖 武汉 成都 西安 广州 北京 天津 重庆 济南 青岛".split()
WORDS = "华信 恒通 瑞丰 宏达 创新 博远 安泰 金桥 新源 锦程 中科 天元 海纳 正和 立德 嘉禾 东方 卓越".split()
KINDS = "科技有限公司 贸易有限公司 制造有限公司 咨询服务公司 餐饮管理公司 软件有限公司 建设工程公司".split()
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗".split() + ["欧阳"]
GIVEN = "伟 芳 娜 敏 静 丽 强 磊 军 洋 勇 艳 杰 娟 涛 明 超 秀英 霞 平".split()


def fill(db: str, cases: int) -> None:
    from hall.engine import Engine
    from hall.servicehall.access import with_defaults

    eng = Engine(db, forms_dir=None, settings=with_defaults({}))
    eng.init()
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "visit.bpmn"
        path.write_text(PROCESS, encoding="utf-8")
        eng.deploy([path])
    have = sum(sum(by_status.values()) for by_status in eng.counts().values())
    rnd = random.Random(have)
    t0 = time.perf_counter()
    for i in range(have, cases):
        company = f"{rnd.choice(CITIES)}{rnd.choice(WORDS)}{rnd.choice(WORDS)}{rnd.choice(KINDS)}"
        data = {
            "编号": f"BA2026{1 + i // 1000:04d}-{i % 1000:04d}",
            "来访企业": company,
            "来访人": rnd.choice(SURNAMES) + rnd.choice(GIVEN),
            "来访人电话": f"139{rnd.randrange(10**8):08d}",
        }
        eng.start("visit", None, data)
        if i and i % 10_000 == 0:
            print(f"  ... {i} cases", flush=True)
    if cases > have:
        print(f"  (filled to {cases} cases in {time.perf_counter() - t0:.0f} s)")
    eng.close()


def timed(db: str, *args: str) -> tuple[float, float, int]:
    """Best wall time and best CPU time (user + system, the command's own) of 3 runs, and its lines."""
    env = dict(os.environ, HALL_DB=db, PYTHONPATH=str(ROOT))
    best, cpu, lines = float("inf"), float("inf"), 0
    with tempfile.TemporaryDirectory() as tmp:  # no hall.yaml: the hall's defaults
        for _ in range(3):
            before = resource.getrusage(resource.RUSAGE_CHILDREN)
            t = time.perf_counter()
            out = subprocess.run(
                [sys.executable, "-m", "hall.cli", *args], env=env, cwd=tmp, check=True, capture_output=True, text=True
            )
            best = min(best, time.perf_counter() - t)
            after = resource.getrusage(resource.RUSAGE_CHILDREN)
            cpu = min(cpu, after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime)
            lines = len(out.stdout.splitlines())
    return best, cpu, lines


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--cases", type=int, default=100_000)
    ap.add_argument("--db", default="/tmp/hall-find.db", help="a SQLite file or a PostgreSQL URL")
    args = ap.parse_args()
    fill(args.db, args.cases)
    number = f"BA2026{1 + (args.cases // 2) // 1000:04d}-{(args.cases // 2) % 1000:04d}"
    print(f"hall find with {args.cases} cases ({args.db}), best of 3 whole commands:")
    for label, command in (
        ("full number", ("find", number)),
        ("company fragment", ("find", "瑞丰金桥")),
        ("phone, last 6 digits", ("find", "123456")),
        ("common fragment", ("find", "科技")),
        ("no match", ("find", "无此公司")),
        ("hall tasks (500)", ("tasks", "--role", "clerk")),
    ):
        seconds, cpu, lines = timed(args.db, *command)
        print(f"  {label:<22} {seconds:5.2f} s wall, {cpu:5.2f} s CPU  ({lines} lines)  hall {' '.join(command)}")


if __name__ == "__main__":
    main()
