"""`hall diagram`: a deployed process, or where a case stands on its version's diagram — the path
taken (green), current tasks (orange, red when overdue) with their assignee or role and due time,
waiting timers with their due time, and how many rounds a loop has gone."""

from __future__ import annotations

from collections import Counter
from datetime import datetime
from typing import Any

from .model import read_diagram
from .svg import Overlay, render


def process_svg(eng: Any, process: str, version: int | None = None) -> str:
    """The deployed diagram of a process (default its latest version) as SVG."""
    d = eng.definition_source(process, version)
    return render(read_diagram(d["source"], d["file"]), Overlay(title=f"{process} v{d['version']}  [{d['file']}]"))


def instance_overlay(eng: Any, view: dict, path: list[dict]) -> Overlay:
    """The overlay of a case: its path, current tasks, timers, overdue marks and loop rounds."""
    tz = eng.deadlines.calendar.tz
    now = eng.clock.now()

    def local(text: str) -> str:
        return datetime.fromisoformat(text).astimezone(tz).strftime("%m-%d %H:%M")

    overlay = Overlay()
    reached = Counter(p["element"] for p in path)
    for p in path:
        if p["state"] == "passed":
            overlay.states.setdefault(p["element"], "passed")
    for p in path:
        if p["state"] == "current":
            overlay.states[p["element"]] = "current"
    for task in view.get("tasks") or []:
        lines = [f"{task.get('assignee') or task.get('role') or ''}".strip() or "待认领"]
        due = task.get("due_at")
        if due:
            late = datetime.fromisoformat(due) < now
            lines.append(
                f"截止 {local(due)}" + ("  逾期" if late else "") + ("（暂定）" if task.get("due_provisional") else "")
            )
            if late:
                overlay.states[task["name"]] = "overdue"
        overlay.badges.setdefault(task["name"], []).extend(lines)
    for timer in view.get("timers") or []:
        overlay.states[timer["element"]] = "current"
        overlay.badges.setdefault(timer["element"], []).append(f"定时 {local(timer['due_at'])}")
    for element, times in reached.items():
        if times > 1:
            overlay.badges.setdefault(element, []).append(f"第{times}轮")
    overlay.title = (
        f"{view['process']} v{view['version']} · 案件 {view['id']} {view.get('business_key') or ''} · {view['status']}"
        f" · {now.astimezone(tz).strftime('%Y-%m-%d %H:%M')}"
    )
    return overlay


def instance_svg(eng: Any, instance_id: Any, user: str | None = None) -> str:
    """Where a case stands, drawn on the diagram of the version it runs on."""
    view = eng.show(instance_id, user=user)
    path = [] if view.get("redacted") else eng.path(instance_id, user=user)
    d = eng.definition_source(view["process"], view["version"])
    diagram = read_diagram(d["source"], d["file"])
    overlay = instance_overlay(eng, view, path)
    moves = {(p["from"], p["element"]) for p in path if p["from"]}
    for fid, (source, target) in diagram.flows.get(view["process"], {}).items():
        if (source, target) in moves:
            overlay.edge_states[fid] = "passed"
    return render(diagram, overlay)
