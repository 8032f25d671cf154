"""The adapter around SpiffWorkflow: the only module of hall that imports it.

It parses BPMN saved by Camunda Modeler and spiff-arena (reading the extension attributes
SpiffWorkflow ignores), replaces SpiffWorkflow's wall-clock timers by timers the engine fires
from its own jobs table, and serialises an instance as a small state document plus one row
per task, so a save writes only the tasks that changed.
"""

from __future__ import annotations

import copy
import functools
import json
import logging
import os
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from datetime import time as dt_time
from decimal import Decimal
from typing import Any
from uuid import UUID

from lxml import etree
from SpiffWorkflow.bpmn import BpmnEvent
from SpiffWorkflow.bpmn.parser.BpmnParser import full_tag
from SpiffWorkflow.bpmn.parser.ProcessParser import ProcessParser
from SpiffWorkflow.bpmn.parser.util import first
from SpiffWorkflow.bpmn.parser.ValidationException import ValidationException
from SpiffWorkflow.bpmn.script_engine import PythonScriptEngine, TaskDataEnvironment
from SpiffWorkflow.bpmn.serializer import BpmnWorkflowSerializer
from SpiffWorkflow.bpmn.serializer.default.event_definition import TimerConditionalEventDefinitionConverter
from SpiffWorkflow.bpmn.serializer.default.workflow import BpmnWorkflowConverter, WorkflowConverter
from SpiffWorkflow.bpmn.specs.event_definitions.timer import (
    CycleTimerEventDefinition,
    DurationTimerEventDefinition,
    TimeDateEventDefinition,
)
from SpiffWorkflow.bpmn.specs.mixins.events.event_types import CatchingEvent
from SpiffWorkflow.bpmn.specs.mixins.exclusive_gateway import ExclusiveGateway
from SpiffWorkflow.bpmn.specs.mixins.inclusive_gateway import InclusiveGateway
from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
from SpiffWorkflow.camunda.parser import CamundaParser
from SpiffWorkflow.camunda.parser.task_spec import CAMUNDA_MODEL_NS
from SpiffWorkflow.camunda.parser.task_spec import BusinessRuleTaskParser as CamundaBusinessRuleTaskParser
from SpiffWorkflow.camunda.serializer.config import CAMUNDA_CONFIG
from SpiffWorkflow.spiff.parser.process import SpiffBpmnParser
from SpiffWorkflow.spiff.parser.task_spec import BusinessRuleTaskParser as SpiffBusinessRuleTaskParser
from SpiffWorkflow.spiff.parser.task_spec import ScriptTaskParser as SpiffScriptTaskParser
from SpiffWorkflow.spiff.parser.task_spec import SpiffTaskParser
from SpiffWorkflow.spiff.serializer.config import SPIFF_CONFIG
from SpiffWorkflow.spiff.specs.defaults import ServiceTask as SpiffServiceTask
from SpiffWorkflow.task import Task
from SpiffWorkflow.util.task import TaskState

from .extensions import camunda_deadline, spiff_form_name
from .services import Services

SPIFF_NS = "http://spiffworkflow.org/bpmn/schema/1.0/core"
BPMN_NS = "http://www.omg.org/spec/BPMN/20100524/MODEL"
# Tests set HALL_VERIFY_SNAPSHOTS=1: every incremental save is checked against a full serialisation.
VERIFY_SNAPSHOTS = os.environ.get("HALL_VERIFY_SNAPSHOTS") == "1"
CAMUNDA_TASK_ATTRIBUTES = (
    "formKey",
    "candidateGroups",
    "candidateUsers",
    "assignee",
    "dueDate",
    "followUpDate",
    "priority",
    "asyncBefore",
    "asyncAfter",
    "async",
)
# SpiffWorkflow names the new state for a log record on every state change, logging on or off, and
# builds a table of all the names to do it (~8% of a fired timer's profile): the names never change.
TaskState.get_name = classmethod(functools.cache(TaskState.get_name.__func__))


def _set_state(self: Task, value: int) -> None:
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


_TASK_LOG = logging.getLogger("spiff.task")
Task._set_state = _set_state


def _true(value: Any) -> bool:
    return str(value or "").strip().lower() == "true"


# -- timers that the engine fires ------------------------------------------------------------
class _HallTimerMixin:
    """A timer whose due time the engine computes (with its clock and calendar) and fires itself.

    SpiffWorkflow compares against the wall clock on every refresh; here the task only fires when
    the engine has set ``event_fired`` from a due job.
    """

    kind = "duration"

    def has_fired(self, my_task: Any) -> bool:
        if my_task._get_internal_data("event_value") is None:
            due = my_task.workflow.script_engine.resolve_timer(my_task, self.kind, self.expression)
            my_task._set_internal_data(event_value=due)
        return my_task._get_internal_data("event_fired", False)


class HallTimeDate(_HallTimerMixin, TimeDateEventDefinition):
    kind = "date"


class HallDuration(_HallTimerMixin, DurationTimerEventDefinition):
    kind = "duration"


class HallCycle(CycleTimerEventDefinition):
    """A repeating timer: each time the engine fires it, one more branch starts."""

    kind = "cycle"

    def cycle_complete(self, my_task: Any) -> bool:
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
        return my_task._get_internal_data("event_value")


# -- parser: Camunda and spiff-arena extensions ----------------------------------------------
def _read_extensions(node: Any, base: dict) -> dict:
    """Camunda attributes/properties and spiffworkflow extension elements, in one dict."""
    ext = dict(base)
    for attr in CAMUNDA_TASK_ATTRIBUTES:
        value = node.get(f"{{{CAMUNDA_MODEL_NS}}}{attr}")
        if value is not None:
            ext[attr] = camunda_deadline(value) if attr in ("dueDate", "followUpDate") else value.strip()
    for el in node.xpath(
        "./bpmn:extensionElements/*",
        namespaces={"bpmn": node.nsmap.get("bpmn") or "http://www.omg.org/spec/BPMN/20100524/MODEL"},
    ):
        qname = etree.QName(el)
        if qname.namespace == SPIFF_NS:
            if qname.localname == "properties":
                props = {p.get("name"): p.get("value") for p in el if etree.QName(p).localname == "property"}
                ext.setdefault("properties", {}).update(props)
                if "formKey" in props:
                    ext.setdefault("formKey", props["formKey"])
                if props.get("formJsonSchemaFilename"):  # spiff-arena's form: review-schema.json -> review
                    ext.setdefault("formKey", spiff_form_name(props["formJsonSchemaFilename"]))
            elif len(el) == 0:
                ext[qname.localname] = (el.text or "").strip()
    return ext


class _ExtensionsMixin:
    def parse_extensions(self, node: Any = None) -> dict:
        node = node if node is not None else self.node
        return _read_extensions(node, super().parse_extensions(node))

    def parse_node(self) -> Any:
        spec = super().parse_node()
        ext = getattr(spec, "extensions", None)
        if ext and (_true(ext.get("asyncBefore")) or _true(ext.get("async"))) and not spec.manual:
            # An asynchronous continuation (camunda:asyncBefore): SpiffWorkflow leaves a manual task
            # READY, so the step ends before it and the engine writes a job that runs it later.
            spec.manual = True
            ext["hallAsync"] = "before"
        return spec

    def parse_timer_event(self, event: Any) -> Any:
        description = self.get_event_description(event)
        name = self.node.get("name", self.node.get("id"))
        for tag, cls in (("timeDate", HallTimeDate), ("timeDuration", HallDuration), ("timeCycle", HallCycle)):
            el = first(self.xpath(f".//bpmn:{tag}"))
            if el is not None:
                text = (el.text or "").strip()
                if not text:
                    raise ValidationException(f"empty {tag} on timer", node=self.node, file_name=self.filename)
                return cls(name, text, description=description)
        raise ValidationException(
            "timer has no timeDate, timeDuration or timeCycle", node=self.node, file_name=self.filename
        )


def _with_mixin(parser_cls: type) -> type:
    return type(f"Hall{parser_cls.__name__}", (_ExtensionsMixin, parser_cls), {})


class _HallCamundaRuleParser(_ExtensionsMixin, CamundaBusinessRuleTaskParser):
    """Camunda's rule task parser; its decision reference may also be spiff-arena's calledDecisionId
    (read when the parser lists the decisions a document depends on)."""

    @staticmethod
    def get_decision_ref(node: Any) -> str | None:
        return node.get(f"{{{CAMUNDA_MODEL_NS}}}decisionRef") or _spiff_extension(node, "calledDecisionId")


class _HallServiceTaskParser(_ExtensionsMixin, SpiffTaskParser):
    """A service task becomes SpiffWorkflow's spiff ServiceTask, which calls the script engine's
    `call_service` by name: from spiffworkflow:serviceTaskOperator, or from Camunda's implementation
    (camunda:topic of an external task, camunda:class, camunda:delegateExpression, camunda:expression)."""

    def create_task(self) -> Any:
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
            result_variable=operator.get("resultVariable")
            or self.node.get(f"{{{CAMUNDA_MODEL_NS}}}resultVariable")
            or None,
            prescript=ext.get("preScript"),
            postscript=ext.get("postScript"),
            **self.bpmn_attributes,
        )


def service_name(node: Any) -> str | None:
    """The service a Camunda service task calls: its topic, class, delegate or expression."""
    for attr in ("topic", "class", "delegateExpression", "expression"):
        value = (node.get(f"{{{CAMUNDA_MODEL_NS}}}{attr}") or "").strip()
        if value:
            return value[2:-1].strip() if value.startswith("${") and value.endswith("}") else value
    return None


def _spiff_extension(node: Any, name: str) -> str | None:
    found = node.xpath(
        f"./bpmn:extensionElements/spiffworkflow:{name}", namespaces={"bpmn": BPMN_NS, "spiffworkflow": SPIFF_NS}
    )
    return (found[0].text or "").strip() or None if found else None


def _has_spiff_extensions(node: Any) -> bool:
    return bool(
        node.xpath("./bpmn:extensionElements/spiffworkflow:*", namespaces={"bpmn": BPMN_NS, "spiffworkflow": SPIFF_NS})
    )


class _HallSpiffScriptTaskParser(_ExtensionsMixin, SpiffScriptTaskParser):
    """spiff-arena lets a script task have pre- and post-scripts too; SpiffWorkflow's spiff script task
    runs them, but its parser does not pass them on."""

    def create_task(self) -> Any:
        task = super().create_task()
        ext = SpiffTaskParser.parse_extensions(self)
        task.prescript, task.postscript = ext.get("preScript"), ext.get("postScript")
        return task


class _HallSpiffRuleParser(_ExtensionsMixin, SpiffBusinessRuleTaskParser):
    """spiff-arena's rule task parser, also taking Camunda's decisionRef."""

    get_decision_ref = staticmethod(_HallCamundaRuleParser.get_decision_ref)


class _HallProcessParser(ProcessParser):
    def parse_node(self, node: Any) -> Any:
        """As SpiffWorkflow's, with the element's dialect choosing its parser (see HallParser)."""
        if node.get("id") in self.spec.task_specs:
            return self.spec.task_specs[node.get("id")]
        node_parser, spec_class = self.parser.parser_class_for(node)
        if not node_parser or not spec_class:
            raise ValidationException(
                "There is no support implemented for this task type.", node=node, file_name=self.filename
            )
        return node_parser(self, spec_class, node, self.nsmap, lane=self.lane).parse_node()


class HallParser(CamundaParser):
    """CamundaParser that also keeps camunda task attributes, spiffworkflow extensions and our timers.

    An activity carrying spiffworkflow: extension elements (spiff-arena's preScript, postScript,
    calledDecisionId, properties, ...) is parsed by SpiffWorkflow's spiff parser into its spiff spec
    classes, so pre- and post-scripts run; every other element by the Camunda parser. Service tasks
    of both dialects become spiff ServiceTasks.
    """

    PROCESS_PARSER_CLASS = _HallProcessParser
    OVERRIDE_PARSER_CLASSES = {
        tag: (_with_mixin(parser), spec) for tag, (parser, spec) in CamundaParser.OVERRIDE_PARSER_CLASSES.items()
    }
    OVERRIDE_PARSER_CLASSES[full_tag("businessRuleTask")] = (
        _HallCamundaRuleParser,
        CamundaParser.OVERRIDE_PARSER_CLASSES[full_tag("businessRuleTask")][1],
    )
    OVERRIDE_PARSER_CLASSES[full_tag("serviceTask")] = (_HallServiceTaskParser, SpiffServiceTask)
    SPIFF_PARSER_CLASSES = {
        tag: (_with_mixin(parser), spec)
        for tag, (parser, spec) in SpiffBpmnParser.OVERRIDE_PARSER_CLASSES.items()
        if etree.QName(tag).localname in ("task", "userTask", "manualTask", "subProcess", "transaction", "callActivity")
    }
    SPIFF_PARSER_CLASSES[full_tag("businessRuleTask")] = (
        _HallSpiffRuleParser,
        SpiffBpmnParser.OVERRIDE_PARSER_CLASSES[full_tag("businessRuleTask")][1],
    )
    SPIFF_PARSER_CLASSES[full_tag("scriptTask")] = (
        _HallSpiffScriptTaskParser,
        SpiffBpmnParser.OVERRIDE_PARSER_CLASSES[full_tag("scriptTask")][1],
    )

    def __init__(self) -> None:
        nsmap = dict(CamundaParser().namespaces)
        nsmap["spiffworkflow"] = SPIFF_NS
        super().__init__(namespaces=nsmap)

    def parser_class_for(self, node: Any) -> tuple:
        if node.tag in self.SPIFF_PARSER_CLASSES and _has_spiff_extensions(node):
            return self.SPIFF_PARSER_CLASSES[node.tag]
        return self._get_parser_class(node.tag)


# -- serialisation ----------------------------------------------------------------------------
class _SpecAwareWorkflowConverter(BpmnWorkflowConverter):
    """Leaves the spec out when saving and restores around an already-built spec object:
    the spec is stored once per definition version, not with every instance save."""

    def to_dict(self, workflow: Any) -> dict:
        dct = WorkflowConverter.to_dict(self, workflow)
        dct["subprocesses"] = self.mapping_to_dict(workflow.subprocesses)
        dct["bpmn_events"] = self.registry.convert(workflow.bpmn_events)
        return dct

    def from_dict(self, dct: dict) -> Any:
        if isinstance(dct.get("spec"), dict):
            return super().from_dict(dct)
        spec = dct.pop("spec")
        subprocess_specs = dct.pop("subprocess_specs", {})
        workflow = self.target_class(spec, subprocess_specs, deserializing=True)
        workflow.tasks = _restore_tasks(self.registry, dct["tasks"], workflow, dct.pop("plain", frozenset()))
        workflow.task_tree = workflow.tasks.get(UUID(dct["root"]))
        self.set_default_attributes(workflow, dct)
        self.subprocesses_from_dict(dct["subprocesses"], workflow)
        workflow.bpmn_events = self.registry.restore(dct.pop("bpmn_events", []))
        return workflow


def _make_serializer() -> BpmnWorkflowSerializer:
    config = dict(CAMUNDA_CONFIG)
    # the spiff dialect's spec classes share their names with Camunda's: stored as "Spiff<name>"
    for cls, converter in SPIFF_CONFIG.items():
        if cls not in config and cls.__module__.startswith("SpiffWorkflow.spiff."):
            config[cls] = functools.partial(converter, typename=f"Spiff{cls.__name__}")
    config[BpmnWorkflow] = _SpecAwareWorkflowConverter
    for cls in (HallTimeDate, HallDuration, HallCycle):
        config[cls] = TimerConditionalEventDefinitionConverter
    return BpmnWorkflowSerializer(BpmnWorkflowSerializer.configure(config))


SERIALIZER = _make_serializer()
_REGISTRY = SERIALIZER.registry


_ENCODER = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"))  # built once, not per call
_dump = _ENCODER.encode


@dataclass
class CompiledProcess:
    """One executable process parsed from a file: its spec and the specs of its subprocesses."""

    process_id: str
    name: str
    spec: Any
    subprocess_specs: dict
    source_file: str = ""
    version: int = 0
    decision_files: list[str] = field(default_factory=list)  # the .dmn files its rule tasks use

    def start_timers(self) -> list[tuple[str, str, str]]:
        """(element, kind, expression) of each timer start event: the engine starts instances by them."""
        out = []
        for spec in self.spec.task_specs.values():
            ed = getattr(spec, "event_definition", None)
            if type(spec).__name__ == "StartEvent" and isinstance(ed, (HallTimeDate, HallDuration, HallCycle)):
                out.append((spec.bpmn_id or spec.name, ed.kind, ed.expression))
        return out

    def to_json(self) -> str:
        return _dump(
            {
                "spec": _REGISTRY.convert(self.spec),
                "subprocess_specs": {k: _REGISTRY.convert(v) for k, v in self.subprocess_specs.items()},
            }
        )

    @classmethod
    def from_json(cls, process_id: str, name: str, text: str) -> CompiledProcess:
        d = json.loads(text)
        return cls(
            process_id,
            name,
            _REGISTRY.restore(d["spec"]),
            {k: _REGISTRY.restore(v) for k, v in d["subprocess_specs"].items()},
        )


def parse_bpmn(sources: Mapping[str, bytes]) -> tuple[HallParser, dict[str, CompiledProcess]]:
    """Parse BPMN and DMN documents (path -> bytes) together, so call activities and rule tasks
    resolve across files."""
    parser = HallParser()
    xml = etree.XMLParser(resolve_entities=False)
    for path, content in sources.items():
        if path.endswith(".dmn"):
            root = etree.fromstring(content, parser=xml)
            if not root.xpath("./*[local-name()='decision']"):
                raise ValidationException("DMN document has no decision", node=root, file_name=path)
            parser.add_dmn_xml(root, filename=path)
    for path, content in sources.items():
        if not path.endswith(".dmn"):
            parser.add_bpmn_xml(etree.fromstring(content, parser=xml), filename=path)
    compiled = {}
    # Only top-level <bpmn:process> elements are processes; getting a spec registers a parser for
    # each embedded subProcess it contains, so iterate over a snapshot of the top-level ones.
    top = [
        (pid, pp)
        for pid, pp in parser.process_parsers.items()
        if pp.node.tag == full_tag("process") and pp.process_executable
    ]
    for pid, pp in top:
        spec = parser.get_spec(pid)
        subs = parser.get_subprocess_specs(pid)
        proc = compiled[pid] = CompiledProcess(pid, pp.node.get("name") or pid, spec, subs, pp.filename or "")
        for sid in [pid, *subs]:
            node = parser.process_parsers[sid].node
            for rule in node.xpath(".//bpmn:businessRuleTask", namespaces={"bpmn": BPMN_NS}):
                dmn = parser.dmn_parsers.get(_HallCamundaRuleParser.get_decision_ref(rule))
                if dmn is not None and dmn.filename not in proc.decision_files:
                    proc.decision_files.append(dmn.filename)
    return parser, compiled


# -- the script engine ------------------------------------------------------------------------
class HallScriptEngine(PythonScriptEngine):
    """Python scripts and conditions with the engine's functions; timers resolved by the engine."""

    def __init__(
        self,
        functions: Mapping[str, Callable],
        resolve_timer: Callable,
        resolve_cycle: Callable,
        services: Services | None = None,
    ) -> None:
        super().__init__(environment=TaskDataEnvironment(dict(functions)))
        self._resolve_timer = resolve_timer
        self._resolve_cycle = resolve_cycle
        self._services = services or Services()

    def call_service(self, task: Any, operation_name: str, operation_params: dict) -> str:
        """A service task's call (SpiffWorkflow's spiff ServiceTask) goes to its configured handler
        (engine/services.py); a missing or failing one makes the instance an incident at the task."""
        spec = task.task_spec
        params = {name: p.get("value") if isinstance(p, dict) else p for name, p in operation_params.items()}
        return self._services.call(spec.bpmn_id or spec.name, operation_name, params, copy_data(task.data))

    def resolve_timer(self, task: Any, kind: str, expression: str) -> str:
        return self._resolve_timer(task, kind, expression)

    def resolve_cycle(self, task: Any, expression: str, previous: dict | None) -> dict:
        return self._resolve_cycle(task, expression, previous)


# -- a running instance -----------------------------------------------------------------------
@dataclass
class UserTaskInfo:
    spiff_id: str
    name: str
    title: str
    lane: str | None
    extensions: dict
    data: dict


@dataclass
class TimerInfo:
    spiff_id: str
    element: str
    kind: str
    due: str | None


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


@dataclass
class Snapshot:
    """What is stored of an instance: a small state document and one JSON text per task."""

    state: str
    tasks: dict[str, str] = field(default_factory=dict)


class Instance:
    """A SpiffWorkflow workflow with the operations the runtime needs, and nothing of Spiff leaking."""

    def __init__(self, workflow: BpmnWorkflow, rows: dict[str, str] | None = None) -> None:
        self.wf = workflow
        # What each task looked like when last serialised: only tasks whose print changed are
        # converted again, so a save costs the same at loop iteration 50 as at iteration 1.
        self._rows: dict[str, str] = dict(rows or {})
        self._prints: dict[Any, tuple] = {t.id: _print(t) for t in workflow.tasks.values()} if rows else {}
        self._keys: dict[Any, str] = {}  # task id -> its text (formatting a UUID costs as much as its print)
        self._ids: dict[str, Any] = {}  # and back
        self._kinds = _waits_of(workflow)

    @classmethod
    def new(cls, process: CompiledProcess, engine: HallScriptEngine, data: Mapping[str, Any]) -> Instance:
        wf = BpmnWorkflow(process.spec, process.subprocess_specs, script_engine=engine)
        for task in wf.get_tasks():  # a timer start event has fired by the time an instance starts
            ed = getattr(task.task_spec, "event_definition", None)
            if type(task.task_spec).__name__ == "StartEvent" and isinstance(
                ed, (HallTimeDate, HallDuration, HallCycle)
            ):
                task._set_internal_data(event_fired=True)
                if isinstance(ed, HallCycle) and not task.children:
                    # the engine starts one instance per firing: this instance runs the branch once
                    for output in task.task_spec.outputs:
                        child = task._add_child(output, TaskState.FUTURE)
                        child.task_spec._predict(child, mask=TaskState.NOT_FINISHED_MASK)
        start = wf.task_tree
        start.data.update(copy_data(data))
        for t in wf.get_tasks(state=TaskState.READY):
            t.data.update(copy_data(data))
        return cls(wf)

    @classmethod
    def restore(cls, process: CompiledProcess, engine: HallScriptEngine, snap: Snapshot, fast: bool = True) -> Instance:
        dct = json.loads(snap.state)
        dct["tasks"] = _tree_order(dct["root"], {k: json.loads(v) for k, v in snap.tasks.items()})
        dct["spec"] = process.spec
        dct["subprocess_specs"] = process.subprocess_specs
        if fast:  # rows whose only "typename" is the task's own: no typed value to restore in them
            dct["plain"] = frozenset(k for k, v in snap.tasks.items() if v.count('"typename"') == 1)
        wf = SERIALIZER.from_dict(dct)
        wf.script_engine = engine
        if VERIFY_SNAPSHOTS and fast:
            full = cls.restore(process, engine, snap, fast=False).wf
            assert _REGISTRY.convert(wf) == _REGISTRY.convert(full), "the fast restore differs from SpiffWorkflow's"
        return cls(wf, snap.tasks)

    def snapshot(self) -> Snapshot:
        _REGISTRY._encoder_mode = False
        wf = self.wf
        key = self._key
        state = {  # empty parts (the common case until the end) skip the registry's dispatch
            "data": _REGISTRY.convert(_REGISTRY.clean(wf.data)) if wf.data else {},
            "correlations": wf.correlations,
            "last_task": key(wf.last_task.id) if wf.last_task is not None else None,
            "success": wf.success,
            "completed": wf.completed,
            "root": key(wf.task_tree.id),
            "subprocesses": {str(k): _REGISTRY.convert(v) for k, v in wf.subprocesses.items()},
            "bpmn_events": _REGISTRY.convert(wf.bpmn_events) if wf.bpmn_events else [],
            "typename": "BpmnWorkflow",
        }
        rows: dict[str, str] = {}
        prints: dict[Any, tuple] = {}
        keys = self._keys
        old_rows, old_prints = self._rows, self._prints
        for tid, task in wf.tasks.items():
            key = keys.get(tid) or self._key(tid)
            fp = prints[tid] = _print(task)
            old = old_rows.get(key)
            rows[key] = old if old is not None and old_prints.get(tid) == fp else _dump(self._task_dict(task))
        self._rows, self._prints = rows, prints
        snap = Snapshot(_dump(state), rows)
        if VERIFY_SNAPSHOTS:
            full = _REGISTRY.convert(wf)
            assert {k: json.loads(v) for k, v in rows.items()} == json.loads(_dump(full["tasks"])), "stale task rows"
        return snap

    def _key(self, tid: Any) -> str:
        key = self._keys.get(tid)
        if key is None:
            key = self._keys[tid] = str(tid)
            self._ids[key] = tid
        return key

    def _task(self, spiff_id: str) -> Any:
        """The task with this id text, or None (the text parsed once: the cache knows the ids it made)."""
        tid = self._ids.get(spiff_id)
        return self.wf.get_task_from_id(tid if tid is not None else UUID(spiff_id))

    def _task_dict(self, task: Any) -> dict:
        """What SpiffWorkflow's own TaskConverter (3.x) makes of a task, the ids' texts from the cache
        (the tests compare every save with SpiffWorkflow's full serialisation: HALL_VERIFY_SNAPSHOTS)."""
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
        key = self._key
        return {
            "id": key(task.id),
            "parent": key(task._parent) if parent is not None else None,
            "children": [key(c) for c in task._children],
            "last_state_change": task.last_state_change,
            "state": task._state,
            "task_spec": task.task_spec.name,
            "triggered": task.triggered,
            "internal_data": _REGISTRY.convert(task.internal_data) if task.internal_data else {},
            "data": data,
            "delta": delta,
            "typename": "Task",
        }

    def touch(self, task: Any) -> None:
        """Force a task to be serialised again (its data changed without a state change)."""
        self._prints.pop(task.id, None)

    # -- reading -------------------------------------------------------------------------
    @property
    def completed(self) -> bool:
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

    def ready_user_tasks(self) -> list[UserTaskInfo]:
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
        if "timer" not in self._kinds:
            return []
        out = []
        for t in self._tasks_in(TaskState.WAITING):
            ed = getattr(t.task_spec, "event_definition", None)
            if isinstance(ed, (HallTimeDate, HallDuration)):
                out.append(
                    TimerInfo(
                        str(t.id), t.task_spec.bpmn_id or t.task_spec.name, ed.kind, t._get_internal_data("event_value")
                    )
                )
            elif isinstance(ed, HallCycle):
                value = t._get_internal_data("event_value") or {}
                out.append(TimerInfo(str(t.id), t.task_spec.bpmn_id or t.task_spec.name, "cycle", value.get("next")))
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
                    self.touch(task)  # same number of internal data items: the fingerprint can't tell
                return info
        return None

    def waiting_messages(self) -> list[str]:
        if "message" not in self._kinds:
            return []
        names = []
        for t in self._tasks_in(TaskState.WAITING):
            ed = getattr(t.task_spec, "event_definition", None)
            if ed is not None and type(ed).__name__ == "MessageEventDefinition":
                names.append(ed.name)
        return names

    def has_task(self, spiff_id: str) -> bool:
        return self.wf.get_task_from_id(UUID(spiff_id)) is not None

    # -- acting --------------------------------------------------------------------------------
    def complete_user_task(self, spiff_id: str, data: Mapping[str, Any]) -> None:
        task = self._task(spiff_id)
        task.data.update(copy_data(data))
        task.run()

    def update_ready_data(self, element: str, data: Mapping[str, Any]) -> None:
        """Fix the data a failed element will run with (for `retry --set`)."""
        for t in self._tasks_in(TaskState.READY):
            if (t.task_spec.bpmn_id or t.task_spec.name) == element:
                t.data.update(copy_data(data))
                self.touch(t)

    def fire_timer(self, spiff_id: str) -> bool:
        """Mark a waiting timer as due; False if the timer is no longer waiting (e.g. its task finished)."""
        try:
            task = self.wf.get_task_from_id(UUID(spiff_id))
        except Exception:
            return False
        if task is None or task.state != TaskState.WAITING:
            return False
        if isinstance(task.task_spec.event_definition, HallCycle):
            task._set_internal_data(cycle_fire=True)
        else:
            task._set_internal_data(event_fired=True)
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
                    c.task_spec.bpmn_id or c.task_spec.name
                    for c in task.children
                    if c.has_state(TaskState.DEFINITE_MASK | TaskState.FINISHED_MASK)
                    and not c.has_state(TaskState.CANCELLED)
                ]
                on_gateway(task.task_spec.bpmn_id or task.task_spec.name, taken)
            if (
                _true((getattr(task.task_spec, "extensions", None) or {}).get("asyncAfter"))
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
            task = getattr(exc, "task", None) or saved.get("task")
            if task is not None and saved.get("task") is task:
                task._set_state(TaskState.READY)
                task.data = saved["data"]
            element = (task.task_spec.bpmn_id or task.task_spec.name) if task is not None else "?"
            raise StepFailure(element, describe_error(exc), getattr(exc, "line_number", None)) from exc

    def cancel(self) -> None:
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
            ed = getattr(s, "event_definition", None)
            if isinstance(ed, (HallTimeDate, HallDuration, HallCycle)):
                found.add("timer")
            elif ed is not None and type(ed).__name__ == "MessageEventDefinition":
                found.add("message")
            ext = getattr(s, "extensions", None) or {}
            if ext.get("hallAsync") or _true(ext.get("asyncAfter")):
                found.add("async")
        kinds = spec.__dict__["_hall_waits"] = frozenset(found)
    return kinds


_ATOMS = frozenset((str, int, float, bool, type(None), datetime, date, dt_time, timedelta, Decimal))


def copy_data(value: Any) -> Any:
    """A deep copy of task data: dicts, lists, sets and tuples are copied, immutable values shared,
    anything else handed to copy.deepcopy (a tenth of deepcopy's cost on JSON-like data)."""
    kind = type(value)
    if kind is dict:
        return {k: v if type(v) in _ATOMS else copy_data(v) for k, v in value.items()}
    if kind in _ATOMS:
        return value
    if kind is list:
        return [v if type(v) in _ATOMS else copy_data(v) for v in value]
    if kind in (tuple, set, frozenset):
        return kind(copy_data(v) for v in value)
    if isinstance(value, Mapping):
        return {k: copy_data(v) for k, v in value.items()}
    return copy.deepcopy(value)


def _print(task: Any) -> tuple:
    """What changes whenever SpiffWorkflow changes a task (state, children, data, internal data),
    and its parent's state and data, which its stored data is a delta against."""
    parent = task.workflow.tasks.get(task._parent) if task._parent is not None else None
    return (
        task._state,
        task.last_state_change,
        len(task._children),
        task.triggered,
        len(task.data),
        len(task.internal_data),
        task._parent,
        (parent._state, parent.last_state_change, len(parent.data)) if parent is not None else None,
    )


def _restore_tasks(registry: Any, rows: dict[str, dict], workflow: Any, plain: frozenset) -> dict:
    """The workflow's tasks as SpiffWorkflow's TaskConverter (3.x, data stored as deltas) restores
    them, rows in ``plain`` without the registry's per-value dispatch (their JSON holds no typed
    value, so what json.loads made is already what the registry would return) and each id text
    parsed once. Rows come parents first (``_tree_order``): a task's data is its parent's plus a delta."""
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
        delta = dct.get("delta")
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


def _tree_order(root: str, tasks: dict[str, dict]) -> dict[str, dict]:
    """Parents before children: a task's data is restored as a delta on its parent's data."""
    ordered: dict[str, dict] = {}
    queue = [root]
    while queue:
        tid = queue.pop(0)
        task = tasks.get(tid)
        if task is None or tid in ordered:
            continue
        ordered[tid] = task
        queue.extend(task["children"])
    for tid, task in tasks.items():  # unreachable rows, kept rather than dropped
        ordered.setdefault(tid, task)
    return ordered


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
    line_no = getattr(exc, "line_number", None)
    line = getattr(exc, "error_line", "")
    if line_no:
        base += f" (script line {line_no}: {line.strip()})"
    return base


def external_message(name: str, payload: Any) -> Any:
    """A message from outside any instance; the catching element stores it as `<element>_Response`."""
    from SpiffWorkflow.camunda.specs.event_definitions import MessageEventDefinition

    return BpmnEvent(MessageEventDefinition(name), {"payload": payload, "result_var": None})
