"""The modeler's second pair of eyes for `hall validate` (issue 18): warnings, not errors — a diagram
runs with them, `hall validate --strict` fails on them.

- a flow node (or sequence flow) with no shape in the diagram: invisible in every modeler;
- the rules of bpmnlint's recommended set that Camunda Modeler marks (fake join, implicit split, a
  gateway that forks and joins, a superfluous gateway, a splitting gateway's unlabelled outgoing flow,
  no start or end event, implicit starts and ends, disconnected elements, duplicate flows);
- a condition or script reading a variable that no form, script, start form, message, result variable
  or multi-instance of the process sets (a typo such as `大厅能否处理了`).
"""

from __future__ import annotations

import ast
import builtins
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from .definitions import Finding
from .extensions import ACTIVITY_TAGS, EVENT_TAGS, GATEWAY_TAGS

BPMN = "http://www.omg.org/spec/BPMN/20100524/MODEL"
BPMNDI = "http://www.omg.org/spec/BPMN/20100524/DI"
CAMUNDA = "http://camunda.org/schema/1.0/bpmn"
GATEWAYS = GATEWAY_TAGS
ACTIVITIES = ACTIVITY_TAGS
EVENTS = EVENT_TAGS
FLOW_NODES = GATEWAYS | ACTIVITIES | EVENTS
CONTAINERS = {"process", "subProcess", "transaction", "adHocSubProcess"}


@dataclass(frozen=True)
class Warning_(Finding):
    """A finding that does not stop a deploy: printed `FILE:LINE: element-id: warning: what`."""

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: {self.element}: warning: {self.message}"

    def as_dict(self) -> dict:
        """The finding as JSON keys, with `severity: warning`."""
        return {**super().as_dict(), "severity": "warning"}


def is_warning(finding: Any) -> bool:
    """Whether a finding of `validate` is a warning (an error otherwise)."""
    return isinstance(finding, Warning_)


def lint(
    sources: Mapping[str, bytes],
    form_fields: Callable[[str], Iterable[str] | None] | None = None,
    known: Iterable[str] = (),
) -> list[Warning_]:
    """Every warning for the BPMN documents among `sources` (path -> bytes); documents that do not
    parse are left to the checker's errors. `form_fields(form key)` names a form's fields (None when
    unknown); `known` names what scripts see besides the case's variables (script functions...)."""
    from lxml import etree

    out: list[Warning_] = []
    for path, content in sources.items():
        if not path.endswith(".bpmn"):
            continue
        try:
            root = etree.fromstring(content, parser=etree.XMLParser(resolve_entities=False, no_network=True))
        except etree.XMLSyntaxError:
            continue
        out += _document(path, root, form_fields, set(known))
    return out


def _local(el: Any) -> str:
    tag = el.tag if isinstance(el.tag, str) else ""
    return tag.split("}", 1)[-1]


def _document(path: str, root: Any, form_fields: Any, known: set[str]) -> list[Warning_]:
    out: list[Warning_] = []

    def warn(el: Any, message: str) -> None:
        out.append(Warning_(path, int(el.sourceline or 1), el.get("id") or "-", message))

    drawn = {di.get("bpmnElement") for di in root.iter(f"{{{BPMNDI}}}BPMNShape", f"{{{BPMNDI}}}BPMNEdge")}
    has_diagram = next(root.iter(f"{{{BPMNDI}}}BPMNDiagram"), None) is not None
    if not has_diagram and next(root.iter(f"{{{BPMN}}}process"), None) is not None:
        warn(root, "the file has no diagram (bpmndi:BPMNDiagram): no modeler can show it")
    for process in root.iter(f"{{{BPMN}}}process"):
        for container in [process] + [e for e in process.iter() if _local(e) in CONTAINERS - {"process"}]:
            _structure(container, warn, drawn if has_diagram else None)
        _variables(process, warn, form_fields, known)
    return out


def _structure(container: Any, warn: Callable[[Any, str], None], drawn: set | None) -> None:
    """bpmnlint's recommended rules and missing shapes, for the direct children of one process or
    subprocess."""
    nodes = {e.get("id"): e for e in container if _local(e) in FLOW_NODES and e.get("id")}
    flows = [e for e in container if _local(e) == "sequenceFlow"]
    incoming: dict[str, list[Any]] = {n: [] for n in nodes}
    outgoing: dict[str, list[Any]] = {n: [] for n in nodes}
    pairs: dict[tuple[str, str], Any] = {}
    for f in flows:
        source, target = f.get("sourceRef"), f.get("targetRef")
        outgoing.setdefault(source, []).append(f)
        incoming.setdefault(target, []).append(f)
        if (source, target) in pairs:
            warn(f, f"duplicate sequence flow from {source} to {target} (also {pairs[(source, target)].get('id')})")
        pairs[(source, target)] = f
        if drawn is not None and f.get("id") not in drawn:
            warn(f, "sequence flow without a diagram edge: invisible in the modeler")
    is_event_sub = container.get("triggeredByEvent") == "true"
    starts = [n for n in nodes.values() if _local(n) == "startEvent"]
    if not starts and not _local(container) == "adHocSubProcess":
        warn(container, "no start event (bpmnlint start-event-required)")
    if not any(_local(n) == "endEvent" for n in nodes.values()) and not is_event_sub:
        warn(container, "no end event (bpmnlint end-event-required)")
    blank = [s for s in starts if not any(_local(c).endswith("EventDefinition") for c in s)]
    if len(blank) > 1:
        warn(blank[1], "more than one blank start event (bpmnlint single-blank-start-event)")
    _labels(container, nodes, flows, outgoing, warn)
    for nid, node in nodes.items():
        kind = _local(node)
        ins, outs = incoming.get(nid, []), outgoing.get(nid, [])
        if drawn is not None and nid not in drawn:
            warn(node, f"{kind} without a diagram shape: invisible in every modeler (draw it or remove it)")
        if kind == "boundaryEvent" or (kind == "subProcess" and node.get("triggeredByEvent") == "true"):
            continue
        if kind == "startEvent" and is_event_sub:
            continue
        if not ins and not outs:
            warn(node, "not connected to any sequence flow (bpmnlint no-disconnected)")
            continue
        if kind in GATEWAYS:
            if len(ins) > 1 and len(outs) > 1:
                warn(node, "a gateway that joins and forks at once: split it in two (bpmnlint no-gateway-join-fork)")
            if len(ins) == 1 and len(outs) == 1:
                warn(node, "a gateway with one way in and one way out does nothing (bpmnlint superfluous-gateway)")
            continue
        if kind != "startEvent" and not ins:
            warn(node, "no incoming flow: an implicit start (bpmnlint no-implicit-start)")
        if kind != "endEvent" and not outs:
            warn(node, "no outgoing flow: an implicit end (bpmnlint no-implicit-end)")
        if len(ins) > 1:
            warn(node, f"{len(ins)} incoming flows join without a gateway: a fake join (bpmnlint fake-join)")
        if len(outs) > 1:
            conditional = any(f.find(f"{{{BPMN}}}conditionExpression") is not None for f in outs)
            what = "conditional flows" if conditional else "flows"
            warn(
                node,
                f"{len(outs)} outgoing {what} split without a gateway: an implicit split (bpmnlint implicit-split)",
            )


def _labels(
    container: Any, nodes: Mapping[str, Any], flows: list[Any], outgoing: Mapping[str, list], warn: Callable
) -> None:
    """bpmnlint's label-required, as Camunda Modeler marks it: every flow node has a name but a
    parallel or event-based gateway, a gateway that does not fork, and a sub-process; so has every
    conditional sequence flow and every lane."""
    for nid, node in nodes.items():
        kind = _local(node)
        if kind in ("parallelGateway", "eventBasedGateway", "subProcess", "transaction", "adHocSubProcess"):
            continue
        if kind in GATEWAYS and len(outgoing.get(nid, [])) < 2:
            continue
        if not (node.get("name") or "").strip():
            warn(node, f"{kind} has no name: the modeler marks it (bpmnlint label-required)")
    for f in flows:
        if f.find(f"{{{BPMN}}}conditionExpression") is None or (f.get("name") or "").strip():
            continue
        source = nodes.get(f.get("sourceRef") or "")
        gateway = source is not None and _local(source) in GATEWAYS
        where = f"outgoing flow of gateway {f.get('sourceRef')}" if gateway else "conditional flow"
        warn(f, f"{where} has no label: name the case it takes (bpmnlint label-required)")
    for lane in container.iterfind(f"{{{BPMN}}}laneSet/{{{BPMN}}}lane"):
        if not (lane.get("name") or "").strip():
            warn(lane, "lane has no name: the modeler marks it (bpmnlint label-required)")


def _names(code: str, mode: str) -> tuple[set[str], set[str]] | None:
    """(names read, names set) of a script or expression; None when it does not parse (the checker
    reports that)."""
    try:
        tree = ast.parse(code, mode=mode)
    except SyntaxError:
        return None
    read: set[str] = set()
    wrote: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Name):
            (read if isinstance(node.ctx, ast.Load) else wrote).add(node.id)
        elif isinstance(node, ast.arg):
            wrote.add(node.arg)
        elif isinstance(node, (ast.FunctionDef, ast.ClassDef)):
            wrote.add(node.name)
        elif isinstance(node, ast.alias):
            wrote.add((node.asname or node.name).split(".")[0])
    return read, wrote


def _variables(process: Any, warn: Callable[[Any, str], None], form_fields: Any, known: set[str]) -> None:
    """Conditions and scripts reading a variable nothing in the process sets."""
    sets: set[str] = set(known) | set(dir(builtins))
    reads: list[tuple[Any, set[str]]] = []
    for el in process.iter():
        if not isinstance(el.tag, str):
            continue
        kind = _local(el)
        form = el.get(f"{{{CAMUNDA}}}formKey")
        if kind == "userTask" or form:
            fields = form_fields(form) if form and form_fields is not None else None
            if fields is None:
                return  # data entered without a form we can read: no claim about what is set
            sets.update(fields)
        for attr in ("resultVariable", "elementVariable", "collection", "assignee"):
            value = el.get(f"{{{CAMUNDA}}}{attr}") or el.get(attr)
            if value and attr in ("resultVariable", "elementVariable"):
                sets.add(value)
        if kind in ("receiveTask", "intermediateCatchEvent", "boundaryEvent", "startEvent", "serviceTask"):
            sets.add(f"{el.get('id')}_Response")
            sets.add(f"spiff__{el.get('id')}_result")
        if kind in ("outputParameter", "inputParameter", "property") and el.get("name"):
            sets.add(el.get("name"))
        if kind in ("dataObject", "dataObjectReference", "dataInput", "dataOutput"):
            sets.update(v for v in (el.get("name"), el.get("id")) if v)
        if kind == "script" and el.text:
            found = _names(el.text, "exec")
            if found:
                reads.append((el.getparent(), found[0]))
                sets.update(found[1])
        if kind == "conditionExpression" and el.text:
            found = _names(el.text.strip(), "eval")
            if found:
                reads.append((el.getparent(), found[0]))
    if len(sets) == len(set(known) | set(dir(builtins))):
        return  # nothing in the process sets variables: they all come from outside
    reported: set[tuple[str, str]] = set()
    for el, names in reads:
        for name in sorted(names - sets):
            key = (el.get("id") or "-", name)
            if key not in reported:
                reported.add(key)
                warn(el, f"reads variable {name!r}, which no form, script, start form or message of the process sets")
