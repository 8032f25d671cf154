"""Confidential cases (R-C10) and the first receiver (R-F6) on the hall's complaint process.

A complaint the customer asks to keep confidential (是否保密) and a report (类型 举报) are shown
only as a placeholder (id, number/business key, deadline, role) to users without the
`confidential` permission: every API call and every command, human and --json, error messages
and the task form are searched for the confidential values.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import FIXTURES
from hall.cli import main
from hall.engine import Engine
from hall.engine.access import People
from hall.engine.config import load_config
from hall.engine.errors import HallError, PermissionDenied

ROOT = Path(__file__).resolve().parents[2]  # the repository (this file is in tests/TIER/)
NOW = "2026-11-24T09:00:00+08:00"
SECRETS = ["秘密科技有限公司", "保密先生", "绝密XYZ", "13900001234", "举报", "检举人甲"]

USERS = """
users:
  - {id: 小孙, name: 孙磊, roles: [受理员]}          # confidential permission
  - {id: 小钱, name: 钱多, roles: [见习主管]}        # sees every case, no confidential permission
  - {id: 小王, name: 王晓, roles: [前台接待]}        # first receiver (接待人员) of the cases
  - {id: 张经理, name: 张伟, roles: [服务机构]}
  - {id: 刘主任, name: 刘洋, roles: [大厅主管]}
"""


def hall_config(tmp_path: Path) -> Path:
    text = (ROOT / "hall.yaml").read_text(encoding="utf-8").replace("\nusers: []\n", "\n")
    text = text.replace("roles:\n", "roles:\n  见习主管: {serves: [受理员], may: [see_all]}\n", 1)
    path = tmp_path / "hall.yaml"
    path.write_text(text + USERS, encoding="utf-8")
    return path


REGISTER = {
    "渠道": "热线",
    "接待人员": "小王",
    "投诉企业": "秘密科技有限公司",
    "联系人": "保密先生",
    "联系电话": "13900001234",
    "投诉内容": "绝密XYZ：有人窃取服务",
}


@pytest.fixture
def eng(make_engine, tmp_path: Path) -> Engine:
    settings = load_config(hall_config(tmp_path))
    e = make_engine(forms_dir=ROOT / "forms", settings=settings)
    e.init()
    e.deploy([ROOT / "processes", FIXTURES / "divide.bpmn", FIXTURES / "timer_wait.bpmn"])
    return e


def cases(eng: Engine) -> tuple[int, int, int]:
    """A complaint marked confidential at intake, a report (举报), and a case in incident."""
    marked = eng.start("complaint", None, {}, user="小孙")
    marked = eng.complete(marked["tasks"][0]["id"], dict(REGISTER, 是否保密=True), user="小孙")
    report = eng.start("complaint", None, {}, user="小孙")
    report = eng.complete(report["tasks"][0]["id"], dict(REGISTER, 投诉内容="检举人甲反映违纪"), user="小孙")
    classify = next(t for t in report["tasks"] if t["name"] == "classify")
    report = eng.complete(
        classify["id"],
        {"类型": "举报", "专题": "服务质量", "责任单位": "监察部门", "涉及工作人员违纪": True},
        user="小孙",
    )
    broken = eng.start("divide", "D-1", {"是否保密": True, "投诉内容": "绝密XYZ"})
    eng.complete(broken["tasks"][0]["id"], {"divisor": 0})
    assert eng.show(broken["id"])["status"] == "incident"
    return marked["id"], report["id"], broken["id"]


def leaks(output: object) -> list[str]:
    text = output if isinstance(output, str) else json.dumps(output, ensure_ascii=False, default=str)
    return [s for s in SECRETS if s in text]


def test_is_confidential_rules() -> None:
    people = People.from_config({"confidential": {"variables": ["密"], "when": {"类型": ["举报", "检举"]}}})
    assert people.is_confidential({"密": True}) and people.is_confidential({"密": "是"})
    assert people.is_confidential({"类型": "检举"}) and not people.is_confidential({"类型": "投诉", "密": False})
    assert not people.is_confidential({"是否保密": True})  # names are configuration


def test_no_api_output_leaks_a_confidential_case(eng: Engine) -> None:
    marked, report, broken = cases(eng)
    outputs: list[object] = []
    for who in ("小钱", "小王"):
        for case in (marked, report):
            outputs += [eng.show(case, user=who), eng.history(case, user=who)]
        outputs += [eng.instances(user=who), eng.incidents(user=who), eng.tasks(user=who)]
    queue = eng.tasks(user="小钱")
    assert queue and all(t["redacted"] and t["title"] == "保密件（R-C10）" for t in queue)
    for t in queue:
        outputs += [eng.task(t["id"], user="小钱"), eng.render_task(t["id"], user="小钱")]
        for call in (lambda: eng.claim(t["id"], "小钱"), lambda: eng.complete(t["id"], {"投诉内容": "x"}, user="小钱")):
            with pytest.raises(PermissionDenied, match="permission denied: 小钱 may not") as err:
                call()
            outputs.append(str(err.value))
    with pytest.raises(HallError) as err:
        eng.reassign(queue[0]["id"], "张经理", user="刘主任")
    outputs.append(str(err.value))
    assert "no 'confidential' permission" in str(err.value)
    assert [o for o in outputs if leaks(o)] == []
    # what the placeholder keeps: id, number, deadline, role, status
    view = eng.show(report, user="小钱")
    assert view["redacted"] and set(view["variables"]) == {"投诉编号"} and view["status"] == "running"
    assert all(t["due_at"] and t["role"] for t in view["tasks"])
    [incident] = eng.incidents(user="小钱")
    assert (
        incident["instance"] == broken and incident["business_key"] == "D-1" and incident["error"] == "保密件（R-C10）"
    )
    # the first receiver (接待人员 小王) sees the status of both, without the role (R-F6)
    assert {i["id"] for i in eng.instances(user="小王")} == {marked, report}
    assert eng.show(marked, user="小王")["status"] == "running"
    with pytest.raises(PermissionDenied):
        eng.show(marked, user="张经理")
    assert eng.redact_instance(eng.show(marked), "小钱")["variables"].keys() == {"投诉编号"}
    row = {"instance": marked, "business_key": None, "投诉企业": "秘密科技有限公司", "类型": "举报", "due_at": "x"}
    assert eng.redact_record(row, eng.show(marked)["variables"], "小钱") == {
        "instance": marked,
        "business_key": None,
        "投诉企业": None,
        "类型": None,
        "due_at": "x",
        "confidential": True,
        "redacted": True,
    }


def test_the_worker_log_does_not_leak_a_confidential_case(eng: Engine, monkeypatch) -> None:
    """A timer of a confidential case that fails: the worker's lines show the placeholder, not the error."""
    secret = eng.start("timer_wait", None, {"是否保密": True}, user="小孙")
    plain = eng.start("timer_wait", None, {}, user="小孙")

    def broken(*args, **kwargs):
        raise RuntimeError("script failed on 投诉内容 绝密XYZ")

    monkeypatch.setattr(eng.runtime, "fire_timer", broken)
    eng.clock.advance(hours=2)
    events: list = []
    eng.run_due_jobs(once=True, on_event=events.append, install_signals=False)
    errors = {e.job.instance_id: e.error for e in events}
    assert set(errors) == {secret["id"], plain["id"]}
    assert not leaks(errors[secret["id"]]) and errors[secret["id"]].startswith("保密件（R-C10）")
    assert "script failed on 投诉内容 绝密XYZ" in errors[plain["id"]]  # a plain case keeps its error text


def test_users_with_the_permission_see_everything(eng: Engine) -> None:
    marked, report, broken = cases(eng)
    for who in ("小孙", "刘主任"):
        assert eng.show(marked, user=who)["variables"]["投诉企业"] == "秘密科技有限公司"
        assert eng.show(report, user=who)["confidential"] is True
    task = eng.tasks(user="小孙", instance=marked)[0]
    assert "秘密科技有限公司" in eng.render_task(task["id"], user="小孙")
    assert "ZeroDivisionError" in eng.incidents(user="刘主任")[0]["error"]
    assert leaks(eng.history(report, user="刘主任"))  # nothing hidden from the supervisor


def test_no_command_output_leaks_a_confidential_case(tmp_path: Path, make_engine) -> None:
    config = hall_config(tmp_path)
    db = f"sqlite:///{tmp_path / 'cli.db'}"
    eng = Engine(db, forms_dir=ROOT / "forms", settings=load_config(config))
    eng.init(rehearsal=True)  # the commands below run at --now
    eng.deploy([ROOT / "processes", FIXTURES / "divide.bpmn"])
    marked, report, broken = cases(eng)
    eng.close()
    runner = CliRunner()

    def hall(*args: str, user: str = "小钱") -> str:
        r = runner.invoke(
            main,
            ["--db", db, "--forms", str(ROOT / "forms"), "--now", NOW, "--config", str(config), "--user", user, *args],
            catch_exceptions=False,
        )
        return r.stdout + r.stderr

    tasks = json.loads(hall("tasks", "--json"))
    assert tasks
    outputs = []
    for fmt in ((), ("--json",)):
        outputs += [hall("tasks", *fmt), hall("instances", *fmt), hall("incidents", *fmt)]
        for case in (marked, report, broken):
            outputs += [hall("show", str(case), *fmt), hall("history", str(case), *fmt)]
            outputs += [hall("show", str(case), *fmt, user="小王"), hall("history", str(case), *fmt, user="小王")]
        for t in tasks:
            outputs += [hall("complete", str(t["id"]), "--set", "投诉内容=x", *fmt)]
    for t in tasks:
        outputs += [
            hall("task", str(t["id"])),
            hall("claim", str(t["id"])),
            hall("unclaim", str(t["id"])),
            hall("reassign", str(t["id"]), "张经理", user="刘主任"),
        ]
    assert [o for o in outputs if leaks(o)] == []
    assert "保密件（R-C10）" in hall("task", str(tasks[0]["id"]))
    assert "秘密科技有限公司" in hall("show", str(marked), user="小孙")  # the test can see a leak


def test_kpi_and_reports_need_a_known_user_who_sees_every_case(tmp_path: Path) -> None:
    """`hall kpi`/`report` are hall-wide: an unknown user, no user, or one without `see_all` is refused."""
    config = hall_config(tmp_path)
    db = f"sqlite:///{tmp_path / 'kpi.db'}"
    with Engine(db, forms_dir=ROOT / "forms", settings=load_config(config)) as eng:
        eng.init(rehearsal=True)  # the commands below run at --now
    runner = CliRunner()
    out = str(tmp_path / "reports")
    for args in (["kpi"], ["report", "daily", "--out", out], ["report", "due", "--out", out]):

        def hall(*user: str) -> object:
            return runner.invoke(main, ["--db", db, "--now", NOW, "--config", str(config), *user, *args])

        r = hall("--user", "ghost")
        assert r.exit_code == 1 and r.stderr.startswith("error: unknown user 'ghost'"), (args, r.output)
        r = hall()
        assert r.exit_code == 1 and "needs a user" in r.stderr, (args, r.output)
        r = hall("--user", "小孙")  # confidential, but not see_all
        assert r.exit_code == 1 and "permission denied: 小孙 may not see" in r.stderr and "'see_all'" in r.stderr
        assert hall("--user", "刘主任").exit_code == 0, args
    assert len(list((tmp_path / "reports").rglob("*.md"))) == 1  # only 刘主任's daily report was written


def test_kpi_overdue_cases_of_confidential_cases_are_placeholders(eng: Engine) -> None:
    from hall.servicehall import kpi

    marked, report, _broken = cases(eng)
    eng.clock.advance(days=20)
    seen = {o["instance"]: o for o in kpi.indicators(eng, user="小钱")["overdue_now"]["oldest"]}
    assert {marked, report} <= set(seen)
    for case in (marked, report):
        assert seen[case]["redacted"] and seen[case]["task"] == "保密件（R-C10）" and seen[case]["due_at"]
    assert not leaks(seen)
    full = {o["instance"]: o for o in kpi.indicators(eng, user="刘主任")["overdue_now"]["oldest"]}
    assert not full[report].get("redacted") and full[report]["task"] not in (None, "保密件（R-C10）")


def test_a_completed_task_of_a_confidential_case_does_not_name_who_did_it(eng: Engine) -> None:
    """Permission is checked before "already completed by …": that would name the case's actor (R-C10)."""
    marked, _report, _broken = cases(eng)
    register = next(h["task"] for h in eng.history(marked) if h["kind"] == "task_completed")
    for who in ("小钱", "张经理"):  # 小钱 serves 受理员 but may not read it; 张经理 is another role
        for call in (
            lambda: eng.complete(register, {"投诉内容": "x"}, user=who),
            lambda: eng.claim(register, who),
            lambda: eng.reassign(register, "小孙", user=who),
        ):
            with pytest.raises(PermissionDenied) as err:
                call()
            assert "小孙" not in str(err.value) and "already completed" not in str(err.value)
    denied = [h for h in eng.history(marked) if h["kind"] == "denied"]
    assert {(h["actor"], h["detail"]["action"]) for h in denied} >= {
        ("小钱", "complete"),
        ("小钱", "claim"),
        ("张经理", "complete"),
        ("张经理", "claim"),
        ("小钱", "reassign"),
    }
    with pytest.raises(HallError, match="already completed by 小孙"):  # who may read the case is told
        eng.complete(register, {"投诉内容": "x"}, user="小孙")


def test_a_report_known_at_intake_is_confidential_from_registration(eng: Engine) -> None:
    """投诉类型 举报 carried by the intake (another channel, a transfer): hidden before classification."""
    case = eng.start("complaint", None, {"投诉类型": "举报 ", "投诉内容": "检举人甲反映违纪"}, user="小孙")
    case = eng.complete(case["tasks"][0]["id"], dict(REGISTER), user="小孙")
    assert [t["name"] for t in case["tasks"]] == ["classify"]
    view = eng.show(case["id"], user="小钱")
    assert view["redacted"] and not leaks(view) and not leaks(eng.history(case["id"], user="小钱"))
    assert eng.show(case["id"], user="小孙")["variables"]["投诉企业"] == "秘密科技有限公司"


def test_cancelling_needs_the_right_to_read_the_case(eng: Engine, tmp_path: Path) -> None:
    """A manager (manage, see_all) without `confidential` sees the placeholder: may not cancel it (R-C10)."""
    settings = load_config(hall_config(tmp_path))
    settings["roles"]["见习主管"]["may"] = ["see_all", "manage"]
    eng.people = People.from_config(settings)
    marked, _report, _broken = cases(eng)
    plain = eng.start("complaint", None, {}, user="小孙")
    with pytest.raises(PermissionDenied, match="may not cancel instance .*confidential"):
        eng.cancel(marked, "withdrawn", user="小钱")
    assert eng.show(marked)["status"] == "running"
    assert [h["detail"]["action"] for h in eng.history(marked) if h["kind"] == "denied"] == ["cancel"]
    assert eng.cancel(plain["id"], "withdrawn", user="小钱")["status"] == "cancelled"
    assert eng.cancel(marked, "withdrawn", user="刘主任")["status"] == "cancelled"


def test_a_foreign_diagram_with_the_halls_words_is_nothing_confidential_to_the_engine(make_engine) -> None:
    """The engine has no confidential rule of its own (issue 11): 类型=举报 is a value like any other."""
    bare = make_engine()
    assert not bare.people.is_confidential({"类型": "举报", "投诉类型": "举报", "是否保密": True})
    staff = {
        "roles": {"clerk": {"serves": ["clerk"]}},
        "users": [{"id": "ann", "name": "Ann", "roles": ["clerk"]}, {"id": "bob", "name": "Bob", "roles": []}],
    }
    eng = make_engine(settings=staff)
    eng.init()
    eng.deploy([FIXTURES / "review.bpmn"])
    data = {"类型": "举报", "是否保密": True, "投诉编号": "TS-1", "首问负责人": "Bob"}
    case = eng.start("review", "K-1", data, user="ann")
    assert case["variables"] == data and "redacted" not in case and "confidential" not in case
    assert eng.show(case["id"], user="ann")["variables"] == data
    assert [t["title"] for t in eng.tasks(user="ann")] == ["Register request"]
    assert eng.history(case["id"], user="ann")[0]["detail"]["data"] == data
    with pytest.raises(PermissionDenied, match="unknown instance"):  # 首问负责人 names nobody to the engine
        eng.show(case["id"], user="bob")
