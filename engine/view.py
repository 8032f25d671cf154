"""The views of the documented JSON contract, built in one place: an instance (`start`, `show`,
`complete`), a task, a history row, a linked case.

`instance_view` is the one builder of an instance's view; the runtime fills it from the step it
just committed (no query), `read_instance` from the database.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import TYPE_CHECKING, Any

from .jobs.table import jobs_of

if TYPE_CHECKING:
    from .store import Tx


def iso(value: datetime | None) -> str | None:
    """A time of the contract: ISO 8601, or None."""
    return value.isoformat() if value is not None else None


def loads(text: str | None) -> Any:
    """Stored JSON text (variables, history detail), or None."""
    return json.loads(text) if text else None


def primary_role(role: str | None) -> str | None:
    """The first of a task's candidate groups (`a,b` -> `a`): its JSON `role`."""
    return role.split(",", 1)[0] if role else role


def task_view(row: Mapping[str, Any]) -> dict:
    """A human task (a human_tasks row) in the documented JSON contract."""
    role = row["role"]
    return {
        "id": row["id"],
        "instance": row["instance_id"],
        "process": row["process_id"],
        "name": row["name"],
        "title": row["title"],
        "lane": row["lane"],
        "role": primary_role(role),
        "roles": role.split(",") if role else [],
        "assignee": row["assignee"],
        "created_at": iso(row["created_at"]),
        "due_at": iso(row["due_at"]),
        "form": row["form"],
        "due_provisional": bool(row["due_provisional"]),
        "warn_at": iso(row["warn_at"]),
        "organisation": row.get("organisation"),
    }


def instance_view(
    row: Mapping[str, Any],
    *,
    version: int,
    variables: Any,
    tasks: Iterable[Mapping[str, Any]],
    timers: Iterable[tuple[str, str | None]],
    links: dict | None,
) -> dict:
    """An instance in the documented JSON contract.

    `row` has the instance row's columns (id, process_id, business_key, status, started_at,
    ended_at, incident_element, incident_error); `tasks` are its ready human_tasks rows, `timers`
    (element, due_at ISO) pairs; `links` None when the caller reads them afterwards.
    """
    status = row["status"]
    return {
        "id": row["id"],
        "process": row["process_id"],
        "version": version,
        "business_key": row["business_key"],
        "status": status,
        "variables": variables,
        "tasks": [task_view(t) for t in tasks],
        "started_at": iso(row["started_at"]),
        "ended_at": iso(row["ended_at"]),
        "incident": (
            {"element": row["incident_element"], "error": row["incident_error"]} if status == "incident" else None
        ),
        "timers": [{"element": element, "due_at": due} for element, due in timers],
        "links": links,
    }


def brief(row: Mapping[str, Any]) -> dict:
    """A linked case: id, process, business key, status."""
    return {"id": row["id"], "process": row["process_id"], "business_key": row["business_key"], "status": row["status"]}


def read_links(tx: Tx, instance_id: int, parent_id: int | None) -> dict:
    """The `links` of an instance: its parent case and its children, read from the database."""
    parent = tx.instance_brief(parent_id) if parent_id else None
    return {"parent": brief(parent) if parent else None, "children": [brief(c) for c in tx.children(instance_id)]}


def read_instance(tx: Tx, row: Mapping[str, Any]) -> dict:
    """The view of an instance row, with its version, ready tasks, timers and links read from the database."""
    definition = tx.definition(row["definition_id"])
    assert definition is not None  # an instance row names a stored definition (foreign key)
    return instance_view(
        row,
        version=definition["version"],
        variables=loads(row["variables"]),
        tasks=tx.ready_human_tasks(row["id"]),
        timers=[(j["element"], iso(j["due_at"])) for j in jobs_of(tx, row["id"])],
        links=read_links(tx, row["id"], row["parent_id"]),
    )


def history_view(h: Mapping[str, Any]) -> dict:
    """A history row in the documented JSON contract."""
    return {
        "id": h["id"],
        "at": iso(h["at"]),
        "actor": h["actor"],
        "kind": h["kind"],
        "element": h["element"],
        "task": h["task_id"],
        "detail": loads(h["detail"]),
        "simulated": bool(h.get("simulated")),  # written at a simulated time (--now), schema v6
    }
