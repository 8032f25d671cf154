"""The instance view (engine.view), built in one place: the same document whether the runtime
fills it from the step just committed (`start`, `complete`) or the API reads it (`show`)."""

from __future__ import annotations

from datetime import UTC, datetime

from hall.engine import Engine
from hall.engine.view import instance_view, task_view

CONTRACT = [
    "id",
    "process",
    "version",
    "business_key",
    "status",
    "variables",
    "tasks",
    "started_at",
    "ended_at",
    "incident",
    "timers",
    "links",
]
T = datetime(2026, 11, 24, 1, 0, tzinfo=UTC)
ROW = {
    "id": 3,
    "process_id": "review",
    "business_key": "K-1",
    "status": "running",
    "started_at": T,
    "ended_at": None,
    "incident_element": "x",
    "incident_error": "boom",
}
TASK = {
    "id": 7,
    "instance_id": 3,
    "process_id": "review",
    "name": "approve",
    "title": "Approve",
    "lane": None,
    "role": "managers,auditors",
    "assignee": None,
    "created_at": T,
    "due_at": None,
    "form": "approve",
    "due_provisional": 0,
    "warn_at": None,
}


def test_the_instance_view_of_the_contract() -> None:
    view = instance_view(ROW, version=2, variables={"a": 1}, tasks=[TASK], timers=[("remind", "D")], links=None)
    assert list(view) == CONTRACT
    assert view["incident"] is None  # an incident's element and error only while in incident
    assert view["started_at"] == "2026-11-24T01:00:00+00:00" and view["ended_at"] is None
    assert view["tasks"] == [task_view(TASK)] and view["timers"] == [{"element": "remind", "due_at": "D"}]
    stopped = instance_view(dict(ROW, status="incident"), version=2, variables={}, tasks=[], timers=[], links={})
    assert stopped["incident"] == {"element": "x", "error": "boom"}
    task = task_view(TASK)
    assert (task["role"], task["roles"], task["due_provisional"]) == ("managers", ["managers", "auditors"], False)


def test_start_complete_and_show_give_the_same_view(engine: Engine, make_engine) -> None:
    """The runtime's view (from the cache) and the API's (from the database) are one document."""
    cold = make_engine()  # another process: reads every view from the database
    boundary = engine.start("timer_boundary", "B-1", {"n": 1})  # a task and its boundary timers
    parent = engine.start("parent", "P-1", {"question": "why?"})  # a linked child case
    review = engine.start("review", "R-1", {"amount": 1})
    assert boundary["tasks"] and boundary["timers"] and parent["links"]["children"]
    for started in (boundary, parent, review):
        shown = cold.show(started["id"])
        assert list(started) == list(shown) == CONTRACT
        assert started == shown
    completed = engine.complete(review["tasks"][0]["id"], {"amount": 2})
    assert completed["tasks"] and list(completed) == CONTRACT and completed == cold.show(review["id"])
