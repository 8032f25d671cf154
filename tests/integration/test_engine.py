"""Scenario tests through the public Python API, on SQLite and PostgreSQL."""

from __future__ import annotations

import shutil
from datetime import UTC
from pathlib import Path

import pytest
from conftest import FIXTURES
from hall.engine import Engine, store
from hall.engine.errors import (
    ActionTooEarly,
    DatabaseMissing,
    DatabaseUnavailable,
    DefinitionInvalid,
    FormInvalid,
    HallError,
    InstanceNotActive,
    InstanceNotFound,
    MigrationRefused,
    ProcessNotFound,
    SchemaMissing,
    TaskAlreadyCompleted,
    TaskClaimedByOther,
    TaskNotFound,
)


def finish_review(engine: Engine, approved: bool) -> dict:
    case = engine.start("review", "K-1", {"amount": 4}, user="ann")
    case = engine.complete(case["tasks"][0]["id"], {"amount": "5"}, user="ann")
    return engine.complete(case["tasks"][0]["id"], {"approved": approved}, user="bob")


def test_start_runs_until_the_first_human_task(engine: Engine) -> None:
    case = engine.start("review", "K-1", {"amount": 4}, user="ann")
    assert case["status"] == "running" and case["version"] == 1 and case["business_key"] == "K-1"
    [task] = case["tasks"]
    assert (task["name"], task["title"], task["lane"], task["role"], task["form"]) == (
        "register",
        "Register request",
        "clerk",
        "clerk",
        "register",
    )
    assert case["variables"] == {"amount": 4}


def test_role_comes_from_candidate_groups_before_the_lane(engine: Engine) -> None:
    case = engine.start("review", None, {"amount": 1})
    case = engine.complete(case["tasks"][0]["id"], {"amount": 1})
    [task] = case["tasks"]
    assert task["lane"] == "boss" and task["role"] == "managers"
    assert [t["id"] for t in engine.tasks(role="managers")] == [task["id"]]
    assert engine.tasks(role="clerk") == []


@pytest.mark.parametrize("approved, end", [(True, "done"), (False, "rejected")])
def test_gateway_branches_and_history(engine: Engine, approved: bool, end: str) -> None:
    case = finish_review(engine, approved)
    assert case["status"] == "completed" and case["ended_at"] is not None
    assert case["variables"]["total"] == 10  # the form turned "5" into 5 before the script doubled it
    kinds = [(h["kind"], h["element"]) for h in engine.history(case["id"])]
    assert kinds == [
        ("started", None),
        ("task_created", "register"),
        ("task_completed", "register"),
        ("task_created", "approve"),
        ("task_completed", "approve"),
        ("gateway_taken", "decide"),
        ("ended", None),
    ]
    gateway = [h for h in engine.history(case["id"]) if h["kind"] == "gateway_taken"][0]
    assert gateway["detail"] == {"targets": [end]}
    completed = [h for h in engine.history(case["id"]) if h["kind"] == "task_completed"]
    assert [
        (h["actor"], h["detail"]["data"]["amount" if h["element"] == "register" else "approved"]) for h in completed
    ] == [("ann", 5), ("bob", approved)]


def test_completing_twice_is_refused_and_writes_nothing(engine: Engine) -> None:
    case = engine.start("review", None, {"amount": 1})
    task = case["tasks"][0]["id"]
    engine.complete(task, {"amount": 2}, user="ann")
    before = engine.history(case["id"])
    with pytest.raises(TaskAlreadyCompleted, match=f"task {task} already completed by ann"):
        engine.complete(task, {"amount": 3}, user="bob")
    assert engine.history(case["id"]) == before


def test_form_violation_writes_nothing(engine: Engine) -> None:
    case = engine.start("review", None, {"amount": 1})
    task = case["tasks"][0]["id"]
    with pytest.raises(FormInvalid) as err:
        engine.complete(task, {"amount": "-3", "colour": "red"})
    assert set(err.value.errors) == {"amount", "colour"}
    after = engine.show(case["id"])
    assert after["tasks"][0]["id"] == task and after["variables"] == {"amount": 1}
    with pytest.raises(FormInvalid, match="amount"):
        engine.complete(task, {})


def test_unknown_things_are_named(engine: Engine) -> None:
    with pytest.raises(ProcessNotFound, match="unknown process 'nope'"):
        engine.start("nope")
    with pytest.raises(InstanceNotFound, match="unknown instance 999"):
        engine.show(999)
    with pytest.raises(TaskNotFound, match="unknown task 999"):
        engine.complete(999, {})
    with pytest.raises(TaskNotFound):
        engine.complete("abc", {})
    with pytest.raises(InstanceNotFound):
        engine.history(12345)
    for huge in (2**31, 10**20):  # past the integer columns: refused before any query, on both databases
        with pytest.raises(InstanceNotFound, match=f"unknown instance {huge}"):
            engine.show(huge)
        with pytest.raises(InstanceNotFound):
            engine.tasks(instance=huge)
        with pytest.raises(TaskNotFound, match=f"unknown task {huge}"):
            engine.complete(huge, {})
        with pytest.raises(InstanceNotFound):
            engine.retry(str(huge))


def test_task_and_instance_lists_say_when_they_were_cut(engine: Engine) -> None:
    for _ in range(3):
        engine.start("review", None, {"amount": 1})
    page = engine.tasks(limit=2)
    assert len(page) == 2 and page.truncated and page.total == 3
    assert not engine.tasks(limit=3).truncated and engine.tasks() == engine.tasks(limit=3)
    page = engine.instances(limit=2)
    assert [i["id"] for i in page] == [3, 2] and page.total == 3
    with pytest.raises(HallError, match="limit must be"):
        engine.tasks(limit=0)
    with pytest.raises(ProcessNotFound):
        engine.tasks(process="nope")
    with pytest.raises(InstanceNotFound, match="unknown instance 999"):
        engine.tasks(instance=999)


def test_claim_and_unclaim(engine: Engine) -> None:
    case = engine.start("review", None, {"amount": 1})
    task = case["tasks"][0]["id"]
    assert engine.claim(task, "ann")["assignee"] == "ann"
    assert [t["id"] for t in engine.tasks(assignee="ann")] == [task]
    with pytest.raises(TaskClaimedByOther, match="claimed by ann"):
        engine.claim(task, "bob")
    with pytest.raises(TaskClaimedByOther):
        engine.complete(task, {"amount": 1}, user="bob")
    engine.unclaim(task, "ann")
    assert engine.tasks(assignee="ann") == []
    engine.complete(task, {"amount": 1}, user="bob")
    kinds = [h["kind"] for h in engine.history(case["id"])]
    assert kinds.count("task_claimed") == 1 and kinds.count("task_unclaimed") == 1


def test_suspend_resume_cancel(engine: Engine) -> None:
    case = engine.start("review", None, {"amount": 1})
    task = case["tasks"][0]["id"]
    assert engine.suspend(case["id"], "waiting for papers")["status"] == "suspended"
    with pytest.raises(InstanceNotActive, match="suspended"):
        engine.complete(task, {"amount": 1})
    assert engine.resume(case["id"])["status"] == "running"
    cancelled = engine.cancel(case["id"], "customer withdrew", user="sup")
    assert cancelled["status"] == "cancelled" and cancelled["tasks"] == [] and cancelled["ended_at"]
    assert engine.tasks() == []
    last = engine.history(case["id"])[-1]
    assert (last["kind"], last["actor"], last["detail"]) == ("cancelled", "sup", {"reason": "customer withdrew"})
    with pytest.raises(InstanceNotActive):
        engine.resume(case["id"])


def test_redeploy_is_a_no_op_unless_changed_and_instances_keep_their_version(engine: Engine, tmp_path: Path) -> None:
    src = tmp_path / "review.bpmn"
    shutil.copy(FIXTURES / "review.bpmn", src)
    assert engine.deploy([src]) == [{"process": "review", "version": 1, "file": str(src), "changed": False}]
    old = engine.start("review", None, {"amount": 1})
    src.write_text(src.read_text().replace("total = amount * 2", "total = amount * 3"))
    assert engine.deploy([src])[0] == {"process": "review", "version": 2, "file": str(src), "changed": True}
    new = engine.start("review", None, {"amount": 1})
    assert (old["version"], new["version"]) == (1, 2)
    old = engine.complete(old["tasks"][0]["id"], {"amount": 2})
    new = engine.complete(new["tasks"][0]["id"], {"amount": 2})
    assert (old["variables"]["total"], new["variables"]["total"]) == (4, 6)


def test_deploy_refuses_invalid_definitions_and_stores_nothing(engine: Engine, tmp_path: Path) -> None:
    bad = tmp_path / "bad.bpmn"
    bad.write_text((FIXTURES / "review.bpmn").read_text().replace("total = amount * 2", "total = = 2"))
    with pytest.raises(DefinitionInvalid, match="number: script does not compile"):
        engine.deploy([bad])
    assert [d["version"] for d in engine.definitions() if d["process"] == "review"] == [1]


def test_script_error_becomes_an_incident_and_retry_resumes(engine: Engine) -> None:
    case = engine.start("divide", "D-1", {})
    case = engine.complete(case["tasks"][0]["id"], {"divisor": 0}, user="ann")
    assert case["status"] == "incident" and case["tasks"] == []
    assert case["incident"]["element"] == "compute"
    assert "ZeroDivisionError" in case["incident"]["error"] and "result = 100 / divisor" in case["incident"]["error"]
    assert engine.incidents()[0]["instance"] == case["id"]
    history = engine.history(case["id"])
    assert history[-1]["kind"] == "incident" and history[-2]["kind"] == "task_completed"  # the entry was kept
    case = engine.retry(case["id"], {"divisor": 4}, user="admin")
    assert case["status"] == "running" and case["variables"]["result"] == 25
    assert [t["name"] for t in case["tasks"]] == ["after"]
    assert engine.incidents() == []
    kinds = [h["kind"] for h in engine.history(case["id"])]
    assert kinds.index("retried") > kinds.index("incident")


def test_retry_without_a_fix_fails_again(engine: Engine) -> None:
    case = engine.start("divide", None, {})
    case = engine.complete(case["tasks"][0]["id"], {"divisor": 0})
    again = engine.retry(case["id"])
    assert again["status"] == "incident"
    assert [h["kind"] for h in engine.history(case["id"])].count("incident") == 2
    with pytest.raises(InstanceNotActive):
        engine.retry(engine.start("review", None, {"amount": 1})["id"])


def divide_with(tmp_path: Path, script: str, name: str = "divide.bpmn") -> Path:
    """The divide fixture with another script at its script task `compute`."""
    src = tmp_path / name
    src.write_text((FIXTURES / "divide.bpmn").read_text().replace("partial = 1\nresult = 100 / divisor", script))
    return src


def test_a_script_leaving_a_value_that_cannot_be_stored_is_an_incident_at_it(
    engine: Engine, tmp_path: Path, make_engine
) -> None:
    # a script may not import (issue 15): bytes are a value a script can still leave and no save can store
    engine.deploy([divide_with(tmp_path, "os = b'os'\ns = set(tags) if as_set else sorted(tags)")])
    case = engine.start("divide", None, {})
    case = engine.complete(case["tasks"][0]["id"], {"as_set": True, "tags": ["b", "a"]}, user="ann")
    assert case["status"] == "incident" and case["tasks"] == []
    assert case["incident"] == {
        "element": "compute",
        "error": "script task compute left variable os of type bytes, "
        "which cannot be stored (use text, numbers, true/false, lists, mappings or "
        "datetimes; `del` temporary names)",
    }
    assert "s" not in case["variables"] and "os" not in case["variables"]
    assert make_engine().show(case["id"])["incident"] == case["incident"]  # as stored, from a cold engine
    kinds = [h["kind"] for h in engine.history(case["id"])]
    assert kinds[-2:] == ["task_completed", "incident"]
    assert engine.retry(case["id"])["status"] == "incident"  # its version's script still leaves bytes
    engine.deploy([divide_with(tmp_path, "s = set(tags) if as_set else sorted(tags)", "v2.bpmn")])
    case = engine.start("divide", None, {})
    case = engine.complete(case["tasks"][0]["id"], {"as_set": True, "tags": ["b", "a"]})
    assert case["incident"]["error"].startswith("script task compute left variable s of type set")
    case = engine.retry(case["id"], {"as_set": False})  # fixed through the data
    assert case["status"] == "running" and case["variables"]["s"] == ["a", "b"]
    assert [t["name"] for t in case["tasks"]] == ["after"]


def test_retry_latest_moves_an_incident_to_the_fixed_version(engine: Engine, tmp_path: Path, make_engine) -> None:
    engine.deploy([divide_with(tmp_path, "os = b'os'\nresult = 100 / divisor")])  # divide v2: a bad script
    case = engine.start("divide", None, {})
    assert case["version"] == 2
    case = engine.complete(case["tasks"][0]["id"], {"divisor": 4})
    assert case["status"] == "incident" and "bytes" in case["incident"]["error"]
    # v3 has no element `compute` (renamed): refused, naming it, and nothing is written
    renamed = tmp_path / "renamed.bpmn"
    renamed.write_text(
        divide_with(tmp_path, "result = 100 / divisor", "tmp.bpmn").read_text().replace('"compute"', '"calc"')
    )
    engine.deploy([renamed])
    before = (engine.show(case["id"]), engine.history(case["id"]))
    with pytest.raises(
        MigrationRefused,
        match=r"cannot move instance \d+ to divide v3: element\(s\) compute of its "
        "tasks are not in that version; nothing was changed",
    ):
        engine.retry(case["id"], latest=True)
    assert (engine.show(case["id"]), engine.history(case["id"])) == before
    assert make_engine().show(case["id"])["version"] == 2
    # v4 fixes the script at the same element: the instance moves, runs it, and goes on
    engine.deploy([divide_with(tmp_path, "result = 100 / divisor", "fixed.bpmn")])
    case = engine.retry(case["id"], latest=True, user="admin")
    assert (case["status"], case["version"], case["variables"]["result"]) == ("running", 4, 25)
    assert [t["name"] for t in case["tasks"]] == ["after"]
    moved = [h for h in engine.history(case["id"]) if h["kind"] == "migrated"]
    assert [(h["actor"], h["detail"]) for h in moved] == [("admin", {"from": 2, "to": 4})]
    cold = make_engine()  # restored from the database on v4's spec
    assert cold.show(case["id"])["version"] == 4
    assert cold.complete(case["tasks"][0]["id"], {})["status"] == "completed"


def test_data_given_through_the_api_that_cannot_be_stored_writes_nothing(engine: Engine) -> None:
    case = engine.start("divide", None, {})
    with pytest.raises(HallError, match="cannot be stored"):
        engine.complete(case["tasks"][0]["id"], {"divisor": b"4"})
    assert engine.show(case["id"])["tasks"] == case["tasks"]
    assert [h["kind"] for h in engine.history(case["id"])] == ["started", "task_created"]


def test_child_instance_and_message_back_to_parent(engine: Engine) -> None:
    parent = engine.start("parent", "P-1", {"question": "why?"}, user="ann")
    assert parent["status"] == "running" and parent["tasks"] == []
    [child_link] = parent["links"]["children"]
    child = engine.show(child_link["id"])
    assert child["links"]["parent"]["id"] == parent["id"]
    assert child["variables"]["case_no"] == "CASE20261124-0001"
    engine.complete(child["tasks"][0]["id"], {"answer": 42}, user="bob")
    parent = engine.show(parent["id"])
    assert parent["variables"]["reply"] == {"answer": 42, "case_no": "CASE20261124-0001"}
    assert [t["name"] for t in parent["tasks"]] == ["wrap"]
    kinds = [h["kind"] for h in engine.history(parent["id"])]
    assert "child_started" in kinds and "message_received" in kinds
    second = engine.start("parent", "P-2", {"question": "again"})
    assert engine.show(second["links"]["children"][0]["id"])["variables"]["case_no"] == "CASE20261124-0002"


def test_loop_writes_only_what_changed(engine: Engine) -> None:
    case = engine.start("loop", None, {})
    sizes = []
    for _ in range(50):
        task = case["tasks"][0]
        case = engine.complete(task["id"], {})  # plan
        sizes.append(engine.runtime.last_bytes_written)
        case = engine.complete(case["tasks"][0]["id"], {"done": False})  # check, and back to plan
    assert case["status"] == "running"
    assert sizes[-1] <= 2 * sizes[0]
    assert [h["kind"] for h in engine.history(case["id"])].count("gateway_taken") == 50


def test_state_survives_a_new_engine(engine: Engine, make_engine) -> None:
    case = engine.start("loop", None, {})
    for _ in range(3):
        case = engine.complete(case["tasks"][0]["id"], {})
        case = engine.complete(case["tasks"][0]["id"], {"done": False})
    other = make_engine()  # another process, cold cache
    case = other.complete(case["tasks"][0]["id"], {})
    case = other.complete(case["tasks"][0]["id"], {"done": True})
    assert case["status"] == "completed"
    # the first engine's cache is stale now: it must notice and reload, not overwrite
    assert engine.show(case["id"])["status"] == "completed"


def test_stale_cache_in_another_engine_is_detected(engine: Engine, make_engine) -> None:
    case = engine.start("linear7", None, {})
    other = make_engine()
    other.complete(case["tasks"][0]["id"], {})
    case = engine.show(case["id"])
    case = engine.complete(case["tasks"][0]["id"], {})  # engine's cached copy is one version behind
    assert [t["name"] for t in case["tasks"]] == ["step3"]


def test_actions_before_the_last_event_are_refused(engine: Engine, clock) -> None:
    case = engine.start("review", None, {"amount": 1})
    clock.advance(minutes=-5)
    with pytest.raises(ActionTooEarly, match="earlier than its last recorded event"):
        engine.complete(case["tasks"][0]["id"], {"amount": 1})


def test_an_engine_needs_the_schema(make_engine) -> None:
    eng = make_engine()
    with pytest.raises(SchemaMissing, match="hall init"):
        eng.tasks()
    assert eng.init() == {"database": eng.store.url, "schema_before": None, "schema": store.SCHEMA_VERSION}
    assert eng.init()["schema_before"] == store.SCHEMA_VERSION  # idempotent


def test_data_must_be_storable(engine: Engine) -> None:
    with pytest.raises(FormInvalid, match="not a valid variable name"):
        engine.start("review", None, {"bad name": 1})
    with pytest.raises(FormInvalid, match="cannot be stored"):
        engine.start("review", None, {"x": object()})


def test_every_step_from_a_cold_engine_keeps_all_variables(engine: Engine, make_engine) -> None:
    """Like the CLI: each command is a new process that loads the instance from the database."""
    case = engine.start("review", "K-9", {"amount": 1})
    case = make_engine().complete(case["tasks"][0]["id"], {"amount": 6, "note": "n"})
    case = make_engine().complete(case["tasks"][0]["id"], {"approved": True})
    assert case["variables"] == {"amount": 6, "note": "n", "total": 12, "approved": True}
    assert make_engine().show(case["id"])["variables"] == case["variables"]


def test_case_numbers_follow_the_configured_pattern(make_engine) -> None:
    eng = make_engine(settings={"numbering": {"case": {"pattern": "AJ{date:%Y%m%d}/{seq:03d}"}}})
    eng.init()
    eng.deploy([FIXTURES / "parent.bpmn", FIXTURES / "child.bpmn"])
    numbers = [
        eng.show(eng.start("parent", None, {"question": "?"})["links"]["children"][0]["id"])["variables"]["case_no"]
        for _ in range(2)
    ]
    assert numbers == ["AJ20261124/001", "AJ20261124/002"]


def test_a_database_that_cannot_be_opened_is_a_hall_error(tmp_path: Path, clock) -> None:
    not_db = tmp_path / "notdb.db"
    not_db.write_bytes(b"x\n")
    for call in (lambda e: e.init(), lambda e: e.tasks(), lambda e: e.show(1)):
        with (
            Engine(str(not_db), clock=clock, forms_dir=None) as eng,
            pytest.raises(DatabaseUnavailable, match="file is not a database"),
        ):
            call(eng)
    assert not_db.read_bytes() == b"x\n"
    missing = tmp_path / "typo.db"
    with Engine(str(missing), clock=clock, forms_dir=None) as eng:
        with pytest.raises(DatabaseMissing, match="no hall database at .*typo.db: run `hall init`"):
            eng.tasks()
        assert not missing.exists()
        eng.init()
        assert missing.exists() and eng.tasks() == []


def test_data_handed_in_is_copied_not_shared(engine: Engine) -> None:
    """The caller's dicts and lists are copied into the instance (engine.spiff.copy_data): changing
    them after start or complete changes nothing the engine stored or shows."""
    items = {"docs": ["licence"], "owner": {"name": "Li"}}
    case = engine.start("loop", "K-1", {"extra": items})
    items["docs"].append("tax form")
    items["owner"]["name"] = "Wang"
    entered = {"notes": ["checked"]}
    engine.complete(case["tasks"][0]["id"], entered)
    entered["notes"].append("later")
    shown = engine.show(case["id"])["variables"]
    assert shown["extra"] == {"docs": ["licence"], "owner": {"name": "Li"}}
    assert shown["notes"] == ["checked"]
    # show() reads the row saved before the caller's changes: what a shared dict corrupts is the
    # instance in memory, every task's data, from which the next steps run and save their rows.
    assert engine.runtime.view(case["id"])["variables"]["notes"] == ["checked"]
    held = repr(_data_in_memory(engine, case["id"]))
    assert "licence" in held and "checked" in held
    assert "tax form" not in held and "Wang" not in held  # changed after start
    assert "later" not in held  # changed after complete


def _data_in_memory(engine: Engine, instance_id: int) -> list[dict]:
    """The data of every task, and the workflow's, of an instance as the runtime holds it between
    steps (its cache of hot instances; white-box on purpose: no query can see it)."""
    wf = engine.runtime._cache[instance_id].instance.wf
    return [wf.data] + [task.data for task in wf.get_tasks()]


def test_copy_data_copies_containers_and_shares_immutable_values() -> None:
    from datetime import datetime

    from hall.engine.spiff import copy_data

    when = datetime(2026, 12, 2, tzinfo=UTC)
    value = {"a": [1, {"b": (2, [3])}], "s": {4}, "t": when, "n": None}
    copied = copy_data(value)
    assert copied == value
    assert copied["a"] is not value["a"] and copied["a"][1] is not value["a"][1]
    assert copied["a"][1]["b"][1] is not value["a"][1]["b"][1]
    assert copied["s"] is not value["s"] and copied["t"] is when


def test_spiffworkflow_task_log_records_still_come_when_asked_for(engine: Engine, caplog) -> None:
    """hall builds SpiffWorkflow's per-state-change log record only when it is logged: with the
    `spiff.task` logger at INFO the records are there, as SpiffWorkflow writes them."""
    import logging

    case = engine.start("review", "K-1", {"amount": 4})
    with caplog.at_level(logging.INFO, logger="spiff.task"):
        engine.complete(case["tasks"][0]["id"], {"amount": "5"})
    changes = [r for r in caplog.records if r.name == "spiff.task"]
    assert any(r.getMessage() == "State changed to COMPLETED" and r.task_spec == "register" for r in changes)
    assert all(hasattr(r, "elapsed") and hasattr(r, "workflow_spec") for r in changes)


def test_deploy_tells_its_progress_file_by_file_then_process_by_process(engine: Engine, tmp_path: Path) -> None:
    """Issue 17 item 4: a caller (the CLI on a terminal) learns each step of a long deploy as it starts."""
    names = ("review.bpmn", "divide.bpmn", "follow_up.bpmn")
    for name in names:
        shutil.copy(FIXTURES / name, tmp_path / name)
    steps: list[tuple] = []
    rows = engine.deploy([tmp_path], progress=lambda *step: steps.append(step))
    files = sorted(str(tmp_path / name) for name in names)
    assert steps == [
        *(("check", file, done, 3) for done, file in enumerate(files)),
        *(("store", process, done, 3) for done, process in enumerate(["divide", "follow_up", "review"])),
    ]
    assert [r["process"] for r in rows] == ["divide", "follow_up", "review"]
    assert engine.deploy([tmp_path]) == rows  # the callback is optional
