"""Parsing BPMN and DMN into executable process specs, in both dialects hall accepts.

Camunda Modeler's and bpmn.io's diagrams are parsed by SpiffWorkflow's Camunda parser; an element
carrying spiffworkflow: extensions (spiff-arena's preScript, postScript, calledDecisionId,
properties) by its spiff parser, so pre- and post-scripts run. Service tasks of both dialects
become spiff ServiceTasks. What the parsers add or replace is in ``patches``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from lxml import etree
from SpiffWorkflow.bpmn.parser.BpmnParser import full_tag
from SpiffWorkflow.bpmn.parser.ValidationException import ValidationException
from SpiffWorkflow.bpmn.specs.defaults import ReceiveTask, SendTask
from SpiffWorkflow.camunda.parser import CamundaParser
from SpiffWorkflow.spiff.parser.process import SpiffBpmnParser
from SpiffWorkflow.spiff.specs.defaults import ServiceTask as SpiffServiceTask

from .. import juel
from ..extensions import BPMN_NS, CORRELATION_KEY, SPIFF_NS, business_key_of
from .patches import (
    DialectParser,
    HallCamundaRuleParser,
    HallReceiveTaskParser,
    HallSendTaskParser,
    HallServiceTaskParser,
    HallSpiffRuleParser,
    HallSpiffScriptTaskParser,
    event_kind,
    prepare_event_subprocesses,
    with_extensions,
)
from .serializer import spec_from_json, spec_to_json
from .timers import start_timers

# spiff-arena's parser classes used for an element that carries spiffworkflow: extensions
_SPIFF_TAGS = ("task", "userTask", "manualTask", "subProcess", "transaction", "callActivity")


class HallParser(DialectParser):
    """CamundaParser that also keeps camunda task attributes, spiffworkflow extensions and the engine's timers."""

    OVERRIDE_PARSER_CLASSES = {
        tag: (with_extensions(parser), spec) for tag, (parser, spec) in CamundaParser.OVERRIDE_PARSER_CLASSES.items()
    }
    OVERRIDE_PARSER_CLASSES[full_tag("businessRuleTask")] = (
        HallCamundaRuleParser,
        CamundaParser.OVERRIDE_PARSER_CLASSES[full_tag("businessRuleTask")][1],
    )
    OVERRIDE_PARSER_CLASSES[full_tag("serviceTask")] = (HallServiceTaskParser, SpiffServiceTask)
    OVERRIDE_PARSER_CLASSES[full_tag("sendTask")] = (HallSendTaskParser, SendTask)
    OVERRIDE_PARSER_CLASSES[full_tag("receiveTask")] = (HallReceiveTaskParser, ReceiveTask)
    SPIFF_PARSER_CLASSES = {
        tag: (with_extensions(parser), spec)
        for tag, (parser, spec) in SpiffBpmnParser.OVERRIDE_PARSER_CLASSES.items()
        if etree.QName(tag).localname in _SPIFF_TAGS
    }
    SPIFF_PARSER_CLASSES[full_tag("businessRuleTask")] = (
        HallSpiffRuleParser,
        SpiffBpmnParser.OVERRIDE_PARSER_CLASSES[full_tag("businessRuleTask")][1],
    )
    SPIFF_PARSER_CLASSES[full_tag("scriptTask")] = (
        HallSpiffScriptTaskParser,
        SpiffBpmnParser.OVERRIDE_PARSER_CLASSES[full_tag("scriptTask")][1],
    )

    def __init__(self) -> None:
        nsmap = dict(CamundaParser().namespaces)
        nsmap["spiffworkflow"] = SPIFF_NS
        super().__init__(namespaces=nsmap)


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
    business_key: str | None = None  # the variable whose value becomes the case's business key
    key_unique: bool = False  # no two cases of the process may have the same business key

    def start_timers(self) -> list[tuple[str, str, str]]:
        """(element, kind, expression) of each timer start event: the engine starts instances by them."""
        return start_timers(self.spec)

    def event_starts(self) -> list[tuple[str, str, str]]:
        """(kind, name, element) of each message or signal start event: the engine starts cases by them."""
        out = []
        for task_spec in self.spec.task_specs.values():
            ed: Any = getattr(task_spec, "event_definition", None)
            kind = event_kind(ed)
            if kind and type(task_spec).__name__ == "StartEvent":
                out.append((kind, ed.name, task_spec.bpmn_id or task_spec.name))
        return out

    stored: str | None = field(default=None, repr=False)  # to_json's text, made once

    def to_json(self) -> str:
        """The specs as stored with the deployed version (made once: validate makes it, deploy stores it)."""
        if self.stored is None:
            self.stored = spec_to_json(self.spec, self.subprocess_specs)
        return self.stored

    @classmethod
    def from_json(cls, process_id: str, name: str, text: str) -> CompiledProcess:
        """A deployed version's process, from what ``to_json`` stored."""
        spec, subprocess_specs = spec_from_json(text)
        for each in (spec, *subprocess_specs.values()):
            prepare_event_subprocesses(each)
        return cls(process_id, name, spec, subprocess_specs)


def translate_conditions(root: Any) -> None:
    """Camunda Modeler's JUEL/FEEL conditions (``${approved}``) become the Python expressions the
    engine evaluates (``juel``); ``hall validate`` has reported those that cannot be translated."""
    for cond in root.iter(f"{{{BPMN_NS}}}conditionExpression"):
        if cond.text and juel.is_foreign(cond.text):
            try:
                cond.text = juel.translate(cond.text)
            except juel.NotTranslatable:
                pass  # left as written: validate refused it, and the parser never sees it


def keep_correlation_keys(specs: list[Any]) -> None:
    """A standard ``correlationProperty`` of a message becomes the element's correlation key
    expression (extension ``correlationKey``), evaluated by the engine on each case's own data, and
    is taken off the message: SpiffWorkflow would evaluate it again on the payload when a message
    is caught, and refuse a message whose correlations it did not compute itself (issue 12)."""
    for spec in specs:
        for task_spec in spec.task_specs.values():
            ed: Any = getattr(task_spec, "event_definition", None)
            props = getattr(ed, "correlation_properties", None)
            if not props:
                continue
            ext = getattr(task_spec, "extensions", None)
            if ext is not None and props[0].retrieval_expression:
                ext.setdefault(CORRELATION_KEY, props[0].retrieval_expression)
            ed.correlation_properties = []


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
            root = etree.fromstring(content, parser=xml)
            translate_conditions(root)
            parser.add_bpmn_xml(root, filename=path)
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
        for each in (spec, *subs.values()):
            prepare_event_subprocesses(each)
        keep_correlation_keys([spec, *subs.values()])
        proc = compiled[pid] = CompiledProcess(pid, pp.node.get("name") or pid, spec, subs, pp.filename or "")
        proc.business_key, proc.key_unique = business_key_of(pp.node)
        for sid in [pid, *subs]:
            node = parser.process_parsers[sid].node
            for rule in node.xpath(".//bpmn:businessRuleTask", namespaces={"bpmn": BPMN_NS}):
                dmn = parser.dmn_parsers.get(HallCamundaRuleParser.get_decision_ref(rule))
                if dmn is not None and dmn.filename not in proc.decision_files:
                    proc.decision_files.append(dmn.filename)
    return parser, compiled
