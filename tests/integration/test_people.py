"""Users, roles and permissions (engine.access) through the Python API (the `hall` command:
tests/acceptance/test_people_cli.py).

The fixtures' review process: `register` in lane clerk, `approve` for candidate group managers.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import FIXTURES, PEOPLE_CONFIG
from hall.engine import Engine
from hall.engine.access import People
from hall.engine.errors import PermissionDenied, UnknownUser, UserRequired

ROOT = Path(__file__).resolve().parents[2]  # the repository (this file is in tests/TIER/)
NOW = "2026-11-24T09:00:00+08:00"

CONFIG = PEOPLE_CONFIG


def people() -> People:
    """CONFIG's people, with a first-receiver variable: the engine has none of its own (issue 11)."""
    from ruamel.yaml import YAML

    return People.from_config(dict(YAML(typ="safe").load(CONFIG), first_receiver={"variables": ["首问负责人"]}))


@pytest.fixture
def eng(make_engine) -> Engine:
    e = make_engine(people=people())
    e.init()
    e.deploy([FIXTURES], user="root")
    return e


def kinds(eng: Engine, instance: int) -> list[str]:
    return [h["kind"] for h in eng.history(instance)]


# -- the API ---------------------------------------------------------------------------------------
def test_unknown_user_is_refused_by_every_call(eng: Engine) -> None:
    case = eng.start("review", "K-1", {"amount": 1}, user="ann")
    task = case["tasks"][0]["id"]
    calls = [
        lambda: eng.start("review", None, {}, user="mallory"),
        lambda: eng.show(case["id"], user="mallory"),
        lambda: eng.history(case["id"], user="mallory"),
        lambda: eng.instances(user="mallory"),
        lambda: eng.incidents(user="mallory"),
        lambda: eng.tasks(user="mallory"),
        lambda: eng.task(task, user="mallory"),
        lambda: eng.render_task(task, user="mallory"),
        lambda: eng.claim(task, "mallory"),
        lambda: eng.unclaim(task, "mallory"),
        lambda: eng.complete(task, {"amount": 2}, user="mallory"),
        lambda: eng.reassign(task, "ann", user="mallory"),
        lambda: eng.reassign(task, "mallory", user="sup"),
        lambda: eng.suspend(case["id"], user="mallory"),
        lambda: eng.resume(case["id"], user="mallory"),
        lambda: eng.cancel(case["id"], "x", user="mallory"),
        lambda: eng.retry(case["id"], user="mallory"),
        lambda: eng.send_message(case["id"], "m", user="mallory"),
        lambda: eng.deploy([FIXTURES], user="mallory"),
        lambda: eng.redact_instance(case, "mallory"),
    ]
    for call in calls:
        with pytest.raises(UnknownUser, match="unknown user 'mallory'"):
            call()
    assert eng.show(case["id"])["status"] == "running"


def test_no_user_is_the_system_unless_required(eng: Engine) -> None:
    case = eng.start("review", None, {"amount": 1})
    assert eng.show(case["id"])["variables"] == {"amount": 1}
    eng.require_user = True  # what the `hall` command does
    with pytest.raises(UserRequired, match="show needs a user: pass --user or set HALL_USER"):
        eng.show(case["id"])
    with pytest.raises(UserRequired):
        eng.tasks()


def test_queue_shows_only_the_tasks_of_ones_roles(eng: Engine) -> None:
    case = eng.start("review", "K-1", {"amount": 1}, user="ann")
    register = case["tasks"][0]["id"]
    assert [t["id"] for t in eng.tasks(user="ann")] == [register]
    assert eng.tasks(user="bob") == [] and eng.tasks(role="clerk", user="bob") == []
    assert [t["id"] for t in eng.tasks(user="sup")] == [register]  # see_all
    with pytest.raises(PermissionDenied, match=f"bob may not see task {register}: it is for role clerk"):
        eng.task(register, user="bob")
    with pytest.raises(PermissionDenied):
        eng.render_task(register, user="bob")
    assert "Amount so far: 1" in eng.render_task(register, user="ann")


def test_claim_and_complete_only_tasks_of_ones_roles_and_denials_are_recorded(eng: Engine) -> None:
    case = eng.start("review", "K-1", {"amount": 1}, user="ann")
    register = case["tasks"][0]["id"]
    for call, action in [
        (lambda: eng.claim(register, "bob"), "claim"),
        (lambda: eng.complete(register, {"amount": 2}, user="bob"), "complete"),
        (lambda: eng.unclaim(register, "bob"), "unclaim"),
    ]:
        with pytest.raises(PermissionDenied) as err:
            call()
        assert str(err.value).count("\n") == 0 and f"bob may not {action} task {register}" in str(err.value)
    denied = [h for h in eng.history(case["id"]) if h["kind"] == "denied"]
    assert [(h["actor"], h["detail"]["action"], h["task"]) for h in denied] == [
        ("bob", "claim", register),
        ("bob", "complete", register),
        ("bob", "unclaim", register),
    ]
    assert eng.task(register)["assignee"] is None and eng.task(register)["status"] == "ready"
    assert eng.claim(register, "carl")["assignee"] == "carl"
    with pytest.raises(Exception, match="claimed by carl"):
        eng.complete(register, {"amount": 2}, user="ann")
    after = eng.complete(register, {"amount": 2}, user="carl")
    approve = after["tasks"][0]["id"]
    with pytest.raises(PermissionDenied):
        eng.complete(approve, {"approved": True}, user="carl")
    assert eng.complete(approve, {"approved": True}, user="bob")["status"] == "completed"


def test_supervisor_reassigns_and_the_assignee_may_then_work(eng: Engine) -> None:
    case = eng.start("review", None, {"amount": 1}, user="ann")
    case = eng.complete(case["tasks"][0]["id"], {"amount": 1}, user="ann")
    approve = case["tasks"][0]["id"]
    with pytest.raises(PermissionDenied, match="needs the 'reassign' permission"):
        eng.reassign(approve, "carl", user="bob")
    view = eng.reassign(approve, "carl", user="sup")
    assert view["assignee"] == "carl"
    assert [t["id"] for t in eng.tasks(user="carl")] == [approve]  # assigned to him: in his queue
    assert eng.task(approve, user="carl")["variables"]["total"] == 2
    eng.complete(approve, {"approved": False}, user="carl")
    rows = eng.history(case["id"])
    assert ("task_reassigned", "sup", {"from": None, "to": "carl"}) in [
        (h["kind"], h["actor"], h["detail"]) for h in rows
    ]
    assert [h["actor"] for h in rows if h["kind"] == "denied"] == ["bob"]


def test_show_and_history_for_related_users_and_the_first_receiver(eng: Engine) -> None:
    case = eng.start("review", None, {"amount": 1}, user="carl")  # carl received it first (R-F6)
    case = eng.complete(case["tasks"][0]["id"], {"amount": 1}, user="ann")
    eng.reassign(case["tasks"][0]["id"], "sup", user="sup")
    assert eng.show(case["id"], user="ann")["variables"]["total"] == 2  # did a task of it
    assert eng.show(case["id"], user="carl")["status"] == "running"  # first receiver, no task of his
    assert kinds(eng, case["id"])[:2] == ["started", "task_created"]
    assert eng.history(case["id"], user="carl")[0]["kind"] == "started"
    assert eng.show(case["id"], user="bob")["id"] == case["id"]  # approve is for managers
    other = eng.start("divide", None, {}, user="ann")  # no lanes: only see_all and ann
    with pytest.raises(PermissionDenied, match=f"^unknown instance {other['id']}$"):  # as if it did not exist
        eng.show(other["id"], user="bob")
    with pytest.raises(PermissionDenied, match=f"^unknown instance {other['id']}$"):
        eng.history(other["id"], user="bob")
    assert {i["id"] for i in eng.instances(user="bob")} == {case["id"]}
    assert {i["id"] for i in eng.instances(user="ann")} == {case["id"], other["id"]}
    assert {i["id"] for i in eng.instances(user="sup")} == {case["id"], other["id"]}


def test_first_receiver_named_in_a_variable(eng: Engine) -> None:
    case = eng.start("divide", None, {"首问负责人": "Bob Wu"}, user="ann")  # by name or by id
    assert eng.show(case["id"], user="bob")["variables"]["首问负责人"] == "Bob Wu"
    assert eng.may_see_instance(case["id"], "bob") and not eng.may_see_instance(case["id"], "carl")


def test_lifecycle_needs_manage_and_deploy_needs_deploy(eng: Engine) -> None:
    case = eng.start("divide", None, {}, user="ann")
    for call in (
        lambda: eng.suspend(case["id"], "x", user="ann"),
        lambda: eng.cancel(case["id"], "x", user="ann"),
        lambda: eng.retry(case["id"], user="ann"),
        lambda: eng.send_message(case["id"], "m", user="ann"),
    ):
        with pytest.raises(PermissionDenied, match="needs the 'manage' permission"):
            call()
    assert eng.suspend(case["id"], "papers", user="sup")["status"] == "suspended"
    assert eng.resume(case["id"], user="sup")["status"] == "running"
    task = case["tasks"][0]["id"]
    with pytest.raises(PermissionDenied, match="it is for role - .yours: supervisor. and not assigned to you"):
        eng.complete(task, {"divisor": 0}, user="sup")  # a task of no role: nobody's until assigned
    eng.reassign(task, "sup", user="sup")
    eng.complete(task, {"divisor": 0}, user="sup")
    assert eng.retry(case["id"], {"divisor": 2}, user="sup")["status"] == "running"
    assert eng.cancel(case["id"], "withdrawn", user="sup")["status"] == "cancelled"
    with pytest.raises(PermissionDenied, match="ann may not deploy process definitions: needs the 'deploy'"):
        eng.deploy([FIXTURES], user="ann")
    assert all(not d["changed"] for d in eng.deploy([FIXTURES], user="root"))
    assert [h["detail"]["action"] for h in eng.history(case["id"]) if h["kind"] == "denied"] == [
        "suspend",
        "cancel",
        "retry",
        "send a message to",
        "complete",
    ]
    # a refusal with no case behind it is in the hall's own history, which needs see_all to read
    (hall,) = eng.history(None, user="sup")
    assert (hall["kind"], hall["actor"], hall["detail"]["action"], hall["detail"]["target"]) == (
        "denied",
        "ann",
        "deploy",
        "process definitions",
    )
    with pytest.raises(PermissionDenied, match="ann may not see the hall's history: needs the 'see_all'"):
        eng.history(None, user="ann")
    assert [h["actor"] for h in eng.history(None, user="sup")] == ["ann", "ann"]  # that refusal too


def test_without_users_everybody_may_do_everything(make_engine) -> None:
    cfg = {"roles": {"clerk": {"serves": ["clerk"]}}, "confidential": {"variables": ["secret"]}}
    eng = make_engine(settings=cfg)
    eng.init()
    eng.deploy([FIXTURES], user="anyone")
    case = eng.start("review", None, {"amount": 1, "secret": True}, user="x")
    assert eng.show(case["id"], user="y")["variables"]["secret"] is True
    assert eng.tasks(user="z")[0]["title"] == "Register request"
    eng.complete(case["tasks"][0]["id"], {"amount": 1}, user="nobody")
    assert eng.redact_instance(eng.show(case["id"]), "q")["variables"]["secret"] is True
