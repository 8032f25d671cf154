"""The access policy (engine.access) on its own: no database, no engine.

Who may do what on which case or task, what a user sees of it, and the denial recorded; the
engine's own rules are empty, the service hall's come from hall.servicehall.access.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest
from hall.engine.access import PLACEHOLDER, AccessPolicy, People
from hall.engine.errors import PermissionDenied, UnknownUser, UserRequired
from hall.servicehall import access as hall_access

CONFIG: dict[str, Any] = {
    "roles": {
        "clerk": {"serves": ["clerk"]},
        "manager": {"serves": ["managers"], "may": ["manage"]},
        "auditor": {"serves": [], "may": ["see_all", "manage"]},
        "boss": {"serves": ["managers"], "may": ["confidential", "reassign", "manage", "see_all"]},
    },
    "users": [
        {"id": "ann", "name": "Ann Li", "roles": ["clerk"]},
        {"id": "bob", "name": "Bob Wu", "roles": ["manager"]},
        {"id": "al", "name": "Al Ng", "roles": ["auditor"]},
        {"id": "sue", "name": "Sue Ma", "roles": ["boss"]},
    ],
    "confidential": {"variables": ["secret"], "when": {"kind": ["report"]}, "keep": ["number"]},
    "first_receiver": {"variables": ["received_by"]},
}


def policy(config: dict[str, Any] = CONFIG) -> AccessPolicy:
    return AccessPolicy(People.from_config(config))


def task(**values: Any) -> dict[str, Any]:
    row = {"id": 7, "instance_id": 3, "process_id": "review", "role": "clerk", "lane": "clerk", "assignee": None}
    row.update(values)
    return row


def instance(variables: str = "{}", **values: Any) -> dict[str, Any]:
    row = {"id": 3, "process_id": "review", "variables": variables, "started_by": None}
    row.update(values)
    return row


@dataclass
class Tasks:
    """A TaskSource over a list of task rows, recording the queries asked."""

    rows: list[dict[str, Any]]

    def __post_init__(self) -> None:
        self.asked: list[dict[str, Any]] = []

    def query_tasks(
        self,
        role=None,
        assignee=None,
        process=None,
        instance=None,
        status="ready",
        limit=500,
        count=False,
        organisation=None,
    ):
        self.asked.append({"role": role, "assignee": assignee, "instance": instance, "status": status})
        return [
            r
            for r in self.rows
            if r.get("status", "ready") == status
            and (role is None or role in (r["role"] or "").split(","))
            and (assignee is None or r["assignee"] == assignee)
            and (instance is None or r["instance_id"] == instance)
            and (organisation is None or r.get("organisation") in (None, organisation))
        ]


# -- the engine's rules are configuration ------------------------------------------------------------
def test_the_engine_has_no_confidential_or_first_receiver_names_of_its_own() -> None:
    people = People.from_config({"users": CONFIG["users"], "roles": CONFIG["roles"]})
    hall_case = {"类型": "举报", "投诉类型": "举报", "是否保密": True, "首问负责人": "Ann Li", "投诉编号": "TS-1"}
    assert not people.is_confidential(hall_case)
    assert not people.hides(people.user("ann"), hall_case)
    assert not people.is_first_receiver(people.user("ann"), hall_case, None)
    assert people.is_first_receiver(people.user("ann"), hall_case, "ann")  # who started it, always
    assert AccessPolicy(people).present_record(people.user("ann"), {"投诉编号": "TS-1"}, hall_case) == {
        "投诉编号": "TS-1"
    }


def test_the_hall_rules_fill_what_hall_yaml_leaves_out_key_by_key() -> None:
    hall = People.from_config(hall_access.with_defaults({}))
    assert hall.is_confidential({"类型": "举报"}) and hall.is_confidential({"投诉类型": "举报 "})
    assert hall.is_confidential({"是否保密": "是"}) and not hall.is_confidential({"类型": "投诉"})
    assert hall.confidential.kept({"投诉编号": "TS-1", "投诉内容": "x"}) == {"投诉编号": "TS-1"}
    assert hall.first_receiver.names({"首问负责人": "小王", "接待人员": " 小李 "}, "小孙") == {"小王", "小李", "小孙"}
    # a key given is kept, even empty; the keys left out are the hall's (as before issue 11)
    given = hall_access.with_defaults({"confidential": {"variables": ["密"], "keep": []}, "first_receiver": None})
    assert given["confidential"] == {"variables": ["密"], "when": {"类型": ["举报"], "投诉类型": ["举报"]}, "keep": []}
    assert given["first_receiver"] == {"variables": ["首问负责人", "接待人员"]}
    people = People.from_config(given)
    assert people.is_confidential({"密": True}) and people.is_confidential({"类型": "举报"})
    assert not people.is_confidential({"是否保密": True}) and people.confidential.kept({"投诉编号": 1}) == {}
    assert hall_access.with_defaults({"confidential": {"when": None}})["confidential"]["when"] is None
    assert not People.from_config(hall_access.with_defaults({"confidential": {"when": None}})).is_confidential(
        {"类型": "举报"}
    )


# -- who acts ------------------------------------------------------------------------------------------
def test_the_actor() -> None:
    assert policy({}).actor("anyone", "show", required=True) is None  # no users: nobody is checked
    p = policy()
    assert p.actor("ann", "show").id == "ann" and p.actor(None, "show") is None  # None: the system
    with pytest.raises(UserRequired, match="show needs a user"):
        p.actor(None, "show", required=True)
    with pytest.raises(UnknownUser, match="unknown user 'eve'"):
        p.actor("eve", "show")


def test_a_missing_permission_is_a_refusal_and_its_history_row() -> None:
    p = policy()
    ann, sue = p.actor("ann", "x"), p.actor("sue", "x")
    assert p.lacking(sue, "deploy", "deploy", "process definitions") is not None
    assert p.lacking(None, "deploy", "deploy", "process definitions") is None
    assert p.lacking(sue, "reassign", "reassign", "task 7") is None
    refused = p.lacking(ann, "reassign", "reassign", "task 7", task=task())
    assert (
        str(refused) == "permission denied: ann may not reassign task 7: needs the 'reassign' permission (roles: clerk)"
    )
    row = p.denial_row(refused, "NOW")
    assert row == {
        "instance_id": 3,
        "process_id": "review",
        "at": "NOW",
        "actor": "ann",
        "kind": "denied",
        "element": None,
        "task_id": 7,
        "detail": {"action": "reassign", "target": "task 7", "why": refused.why},
    }
    hall_wide = p.denial_row(p.lacking(ann, "deploy", "deploy", "process definitions"), "NOW")
    assert (hall_wide["instance_id"], hall_wide["process_id"], hall_wide["task_id"]) == (None, None, None)


# -- tasks -----------------------------------------------------------------------------------------------
def test_work_on_a_task_of_ones_role_or_assigned_and_readable() -> None:
    p = policy()
    ann, bob, sue = (p.actor(u, "x") for u in ("ann", "bob", "sue"))
    read: list[int] = []

    def variables(value: dict[str, Any]):
        def read_them() -> dict[str, Any]:
            read.append(1)
            return value

        return read_them

    p.check_work(ann, task(), variables({}), "complete")
    p.check_work(None, task(), variables({"secret": True}), "complete")  # the system
    with pytest.raises(PermissionDenied, match="bob may not claim task 7: it is for role clerk .yours: manager."):
        p.check_work(bob, task(), variables({}), "claim")
    assert len(read) == 1  # the role is checked first: the case is not read for a stranger
    p.check_work(bob, task(assignee="bob"), variables({}), "complete")
    with pytest.raises(PermissionDenied, match="ann may not complete task 7: the case is confidential") as err:
        p.check_work(ann, task(), variables({"kind": "report"}), "complete")
    assert (err.value.instance_id, err.value.task_id, err.value.process_id) == (3, 7, "review")
    p.check_work(sue, task(role="managers"), variables({"kind": "report"}), "complete")
    with pytest.raises(PermissionDenied, match="bob may not see task 7: it is for role clerk"):
        p.check_see_task(bob, task())
    p.check_see_task(bob, task(completed_by="bob"))
    p.check_see_task(p.actor("al", "x"), task())  # see_all


def test_a_case_is_read_only_when_it_could_be_hidden_from_the_user() -> None:
    """Completing a task reads the case's variables only for a user from whom a case can be hidden."""
    read: list[str] = []

    def variables() -> dict[str, Any]:
        read.append("read")
        return {"kind": "report"}

    p = policy()
    p.check_work(p.actor("sue", "x"), task(role="managers"), variables, "complete")  # may read every case
    p.check_handover(None, None, p.reassign_target("sue"), task(), variables)
    bare = policy({"roles": CONFIG["roles"], "users": CONFIG["users"]})  # no confidential rule
    bare.check_work(bare.actor("ann", "x"), task(), variables, "complete")
    bare.check_handover(None, None, bare.reassign_target("ann"), task(), variables)
    assert read == []
    with pytest.raises(PermissionDenied):
        p.check_work(p.actor("ann", "x"), task(), variables, "complete")
    assert read == ["read"]


def test_the_queues_of_a_user() -> None:
    p = policy()
    ann, al = p.actor("ann", "x"), p.actor("al", "x")
    assert p.queues(None, None, None) is None and p.queues(al, None, None) is None  # see_all
    assert p.queues(ann, "managers", None) is None  # a role asked for: filtered row by row
    assert p.queues(ann, None, None) == [{"role": "clerk", "organisation": ""}, {"assignee": "ann"}]
    assert p.queues(ann, None, "bob") == [{"role": "clerk", "organisation": ""}]


def test_r_c10_a_task_bound_to_an_organisation_is_only_its_users() -> None:
    """A task with a candidate organisation is served by the users of its roles who work there; a
    user of no organisation, or of another, neither sees it nor works it nor is handed it."""
    config = dict(
        CONFIG,
        users=[
            {"id": "ann", "name": "Ann Li", "roles": ["clerk"], "organisation": "North"},
            {"id": "kim", "name": "Kim Ho", "roles": ["clerk"], "organisation": "South"},
            {"id": "joe", "name": "Joe Xu", "roles": ["clerk"]},
            {"id": "sue", "name": "Sue Ma", "roles": ["boss"]},
        ],
    )
    p = policy(config)
    ann, kim, joe, sue = (p.actor(u, "x") for u in ("ann", "kim", "joe", "sue"))
    north, free = task(organisation="North"), task(id=8, organisation=None)
    assert p.task_visible(ann, north) and not p.task_visible(kim, north) and not p.task_visible(joe, north)
    assert p.task_visible(sue, north)  # see_all
    assert p.task_visible(kim, free) and p.task_visible(joe, free)
    p.check_work(ann, north, lambda: {}, "complete")
    with pytest.raises(PermissionDenied, match="it is for organisation North \\(yours: South\\)"):
        p.check_work(kim, north, lambda: {}, "complete")
    with pytest.raises(PermissionDenied, match="is for organisation North and kim works for South"):
        p.check_handover(sue, "sue", kim, north, lambda: {})
    assert p.queues(kim, None, None) == [{"role": "clerk", "organisation": "South"}, {"assignee": "kim"}]
    rows = Tasks([dict(north, instance_id=3), dict(free, instance_id=4)])
    assert [r["id"] for r in p.visible_instances(kim, [instance(id=3), instance(id=4)], rows)] == [4]


def test_a_task_handed_to_a_user_who_may_not_read_the_case_is_refused() -> None:
    p = policy()
    sue, bob = p.actor("sue", "x"), p.reassign_target("bob")
    p.check_handover(sue, "sue", bob, task(), lambda: {"kind": "plain"})
    p.check_handover(sue, "sue", None, task(), lambda: {"kind": "report"})  # no users configured
    with pytest.raises(PermissionDenied, match="sue may not reassign task 7 to bob: bob has no 'confidential'"):
        p.check_handover(sue, "sue", bob, task(), lambda: {"kind": "report"})
    with pytest.raises(PermissionDenied, match="system may not reassign"):
        p.check_handover(None, None, bob, task(), lambda: {"secret": "yes"})
    with pytest.raises(UnknownUser):
        p.reassign_target("eve")
    assert policy({}).reassign_target("eve") is None


# -- cases ---------------------------------------------------------------------------------------------
def test_who_sees_a_case() -> None:
    p = policy()
    ann, bob, al = p.actor("ann", "x"), p.actor("bob", "x"), p.actor("al", "x")
    tasks = Tasks([task(status="completed", completed_by="ann")])
    assert p.sees_instance(ann, instance(), tasks)  # a (done) task of her role
    assert not p.sees_instance(bob, instance(), tasks)
    assert [q["status"] for q in tasks.asked[-3:]] == ["ready", "completed", "cancelled"]
    assert p.sees_instance(bob, instance('{"received_by": "Bob Wu"}'), tasks)  # R-F6, by name
    assert p.sees_instance(bob, instance(started_by="bob"), tasks)
    assert p.sees_instance(al, instance(), Tasks([]))  # see_all
    with pytest.raises(PermissionDenied, match="^unknown instance 3$") as err:  # as if it did not exist
        p.check_instance(bob, instance(), "show", tasks)
    assert (err.value.instance_id, err.value.task_id) == (3, None)
    assert err.value.why.startswith("not a case of your roles")  # what its `denied` history row says
    p.check_instance(None, instance(), "show", tasks)
    rows = [instance(id=1), instance(id=2, variables='{"received_by": "bob"}'), instance(id=3)]
    assert [r["id"] for r in p.visible_instances(bob, rows, tasks)] == [2]
    assert [r["id"] for r in p.visible_instances(ann, rows, tasks)] == [3]
    assert p.visible_instances(al, rows, tasks) == rows


def test_managing_a_case_needs_manage_and_cancelling_a_confidential_one_the_right_to_read_it() -> None:
    p = policy()
    ann, al, sue = p.actor("ann", "x"), p.actor("al", "x"), p.actor("sue", "x")
    secret = instance('{"secret": true}')
    with pytest.raises(PermissionDenied, match="ann may not suspend instance 3: needs the 'manage' permission"):
        p.check_manage(ann, instance(), "suspend", Tasks([task()]))
    p.check_manage(al, secret, "suspend", Tasks([]))
    with pytest.raises(PermissionDenied, match="al may not cancel instance 3: the case is confidential"):
        p.check_manage(al, secret, "cancel", Tasks([]))
    p.check_manage(al, instance(), "cancel", Tasks([]))
    p.check_manage(sue, secret, "cancel", Tasks([]))
    p.check_manage(None, secret, "cancel", Tasks([]))


# -- what a user sees ----------------------------------------------------------------------------------
VIEW = {
    "id": 3,
    "process": "review",
    "business_key": "K-1",
    "status": "incident",
    "variables": {"kind": "report", "number": "TS-1", "who": "Mr X"},
    "tasks": [{"id": 7, "name": "register", "title": "Register", "role": "clerk", "due_at": "D", "form": "f"}],
    "incident": {"element": "x", "error": "Mr X failed"},
}


def test_a_confidential_case_is_a_placeholder_to_who_may_not_read_it() -> None:
    p = policy()
    ann, sue = p.actor("ann", "x"), p.actor("sue", "x")
    shown = p.present_instance(ann, dict(VIEW))
    assert shown["variables"] == {"number": "TS-1"} and shown["redacted"] and shown["confidential"]
    assert shown["incident"] == {"element": None, "error": PLACEHOLDER}
    assert shown["tasks"] == [
        {"id": 7, "name": None, "title": PLACEHOLDER, "role": "clerk", "due_at": "D", "form": None}
        | {"confidential": True, "redacted": True}
    ]
    assert "Mr X" not in str(shown)
    full = p.present_instance(sue, dict(VIEW))
    assert full["variables"] == VIEW["variables"] and full["confidential"] is True and "redacted" not in full
    assert p.present_instance(None, dict(VIEW)) == VIEW
    plain = dict(VIEW, variables={"kind": "question"})
    assert p.present_instance(ann, dict(plain)) == plain


def test_tasks_history_incidents_and_records_of_a_confidential_case() -> None:
    p = policy()
    ann, sue = p.actor("ann", "x"), p.actor("sue", "x")
    secret = {"kind": "report", "number": "TS-1"}
    view = {"id": 7, "title": "Register", "form": "f", "variables": dict(secret)}
    assert p.present_task(ann, dict(view), {"kind": "plain"}) == view
    assert p.present_task(ann, dict(view), secret)["title"] == PLACEHOLDER
    detail = p.present_task_detail(ann, dict(view))
    assert detail["variables"] == {"number": "TS-1"} and detail["redacted"]
    assert p.present_task_detail(sue, dict(view)) == view
    assert p.task_text(detail).startswith(PLACEHOLDER) and p.task_text(view) is None
    history = [
        {"id": 1, "at": "A", "actor": "ann", "kind": "started", "element": "s", "task": None, "detail": {"who": "X"}},
        {"id": 2, "at": "B", "actor": "sue", "kind": "task_completed", "element": "r", "task": 7, "detail": {}},
    ]
    hidden = p.present_history(ann, history, secret)
    assert [(h["actor"], h["detail"], h["element"], h["redacted"]) for h in hidden] == [
        ("ann", None, None, True),
        (None, None, None, True),  # the other actors are not named
    ]
    assert p.present_history(sue, history, secret) == history
    incident = {"instance": 3, "business_key": "K", "element": "e", "error": "Mr X", "since": "S"}
    assert p.present_incident(ann, dict(incident), secret) == {
        "instance": 3,
        "business_key": "K",
        "element": None,
        "error": PLACEHOLDER,
        "since": None,
        "confidential": True,
        "redacted": True,
    }
    assert p.present_incident(sue, dict(incident), secret) == incident
    record = {"instance": 3, "number": "TS-1", "topic": "x", "due_at": "D"}
    assert p.present_record(ann, record, secret) == {
        "instance": 3,
        "number": "TS-1",
        "topic": None,
        "due_at": "D",
        "confidential": True,
        "redacted": True,
    }
    assert p.present_record(None, record, secret) == record


def test_the_worker_log_of_a_confidential_case() -> None:
    @dataclass(frozen=True)
    class Job:
        instance_id: int | None

    @dataclass(frozen=True)
    class Event:
        job: Job
        error: str | None

    variables = {1: {"secret": True}, 2: {}}
    seen: list[Event] = []
    guarded = policy().redacting(seen.append, variables.get)
    for event in (Event(Job(1), "Mr X failed"), Event(Job(2), "plain failed"), Event(Job(None), "start failed")):
        guarded(event)
    assert [e.error for e in seen] == [
        f"{PLACEHOLDER}: the error is shown by `hall incidents` to users with the confidential permission",
        "plain failed",
        "start failed",
    ]
    assert policy({}).redacting(seen.append, variables.get) == seen.append  # no users: unchanged
