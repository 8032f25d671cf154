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

from SpiffWorkflow.bpmn import BpmnEvent
from SpiffWorkflow.bpmn.parser.event_parsers import ReceiveTaskParser, SendTaskParser
from SpiffWorkflow.bpmn.parser.ProcessParser import ProcessParser
from SpiffWorkflow.bpmn.parser.TaskParser import TaskParser
from SpiffWorkflow.bpmn.parser.util import first
from SpiffWorkflow.bpmn.parser.ValidationException import ValidationException
from SpiffWorkflow.bpmn.serializer.default.workflow import BpmnWorkflowConverter, WorkflowConverter
from SpiffWorkflow.bpmn.specs.event_definitions.item_aware_event import ErrorEventDefinition, SignalEventDefinition
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
        """The spec, held READY for the worker when the task is an asynchronous continuation."""
        spec = super().parse_node()  # type: ignore[misc]
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
