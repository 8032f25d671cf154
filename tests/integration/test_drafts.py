"""Drafts of task forms (schema v8, issue 17 item 2): what a user typed into `hall complete` and did not
submit, kept per task and user on SQLite and PostgreSQL, and gone with its case when it is purged."""

from __future__ import annotations

from datetime import timedelta

import pytest
from hall.engine.errors import DataInvalid, TaskAlreadyCompleted, TaskNotFound


def test_a_draft_is_kept_per_task_and_user_replaced_and_discarded(engine) -> None:
    case = engine.start("review", None, {"amount": 1})
    task = case["tasks"][0]["id"]
    assert engine.draft(task) is None
    saved = engine.save_draft(task, {"amount": 5}, user="ann")
    assert saved["data"] == {"amount": 5} and saved["saved_at"].endswith("+00:00")
    engine.save_draft(task, {"amount": 6, "note": "两行\n文本"}, user="ann")  # replaces the first
    engine.save_draft(task, {"amount": 9}, user="carl")
    assert engine.draft(task, user="ann")["data"] == {"amount": 6, "note": "两行\n文本"}
    assert engine.draft(task, user="carl")["data"] == {"amount": 9}
    assert engine.discard_draft(task, user="ann") is True
    assert engine.draft(task, user="ann") is None and engine.discard_draft(task, user="ann") is False
    assert engine.draft(task, user="carl") is not None


def test_a_draft_is_refused_for_a_done_or_unknown_task_and_for_reserved_names(engine) -> None:
    case = engine.start("review", None, {"amount": 1})
    task = case["tasks"][0]["id"]
    with pytest.raises(DataInvalid):
        engine.save_draft(task, {"__builtins__": 1})
    engine.complete(task, {"amount": 2})
    with pytest.raises(TaskAlreadyCompleted):
        engine.save_draft(task, {"amount": 3})
    with pytest.raises(TaskNotFound):
        engine.save_draft(999, {"amount": 3})


def test_a_purged_case_takes_its_drafts_along(engine, clock) -> None:
    case = engine.start("review", None, {"amount": 1})
    engine.save_draft(case["tasks"][0]["id"], {"amount": 5}, user="ann")
    engine.cancel(case["id"], "test")
    deleted = engine.purge_instances([case["id"]], clock.now() + timedelta(days=1))
    assert deleted["instances"] == 1
