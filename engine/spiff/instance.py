"""A running instance: a SpiffWorkflow workflow with the operations the runtime needs (run until it
waits, complete a user task, fire a timer, deliver a message) and nothing of SpiffWorkflow leaking."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from SpiffWorkflow.bpmn import BpmnEvent
from SpiffWorkflow.bpmn.specs.mixins.exclusive_gateway import ExclusiveGateway
from SpiffWorkflow.bpmn.specs.mixins.inclusive_gateway import InclusiveGateway
from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
from SpiffWorkflow.camunda.specs.event_definitions import MessageEventDefinition
from SpiffWorkflow.util.task import TaskState

from ..extensions import is_true
from .data import copy_data
from .parser import CompiledProcess
from .patches import take_uncaught_errors
from .scripts import HallScriptEngine
from .serializer import Snapshot, TaskRows, restore_workflow
from .timers import (
    HallDuration,
    HallTimeDate,
    TimerInfo,
    event_definitions,
    fire,
    fire_start_event,
    is_timer,
    waiting_timer,
)


@dataclass
class UserTaskInfo:
    """A ready user task as the runtime makes its human task row from it."""

    spiff_id: str
    name: str
    title: str
    lane: str | None
    extensions: dict
    data: dict


@dataclass
class AsyncInfo:
    """An asynchronous continuation waiting for the worker: before a task runs, or after it ran."""

    spiff_id: str
    element: str
    kind: str  # before | after

    @property
    def key(self) -> str:
        """The job's key: the task, and for asyncAfter the task's successors (a job of its own)."""
        return self.spiff_id if self.kind == "before" else f"{self.spiff_id}:after"


class _Pause(Exception):
    """Raised out of SpiffWorkflow's engine loop right after a camunda:asyncAfter task completed."""


@dataclass
class StepFailure(Exception):
    """A script, condition or service call raised: the element and the error for the incident."""

    element: str
    error: str
    line: int | None = None


def _element(task: Any) -> str:
    return task.task_spec.bpmn_id or task.task_spec.name


def _is_message(event_definition: Any) -> bool:
    return event_definition is not None and type(event_definition).__name__ == "MessageEventDefinition"


class Instance:
    """A SpiffWorkflow workflow with the operations the runtime needs, and nothing of Spiff leaking."""

    def __init__(self, workflow: BpmnWorkflow, rows: dict[str, str] | None = None) -> None:
        self.wf = workflow
        # the stored rows of its tasks: a save converts only the tasks that changed
        self._store = TaskRows(workflow, rows)
        self._key = self._store.key
        self._kinds = _waits_of(workflow)

    @classmethod
    def new(cls, process: CompiledProcess, engine: HallScriptEngine, data: Mapping[str, Any]) -> Instance:
        """A new instance of a process, not yet run, with the data it starts with."""
        wf = BpmnWorkflow(process.spec, process.subprocess_specs, script_engine=engine)
        fire_start_event(wf)
        start = wf.task_tree
        start.data.update(copy_data(data))
        for t in wf.get_tasks(state=TaskState.READY):
            t.data.update(copy_data(data))
        return cls(wf)

    @classmethod
    def restore(cls, process: CompiledProcess, engine: HallScriptEngine, snap: Snapshot) -> Instance:
        """The instance a snapshot stored, on the specs of `process` (its version, or a later one)."""
        wf = restore_workflow(process.spec, process.subprocess_specs, snap)
        wf.script_engine = engine
        return cls(wf, snap.tasks)

    def snapshot(self) -> Snapshot:
        """What to store: the state document and every task's row (unchanged tasks' rows reused)."""
        return self._store.save()

    def _task(self, spiff_id: str) -> Any:
        """The task with this id text, or None."""
        return self.wf.get_task_from_id(self._store.task_id(spiff_id))

    # -- reading -------------------------------------------------------------------------
    @property
    def completed(self) -> bool:
        """Whether the workflow has ended."""
        return self.wf.completed

    def _tasks_in(self, states: int) -> list[Any]:
        """Tasks of the top workflow and its subprocesses in any of `states` (one pass, no tree walk)."""
        found = [t for t in self.wf.tasks.values() if t._state & states]
        for sub in self.wf.subprocesses.values():
            found.extend(t for t in sub.tasks.values() if t._state & states)
        return found

    def variables(self) -> dict:
        """The instance's data as staff see it: the data of the most recently completed task."""
        if self.wf.completed:
            return dict(self.wf.data) or (dict(self.wf.last_task.data) if self.wf.last_task else {})
        merged: dict = {}
        if self.wf.last_task is not None:
            merged.update(self.wf.last_task.data)
        for t in self._tasks_in(TaskState.READY | TaskState.WAITING):
            merged.update(t.data)
        return {k: v for k, v in merged.items() if not callable(v)}

    def path(self) -> list[tuple[str, str | None, str, float]]:
        """Every BPMN element the instance reached, oldest first: (element, the element it came from
        or None, "passed" or "current", when its state last changed as a Unix time). Spiff's own
        bookkeeping tasks (start, end joins, boundary splits) are skipped; scenario expectations
        and coverage read this (engine.scenarios)."""
        reached = TaskState.COMPLETED | TaskState.STARTED | TaskState.READY | TaskState.WAITING | TaskState.ERROR
        out = []
        for t in self._tasks_in(reached):
            if not t.task_spec.bpmn_id:
                continue
            source = t.parent
            while source is not None and not source.task_spec.bpmn_id:
                source = source.parent
            state = "passed" if t.has_state(TaskState.COMPLETED) else "current"
            out.append((t.task_spec.bpmn_id, source.task_spec.bpmn_id if source else None, state, t.last_state_change))
        out.sort(key=lambda item: item[3])
        return out

    def ready_user_tasks(self) -> list[UserTaskInfo]:
        """The user tasks staff can work on now."""
        out = []
        for t in self._tasks_in(TaskState.READY):
            spec = t.task_spec
            if not spec.manual or (getattr(spec, "extensions", None) or {}).get("hallAsync"):
                continue  # engine work, or a continuation held for the worker
            out.append(
                UserTaskInfo(
                    self._key(t.id),
                    spec.bpmn_id or spec.name,
                    spec.bpmn_name or spec.bpmn_id or spec.name,
                    spec.lane,
                    dict(getattr(spec, "extensions", {}) or {}),
                    t.data,
                )
            )
        return out

    def waiting_timers(self) -> list[TimerInfo]:
        """The timers the instance waits for, with their due times."""
        if "timer" not in self._kinds:
            return []
        out = []
        for t in self._tasks_in(TaskState.WAITING):
            info = waiting_timer(t)
            if info is not None:
                out.append(info)
        return out

    def waiting_continuations(self) -> list[AsyncInfo]:
        """Asynchronous continuations this instance waits for: tasks held before they run
        (asyncBefore, READY) and tasks whose successors wait (asyncAfter, marked when they ran)."""
        if "async" not in self._kinds:
            return []
        out = []
        for t in self._tasks_in(TaskState.READY | TaskState.COMPLETED):
            spec = t.task_spec
            ext = getattr(spec, "extensions", None) or {}
            if (t._state == TaskState.READY and ext.get("hallAsync") == "before") or t._get_internal_data(
                "hall_async_after"
            ) == "pending":
                out.append(
                    AsyncInfo(
                        str(t.id), spec.bpmn_id or spec.name, "before" if t._state == TaskState.READY else "after"
                    )
                )
        return out

    def continue_async(self, key: str) -> AsyncInfo | None:
        """Let the continuation with this job key go on (the next ``run`` takes it); None if it no
        longer waits."""
        for info in self.waiting_continuations():
            if info.key == key:
                task = self.wf.get_task_from_id(UUID(info.spiff_id))
                if info.kind == "before":
                    task._set_internal_data(hall_async_go=True)
                else:
                    task._set_internal_data(hall_async_after="done")
                return info
        return None

    def waiting_messages(self) -> list[str]:
        """The names of the messages the instance waits for."""
        if "message" not in self._kinds:
            return []
        names = []
        for t in self._tasks_in(TaskState.WAITING):
            for ed in event_definitions(getattr(t.task_spec, "event_definition", None)):
                if _is_message(ed):
                    names.append(ed.name)
        return names

    def has_task(self, spiff_id: str) -> bool:
        """Whether the instance has a task with this id."""
        return self.wf.get_task_from_id(UUID(spiff_id)) is not None

    # -- acting --------------------------------------------------------------------------------
    def complete_user_task(self, spiff_id: str, data: Mapping[str, Any]) -> None:
        """Complete a ready user task with the data entered (copied, not shared)."""
        task = self._task(spiff_id)
        task.data.update(copy_data(data))
        task.run()

    def update_ready_data(self, element: str, data: Mapping[str, Any]) -> None:
        """Fix the data a failed element will run with (for `retry --set`)."""
        for t in self._tasks_in(TaskState.READY):
            if _element(t) == element:
                t.data.update(copy_data(data))

    def timer_definition(self, spiff_id: str) -> tuple[str, str, dict] | None:
        """(kind, expression, data) of a waiting date or duration timer, to count its due time again
        (R-T1: `hall calendar refresh`); None for anything else (a cycle, a finished task)."""
        task = self._task(spiff_id)
        ed = getattr(task.task_spec, "event_definition", None) if task is not None else None
        if task is None or task.state != TaskState.WAITING or not isinstance(ed, (HallTimeDate, HallDuration)):
            return None
        return ed.kind, ed.expression, task.data

    def reschedule_timer(self, spiff_id: str, due: str) -> None:
        """Give a waiting date or duration timer a new due time (ISO); the runtime moves its job."""
        task = self._task(spiff_id)
        assert task is not None  # read with timer_definition in the same step
        task._set_internal_data(event_value=due)

    def fire_timer(self, spiff_id: str) -> bool:
        """Mark a waiting timer as due; False if the timer is no longer waiting (e.g. its task finished)."""
        try:
            task = self.wf.get_task_from_id(UUID(spiff_id))
        except Exception:
            return False
        if task is None or task.state != TaskState.WAITING:
            return False
        fire(task)
        self.wf.refresh_timers()
        return True

    def deliver(self, event: Any) -> int:
        """Hand a message thrown elsewhere to this instance; returns how many events caught it."""
        return self.wf.event_manager.catch(event, internal=False)

    def thrown_events(self) -> list[tuple[str, Any, Any]]:
        """Messages this instance threw that it could not catch itself: (name, payload, event)."""
        out = []
        for ev in self.wf.get_events():
            payload = ev.payload.get("payload") if isinstance(ev.payload, dict) else ev.payload
            out.append((ev.event_definition.name, payload, ev))
        return out

    def run(self, on_gateway: Callable[[str, list[str]], None]) -> None:
        """Run engine steps until the instance waits; a failing element becomes a StepFailure.

        The failing task is put back to READY with the data it had before it ran, so a retry
        re-runs it cleanly after the definition or data is fixed.
        """
        saved: dict[str, Any] = {}

        def will(task: Any) -> None:
            saved["task"], saved["data"] = task, copy_data(task.data)

        def did(task: Any) -> None:
            if isinstance(task.task_spec, (ExclusiveGateway, InclusiveGateway)):
                taken = [
                    _element(c)
                    for c in task.children
                    if c.has_state(TaskState.DEFINITE_MASK | TaskState.FINISHED_MASK)
                    and not c.has_state(TaskState.CANCELLED)
                ]
                on_gateway(_element(task), taken)
            if (
                is_true((getattr(task.task_spec, "extensions", None) or {}).get("asyncAfter"))
                and task._get_internal_data("hall_async_after") is None
            ):
                task._set_internal_data(hall_async_after="pending")
                raise _Pause()

        try:
            for task in self._tasks_in(TaskState.READY):  # continuations the worker let go (asyncBefore)
                if task._get_internal_data("hall_async_go"):
                    task.internal_data.pop("hall_async_go")
                    will(task)
                    task.run()
                    did(task)
            self.wf.do_engine_steps(will_complete_task=will, did_complete_task=did)
        except _Pause:  # the step ends here; the worker continues after the asyncAfter task
            pass
        except Exception as exc:  # every failure of process code becomes an incident
            failed: Any = getattr(exc, "task", None) or saved.get("task")
            ran = saved.get("task")
            if ran is not None and ran is failed:  # put back as it was before it ran
                ran._set_state(TaskState.READY)
                ran.data = saved["data"]
            element = _element(failed) if failed is not None else "?"
            raise StepFailure(element, describe_error(exc), getattr(exc, "line_number", None)) from exc
        self._uncaught_errors()

    def _uncaught_errors(self) -> None:
        """An error no boundary event caught reached the top level (an error end event of the
        process, or of a sub-process without a catching boundary): the case stops as an incident
        naming the error code, as Camunda does, not as a message thrown to nobody."""
        errors = take_uncaught_errors(self.wf)
        if not errors:
            return
        ed = errors[0].event_definition
        thrower = [
            t for t in self._tasks_in(TaskState.COMPLETED) if getattr(t.task_spec, "event_definition", None) is ed
        ]
        element = _element(max(thrower, key=lambda t: t.last_state_change)) if thrower else "?"
        code = f"error code {ed.code!r}" if ed.code else "an error without a code"
        name = f" ({ed.name})" if ed.name and ed.name != ed.code else ""
        raise StepFailure(element, f"error end event: {code}{name} was not caught by any boundary event")

    def cancel(self) -> None:
        """Cancel the workflow (every task not finished)."""
        self.wf.cancel()


def _waits_of(workflow: BpmnWorkflow) -> frozenset[str]:
    """What an instance of this spec can wait for besides people (timer, message, async), read once
    per spec: the waits nothing in the process can have are not searched for after every step."""
    spec = workflow.spec
    kinds = spec.__dict__.get("_hall_waits")
    if kinds is None:
        found = set()
        for s in [
            *spec.task_specs.values(),
            *(t for sub in workflow.subprocess_specs.values() for t in sub.task_specs.values()),
        ]:
            for ed in event_definitions(getattr(s, "event_definition", None)):
                if is_timer(ed):
                    found.add("timer")
                elif _is_message(ed):
                    found.add("message")
            ext = getattr(s, "extensions", None) or {}
            if ext.get("hallAsync") or is_true(ext.get("asyncAfter")):
                found.add("async")
        kinds = spec.__dict__["_hall_waits"] = frozenset(found)
    return kinds


def describe_error(exc: BaseException) -> str:
    """One line for an incident: the error, and the offending script line when Spiff knows it."""
    inner = getattr(exc, "exception", None)
    base = (
        f"{type(inner).__name__}: {inner}"
        if inner is not None
        else str(exc).splitlines()[0]
        if str(exc)
        else type(exc).__name__
    )
    cause = exc.__cause__ or exc.__context__
    if inner is None and cause is not None and base.startswith("Error evaluating expression"):
        # SpiffWorkflow's wrapper of a failing condition keeps the error only as the context
        base = f"{base.rstrip('. ')}: {type(cause).__name__}: {cause}"
    line_no = getattr(exc, "line_number", None)
    line = getattr(exc, "error_line", "")
    if line_no:
        base += f" (script line {line_no}: {line.strip()})"
    return base


def external_message(name: str, payload: Any) -> Any:
    """A message from outside any instance; the catching element stores it as `<element>_Response`."""
    return BpmnEvent(MessageEventDefinition(name), {"payload": payload, "result_var": None})


__all__ = [
    "AsyncInfo",
    "Instance",
    "StepFailure",
    "UserTaskInfo",
    "describe_error",
    "external_message",
]
