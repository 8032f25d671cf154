"""The diagram interchange of a BPMN file: every shape (events, tasks, gateways, subprocesses, pools,
lanes, data, annotations) with its bounds and label bounds, every edge (sequence, message flows,
associations) with its waypoints, and the semantic facts drawing and coverage need (kinds, names,
event definitions, sources and targets, default flows, which process each element belongs to)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import DiagramUnreadable
from ..extensions import ACTIVITY_TAGS, EVENT_TAGS, GATEWAY_TAGS

BPMN = "http://www.omg.org/spec/BPMN/20100524/MODEL"
BPMNDI = "http://www.omg.org/spec/BPMN/20100524/DI"
DC = "http://www.omg.org/spec/DD/20100524/DC"
DI = "http://www.omg.org/spec/DD/20100524/DI"

EVENTS = EVENT_TAGS
GATEWAYS = GATEWAY_TAGS
ACTIVITIES = ACTIVITY_TAGS
FLOW_NODES = EVENTS | GATEWAYS | ACTIVITIES


@dataclass
class Bounds:
    """A rectangle of the diagram: top-left corner, width, height."""

    x: float
    y: float
    w: float
    h: float


@dataclass
class Shape:
    """A drawn element: its BPMN kind (tag name), name, bounds, label bounds, and what drawing needs."""

    id: str
    kind: str
    name: str
    bounds: Bounds
    label: Bounds | None = None
    expanded: bool = True
    marker: bool = False  # an exclusive gateway's X (isMarkerVisible)
    events: list[str] = field(default_factory=list)  # event definitions: timer, message, signal, error...
    interrupting: bool = True
    process: str | None = None
    line: int | None = None


@dataclass
class Edge:
    """A drawn connection: kind (sequenceFlow, messageFlow, association), waypoints, label bounds."""

    id: str
    kind: str
    name: str
    points: list[tuple[float, float]]
    label: Bounds | None = None
    source: str | None = None
    target: str | None = None
    default: bool = False
    conditional: bool = False
    process: str | None = None


@dataclass
class Diagram:
    """Every shape and edge of one BPMN file's first diagram, and its flow nodes per process
    (also those without a shape: `validate` names them)."""

    shapes: dict[str, Shape]
    edges: dict[str, Edge]
    nodes: dict[str, dict[str, str]]  # process id -> {flow node id: kind}
    flows: dict[str, dict[str, tuple[str, str]]]  # process id -> {flow id: (source, target)}
    lines: dict[str, int]  # element id -> line in the file

    def bounds(self) -> Bounds:
        """The rectangle holding every shape, waypoint and label."""
        xs: list[float] = []
        ys: list[float] = []
        for s in self.shapes.values():
            for b in (s.bounds, s.label):
                if b is not None:
                    xs += [b.x, b.x + b.w]
                    ys += [b.y, b.y + b.h]
        for e in self.edges.values():
            xs += [p[0] for p in e.points]
            ys += [p[1] for p in e.points]
            if e.label is not None:
                xs += [e.label.x, e.label.x + e.label.w]
                ys += [e.label.y, e.label.y + e.label.h]
        if not xs:
            return Bounds(0, 0, 100, 100)
        return Bounds(min(xs), min(ys), max(xs) - min(xs), max(ys) - min(ys))


def _local(tag: Any) -> str:
    return tag.split("}", 1)[1] if isinstance(tag, str) and "}" in tag else str(tag)


def _bounds(el: Any) -> Bounds | None:
    if el is None:
        return None
    try:
        return Bounds(*(float(el.get(k, "0")) for k in ("x", "y", "width", "height")))
    except ValueError:
        return None


def read_diagram(source: str | bytes | Path, where: str = "diagram") -> Diagram:
    """Read a BPMN file (a path, or its text) into a Diagram; DiagramUnreadable on broken XML."""
    from lxml import etree

    if isinstance(source, Path):
        where = str(source)
        data = source.read_bytes()
    else:
        data = source.encode("utf-8") if isinstance(source, str) else source
    try:
        root = etree.fromstring(data, parser=etree.XMLParser(resolve_entities=False, no_network=True))
    except etree.XMLSyntaxError as exc:
        raise DiagramUnreadable(where, exc.lineno, f"not valid XML: {exc.msg}") from None

    semantic: dict[str, Any] = {}
    owner: dict[str, str] = {}
    nodes: dict[str, dict[str, str]] = {}
    flows: dict[str, dict[str, tuple[str, str]]] = {}
    lines: dict[str, int] = {}
    participants: dict[str, str] = {}
    for el in root.iter():
        if not isinstance(el.tag, str):
            continue
        eid = el.get("id")
        if eid:
            semantic[eid] = el
            if el.sourceline:
                lines[eid] = int(el.sourceline)
        if _local(el.tag) == "participant" and el.get("processRef") and eid:
            participants[eid] = el.get("processRef")
    for process in root.iter(f"{{{BPMN}}}process"):
        pid = process.get("id") or "process"
        for el in process.iter():
            if not isinstance(el.tag, str) or not el.get("id"):
                continue
            kind = _local(el.tag)
            owner.setdefault(el.get("id"), pid)
            if kind in FLOW_NODES:
                nodes.setdefault(pid, {})[el.get("id")] = kind
            elif kind == "sequenceFlow":
                flows.setdefault(pid, {})[el.get("id")] = (el.get("sourceRef") or "", el.get("targetRef") or "")
    for part, pid in participants.items():
        owner[part] = pid
    defaults = {el.get("default") for el in semantic.values() if el.get("default")}

    shapes: dict[str, Shape] = {}
    edges: dict[str, Edge] = {}
    plane = next(root.iter(f"{{{BPMNDI}}}BPMNPlane"), None)
    if plane is None:
        return Diagram(shapes, edges, nodes, flows, lines)
    for di in plane:
        if not isinstance(di.tag, str):
            continue
        ref = di.get("bpmnElement") or ""
        el = semantic.get(ref)
        kind = _local(el.tag) if el is not None else "unknown"
        name = (el.get("name") or "") if el is not None else ""
        label_el = di.find(f"{{{BPMNDI}}}BPMNLabel/{{{DC}}}Bounds")
        if _local(di.tag) == "BPMNShape":
            b = _bounds(di.find(f"{{{DC}}}Bounds"))
            if b is None or el is None:
                continue
            if kind == "textAnnotation":
                text_el = el.find(f"{{{BPMN}}}text")
                name = (text_el.text or "") if text_el is not None else ""
            events = [
                _local(c.tag).replace("EventDefinition", "")
                for c in el
                if isinstance(c.tag, str) and _local(c.tag).endswith("EventDefinition")
            ]
            shapes[ref] = Shape(
                ref,
                kind,
                name,
                b,
                _bounds(label_el),
                expanded=di.get("isExpanded", "true" if kind != "callActivity" else "false") == "true",
                marker=di.get("isMarkerVisible") == "true",
                events=events,
                interrupting=(el.get("cancelActivity", "true") == "true")
                and (el.get("isInterrupting", "true") == "true"),
                process=owner.get(ref),
                line=lines.get(ref),
            )
        elif _local(di.tag) == "BPMNEdge":
            points = []
            for wp in di.findall(f"{{{DI}}}waypoint"):
                try:
                    points.append((float(wp.get("x", "0")), float(wp.get("y", "0"))))
                except ValueError:
                    continue
            if el is None or len(points) < 2:
                continue
            edges[ref] = Edge(
                ref,
                kind,
                name,
                points,
                _bounds(label_el),
                source=el.get("sourceRef"),
                target=el.get("targetRef"),
                default=ref in defaults,
                conditional=el.find(f"{{{BPMN}}}conditionExpression") is not None
                and semantic.get(el.get("sourceRef") or "") is not None
                and _local(semantic[el.get("sourceRef") or ""].tag) not in GATEWAYS,
                process=owner.get(ref),
            )
    return Diagram(shapes, edges, nodes, flows, lines)
