"""SVG from a Diagram, drawn the way BPMN modelers draw it (bpmn-js's sizes and conventions): circles
for events (thin start, thick end, double intermediate, dashed when non-interrupting) with their event
glyph, rounded rectangles for tasks with a type marker, diamonds for gateways with their marker,
subprocesses, pools and lanes with their vertical name bands, flows along their waypoints with arrow
heads, labels wrapped inside their bounds (Chinese too). An Overlay colours elements and flows and
adds badges (assignee, due time, overdue, loop rounds, coverage)."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from html import escape

from .model import ACTIVITIES, EVENTS, GATEWAYS, Bounds, Diagram, Edge, Shape

FONT = "Arial, 'Noto Sans CJK SC', 'Microsoft YaHei', 'PingFang SC', sans-serif"
SIZE = 12.0
LINE = 14.0
STROKE = "#22242a"

# overlay states: (stroke, fill, stroke width, dash)
STYLES: dict[str, tuple[str, str, float, str]] = {
    "passed": ("#2e7d32", "#e8f5e9", 2.0, ""),
    "current": ("#ef6c00", "#fff3e0", 3.0, ""),
    "overdue": ("#c62828", "#ffebee", 3.0, ""),
    "covered": ("#2e7d32", "#e8f5e9", 2.0, ""),
    "uncovered": ("#c62828", "#ffffff", 2.0, "6 3"),
}
EDGE_STYLES: dict[str, tuple[str, float, str]] = {
    "passed": ("#2e7d32", 2.5, ""),
    "current": ("#ef6c00", 2.5, ""),
    "covered": ("#2e7d32", 2.5, ""),
    "uncovered": ("#c62828", 2.0, "6 3"),
}


@dataclass
class Overlay:
    """What to show on a diagram beyond its model: a state per element or flow id (a key of STYLES /
    EDGE_STYLES), badges (lines of text) per element, and a title line at the top."""

    states: dict[str, str] = field(default_factory=dict)
    edge_states: dict[str, str] = field(default_factory=dict)
    badges: dict[str, list[str]] = field(default_factory=dict)
    title: str | None = None


# Arial's (Helvetica's) advance widths of the printable ASCII characters, in thousandths of an em
ARIAL = dict(
    zip(
        (chr(c) for c in range(32, 127)),
        (
            278, 278, 355, 556, 556, 889, 667, 191, 333, 333, 389, 584, 278, 333, 278, 278,
            556, 556, 556, 556, 556, 556, 556, 556, 556, 556, 278, 278, 584, 584, 584, 556,
            1015, 667, 667, 722, 722, 667, 611, 778, 722, 278, 500, 667, 556, 833, 722, 778,
            667, 778, 722, 667, 611, 722, 667, 944, 667, 667, 611, 278, 278, 278, 469, 556,
            333, 556, 556, 500, 556, 556, 278, 556, 556, 222, 222, 500, 222, 833, 556, 556,
            556, 556, 333, 500, 278, 556, 500, 722, 500, 500, 500, 334, 260, 334, 584,
        ),
        strict=True,
    )
)  # fmt: skip


def text_width(text: str, size: float = SIZE) -> float:
    """The width of a line of text as a browser draws it in Arial: CJK characters a full em, ASCII
    by Arial's widths, others about half an em."""
    return sum(size if ord(ch) > 0x2E80 else size * ARIAL[ch] / 1000 if ch in ARIAL else size * 0.55 for ch in text)


def wrap(text: str, width: float, size: float = SIZE) -> list[str]:
    """Lines of `text` no wider than `width`: broken at spaces, and between any two CJK characters."""
    lines: list[str] = []
    for para in text.replace("\r", "").split("\n"):
        line = ""
        for token in _tokens(para):
            if line and text_width(line + token, size) > width:
                lines.append(line.rstrip())
                line = token.lstrip()
            else:
                line += token
        lines.append(line.rstrip())
    return [x for x in lines if x] or [""]


def fit_lines(text: str, width: float, size: float = SIZE) -> list[str]:
    """Lines of `text` as bpmn-js lays out a label (diagram-js's `layoutText`), measured with
    `text_width`: a line too wide is cut to the share of its characters that fits, less one, at the
    last space or hyphen before that if there is one, again until it fits; the rest starts the next
    line. So a task's label breaks where bpmn-js breaks it (`管理部门联系` / `客户`, not `管理部门联系客`
    / `户`)."""
    lines = text.replace("\r", "").split("\n")
    out: list[str] = []
    while lines:
        line = lines.pop(0)
        fit = line
        while fit.strip() and len(fit) >= 2 and text_width(fit, size) > width:
            fit = _shorten(fit, text_width(fit, size), width)
        if len(fit) < len(line):
            lines.insert(0, line[len(fit) :].strip())
        out.append(fit.rstrip())
    return [x for x in out if x] or [""]


def _shorten(line: str, width: float, max_width: float) -> str:
    length = max(len(line) * (max_width / width), 1)
    parts = [p for p in re.split(r"(\s|-|\u00ad)", line) if p]
    kept: list[str] = []
    used = 0
    if len(parts) > 1:
        for part in parts:
            if len(part) + used < length:
                kept.append(part)
                used += len(part)
            else:
                if part in ("-", "\u00ad") and kept:
                    kept.pop()
                break
    if kept and kept[-1] == "\u00ad":
        kept[-1] = "-"
    return "".join(kept) or line[: max(math.floor(length - 1 + 0.5), 1)]


def _tokens(text: str) -> list[str]:
    """Words (with their leading space) and single CJK characters."""
    out: list[str] = []
    word = ""
    for ch in text:
        if ord(ch) > 0x2E80:
            if word:
                out.append(word)
                word = ""
            out.append(ch)
        elif ch == " ":
            if word:
                out.append(word)
            word = " "
        else:
            word += ch
    if word:
        out.append(word)
    return out


def _text_block(lines: list[str], cx: float, top: float, size: float = SIZE, fill: str = STROKE) -> str:
    out = []
    for i, line in enumerate(lines):
        y = top + size + i * LINE
        out.append(
            f'<text x="{cx:.1f}" y="{y:.1f}" text-anchor="middle" font-size="{size:g}" fill="{fill}">{escape(line)}</text>'
        )
    return "".join(out)


def _label_in(b: Bounds, text: str, size: float = SIZE) -> str:
    """Text centred in a box (a task's name), wrapped to its width less padding."""
    lines = fit_lines(text, max(b.w - 14, 20), size)  # bpmn-js: 7 px padding
    top = b.y + b.h / 2 - len(lines) * LINE / 2 - (size - LINE) / 2 - 2
    return _text_block(lines, b.x + b.w / 2, top, size)


def _external_label(s: Shape | Edge) -> str:
    """An event's, gateway's or flow's name in its label bounds; without them where bpmn-js puts it
    (`label_bounds`)."""
    if not s.name:
        return ""
    b = s.label or label_bounds(s)
    lines = fit_lines(s.name, max(b.w, 20), 11)
    return _text_block(lines, b.x + b.w / 2, b.y - 2, 11)


def label_bounds(s: Shape | Edge) -> Bounds:
    """Where bpmn-js places an external label the DI gives no bounds for (`getExternalLabelMid`,
    `getExternalLabelBounds`): a 90 x 20 box centred half its height below a shape, or, for a flow,
    centred on the middle of its middle segment, 15 px above it (15 px to its right if that segment is
    vertical)."""
    if isinstance(s, Shape):
        b = s.bounds
        mx, my = b.x + b.w / 2, b.y + b.h + 10
    else:
        mid = len(s.points) / 2 - 1
        (x1, y1), (x2, y2) = s.points[math.floor(mid)], s.points[math.ceil(mid + 0.01)]
        mx, my = x1 + (x2 - x1) / 2, y1 + (y2 - y1) / 2
        if x1 == x2:
            mx += 15
        else:
            my -= 15
    # then bpmn-js narrows the box to the text laid out in those 90 px, and lays it out again in that
    width = math.ceil(max(text_width(line, 11) for line in fit_lines(s.name, 90, 11)))
    return Bounds(math.floor(mx - width / 2 + 0.5), math.floor(my - 10 + 0.5), width, 20)


def _style(state: str | None, fill: str = "#ffffff") -> str:
    if state is None:
        return f'stroke="{STROKE}" fill="{fill}" stroke-width="2"'
    stroke, color, width, dash = STYLES[state]
    return f'stroke="{stroke}" fill="{color}" stroke-width="{width:g}"' + (
        f' stroke-dasharray="{dash}"' if dash else ""
    )


def _event(s: Shape, state: str | None) -> str:
    b = s.bounds
    cx, cy, r = b.x + b.w / 2, b.y + b.h / 2, min(b.w, b.h) / 2
    style = _style(state)
    width = {"endEvent": 4.0, "startEvent": 2.0}.get(s.kind, 1.5)
    if state is None or STYLES[state][2] < width:
        style = style.replace('stroke-width="2"', f'stroke-width="{width:g}"')
    dash = ' stroke-dasharray="5.5 3"' if not s.interrupting and s.kind in ("startEvent", "boundaryEvent") else ""
    out = f'<circle cx="{cx:.1f}" cy="{cy:.1f}" r="{r:.1f}" {style}{"" if "dasharray" in style else dash}/>'
    if s.kind in ("intermediateCatchEvent", "intermediateThrowEvent", "boundaryEvent"):
        out += f'<circle cx="{cx:.1f}" cy="{cy:.1f}" r="{r - 3:.1f}" fill="none" stroke="{STROKE}" stroke-width="1.5"{dash}/>'
    filled = s.kind in ("endEvent", "intermediateThrowEvent")
    for kind in s.events[:1]:
        out += _event_glyph(kind, cx, cy, r, filled)
    return out


def _event_glyph(kind: str, cx: float, cy: float, r: float, filled: bool) -> str:
    fill = STROKE if filled else "none"
    k = r / 18
    if kind == "timer":
        rr = r * 0.6
        hands = f"M{cx:.1f},{cy:.1f} L{cx:.1f},{cy - rr * 0.8:.1f} M{cx:.1f},{cy:.1f} L{cx + rr * 0.6:.1f},{cy:.1f}"
        return (
            f'<circle cx="{cx:.1f}" cy="{cy:.1f}" r="{rr:.1f}" fill="#ffffff" stroke="{STROKE}" stroke-width="2"/>'
            f'<path d="{hands}" stroke="{STROKE}" stroke-width="1.5" fill="none"/>'
        )
    if kind == "message":
        w, h = 20 * k, 14 * k
        x, y = cx - w / 2, cy - h / 2
        return (
            f'<rect x="{x:.1f}" y="{y:.1f}" width="{w:.1f}" height="{h:.1f}" fill="{fill if filled else "#ffffff"}" '
            f'stroke="{"#ffffff" if filled else STROKE}" stroke-width="1"/>'
            f'<path d="M{x:.1f},{y:.1f} L{cx:.1f},{cy:.1f} L{x + w:.1f},{y:.1f}" fill="none" '
            f'stroke="{"#ffffff" if filled else STROKE}" stroke-width="1"/>'
        )
    if kind == "signal":
        return (
            f'<path d="M{cx:.1f},{cy - 10 * k:.1f} L{cx + 9 * k:.1f},{cy + 6 * k:.1f} L{cx - 9 * k:.1f},{cy + 6 * k:.1f} Z" '
            f'fill="{fill}" stroke="{STROKE}" stroke-width="1"/>'
        )
    if kind == "error":
        return (
            f'<path d="M{cx - 8 * k:.1f},{cy + 8 * k:.1f} L{cx - 3 * k:.1f},{cy - 8 * k:.1f} L{cx + 2 * k:.1f},{cy + 2 * k:.1f} '
            f'L{cx + 8 * k:.1f},{cy - 8 * k:.1f} L{cx + 3 * k:.1f},{cy + 8 * k:.1f} L{cx - 2 * k:.1f},{cy - 2 * k:.1f} Z" '
            f'fill="{fill}" stroke="{STROKE}" stroke-width="1"/>'
        )
    if kind == "terminate":
        return f'<circle cx="{cx:.1f}" cy="{cy:.1f}" r="{r * 0.55:.1f}" fill="{STROKE}"/>'
    if kind in ("escalation", "conditional", "compensate", "link", "cancel"):
        return _text_block([kind[0].upper()], cx, cy - SIZE / 2 - 2, 10)
    return ""


def _task_marker(kind: str, x: float, y: float) -> str:
    """The small type marker in a task's top-left corner (user, script, service, send, receive,
    business rule, manual), drawn as paths so no icon font is needed."""
    line = f'fill="none" stroke="{STROKE}" stroke-width="1.2"'
    if kind == "userTask":
        return (
            f'<circle cx="{x + 7:.1f}" cy="{y + 4:.1f}" r="3.5" {line}/>'
            f'<path d="M{x:.1f},{y + 15:.1f} Q{x:.1f},{y + 8:.1f} {x + 7:.1f},{y + 8:.1f} Q{x + 14:.1f},{y + 8:.1f} {x + 14:.1f},{y + 15:.1f} Z" {line}/>'
        )
    if kind == "scriptTask":
        return f'<path d="M{x + 2:.1f},{y + 1:.1f} H{x + 13:.1f} M{x + 2:.1f},{y + 6:.1f} H{x + 13:.1f} M{x + 2:.1f},{y + 11:.1f} H{x + 13:.1f}" {line}/><rect x="{x:.1f}" y="{y - 2:.1f}" width="15" height="16" {line}/>'
    if kind == "serviceTask":
        return (
            f'<circle cx="{x + 7:.1f}" cy="{y + 7:.1f}" r="6" {line} stroke-dasharray="2 1.5"/>'
            f'<circle cx="{x + 7:.1f}" cy="{y + 7:.1f}" r="2.5" {line}/>'
        )
    if kind in ("sendTask", "receiveTask"):
        fill = STROKE if kind == "sendTask" else "#ffffff"
        edge = "#ffffff" if kind == "sendTask" else STROKE
        return (
            f'<rect x="{x:.1f}" y="{y:.1f}" width="16" height="11" fill="{fill}" stroke="{STROKE}" stroke-width="1"/>'
            f'<path d="M{x:.1f},{y:.1f} L{x + 8:.1f},{y + 6:.1f} L{x + 16:.1f},{y:.1f}" fill="none" stroke="{edge}" stroke-width="1"/>'
        )
    if kind == "businessRuleTask":
        return (
            f'<rect x="{x:.1f}" y="{y:.1f}" width="16" height="12" {line}/>'
            f'<path d="M{x:.1f},{y + 4:.1f} H{x + 16:.1f} M{x + 5:.1f},{y + 4:.1f} V{y + 12:.1f}" {line}/>'
        )
    if kind == "manualTask":
        return f'<path d="M{x:.1f},{y + 6:.1f} H{x + 13:.1f} M{x:.1f},{y + 10:.1f} H{x + 11:.1f} M{x:.1f},{y + 14:.1f} H{x + 9:.1f}" {line}/>'
    return ""


def _activity(s: Shape, state: str | None) -> str:
    b = s.bounds
    style = _style(state)
    if s.kind == "callActivity":
        style = style.replace('stroke-width="2"', 'stroke-width="5"')
    out = f'<rect x="{b.x:.1f}" y="{b.y:.1f}" width="{b.w:.1f}" height="{b.h:.1f}" rx="10" ry="10" {style}/>'
    if s.kind == "transaction":
        out += (
            f'<rect x="{b.x + 3:.1f}" y="{b.y + 3:.1f}" width="{b.w - 6:.1f}" height="{b.h - 6:.1f}" rx="8" '
            f'fill="none" stroke="{STROKE}" stroke-width="1.5"/>'
        )
    out += _task_marker(s.kind, b.x + 7, b.y + 7)
    collapsed = s.kind in ("subProcess", "transaction", "adHocSubProcess", "callActivity") and not s.expanded
    if collapsed:
        mx, my = b.x + b.w / 2 - 7, b.y + b.h - 18
        out += (
            f'<rect x="{mx:.1f}" y="{my:.1f}" width="14" height="14" fill="none" stroke="{STROKE}" stroke-width="1.5"/>'
            f'<path d="M{mx + 3:.1f},{my + 7:.1f} H{mx + 11:.1f} M{mx + 7:.1f},{my + 3:.1f} V{my + 11:.1f}" '
            f'stroke="{STROKE}" stroke-width="1.5"/>'
        )
    if s.kind in ("subProcess", "transaction", "adHocSubProcess") and s.expanded:
        lines = wrap(s.name, b.w - 20)
        out += "".join(
            f'<text x="{b.x + 10:.1f}" y="{b.y + 18 + i * LINE:.1f}" font-size="{SIZE:g}" fill="{STROKE}">{escape(t)}</text>'
            for i, t in enumerate(lines)
        )
    else:
        out += _label_in(b, s.name)
    return out


def _gateway(s: Shape, state: str | None) -> str:
    b = s.bounds
    cx, cy = b.x + b.w / 2, b.y + b.h / 2
    pts = f"{cx:.1f},{b.y:.1f} {b.x + b.w:.1f},{cy:.1f} {cx:.1f},{b.y + b.h:.1f} {b.x:.1f},{cy:.1f}"
    out = f'<polygon points="{pts}" {_style(state)}/>'
    k = b.w / 50
    if s.kind == "exclusiveGateway" and s.marker:
        d = 8 * k
        out += f'<path d="M{cx - d:.1f},{cy - d:.1f} L{cx + d:.1f},{cy + d:.1f} M{cx + d:.1f},{cy - d:.1f} L{cx - d:.1f},{cy + d:.1f}" stroke="{STROKE}" stroke-width="4"/>'
    elif s.kind == "parallelGateway":
        d = 12 * k
        out += f'<path d="M{cx - d:.1f},{cy:.1f} H{cx + d:.1f} M{cx:.1f},{cy - d:.1f} V{cy + d:.1f}" stroke="{STROKE}" stroke-width="4"/>'
    elif s.kind == "inclusiveGateway":
        out += (
            f'<circle cx="{cx:.1f}" cy="{cy:.1f}" r="{11 * k:.1f}" fill="none" stroke="{STROKE}" stroke-width="2.5"/>'
        )
    elif s.kind == "eventBasedGateway":
        out += f'<circle cx="{cx:.1f}" cy="{cy:.1f}" r="{12 * k:.1f}" fill="none" stroke="{STROKE}" stroke-width="1"/>'
        out += f'<circle cx="{cx:.1f}" cy="{cy:.1f}" r="{10 * k:.1f}" fill="none" stroke="{STROKE}" stroke-width="1"/>'
        p = [
            (cx, cy - 6 * k),
            (cx + 6 * k, cy - 2 * k),
            (cx + 4 * k, cy + 5 * k),
            (cx - 4 * k, cy + 5 * k),
            (cx - 6 * k, cy - 2 * k),
        ]
        out += (
            '<polygon points="'
            + " ".join(f"{x:.1f},{y:.1f}" for x, y in p)
            + f'" fill="none" stroke="{STROKE}" stroke-width="1.2"/>'
        )
    elif s.kind == "complexGateway":
        d = 10 * k
        out += (
            f'<path d="M{cx - d:.1f},{cy:.1f} H{cx + d:.1f} M{cx:.1f},{cy - d:.1f} V{cy + d:.1f} '
            f"M{cx - d * 0.7:.1f},{cy - d * 0.7:.1f} L{cx + d * 0.7:.1f},{cy + d * 0.7:.1f} "
            f'M{cx + d * 0.7:.1f},{cy - d * 0.7:.1f} L{cx - d * 0.7:.1f},{cy + d * 0.7:.1f}" stroke="{STROKE}" stroke-width="3"/>'
        )
    return out


def _pool(s: Shape, state: str | None) -> str:
    """A pool (participant) or lane: its rectangle and its name in a vertical band on the left."""
    b = s.bounds
    band = 30 if s.kind == "participant" else 30
    out = f'<rect x="{b.x:.1f}" y="{b.y:.1f}" width="{b.w:.1f}" height="{b.h:.1f}" fill="none" stroke="{STROKE}" stroke-width="1.5"/>'
    if s.kind == "participant":
        out += f'<path d="M{b.x + band:.1f},{b.y:.1f} V{b.y + b.h:.1f}" stroke="{STROKE}" stroke-width="1.5"/>'
    cx, cy = b.x + 15, b.y + b.h / 2
    lines = wrap(s.name, b.h - 10)
    text = "".join(
        f'<text x="{cx:.1f}" y="{cy + 4 + (i - (len(lines) - 1) / 2) * LINE:.1f}" text-anchor="middle" '
        f'font-size="{SIZE:g}" fill="{STROKE}" transform="rotate(-90 {cx:.1f} {cy:.1f})">{escape(t)}</text>'
        for i, t in enumerate(lines)
    )
    return out + text


def _other(s: Shape) -> str:
    b = s.bounds
    if s.kind == "textAnnotation":
        lines = wrap(s.name, b.w - 8)
        text = "".join(
            f'<text x="{b.x + 5:.1f}" y="{b.y + 16 + i * LINE:.1f}" font-size="{SIZE:g}" fill="{STROKE}">{escape(t)}</text>'
            for i, t in enumerate(lines)
        )
        return (
            f'<path d="M{b.x + 10:.1f},{b.y:.1f} H{b.x:.1f} V{b.y + b.h:.1f} H{b.x + 10:.1f}" fill="none" stroke="{STROKE}" stroke-width="1"/>'
            + text
        )
    if s.kind == "dataStoreReference":
        return (
            f'<path d="M{b.x:.1f},{b.y + 6:.1f} V{b.y + b.h - 6:.1f} Q{b.x + b.w / 2:.1f},{b.y + b.h + 4:.1f} {b.x + b.w:.1f},{b.y + b.h - 6:.1f} '
            f'V{b.y + 6:.1f} Q{b.x + b.w / 2:.1f},{b.y - 4:.1f} {b.x:.1f},{b.y + 6:.1f} Z" fill="#ffffff" stroke="{STROKE}" stroke-width="2"/>'
            + _external_label(s)
        )
    if s.kind in ("dataObjectReference", "dataObject", "dataInput", "dataOutput"):
        f = 10
        return (
            f'<path d="M{b.x:.1f},{b.y:.1f} H{b.x + b.w - f:.1f} L{b.x + b.w:.1f},{b.y + f:.1f} V{b.y + b.h:.1f} H{b.x:.1f} Z" '
            f'fill="#ffffff" stroke="{STROKE}" stroke-width="2"/>' + _external_label(s)
        )
    if s.kind == "group":
        return f'<rect x="{b.x:.1f}" y="{b.y:.1f}" width="{b.w:.1f}" height="{b.h:.1f}" rx="10" fill="none" stroke="{STROKE}" stroke-width="1" stroke-dasharray="8 3 1 3"/>'
    return f'<rect x="{b.x:.1f}" y="{b.y:.1f}" width="{b.w:.1f}" height="{b.h:.1f}" fill="none" stroke="{STROKE}" stroke-width="1"/>'


def _edge(e: Edge, state: str | None) -> str:
    # bpmn-js's widths: 2 px for a sequence flow (its arrow head scales with it), 1.5 px otherwise
    color, width, dash = EDGE_STYLES.get(state or "", (STROKE, 2.0 if e.kind == "sequenceFlow" else 1.5, ""))
    d = "M" + " L".join(f"{x:.1f},{y:.1f}" for x, y in e.points)
    if e.kind == "messageFlow":
        dash = dash or "10 6"
        marker_start, marker_end = "url(#msg-start)", "url(#msg-end)"
    elif e.kind in ("association", "dataInputAssociation", "dataOutputAssociation"):
        dash = dash or "2 4"
        marker_start, marker_end = "", "url(#assoc-end)" if e.kind != "association" else ""
    else:
        marker_start = "url(#cond-start)" if e.conditional else ""
        marker_end = f"url(#arrow-{state})" if state in EDGE_STYLES else "url(#arrow)"
    attrs = f'd="{d}" fill="none" stroke="{color}" stroke-width="{width:g}" stroke-linejoin="round"'
    if dash:
        attrs += f' stroke-dasharray="{dash}"'
    if marker_start:
        attrs += f' marker-start="{marker_start}"'
    if marker_end:
        attrs += f' marker-end="{marker_end}"'
    out = f"<path {attrs}/>"
    if e.default and len(e.points) >= 2:
        (x1, y1), (x2, y2) = e.points[0], e.points[1]
        length = max(((x2 - x1) ** 2 + (y2 - y1) ** 2) ** 0.5, 1)
        ux, uy = (x2 - x1) / length, (y2 - y1) / length
        # bpmn-js's default marker: from 6 along and 6 to the left of the flow to 10 along, 6 to the right
        ax, ay = x1 + 6 * ux + 6 * uy, y1 + 6 * uy - 6 * ux
        bx, by = x1 + 10 * ux - 6 * uy, y1 + 10 * uy + 6 * ux
        out += f'<path d="M{ax:.1f},{ay:.1f} L{bx:.1f},{by:.1f}" stroke="{color}" stroke-width="2"/>'
    out += _external_label(e)
    cls = f' class="{state}"' if state else ""
    return f'<g data-element-id="{escape(e.id)}" data-kind="{e.kind}"{cls}>{out}</g>'


def _badges(s: Shape, lines: list[str]) -> str:
    """Notes beside a shape (assignee, due time, overdue, rounds, coverage): a box above its top right."""
    if not lines:
        return ""
    b = s.bounds
    width = max(text_width(t, 10) for t in lines) + 10
    height = len(lines) * 13 + 6
    x, y = b.x + b.w - 10, b.y - height + 4
    overdue = any("逾期" in t or "overdue" in t for t in lines)
    color = "#c62828" if overdue else "#1565c0"
    out = f'<rect x="{x:.1f}" y="{y:.1f}" width="{width:.1f}" height="{height:.1f}" rx="4" fill="{color}" fill-opacity="0.92"/>'
    for i, t in enumerate(lines):
        out += f'<text x="{x + 5:.1f}" y="{y + 14 + i * 13:.1f}" font-size="10" fill="#ffffff">{escape(t)}</text>'
    return out


DEFS = (
    "<defs>"
    f'<marker id="arrow" viewBox="0 0 20 20" refX="11" refY="10" markerWidth="10" markerHeight="10" orient="auto">'
    f'<path d="M 1 5 L 11 10 L 1 15 Z" fill="{STROKE}" stroke="{STROKE}" stroke-width="1"/></marker>'
    + "".join(
        f'<marker id="arrow-{name}" viewBox="0 0 20 20" refX="11" refY="10" markerWidth="10" markerHeight="10" orient="auto">'
        f'<path d="M 1 5 L 11 10 L 1 15 Z" fill="{color}" stroke="{color}" stroke-width="1"/></marker>'
        for name, (color, _w, _d) in EDGE_STYLES.items()
    )
    + '<marker id="cond-start" viewBox="0 0 20 20" refX="-1" refY="10" markerWidth="10" markerHeight="10" orient="auto">'
    f'<path d="M 0 10 L 8 6 L 16 10 L 8 14 Z" fill="#ffffff" stroke="{STROKE}" stroke-width="1"/></marker>'
    '<marker id="msg-start" viewBox="0 0 20 20" refX="6" refY="6" markerWidth="20" markerHeight="20" orient="auto">'
    f'<circle cx="6" cy="6" r="3.5" fill="#ffffff" stroke="{STROKE}" stroke-width="1"/></marker>'
    '<marker id="msg-end" viewBox="0 0 20 20" refX="8.5" refY="5" markerWidth="20" markerHeight="20" orient="auto">'
    f'<path d="m 1 5 l 0 -3 l 7 3 l -7 3 z" fill="#ffffff" stroke="{STROKE}" stroke-width="1"/></marker>'
    '<marker id="assoc-end" viewBox="0 0 20 20" refX="11" refY="10" markerWidth="10" markerHeight="10" orient="auto">'
    f'<path d="M 1 5 L 11 10 L 1 15" fill="none" stroke="{STROKE}" stroke-width="1.5"/></marker>'
    "</defs>"
)


def render(diagram: Diagram, overlay: Overlay | None = None) -> str:
    """The diagram as one SVG document: every shape and every flow is a group carrying its element's
    id and kind (`data-element-id`, `data-kind`; `class` for a state) around its outline and label."""
    overlay = overlay or Overlay()
    box = diagram.bounds()
    margin = 20.0
    top = margin + (24 if overlay.title else 0)
    x0, y0 = box.x - margin, box.y - top
    width, height = box.w + 2 * margin, box.h + margin + top
    parts = [
        '<?xml version="1.0" encoding="UTF-8"?>',
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width:.0f}" height="{height:.0f}" '
        f'viewBox="{x0:.1f} {y0:.1f} {width:.1f} {height:.1f}" font-family="{FONT}">',
        DEFS,
        f'<rect x="{x0:.1f}" y="{y0:.1f}" width="{width:.1f}" height="{height:.1f}" fill="#ffffff"/>',
    ]
    if overlay.title:
        parts.append(
            f'<text x="{box.x:.1f}" y="{y0 + margin + 4:.1f}" font-size="14" font-weight="bold" fill="{STROKE}">{escape(overlay.title)}</text>'
        )
    order = sorted(diagram.shapes.values(), key=_layer)
    for s in order:
        if s.kind in ("participant", "lane"):
            parts.append(_group(s, _pool(s, None)))
    for s in order:
        if s.kind in ("subProcess", "transaction", "adHocSubProcess") and s.expanded:
            parts.append(_group(s, _activity(s, overlay.states.get(s.id)), overlay.states.get(s.id)))
    for e in diagram.edges.values():
        parts.append(_edge(e, overlay.edge_states.get(e.id)))
    for s in order:
        state = overlay.states.get(s.id)
        if s.kind in ("participant", "lane") or (
            s.kind in ("subProcess", "transaction", "adHocSubProcess") and s.expanded
        ):
            continue
        if s.kind in EVENTS:
            body = _event(s, state) + _external_label(s)
        elif s.kind in GATEWAYS:
            body = _gateway(s, state) + _external_label(s)
        elif s.kind in ACTIVITIES:
            body = _activity(s, state)
        else:
            body = _other(s)
        parts.append(_group(s, body, state))
    for s in order:
        if overlay.badges.get(s.id):
            parts.append(_badges(s, overlay.badges[s.id]))
    parts.append("</svg>")
    return "\n".join(parts) + "\n"


def _layer(s: Shape) -> tuple[int, float]:
    """Drawing order: pools, lanes, expanded subprocesses (largest first), then the rest."""
    rank = {"participant": 0, "lane": 1}.get(s.kind, 2 if s.expanded and s.kind == "subProcess" else 3)
    return rank, -(s.bounds.w * s.bounds.h)


def _group(s: Shape, body: str, state: str | None = None) -> str:
    cls = f' class="{state}"' if state else ""
    return f'<g data-element-id="{escape(s.id)}" data-kind="{s.kind}"{cls}>{body}</g>'
