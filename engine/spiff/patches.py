"""Every place where hall patches, copies or re-implements SpiffWorkflow's internals, with the reason.

SpiffWorkflow is pinned to ``~=3.2.0``, yet what stands here leans on code SpiffWorkflow does not
promise to keep: private methods, the layout of its serialised tasks, the way its parser picks a
class for an element. ``PATCHES`` lists each place with the upstream functions or classes it copies,
replaces or relies on, and a hash of their source (``inspect.getsource``) as of the pinned version;
``tests/test_spiff_adapter.py`` fails, naming the patch to review, as soon as an installed
SpiffWorkflow's source differs. An upgrade is then a decision: read the upstream change, adapt the
patch, record the new hash (``python -m hall.engine.spiff.patches`` prints them).

The rest of the adapter (``parser``, ``serializer``, ``instance``, ``timers``) uses what is defined
here and patches nothing itself.
"""

from __future__ import annotations

import copy
import functools
import hashlib
import importlib
import inspect
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from lxml import etree
from SpiffWorkflow.bpmn import BpmnEvent
from SpiffWorkflow.bpmn.exceptions import WorkflowTaskException
from SpiffWorkflow.bpmn.parser.event_parsers import ReceiveTaskParser, SendTaskParser
from SpiffWorkflow.bpmn.parser.ProcessParser import ProcessParser
from SpiffWorkflow.bpmn.parser.TaskParser import TaskParser
from SpiffWorkflow.bpmn.parser.util import first
from SpiffWorkflow.bpmn.parser.ValidationException import ValidationException
from SpiffWorkflow.bpmn.serializer.default.workflow import BpmnWorkflowConverter, WorkflowConverter
from SpiffWorkflow.bpmn.specs.defaults import InclusiveGateway
from SpiffWorkflow.bpmn.specs.event_definitions.conditional import ConditionalEventDefinition
from SpiffWorkflow.bpmn.specs.event_definitions.item_aware_event import (
    ErrorEventDefinition,
    SignalEventDefinition,
)
from SpiffWorkflow.bpmn.specs.event_definitions.multiple import MultipleEventDefinition
from SpiffWorkflow.bpmn.specs.event_definitions.timer import (
    CycleTimerEventDefinition,
    DurationTimerEventDefinition,
    TimeDateEventDefinition,
)
from SpiffWorkflow.bpmn.specs.mixins.events.event_types import CatchingEvent
from SpiffWorkflow.camunda.parser import CamundaParser
from SpiffWorkflow.camunda.parser.event_parsers import CamundaEventDefinitionParser
from SpiffWorkflow.camunda.parser.task_spec import BusinessRuleTaskParser as CamundaBusinessRuleTaskParser
from SpiffWorkflow.camunda.parser.task_spec import CamundaTaskParser
from SpiffWorkflow.camunda.specs.event_definitions import MessageEventDefinition as CamundaMessageEventDefinition
from SpiffWorkflow.spiff.parser.task_spec import BusinessRuleTaskParser as SpiffBusinessRuleTaskParser
from SpiffWorkflow.spiff.parser.task_spec import ScriptTaskParser as SpiffScriptTaskParser
from SpiffWorkflow.spiff.parser.task_spec import SpiffTaskParser
from SpiffWorkflow.task import Task
from SpiffWorkflow.util.task import TaskState

from ..extensions import (
    BPMN_NS,
    CAMUNDA_NS,
    has_spiff_extensions,
    is_true,
    read_extensions,
    service_name,
    spiff_extension,
)


@dataclass(frozen=True)
class Patch:
    """One place that copies, replaces or relies on SpiffWorkflow internals, and why."""

    name: str  # the hall object that does it, as found in this module
    reason: str
    upstream: dict[str, str]  # dotted name of the upstream function/class -> sha256 of its source (first 16)


# Upstream objects this module replaces in place, kept before replacing so their source stays readable.
_ORIGINALS: dict[str, Any] = {}


def upstream_object(dotted: str) -> Any:
    """The upstream object a dotted name (`SpiffWorkflow.task.Task._set_state`) names, as installed
    (before hall replaced it, for what hall replaces in place)."""
    if dotted in _ORIGINALS:
        return _ORIGINALS[dotted]
    parts = dotted.split(".")
    for cut in range(len(parts) - 1, 0, -1):
        try:
            obj: Any = importlib.import_module(".".join(parts[:cut]))
        except ImportError:
            continue
        for attr in parts[cut:]:
            obj = inspect.getattr_static(obj, attr)
            if isinstance(obj, (staticmethod, classmethod)):
                obj = obj.__func__
        return obj
    raise ImportError(f"no module in {dotted!r}")


def source_hash(obj: Any) -> str:
    """The first 16 hex digits of the sha256 of an object's source, as `inspect.getsource` reads it."""
    return hashlib.sha256(inspect.getsource(obj).encode()).hexdigest()[:16]


def check_upstream(
    patches: tuple[Patch, ...] | None = None, source_of: Callable[[Any], str] | None = None
) -> list[str]:
    """One line per upstream function or class whose installed source differs from the one a patch
    was written against (empty when SpiffWorkflow is the pinned one)."""
    problems = []
    for patch in PATCHES if patches is None else patches:
        for dotted, recorded in patch.upstream.items():
            try:
                obj = upstream_object(dotted)
                text = source_of(obj) if source_of else inspect.getsource(obj)
            except (ImportError, AttributeError, OSError, TypeError) as exc:
                problems.append(f"{patch.name}: upstream {dotted} is gone ({type(exc).__name__}: {exc})")
                continue
            found = hashlib.sha256(text.encode()).hexdigest()[:16]
            if found != recorded:
                problems.append(
                    f"{patch.name}: upstream {dotted} changed (source hash {found}, patch written against "
                    f"{recorded}); review the patch, then record the new hash in engine/spiff/patches.py"
                )
    return problems


# -- 1. TaskState.get_name, cached ------------------------------------------------------------
# SpiffWorkflow names the new state for a log record on every state change, logging on or off, and
# builds a table of all the names to do it (~8% of a fired timer's profile): the names never change.
_ORIGINALS["SpiffWorkflow.util.task.TaskState.get_name"] = TaskState.get_name.__func__
TaskState.get_name = classmethod(functools.cache(TaskState.get_name.__func__))  # type: ignore[arg-type]

_TASK_LOG = logging.getLogger("spiff.task")


# -- 2. Task._set_state, replaced for every task ------------------------------------------------
def set_task_state(self: Task, value: int) -> None:
    """SpiffWorkflow 3's Task._set_state, building its log record only when the record is logged:
    it built the record's extras (a dict of eight lookups) on every state change, logging on or off."""
    if value != self._state:
        elapsed = time.time() - self.last_state_change
        self.last_state_change = time.time()
        self._state = value
        if _TASK_LOG.isEnabledFor(logging.INFO):
            _TASK_LOG.info(
                f"State changed to {TaskState.get_name(value)}", extra=self.collect_log_extras({"elapsed": elapsed})
            )
    elif _TASK_LOG.isEnabledFor(logging.DEBUG):
        _TASK_LOG.debug(f"State set to {TaskState.get_name(value)}", extra=self.collect_log_extras())


_ORIGINALS["SpiffWorkflow.task.Task._set_state"] = Task._set_state
Task._set_state = set_task_state


# -- 3. timers the engine fires ---------------------------------------------------------------
class HallTimerMixin:
    """A timer whose due time the engine computes (with its clock and calendar) and fires itself.

    SpiffWorkflow compares against the wall clock on every refresh; here the task only fires when
    the engine has set ``event_fired`` from a due job. Replaces ``has_fired`` of SpiffWorkflow's
    date and duration timers.
    """

    kind = "duration"
    expression: str

    def has_fired(self, my_task: Any) -> bool:
        """Whether the engine fired the timer; the first call asks the engine for its due time."""
        if my_task._get_internal_data("event_value") is None:
            due = my_task.workflow.script_engine.resolve_timer(my_task, self.kind, self.expression)
            my_task._set_internal_data(event_value=due)
        return my_task._get_internal_data("event_fired", False)


class HallTimeDate(HallTimerMixin, TimeDateEventDefinition):
    """A timeDate timer (`2026-10-01T09:00:00+08:00`, `15:00 next working day`) the engine fires."""

    kind = "date"


class HallDuration(HallTimerMixin, DurationTimerEventDefinition):
    """A timeDuration timer (`PT45M`, `2 working days`) the engine fires."""

    kind = "duration"


class HallCycle(CycleTimerEventDefinition):
    """A repeating timer: each time the engine fires it, one more branch starts. Replaces
    ``cycle_complete`` (it read the wall clock) and ``details`` of SpiffWorkflow's cycle timer."""

    kind = "cycle"

    def cycle_complete(self, my_task: Any) -> bool:
        """True once per firing by the engine; the last firing marks the timer done."""
        value = my_task._get_internal_data("event_value")
        if value is None:
            value = my_task.workflow.script_engine.resolve_cycle(my_task, self.expression, None)
            my_task._set_internal_data(event_value=value)
        if my_task._get_internal_data("cycle_fire", False):
            my_task.internal_data.pop("cycle_fire", None)
            nxt = my_task.workflow.script_engine.resolve_cycle(my_task, self.expression, value)
            my_task._set_internal_data(event_value=nxt)
            if nxt.get("next") is None:
                my_task.internal_data["event_fired"] = True
            return True
        return False

    def details(self, my_task: Any) -> Any:
        """The engine's schedule of the cycle (what SpiffWorkflow's pending-event list shows)."""
        return my_task._get_internal_data("event_value")


TIMER_DEFINITIONS = (HallTimeDate, HallDuration, HallCycle)


def start_cycle_branch(task: Any) -> None:
    """Give a cycle timer start event its one branch, as SpiffWorkflow's cycle timer does each time
    it fires (``CycleTimerEventDefinition.update_task``, without running the branch yet)."""
    for output in task.task_spec.outputs:
        child = task._add_child(output, TaskState.FUTURE)
        child.task_spec._predict(child, mask=TaskState.NOT_FINISHED_MASK)


# -- 3b. a Camunda message thrown without a payload -----------------------------------------------
def throw_message(self: Any, my_task: Any) -> None:
    """Camunda's MessageEventDefinition.throw, its payload evaluated only when the element has one
    (``camunda:expression``): without one it evaluated the text 'None' and the case stopped. A
    message no element of the case itself catches goes to the engine at once (``route_thrown``)."""
    result = my_task.workflow.script_engine.evaluate(my_task, self.expression) if self.expression else None
    event = BpmnEvent(self, payload={"payload": result, "result_var": self.result_var})
    if my_task.workflow.top_workflow.event_manager.catch(event, internal=False) == 0:
        route_thrown(my_task, event)


def throw_signal(self: Any, my_task: Any) -> None:
    """A signal: caught by the case's own waiting elements, and always handed to the engine too
    (``route_thrown``), which broadcasts it to every other case; it carries no variables (upstream's
    ItemAwareEventDefinition.throw sent a copy of all the case's data to whoever caught it)."""
    event = BpmnEvent(self, payload={})
    my_task.workflow.top_workflow.event_manager.catch(event, internal=False)
    route_thrown(my_task, event)


def route_thrown(my_task: Any, event: Any) -> None:
    """Hand an event thrown out of a case to the engine's router (the script engine's ``route_event``),
    while the throwing task runs: a message nobody takes fails that task. Without a router, the
    event is kept for ``BpmnWorkflow.get_events`` as upstream keeps it."""
    route = getattr(my_task.workflow.script_engine, "route_event", None)
    if route is None:
        my_task.workflow.top_workflow.bpmn_events.append(event)
    else:
        route(my_task, event)


_ORIGINALS["SpiffWorkflow.camunda.specs.event_definitions.MessageEventDefinition.throw"] = (
    CamundaMessageEventDefinition.throw
)
CamundaMessageEventDefinition.throw = throw_message
_ORIGINALS["SpiffWorkflow.bpmn.specs.event_definitions.item_aware_event.SignalEventDefinition.throw"] = (
    SignalEventDefinition.throw
)
SignalEventDefinition.throw = throw_signal


# -- 3c. conditional events, re-checked when the case's data changes --------------------------------
# BPMN 2.0, 10.5.1: a conditional event fires when its condition becomes true. SpiffWorkflow 3.2
# evaluates it once, when its task is first updated, on that task's own branch of the data, and
# re-checks only timers afterwards (BpmnWorkflow.refresh_timers): a condition that became true later,
# or in another branch, was never seen. Each engine step now ends by evaluating the waiting
# conditional events again on the case's latest data, and runs on while one fires.

MAX_ROUNDS = 100  # rounds of one step: conditions that keep firing each other are a modelling loop


def latest_data(task: Any) -> dict:
    """The task's data overlaid with the data of the instance's most recently completed task (in the
    top workflow or any of its sub-process workflows): the case's data as it stands now."""
    top = task.workflow.top_workflow
    candidates = [wf.last_task for wf in (top, *top.subprocesses.values()) if wf.last_task is not None]
    data = dict(task.data)
    if candidates:
        latest = max(candidates, key=lambda t: t.last_state_change)
        if latest is not task:
            data.update(latest.data)
    return data


def condition_holds(workflow: Any, task: Any, expression: str, data: dict) -> bool:
    """A conditional event's condition on the given data. A variable it names that the case does not
    have yet makes it false (the event waits until a step sets it); any other failure is an incident
    naming the condition and what went wrong."""
    try:
        return bool(workflow.script_engine.environment.evaluate(expression, data, None))
    except NameError:
        return False
    except Exception as exc:
        raise WorkflowTaskException(
            f"condition '{expression}' of a conditional event failed: {type(exc).__name__}: {exc}",
            task=task,
            exception=exc,
        ) from exc


def conditional_has_fired(self: ConditionalEventDefinition, my_task: Any) -> bool:
    """Replaces ``ConditionalEventDefinition.has_fired``: the condition on the case's latest data; when
    it holds, the waiting task takes that data on (the branch it starts sees what made it fire)."""
    data = latest_data(my_task)
    fired = condition_holds(my_task.workflow, my_task, self.expression, data)
    if fired:
        my_task.data = data
    my_task._set_internal_data(has_fired=fired)
    return fired


_ORIGINALS["SpiffWorkflow.bpmn.specs.event_definitions.conditional.ConditionalEventDefinition.has_fired"] = (
    ConditionalEventDefinition.has_fired
)
ConditionalEventDefinition.has_fired = conditional_has_fired


def recheck_conditions(workflow: Any, run_steps: Callable[[], None]) -> int:
    """Evaluate every waiting conditional event again; while one fires, run the engine's steps
    (``run_steps``) and check again. The number of events that fired."""
    fired = 0
    for _ in range(MAX_ROUNDS):
        waiting = [
            t
            for t in list(workflow.event_manager.tasks.values())
            if isinstance(t.task_spec.event_definition, ConditionalEventDefinition) and t.has_state(TaskState.WAITING)
        ]
        now = 0
        for task in waiting:
            task.task_spec._update(task)
            now += task.has_state(TaskState.READY)
        now += event_subprocess_step(workflow)
        if not now:
            return fired
        fired += now
        run_steps()
    raise WorkflowTaskException(
        f"conditional events fired each other more than {MAX_ROUNDS} times in one step", task=workflow.last_task
    )


# -- 3d. event sub-processes: conditional starts, and interrupting ones interrupt ---------------------
# SpiffWorkflow 3.2 starts an event sub-process whose start event catches a message, signal or
# escalation (BpmnStartTask.trigger_specs, EventManager.update_collaboration), but never one with a
# conditional start, and reads no isInterrupting: an interrupting event sub-process ran beside the
# flow it should have ended (BPMN 2.0, 10.3.5). ``event_subprocess_step`` does both after each step.
INTERRUPTING = "hallInterrupting"  # the start event's isInterrupting, kept in its spec's extensions


def prepare_event_subprocesses(spec: Any) -> None:
    """Give each event sub-process that an event starts its way to the end of its process level once,
    in the spec, as ``BpmnStartTask.trigger_wf`` does at its first start: that changed the spec in
    memory only (hall stores the spec once per version), so a case loaded by another process failed
    at its end ("No input task connected"). The start goes among its inputs only, not among the
    start's outputs, so trigger_wf finds it connected and changes nothing."""
    start = spec.start
    for name in getattr(start, "trigger_specs", ()):
        task_spec = spec.task_specs.get(name)
        if task_spec is None or start.name in task_spec._inputs:
            continue
        task_spec._inputs.append(start.name)  # ``inputs`` is a property made from these names
        if spec.end not in task_spec.outputs:
            task_spec.connect(spec.end)


def event_subprocess_step(workflow: Any) -> int:
    """Start each event sub-process whose conditional start became true, and let each newly started
    interrupting one cancel the rest of its process level. The number of sub-processes started or
    interrupting (the caller runs the engine's steps again when it is not 0)."""
    top = workflow.top_workflow
    acted = 0
    for wf in (top, *top.subprocesses.values()):
        if wf.completed:  # a finished process level starts nothing more
            continue
        start = wf.spec.start
        for name in getattr(start, "trigger_specs", ()):
            sp_spec = top.subprocess_specs.get(name)
            for ts in sp_spec.bpmn_start_events if sp_spec is not None else ():
                if not isinstance(ts.event_definition, ConditionalEventDefinition):
                    continue
                key = f"hall_condition_{name}"
                data = latest_data(wf.task_tree)
                now = condition_holds(wf, wf.task_tree, ts.event_definition.expression, data)
                before = wf.task_tree._get_internal_data(key, False)
                wf.task_tree._set_internal_data(**{key: now})
                if now and not before:  # the condition became true: the sub-process starts (again)
                    wf.task_tree.data.update(data)
                    start.trigger_wf(wf.task_tree, name)
                    acted += 1
        for task in list(wf.task_tree.children):
            if task.task_spec.name not in getattr(start, "trigger_specs", ()):
                continue
            if task._get_internal_data("hall_interrupted") or task.has_state(TaskState.FINISHED_MASK):
                continue
            sub = top.subprocesses.get(task.id)
            fired = [
                t
                for t in (sub.tasks.values() if sub is not None else ())
                if t.task_spec in sub.spec.bpmn_start_events and t.has_state(TaskState.FINISHED_MASK | TaskState.READY)
            ]
            if not fired:
                continue
            task._set_internal_data(hall_interrupted=True)
            extensions = getattr(fired[0].task_spec, "extensions", None) or {}
            if extensions.get(INTERRUPTING) == "true":
                for other in list(wf.task_tree.children):
                    if other is not task:
                        other.cancel()
                # trigger_wf adds the sub-process's task without predicting its children: give it its
                # way to the process's end, which the cancelled flow no longer reaches
                task._sync_children(task.task_spec.outputs, TaskState.FUTURE)
                for child in task.children:
                    child.task_spec._predict(child, mask=TaskState.NOT_FINISHED_MASK)
                acted += 1
    return acted


# -- 4. parsers: Camunda and spiff-arena extensions -------------------------------------------
class ExtensionsMixin:
    """Added to every task parser hall uses: keeps camunda: attributes and spiffworkflow: extension
    elements in the spec's extensions, marks camunda:asyncBefore tasks, and makes timers the engine's.

    ``parse_timer_event`` replaces SpiffWorkflow's (which builds wall-clock timers and rejects the
    working-day phrases); ``parse_node`` relies on ``TaskSpec.manual`` holding a task READY.
    """

    node: Any
    filename: str

    def parse_extensions(self, node: Any = None) -> dict:
        """The dialect's own extensions plus what hall reads (``extensions.read_extensions``)."""
        node = node if node is not None else self.node
        return read_extensions(node, super().parse_extensions(node))  # type: ignore[misc]

    def parse_node(self) -> Any:
        """The spec, held READY for the worker when the task is an asynchronous continuation; a link
        throw event's spec goes on at its catch event (``connect_link``)."""
        spec = super().parse_node()  # type: ignore[misc]
        self.connect_link()
        parent = self.node.getparent()
        if etree.QName(self.node).localname == "startEvent" and parent.get("triggeredByEvent") == "true":
            spec.extensions[INTERRUPTING] = "false" if self.node.get("isInterrupting") == "false" else "true"
        ext = getattr(spec, "extensions", None)
        if ext and (is_true(ext.get("asyncBefore")) or is_true(ext.get("async"))) and not spec.manual:
            # An asynchronous continuation (camunda:asyncBefore): SpiffWorkflow leaves a manual task
            # READY, so the step ends before it and the engine writes a job that runs it later.
            spec.manual = True
            ext["hallAsync"] = "before"
        return spec

    def parse_timer_event(self, event: Any) -> Any:
        """The element's timer as one the engine fires (its text read by the engine's deadline notation)."""
        description = self.get_event_description(event)  # type: ignore[attr-defined]
        name = self.node.get("name", self.node.get("id"))
        for tag, cls in (("timeDate", HallTimeDate), ("timeDuration", HallDuration), ("timeCycle", HallCycle)):
            el = first(self.xpath(f".//bpmn:{tag}"))  # type: ignore[attr-defined]
            if el is not None:
                text = (el.text or "").strip()
                if not text:
                    raise ValidationException(f"empty {tag} on timer", node=self.node, file_name=self.filename)
                return cls(name, text, description=description)
        raise ValidationException(
            "timer has no timeDate, timeDuration or timeCycle", node=self.node, file_name=self.filename
        )

    def connect_link(self) -> None:
        """A link throw event leads to the link catch event of its name in the same process level
        (BPMN 2.0, 10.5.4: a pair of link events is a sequence flow drawn in two pieces).
        SpiffWorkflow 3.2 reads no linkEventDefinition: the throw ended its token and the catch was
        never reached. Validate has checked that exactly one catch of the name exists."""
        link = self.node.find(f"{{{BPMN_NS}}}linkEventDefinition")
        if link is None or etree.QName(self.node).localname != "intermediateThrowEvent":
            return
        for catch in self.node.getparent().iterchildren(f"{{{BPMN_NS}}}intermediateCatchEvent"):
            target = catch.find(f"{{{BPMN_NS}}}linkEventDefinition")
            if target is not None and target.get("name") == link.get("name"):
                self.task.connect(self.process_parser.parse_node(catch))  # type: ignore[attr-defined]
                return
        raise ValidationException(
            f"no link catch event named {link.get('name')!r} in this process level",
            node=self.node,
            file_name=self.filename,
        )

    def handles_multiple_outgoing(self) -> bool:
        """Every element may have several outgoing flows (BPMN 2.0, 13.2.1): unconditional ones are a
        parallel split, which SpiffWorkflow's task specs make of several outputs; conditional ones
        and a default flow leaving an activity go through ``connect_outgoing``. SpiffWorkflow's
        ``TaskParser.handles_multiple_outgoing`` refused them on every task."""
        return True

    def connect_outgoing(self, outgoing_task: Any, sequence_flow: Any, is_default: bool) -> None:
        """An activity's outgoing flows with conditions (or a default flow) are an implicit inclusive
        split (BPMN 2.0, 13.2.1): each flow whose condition holds gets a token, an unconditional one
        always does, the default only when no other does. Made as an inclusive gateway after the
        activity (``<id>.ImplicitSplit``); other elements connect as SpiffWorkflow's ``connect_outgoing``."""
        if not self._implicit_split():
            return super().connect_outgoing(outgoing_task, sequence_flow, is_default)  # type: ignore[misc]
        name = f"{self.bpmn_id}.ImplicitSplit"  # type: ignore[attr-defined]
        split = self.spec.task_specs.get(name)  # type: ignore[attr-defined]
        if split is None:
            split = InclusiveGateway(self.spec, name, lane=self.task.lane)  # type: ignore[attr-defined]
            self.task.connect(split)  # type: ignore[attr-defined]
        condition = self.parse_condition(sequence_flow)  # type: ignore[attr-defined]
        if is_default:
            split.connect(outgoing_task)
        else:
            split.connect_outgoing_if(condition if condition is not None else "True", outgoing_task)
        return None

    def _implicit_split(self) -> bool:
        """Whether this element is an activity whose outgoing flows carry a condition or a default."""
        if etree.QName(self.node).localname.endswith(("Event", "Gateway")):
            return False
        if self.node.get("default"):
            return True
        flows = self.process_parser.get_outgoing_sequence_flows(self.bpmn_id)  # type: ignore[attr-defined]
        return any(self.parse_condition(flow) is not None for flow in flows)  # type: ignore[attr-defined]

    def _add_multiinstance_task(self, loop_characteristics: Any) -> None:
        """A multi-instance task of either form on any task: Camunda's (``camunda:collection``) by
        Camunda's ``_add_multiinstance_task``, which the parsers not derived from Camunda's (script,
        send and receive tasks) lacked; standard BPMN (``loopDataInputRef``, ``inputDataItem``) by
        SpiffWorkflow's standard one, which Camunda's parsers replaced with one that refuses it."""
        standard = loop_characteristics.xpath(
            "./bpmn:loopDataInputRef | ./bpmn:inputDataItem | ./bpmn:loopDataOutputRef | ./bpmn:outputDataItem",
            namespaces={"bpmn": BPMN_NS},
        )
        if loop_characteristics.get(f"{{{CAMUNDA_NS}}}collection") is not None:
            CamundaTaskParser._add_multiinstance_task(self, loop_characteristics)
        elif standard:
            TaskParser._add_multiinstance_task(self, loop_characteristics)
        else:
            super()._add_multiinstance_task(loop_characteristics)  # type: ignore[misc]


def with_extensions(parser_cls: type) -> type:
    """A SpiffWorkflow task parser class with hall's extensions (``ExtensionsMixin``) in front."""
    return type(f"Hall{parser_cls.__name__}", (ExtensionsMixin, parser_cls), {})


class HallCamundaRuleParser(ExtensionsMixin, CamundaBusinessRuleTaskParser):
    """Camunda's rule task parser; its decision reference may also be spiff-arena's calledDecisionId
    (read when the parser lists the decisions a document depends on). Replaces ``get_decision_ref``."""

    @staticmethod
    def get_decision_ref(node: Any) -> str | None:
        """camunda:decisionRef, else spiffworkflow:calledDecisionId."""
        return node.get(f"{{{CAMUNDA_NS}}}decisionRef") or spiff_extension(node, "calledDecisionId")


class HallServiceTaskParser(ExtensionsMixin, SpiffTaskParser):
    """A service task becomes SpiffWorkflow's spiff ServiceTask, which calls the script engine's
    `call_service` by name: from spiffworkflow:serviceTaskOperator, or from Camunda's implementation
    (camunda:topic of an external task, camunda:class, camunda:delegateExpression, camunda:expression).
    A re-written ``ServiceTaskParser.create_task`` of spiff's, which requires the operator."""

    def create_task(self) -> Any:
        """The spiff ServiceTask spec, its operation named by either dialect."""
        ext = SpiffTaskParser.parse_extensions(self)
        operator = ext.get("serviceTaskOperator") or {}
        name = operator.get("name") or service_name(self.node)
        if not name:
            raise ValidationException(
                "service task names no service (camunda:topic, camunda:class, "
                "camunda:delegateExpression, camunda:expression or "
                "spiffworkflow:serviceTaskOperator)",
                node=self.node,
                file_name=self.filename,
            )
        return self.spec_class(
            self.spec,
            self.bpmn_id,
            operation_name=name,
            operation_params=operator.get("parameters") or {},
            result_variable=operator.get("resultVariable") or self.node.get(f"{{{CAMUNDA_NS}}}resultVariable") or None,
            prescript=ext.get("preScript"),
            postscript=ext.get("postScript"),
            **self.bpmn_attributes,
        )


class HallSpiffScriptTaskParser(ExtensionsMixin, SpiffScriptTaskParser):
    """spiff-arena lets a script task have pre- and post-scripts too; SpiffWorkflow's spiff script task
    runs them, but its parser (``ScriptTaskParser.create_task``) does not pass them on."""

    def create_task(self) -> Any:
        """spiff's script task spec with its pre- and post-script."""
        task = super().create_task()
        ext = SpiffTaskParser.parse_extensions(self)
        task.prescript, task.postscript = ext.get("preScript"), ext.get("postScript")
        return task


class HallSpiffRuleParser(ExtensionsMixin, SpiffBusinessRuleTaskParser):
    """spiff-arena's rule task parser, also taking Camunda's decisionRef (replaces ``get_decision_ref``)."""

    get_decision_ref = staticmethod(HallCamundaRuleParser.get_decision_ref)


class HallSendTaskParser(ExtensionsMixin, CamundaEventDefinitionParser, SendTaskParser):
    """A send task's message read as Camunda's (``camunda:expression`` payload, ``camunda:resultVariable``),
    like a message throw event's: SpiffWorkflow's default parser made a message definition the
    Camunda serializer cannot store."""


class HallReceiveTaskParser(ExtensionsMixin, CamundaEventDefinitionParser, ReceiveTaskParser):
    """A receive task's message read as Camunda's, like a message catch event's (see the send task)."""


class HallProcessParser(ProcessParser):
    """SpiffWorkflow's process parser with the element's dialect choosing its parser."""

    def parse_node(self, node: Any) -> Any:
        """A copy of ``ProcessParser.parse_node`` asking ``parser_class_for(node)`` rather than the
        private ``_get_parser_class(tag)``: the choice needs the element, not only its tag."""
        if node.get("id") in self.spec.task_specs:
            return self.spec.task_specs[node.get("id")]
        node_parser, spec_class = self.parser.parser_class_for(node)
        if not node_parser or not spec_class:
            raise ValidationException(
                "There is no support implemented for this task type.", node=node, file_name=self.filename
            )
        return node_parser(self, spec_class, node, self.nsmap, lane=self.lane).parse_node()


class DialectParser(CamundaParser):
    """CamundaParser whose elements may each be parsed by another dialect's parser: an element in
    ``SPIFF_PARSER_CLASSES`` that carries spiffworkflow: extensions goes to spiff-arena's parser, any
    other to SpiffWorkflow's own choice (the private ``BpmnParser._get_parser_class``)."""

    PROCESS_PARSER_CLASS = HallProcessParser
    SPIFF_PARSER_CLASSES: dict[str, tuple[type, type]] = {}

    def parser_class_for(self, node: Any) -> tuple:
        """(parser class, spec class) for an element."""
        if node.tag in self.SPIFF_PARSER_CLASSES and has_spiff_extensions(node):
            return self.SPIFF_PARSER_CLASSES[node.tag]
        return self._get_parser_class(node.tag)


# -- 5. serialisation: the workflow converter ---------------------------------------------------
class SpecAwareWorkflowConverter(BpmnWorkflowConverter):
    """Leaves the spec out when saving and restores around an already-built spec object: the spec is
    stored once per definition version, not with every instance save. Re-written ``to_dict`` and
    ``from_dict`` of SpiffWorkflow's BpmnWorkflowConverter; the tasks restored by ``restore_tasks``."""

    def to_dict(self, workflow: Any) -> dict:
        """The workflow's dict without its spec and subprocess specs."""
        dct = WorkflowConverter.to_dict(self, workflow)
        dct["subprocesses"] = self.mapping_to_dict(workflow.subprocesses)
        dct["bpmn_events"] = self.registry.convert(workflow.bpmn_events)
        return dct

    def from_dict(self, dct: dict) -> Any:
        """The workflow, around the spec objects in ``dct`` (SpiffWorkflow's own path for a dict spec)."""
        if isinstance(dct.get("spec"), dict):
            return super().from_dict(dct)
        spec = dct.pop("spec")
        subprocess_specs = dct.pop("subprocess_specs", {})
        workflow = self.target_class(spec, subprocess_specs, deserializing=True)
        workflow.tasks = restore_tasks(self.registry, dct["tasks"], workflow, dct.pop("plain", frozenset()))
        workflow.task_tree = workflow.tasks.get(UUID(dct["root"]))
        self.set_default_attributes(workflow, dct)
        self.subprocesses_from_dict(dct["subprocesses"], workflow)
        workflow.bpmn_events = self.registry.restore(dct.pop("bpmn_events", []))
        return workflow


# -- 6. serialisation: the task converter, both ways ------------------------------------------
def restore_tasks(registry: Any, rows: dict[str, dict], workflow: Any, plain: frozenset) -> dict:
    """The workflow's tasks as SpiffWorkflow's TaskConverter.from_dict (data stored as deltas,
    ``DeepMerge.merge``) restores them, rows in ``plain`` without the registry's per-value dispatch
    (their JSON holds no typed value, so what json.loads made is already what the registry would
    return) and each id text parsed once. Rows come parents first: a task's data is its parent's
    plus a delta."""
    specs = workflow.spec.task_specs
    ids: dict[str, UUID] = {}

    def uid(text: str) -> UUID:
        found = ids.get(text)
        if found is None:
            found = ids[text] = UUID(text)
        return found

    tasks = {}
    for key, dct in rows.items():
        if key not in plain or dct.get("typename") != "Task":
            tasks[uid(key)] = registry.restore(dct, workflow=workflow)
            continue
        spec = specs.get(dct["task_spec"])
        task = Task(workflow, spec, state=dct["state"], id=uid(dct["id"]))
        parent_id = dct["parent"]
        task._parent = uid(parent_id) if parent_id is not None else None
        task._children = [uid(child) for child in dct["children"]]
        task.last_state_change = dct["last_state_change"]
        task.triggered = dct["triggered"]
        task.internal_data = dct["internal_data"]
        if isinstance(spec, CatchingEvent) and task._state & TaskState.WAITING:
            workflow.top_workflow.event_manager.add_task(task)
        delta: dict = dct.get("delta") or {}
        parent = workflow.tasks.get(task._parent) if delta else None
        if parent is not None:
            # DeepMerge.merge({}, parent.data): the top level copied, mutable values shallowly
            data = {k: copy.copy(v) if isinstance(v, (dict, list, set)) else v for k, v in parent.data.items()}
            data.update(delta.get("updates", {}))
            for name in delta.get("deletions", ()):
                data.pop(name, None)
        else:
            data = dct["data"]
        task.data = data
        tasks[task.id] = task
    return tasks


def task_dict(task: Any, key: Callable[[Any], str], registry: Any) -> dict:
    """What SpiffWorkflow's own TaskConverter.to_dict makes of a task (``DeepMerge.get_updated_keys``
    and ``get_deleted_keys`` for the delta), the ids' texts from ``key`` (a cache): the tests compare
    every save with SpiffWorkflow's full serialisation (HALL_VERIFY_SNAPSHOTS)."""
    parent = task.parent
    if parent is None:
        data, delta = task.data, {}
    else:
        pdata, tdata = parent.data, task.data
        data = {}
        delta = {
            "updates": {k: v for k, v in tdata.items() if k not in pdata or v != pdata[k]},
            "deletions": [k for k in pdata if k not in tdata],
        }
    return {
        "id": key(task.id),
        "parent": key(task._parent) if parent is not None else None,
        "children": [key(c) for c in task._children],
        "last_state_change": task.last_state_change,
        "state": task._state,
        "task_spec": task.task_spec.name,
        "triggered": task.triggered,
        "internal_data": registry.convert(task.internal_data) if task.internal_data else {},
        "data": data,
        "delta": delta,
        "typename": "Task",
    }


def task_fingerprint(task: Any, encode: Callable[[Any], Any]) -> tuple:
    """Everything ``task_dict`` reads of the task itself, each field exactly: a task whose fingerprint
    and whose parent's fingerprint are unchanged has the same stored row (the save relies on it).

    The data and internal data are held together by ``encode`` (pickle: exact about types and nested
    content, so an in-place change of a value of the same size shows), not by their lengths."""
    return (
        task._state,
        task.last_state_change,
        task.triggered,
        task.task_spec.name,
        task._parent,
        tuple(task._children),
        encode((task.data, task.internal_data)) if task.data or task.internal_data else b"",
    )


# -- 7. the serializer's registry ---------------------------------------------------------------
def spiff_typename(converter: Callable[..., Any], cls: type, prefix: str = "Spiff") -> Callable[..., Any]:
    """The converter of a spiff-dialect spec class stored as `Spiff<name>` (or another prefix): spiff's
    and the standard spec classes share their names with Camunda's, and all live in one registry
    (the converter's ``typename`` keyword)."""
    return functools.partial(converter, typename=f"{prefix}{cls.__name__}")


def plain_mode(registry: Any) -> None:
    """Make the registry convert to plain dicts: ``BpmnWorkflowSerializer.serialize_json`` leaves
    ``_encoder_mode`` set while it runs and hall's saves call ``convert`` directly."""
    registry._encoder_mode = False


# -- 8. what an event-based gateway and an uncaught error look like inside SpiffWorkflow ------------
def waited_event_definitions(event_definition: Any) -> list[Any]:
    """The event definitions a task waits for: its own, or each of an event-based gateway's.

    SpiffWorkflow's ``EventBasedGateway.connect`` moves the events of the catch events after the
    gateway into the gateway's ``MultipleEventDefinition`` (in the order of its outputs): the
    gateway's task waits for them, and a timer among them keeps its due time in that task."""
    if isinstance(event_definition, MultipleEventDefinition):
        return list(event_definition.event_definitions)
    return [event_definition] if event_definition is not None else []


def event_kind(event_definition: Any) -> str | None:
    """'message' or 'signal' for the events that travel between cases (either dialect's message
    class), else None."""
    if event_definition is not None and type(event_definition).__name__ == "MessageEventDefinition":
        return "message"
    return "signal" if isinstance(event_definition, SignalEventDefinition) else None


def gateway_target(task_spec: Any, event_definition: Any) -> str | None:
    """The element of the catch event after an event-based gateway that waits for this event."""
    own = getattr(task_spec, "event_definition", None)
    if not isinstance(own, MultipleEventDefinition) or event_definition not in own.event_definitions:
        return None
    target = task_spec.outputs[own.event_definitions.index(event_definition)]
    return target.bpmn_id or target.name


def take_uncaught_errors(workflow: Any) -> list[Any]:
    """The error events no task caught, taken out of the workflow's outgoing events: SpiffWorkflow's
    ``EventManager.catch`` passes an error thrown to its workflow up to the parent workflows, and
    one nothing catches ends in the top workflow's ``bpmn_events`` like a message to another case."""
    errors = [e for e in workflow.bpmn_events if isinstance(e.event_definition, ErrorEventDefinition)]
    if errors:
        workflow.bpmn_events = [e for e in workflow.bpmn_events if e not in errors]
    return errors


_SP = "SpiffWorkflow."
PATCHES: tuple[Patch, ...] = (
    Patch(
        "TaskState.get_name (cached)",
        "every state change names the state for a log record: cached, ~8% of a fired timer's time",
        {_SP + "util.task.TaskState.get_name": "4d02505a3d22c3d5"},
    ),
    Patch(
        "set_task_state (replaces Task._set_state)",
        "builds the log record only when it is logged; a copy of the upstream body otherwise",
        {_SP + "task.Task._set_state": "86c4c1d22dc9b70f", _SP + "task.Task.collect_log_extras": "3cec699a9a43616a"},
    ),
    Patch(
        "HallTimerMixin, HallTimeDate, HallDuration",
        "the engine fires timers from its jobs table, on its clock and working-day calendar",
        {
            _SP + "bpmn.specs.event_definitions.timer.TimerEventDefinition.__init__": "6fa404d1cc8859e5",
            _SP + "bpmn.specs.event_definitions.timer.TimeDateEventDefinition": "6b7fa174e557ddb8",
            _SP + "bpmn.specs.event_definitions.timer.DurationTimerEventDefinition": "e1b7912de435d01d",
        },
    ),
    Patch(
        "HallCycle",
        "a cycle fires once per firing by the engine, not by comparing the wall clock",
        {_SP + "bpmn.specs.event_definitions.timer.CycleTimerEventDefinition": "30e828822cbf4164"},
    ),
    Patch(
        "start_cycle_branch",
        "an instance started by a cycle start timer runs one branch, made as the cycle timer makes one",
        {_SP + "bpmn.specs.event_definitions.timer.CycleTimerEventDefinition.update_task": "6cd859500eddae74"},
    ),
    Patch(
        "ExtensionsMixin",
        "camunda:/spiffworkflow: extensions kept, asyncBefore held READY, timers the engine's",
        {
            _SP + "bpmn.parser.event_parsers.EventDefinitionParser.parse_timer_event": "d94f2ab212940de0",
            _SP + "bpmn.parser.node_parser.NodeParser.parse_extensions": "7023e7eccef761d8",
            _SP + "camunda.parser.task_spec.CamundaTaskParser.parse_extensions": "e875f528c81d7918",
            _SP + "spiff.parser.task_spec.SpiffTaskParser.parse_extensions": "e19b59671a77ad1f",
            _SP + "bpmn.parser.TaskParser.TaskParser.parse_node": "49191a06ed4bbdbe",
        },
    ),
    Patch(
        "HallCamundaRuleParser, HallSpiffRuleParser",
        "a rule task names its decision in either dialect (decisionRef or calledDecisionId)",
        {
            _SP + "camunda.parser.task_spec.BusinessRuleTaskParser.get_decision_ref": "675ecccbd4c981d2",
            _SP + "spiff.parser.task_spec.BusinessRuleTaskParser.get_decision_ref": "2d9f4a39a8a62d73",
        },
    ),
    Patch(
        "HallServiceTaskParser",
        "a Camunda service task (topic, class, expression) calls a configured service too",
        {_SP + "spiff.parser.task_spec.ServiceTaskParser.create_task": "2577eefc58161140"},
    ),
    Patch(
        "HallSpiffScriptTaskParser",
        "spiff-arena's pre- and post-scripts of a script task are passed on to the spec",
        {_SP + "spiff.parser.task_spec.ScriptTaskParser.create_task": "8c9cfbd16e92adef"},
    ),
    Patch(
        "HallProcessParser.parse_node, DialectParser.parser_class_for",
        "each element's dialect chooses its parser: a copy of ProcessParser.parse_node",
        {
            _SP + "bpmn.parser.ProcessParser.ProcessParser.parse_node": "d7abbc1abdfdbf86",
            _SP + "bpmn.parser.BpmnParser.BpmnParser._get_parser_class": "780bbf87cb24f749",
        },
    ),
    Patch(
        "SpecAwareWorkflowConverter",
        "the spec is stored once per definition version, not with every instance save",
        {
            _SP + "bpmn.serializer.default.workflow.BpmnWorkflowConverter.to_dict": "abffc47d1be39616",
            _SP + "bpmn.serializer.default.workflow.BpmnWorkflowConverter.from_dict": "7515b23286170925",
            _SP + "bpmn.serializer.default.workflow.WorkflowConverter.to_dict": "9b9ed4a33506f584",
            _SP + "bpmn.serializer.default.workflow.WorkflowConverter.set_default_attributes": "51beee074397dea9",
        },
    ),
    Patch(
        "restore_tasks, task_dict, task_fingerprint",
        "a save writes only the tasks that changed and a load skips the registry for plain rows: the "
        "task converter re-written both ways, and a fingerprint of everything its to_dict reads",
        {
            _SP + "bpmn.serializer.default.workflow.TaskConverter.to_dict": "57df7a1f9901725a",
            _SP + "bpmn.serializer.default.workflow.TaskConverter.from_dict": "6d7592fdb21c813b",
            _SP + "util.deep_merge.DeepMerge.merge": "b629957b3d77fa37",
            _SP + "util.deep_merge.DeepMerge.get_updated_keys": "691095e6aad0724d",
            _SP + "util.deep_merge.DeepMerge.get_deleted_keys": "8167a1cedb32344a",
            _SP + "task.Task.__init__": "5d98d6df6c602dfb",
        },
    ),
    Patch(
        "ExtensionsMixin._add_multiinstance_task",
        "a multi-instance in standard BPMN (loopDataInputRef, inputDataItem) runs: Camunda's parser read "
        "only loopCardinality and camunda:collection and refused it",
        {
            _SP + "bpmn.parser.TaskParser.TaskParser._add_multiinstance_task": "5b0e68f97230b6f1",
            _SP + "camunda.parser.task_spec.CamundaTaskParser._add_multiinstance_task": "4578c45c9cb1139a",
        },
    ),
    Patch(
        "HallSendTaskParser, HallReceiveTaskParser",
        "a send or receive task's message is Camunda's (payload, result variable), which hall stores and routes",
        {
            _SP + "bpmn.parser.event_parsers.SendTaskParser.create_task": "377f24858b4da567",
            _SP + "camunda.parser.event_parsers.CamundaEventDefinitionParser.parse_message_event": "995930330ac5d59a",
        },
    ),
    Patch(
        "throw_message (replaces Camunda's MessageEventDefinition.throw)",
        "a message thrown without a payload (no camunda:expression) evaluated 'None' and stopped the case",
        {_SP + "camunda.specs.event_definitions.MessageEventDefinition.throw": "194fd4c14abbcc00"},
    ),
    Patch(
        "throw_message, throw_signal, route_thrown",
        "a message or signal thrown out of a case reaches other cases through the engine while the "
        "throwing task runs (issue 12): a message nobody takes fails that task; a signal carries no data",
        {
            _SP + "bpmn.specs.event_definitions.item_aware_event.SignalEventDefinition.throw": "cbddccbe298dd23e",
            _SP + "bpmn.util.event.EventManager.catch": "317969fa2c94244b",
            _SP + "bpmn.workflow.BpmnWorkflow.get_events": "0502792570fbfc63",
        },
    ),
    Patch(
        "waited_event_definitions, gateway_target",
        "a timer after an event-based gateway waits in the gateway's task: read from its events",
        {
            _SP + "bpmn.specs.mixins.events.intermediate_event.EventBasedGateway.connect": "2473f0f1aa0e5903",
            _SP + "bpmn.specs.event_definitions.multiple.MultipleEventDefinition.has_fired": "735a9c586e81e112",
        },
    ),
    Patch(
        "take_uncaught_errors",
        "an error nothing caught is an incident naming its code, not an event to send to another case",
        {
            _SP + "bpmn.util.event.EventManager.catch": "317969fa2c94244b",
            _SP + "bpmn.specs.event_definitions.item_aware_event.CodeEventDefinition.throw": "a2d6914fbc7c7b9c",
        },
    ),
    Patch(
        "ExtensionsMixin.handles_multiple_outgoing, connect_outgoing, _implicit_split",
        "several flows may leave an activity (BPMN 13.2.1): unconditional ones a parallel split, conditional "
        "ones and a default flow an inclusive gateway made after it; SpiffWorkflow refused them all",
        {
            _SP + "bpmn.parser.TaskParser.TaskParser.handles_multiple_outgoing": "a62ca20f0f3b58f5",
            _SP + "bpmn.parser.TaskParser.TaskParser.connect_outgoing": "ee226c74a06fe7bf",
            _SP + "bpmn.parser.task_parsers.ConditionalGatewayParser.connect_outgoing": "b18793f600e29991",
            _SP + "bpmn.specs.mixins.inclusive_gateway.InclusiveGateway._run_hook": "a2c4b3bf4d78dee4",
        },
    ),
    Patch(
        "ExtensionsMixin.connect_link",
        "a link throw event goes on at its catch event: SpiffWorkflow 3.2 reads no linkEventDefinition "
        "(the throw is a none event that ends its token, the catch a none event nothing reaches)",
        {
            _SP + "bpmn.parser.event_parsers.IntermediateThrowEventParser.create_task": "219814fb9bc27f88",
            _SP + "bpmn.parser.event_parsers.IntermediateCatchEventParser.create_task": "c2eb625f11703395",
        },
    ),
    Patch(
        "conditional_has_fired (replaces ConditionalEventDefinition.has_fired), latest_data, recheck_conditions",
        "a conditional event fires when its condition becomes true on the case's latest data: SpiffWorkflow "
        "evaluated it once, on its own branch's data, and re-checked only timers",
        {
            _SP + "bpmn.specs.event_definitions.conditional.ConditionalEventDefinition.has_fired": "e257fbceba0b08e1",
            _SP + "bpmn.workflow.BpmnWorkflow.refresh_timers": "e1995bf4ce4f0ff0",
        },
    ),
    Patch(
        "event_subprocess_step, prepare_event_subprocesses, ExtensionsMixin.parse_node (isInterrupting)",
        "an event sub-process starts on its conditional start event, and an interrupting one ends the rest "
        "of its process level: SpiffWorkflow started only event-triggered ones and never interrupted",
        {
            _SP + "bpmn.specs.control.BpmnStartTask.connect_or_add_trigger": "9a02b76837570d6b",
            _SP + "bpmn.specs.control.BpmnStartTask.trigger_wf": "6f1a0430eb3a0986",
            _SP + "bpmn.util.event.EventManager.update_collaboration": "261b539094d6e6d6",
            _SP + "task.Task.cancel": "16a6cc6f7ea48468",
            _SP + "specs.base.TaskSpec.__init__": "df987d5843e7f374",
            _SP + "bpmn.parser.event_parsers.StartEventParser.create_task": "b8924dd9e92f995a",
        },
    ),
    Patch(
        "spiff_typename, plain_mode",
        "one registry holds both dialects' spec classes; saves convert outside serialize_json",
        {
            _SP + "bpmn.serializer.helpers.bpmn_converter.BpmnConverter.__init__": "22f71115720c6f6c",
            _SP + "bpmn.serializer.helpers.registry.DefaultRegistry.convert": "e6917e21f46e9d0c",
            _SP + "bpmn.serializer.workflow.BpmnWorkflowSerializer.serialize_json": "65fcb5c26239167b",
        },
    ),
)


if __name__ == "__main__":  # print the hashes of the installed SpiffWorkflow, to record after a review
    for _patch in PATCHES:
        print(_patch.name)
        for _dotted in _patch.upstream:
            print(f"    {_dotted!r}: {source_hash(upstream_object(_dotted))!r},")
