"""Timers the engine fires: which event definitions they are, what an instance waits for, firing one.

SpiffWorkflow's timers compare against the wall clock; hall's (``HallTimeDate``, ``HallDuration``,
``HallCycle``, defined with the other patches in ``patches``) wait until the engine fires them from
its jobs table, at due times computed on its clock and working-day calendar.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .patches import (
    TIMER_DEFINITIONS,
    HallCycle,
    HallDuration,
    HallTimeDate,
    gateway_target,
    start_cycle_branch,
    waited_event_definitions,
)

__all__ = [
    "TIMER_DEFINITIONS",
    "HallCycle",
    "HallDuration",
    "HallTimeDate",
    "TimerInfo",
    "fire",
    "fire_start_event",
    "event_definitions",
    "is_timer",
    "start_timers",
    "waiting_timer",
]


@dataclass
class TimerInfo:
    """A timer an instance waits for: its task, element, kind (date, duration, cycle) and due time."""

    spiff_id: str
    element: str
    kind: str
    due: str | None


def is_timer(event_definition: Any) -> bool:
    """Whether an event definition is a timer the engine fires."""
    return isinstance(event_definition, TIMER_DEFINITIONS)


def event_definitions(event_definition: Any) -> list[Any]:
    """The event definitions a task waits for: its own, or each of an event-based gateway's."""
    return waited_event_definitions(event_definition)


def _timer_of(task: Any) -> Any:
    """The timer a task waits for (an event-based gateway's: the one after it), or None."""
    for ed in event_definitions(getattr(task.task_spec, "event_definition", None)):
        if is_timer(ed):
            return ed
    return None


def _element(task: Any) -> str:
    return task.task_spec.bpmn_id or task.task_spec.name


def waiting_timer(task: Any) -> TimerInfo | None:
    """The timer a waiting task is, or None when it is not one."""
    ed = _timer_of(task)
    if ed is None:
        return None
    element = gateway_target(task.task_spec, ed) or _element(task)  # a gateway's: the catch event after it
    if isinstance(ed, HallCycle):
        value = task._get_internal_data("event_value") or {}
        return TimerInfo(str(task.id), element, "cycle", value.get("next"))
    return TimerInfo(str(task.id), element, ed.kind, task._get_internal_data("event_value"))


def fire(task: Any) -> None:
    """Mark a waiting timer task as due (the workflow's next timer refresh lets it go on)."""
    if isinstance(_timer_of(task), HallCycle):
        task._set_internal_data(cycle_fire=True)
    else:
        task._set_internal_data(event_fired=True)


def fire_start_event(workflow: Any) -> None:
    """A timer start event has fired by the time an instance starts; a cycle's instance runs its
    branch once (the engine starts one instance per firing)."""
    for task in workflow.get_tasks():
        ed = getattr(task.task_spec, "event_definition", None)
        if type(task.task_spec).__name__ == "StartEvent" and is_timer(ed):
            task._set_internal_data(event_fired=True)
            if isinstance(ed, HallCycle) and not task.children:
                start_cycle_branch(task)


def start_timers(spec: Any) -> list[tuple[str, str, str]]:
    """(element, kind, expression) of each timer start event of a process spec."""
    out = []
    for task_spec in spec.task_specs.values():
        ed = getattr(task_spec, "event_definition", None)
        if type(task_spec).__name__ == "StartEvent" and isinstance(ed, TIMER_DEFINITIONS):
            out.append((task_spec.bpmn_id or task_spec.name, ed.kind, ed.expression))
    return out
