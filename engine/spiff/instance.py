"""A running instance: a SpiffWorkflow workflow with the operations the runtime needs (run until it
waits, complete a user task, fire a timer, deliver a message) and nothing of SpiffWorkflow leaking."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from SpiffWorkflow.bpmn import BpmnEvent
from SpiffWorkflow.bpmn.specs.control import BoundaryEventSplit
from SpiffWorkflow.bpmn.specs.event_definitions.item_aware_event import SignalEventDefinition
from SpiffWorkflow.bpmn.specs.mixins.events.intermediate_event import BoundaryEvent
from SpiffWorkflow.bpmn.specs.mixins.exclusive_gateway import ExclusiveGateway
from SpiffWorkflow.bpmn.specs.mixins.inclusive_gateway import InclusiveGateway
from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
from SpiffWorkflow.camunda.specs.event_definitions import MessageEventDefinition
from SpiffWorkflow.util.task import TaskState

from .. import juel
from ..extensions import CORRELATION_KEY, MESSAGE_OPTIONAL, is_true
from .data import copy_data
from .parser import CompiledProcess
from .patches import event_kind, gateway_target, recheck_conditions, take_uncaught_errors
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


def _is_start(task: Any) -> bool:
    return type(task.task_spec).__name__ == "StartEvent"


def _key_expression(task_spec: Any) -> str | None:
    """The correlation key's expression an element declares (extension property correlationKey, or
    a standard correlationProperty's retrieval expression, kept there by the parser), as Python."""
    text = ((getattr(task_spec, "extensions", None) or {}).get(CORRELATION_KEY) or "").strip()
    if not text:
        return None
    try:
        return juel.translate(text)
    except juel.NotTranslatable:
        return text  # hall validate has named it; evaluating it fails, and the key is then none


@dataclass
class EventWait:
    """A message or signal a case waits for: at which element, and how its correlation key is made
    (an expression on ``data``, the waiting task's; None: the case's business key)."""

    kind: str  # message | signal
    name: str
    element: str
    key_expression: str | None
    data: dict


@dataclass
class Thrown:
    """A message or signal a case throws out of itself, as the engine routes it."""

    kind: str  # message | signal
    name: str
    payload: Any
    element: str
    key_expression: str | None
    data: dict  # the throwing task's (its correlation key is evaluated on them)
    optional: bool = False  # extension property messageOptional: nobody waiting is no failure


def thrown(task: Any, event: Any) -> Thrown:
    """What the engine needs of an event a task throws (``patches.route_thrown``)."""
    ed = event.event_definition
    kind = event_kind(ed) or "message"
    payload = event.payload.get("payload") if kind == "message" and isinstance(event.payload, dict) else None
    optional = is_true((getattr(task.task_spec, "extensions", None) or {}).get(MESSAGE_OPTIONAL))
    return Thrown(kind, ed.name, payload, _element(task), _key_expression(task.task_spec), task.data, optional)


class PassThrough(Exception):  # noqa: N818 - a carrier, not an error of its own
    """Raised by the engine's router inside a throwing task for a failure that is not the process's
    (the database, a concurrent update): ``Instance.run`` re-raises the carried exception instead of
    making it an incident."""

    def __init__(self, error: BaseException) -> None:
        super().__init__(str(error))
        self.error = error


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

    @property
    def waits_for_events(self) -> bool:
        """Whether anything in the process can wait for a message or signal."""
        return "message" in self._kinds or "signal" in self._kinds

    def waiting_events(self) -> list[EventWait]:
        """The messages and signals the instance waits for (an event-based gateway's each)."""
        if "message" not in self._kinds and "signal" not in self._kinds:
            return []
        out = []
        for t in self._tasks_in(TaskState.WAITING):
            spec = t.task_spec
            for ed in event_definitions(getattr(spec, "event_definition", None)):
                kind = event_kind(ed)
                if kind is None:
                    continue
                target = gateway_target(spec, ed)
                catcher = next((o for o in spec.outputs if (o.bpmn_id or o.name) == target), spec) if target else spec
                out.append(EventWait(kind, ed.name, target or _element(t), _key_expression(catcher), t.data))
        return out

    def waits_for(self, kind: str, name: str) -> bool:
        """Whether the instance waits for a message or signal of that name."""
        return any(w.kind == kind and w.name == name for w in self.waiting_events())

    def evaluate(self, expression: str, data: Mapping[str, Any]) -> Any:
        """An expression on some data, restricted as every expression of a diagram runs."""
        return self.wf.script_engine.environment.evaluate(expression, dict(data))

    def start_by(self, event: Any) -> bool:
        """Start a new instance by the message or signal its start event waits for: the workflow runs
        up to its start events, the others among them are cancelled, the event caught. False (nothing
        changed that matters: the instance is dropped) when no start event catches it."""
        for _ in range(2):  # the workflow's own start, then the split into several start events
            for t in self.wf.get_tasks(state=TaskState.READY):
                if t.task_spec.name in ("Start", "StartEventSplit"):
                    t.run()
        starts = [t for t in self._tasks_in(TaskState.READY | TaskState.WAITING) if _is_start(t)]
        keep = [t for t in starts if t.task_spec.event_definition.catches(t, event)]
        if not keep or not self.wf.event_manager.catch(event, internal=False):
            return False
        for t in starts:
            if t not in keep:
                t.cancel()  # a none start event, or another event's: this case began by this event
        return True

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

    def follow_due(self, spiff_id: str, old_due: datetime, new_due: datetime) -> list[str]:
        """The timer boundary events of the ready task `spiff_id` that kept its due time follow it when it
        moves from `old_due` to `new_due`: one still waiting is moved; a non-interrupting one that has
        fired already is armed again, its escalation to run once more when the moved deadline passes.
        Returns the elements of the timers moved or armed (their jobs follow at the step's end)."""
        task = self._task(spiff_id)
        split = task.parent if task is not None else None
        if split is None or not isinstance(split.task_spec, BoundaryEventSplit):
            return []
        moved: list[str] = []
        armed = {c.task_spec.name for c in split.children if c.state == TaskState.WAITING}
        for child in list(split.children):
            spec = child.task_spec
            ed = getattr(spec, "event_definition", None)
            if child is task or not isinstance(spec, BoundaryEvent) or not isinstance(ed, (HallTimeDate, HallDuration)):
                continue
            value = child._get_internal_data("event_value")
            if value is None or _utc(datetime.fromisoformat(str(value))) != _utc(old_due):
                continue
            if child.state == TaskState.WAITING:
                child._set_internal_data(event_value=new_due.isoformat())
            elif spec.cancel_activity or not child.has_state(TaskState.COMPLETED) or spec.name in armed:
                continue
            else:
                fresh = split._add_child(spec, TaskState.WAITING)
                fresh._set_internal_data(event_value=new_due.isoformat())
                fresh.task_spec._predict(fresh, mask=TaskState.NOT_FINISHED_MASK)  # its branch, to run when it fires
                self.wf.top_workflow.event_manager.add_task(fresh)  # as a catching event waiting registers
                armed.add(spec.name)
            moved.append(spec.bpmn_id or spec.name)
        return moved

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
            recheck_conditions(self.wf, lambda: self.wf.do_engine_steps(will_complete_task=will, did_complete_task=did))
        except _Pause:  # the step ends here; the worker continues after the asyncAfter task
            pass
        except PassThrough as carrier:  # the engine's own failure while it routed a thrown event
            ran = saved.get("task")
            if ran is not None:
                ran._set_state(TaskState.READY)
                ran.data = saved["data"]
            raise carrier.error from None
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
                elif (kind := event_kind(ed)) is not None:
                    found.add(kind)
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


def external_signal(name: str, payload: Mapping[str, Any] | None = None) -> Any:
    """A signal from outside any instance; its variables (if any) are set on each case that catches it."""
    return BpmnEvent(SignalEventDefinition(name), dict(payload or {}))


def event_name(event: Any) -> tuple[str, str]:
    """(kind, name) of a message or signal event."""
    return event_kind(event.event_definition) or "message", event.event_definition.name


def event_payload(event: Any) -> Any:
    """What a message carries (its payload), or a signal (its variables)."""
    if event_kind(event.event_definition) == "message" and isinstance(event.payload, dict):
        return event.payload.get("payload")
    return event.payload or None


def copy_event(event: Any) -> Any:
    """The same event for one more receiver: a catch may write into its payload (the result variable)."""
    return BpmnEvent(event.event_definition, copy_data(event.payload) if isinstance(event.payload, dict) else None)


__all__ = [
    "AsyncInfo",
    "EventWait",
    "Instance",
    "PassThrough",
    "StepFailure",
    "Thrown",
    "UserTaskInfo",
    "copy_event",
    "describe_error",
    "event_name",
    "event_payload",
    "external_message",
    "external_signal",
    "thrown",
]


def _utc(at: datetime) -> datetime:
    """A due time as aware UTC (a stored one may come back without its zone: UTC)."""
    return at.astimezone(UTC) if at.tzinfo else at.replace(tzinfo=UTC)
