"""What the BPMN 2.0 specification forbids, and the constructs hall does not run: hard errors of
`hall validate` (and so of deploy), one finding per element.

The specification's own rules (chapter 10 and the tables of 10.5, "Events") come first: a start event
with an incoming flow, an end event with an outgoing one, a boundary event on what is not an
activity, an event definition on an event kind that may not carry it, a gateway split or join its
direction forbids. Then the constructs hall refuses because it cannot run them as the specification
says (docs/bpmn.md lists them). Plain lxml: nothing here loads SpiffWorkflow.
"""

from __future__ import annotations

from collections.abc import Callable

from lxml import etree

from .extensions import ACTIVITY_TAGS, BPMN_NS

ACTIVITIES = ACTIVITY_TAGS
GATEWAY_TAGS = ("exclusiveGateway", "inclusiveGateway", "parallelGateway", "eventBasedGateway", "complexGateway")

# The event definitions each event kind may carry (BPMN 2.0, tables 10.84, 10.88, 10.89, 10.90, 10.93).
ALLOWED = {
    "startEvent": {"message", "timer", "conditional", "signal"},
    "eventSubProcessStart": {"message", "timer", "conditional", "signal", "error", "escalation", "compensate"},
    "endEvent": {"message", "error", "escalation", "cancel", "compensate", "signal", "terminate"},
    "intermediateCatchEvent": {"message", "timer", "conditional", "link", "signal"},
    "intermediateThrowEvent": {"message", "escalation", "compensate", "link", "signal"},
    "boundaryEvent": {"message", "timer", "escalation", "conditional", "error", "cancel", "compensate", "signal"},
}
DEFINITIONS = frozenset(
    ("message", "timer", "conditional", "signal", "error", "escalation", "cancel", "compensate", "terminate", "link")
)

Add = Callable[..., None]


def _local(el: etree._Element) -> str:
    return etree.QName(el).localname


def _definitions(event: etree._Element) -> list[tuple[str, etree._Element]]:
    """(kind, element) of each event definition an event carries, in document order."""
    found = []
    for child in event:
        if isinstance(child.tag, str) and etree.QName(child).namespace == BPMN_NS:
            name = _local(child)
            if name.endswith("EventDefinition") and name[: -len("EventDefinition")] in DEFINITIONS:
                found.append((name[: -len("EventDefinition")], child))
    return found


def check_process(process: etree._Element, ids: dict[str, etree._Element], add: Add) -> None:
    """Every finding of the specification's rules and of hall's unsupported constructs in one process
    (its sub-processes included): ``add(element, message, at=...)`` for each."""
    flows = process.xpath(".//bpmn:sequenceFlow", namespaces={"bpmn": BPMN_NS})
    incoming: dict[str, list[etree._Element]] = {}
    outgoing: dict[str, list[etree._Element]] = {}
    for flow in flows:
        incoming.setdefault(flow.get("targetRef") or "", []).append(flow)
        outgoing.setdefault(flow.get("sourceRef") or "", []).append(flow)
        source, target = ids.get(flow.get("sourceRef") or ""), ids.get(flow.get("targetRef") or "")
        if source is not None and target is not None and source.getparent() is not target.getparent():
            add(flow, "a sequence flow connects elements of the same process or sub-process, not across its border")
    for el in process.iter():
        if not isinstance(el.tag, str) or etree.QName(el).namespace != BPMN_NS:
            continue
        kind = _local(el)
        el_id = el.get("id") or ""
        ins, outs = incoming.get(el_id, []), outgoing.get(el_id, [])
        if kind in ALLOWED:
            _check_event(el, kind, ins, outs, ids, add)
        elif kind in GATEWAY_TAGS:
            _check_gateway(el, kind, ins, outs, ids, add)
        elif kind == "subProcess" and el.get("triggeredByEvent") == "true":
            if ins or outs:
                add(el, "an event sub-process has no incoming or outgoing sequence flow")
        elif kind in ("subProcess", "transaction"):
            for start in el.findall(f"{{{BPMN_NS}}}startEvent"):
                if _definitions(start):
                    add(start, "the start event of a sub-process has no trigger (no event definition)")
        elif kind in ACTIVITIES and el.get("default"):
            default = [f for f in outs if f.get("id") == el.get("default")]
            if not default:
                add(el, f"default flow {el.get('default')!r} is not an outgoing flow of this activity")
            elif default[0].find(f"{{{BPMN_NS}}}conditionExpression") is not None:
                add(default[0], "a default flow has no condition (it is taken when no other condition holds)")
        _check_unsupported(el, kind, ids, add)
    compensation = process.xpath(
        ".//bpmn:compensateEventDefinition | .//*[@isForCompensation='true']", namespaces={"bpmn": BPMN_NS}
    )
    if compensation:  # one line for the construct, at its first element
        first = compensation[0]
        owner = first.getparent() if _local(first) == "compensateEventDefinition" else first
        more = f" ({len(compensation) - 1} more elements of it below)" if len(compensation) > 1 else ""
        add(owner, f"compensation is not supported: draw the undo steps as tasks on the flow{more}", at=first)
    _check_links(process, add)


def check_document(root: etree._Element, add: Add) -> None:
    """The findings of a document outside its processes: data stores, which hall does not provide."""
    for store in root.iter(f"{{{BPMN_NS}}}dataStore"):
        add(store, "data stores are not supported: keep the data in the case's variables or call a service")


def _check_event(
    ev: etree._Element, kind: str, ins: list, outs: list, ids: dict[str, etree._Element], add: Add
) -> None:
    """An event's flows and the event definitions its kind may carry."""
    parent = ev.getparent()
    in_event_sub = parent is not None and _local(parent) == "subProcess" and parent.get("triggeredByEvent") == "true"
    if kind == "startEvent" and ins:
        add(ev, "a start event has no incoming sequence flow")
    if kind == "endEvent" and outs:
        add(ev, "an end event has no outgoing sequence flow")
    if kind == "boundaryEvent":
        if ins:
            add(ev, "a boundary event has no incoming sequence flow")
        host = ids.get(ev.get("attachedToRef") or "")
        if host is not None and _local(host) not in ACTIVITIES:
            add(ev, f"a boundary event is attached to an activity, not to {_local(host)} {host.get('id')!r}")
    definitions = _definitions(ev)
    allowed = ALLOWED["eventSubProcessStart" if kind == "startEvent" and in_event_sub else kind]
    for name, definition in definitions:
        if name not in allowed:
            where = "a start event of an event sub-process" if kind == "startEvent" and in_event_sub else kind
            add(ev, f"{_article(name)} event definition is not allowed on {_article(where)}", at=definition)
    if not definitions:
        if kind == "intermediateCatchEvent":
            add(ev, "an intermediate catch event needs an event definition (message, timer, signal, conditional, link)")
        elif kind == "boundaryEvent":
            add(ev, "a boundary event needs an event definition (message, timer, signal, error, escalation, ...)")
        elif kind == "startEvent" and in_event_sub:
            add(ev, "the start event of an event sub-process needs an event definition (its trigger)")
    names = {name for name, _ in definitions}
    if kind == "boundaryEvent" and names & {"error", "cancel"} and ev.get("cancelActivity") == "false":
        add(ev, f"{_article(sorted(names & {'error', 'cancel'})[0])} boundary event always interrupts (cancelActivity)")
    if "cancel" in names and kind == "boundaryEvent":
        host = ids.get(ev.get("attachedToRef") or "")
        if host is not None and _local(host) != "transaction":
            add(ev, "a cancel boundary event is attached to a transaction only")
    if "link" in names and kind == "intermediateThrowEvent" and outs:
        add(ev, "a link throw event has no outgoing sequence flow (the flow goes on at its catch event)")
    if "link" in names and kind == "intermediateCatchEvent" and ins:
        add(ev, "a link catch event has no incoming sequence flow (its throw event leads here)")


def _article(kind: str) -> str:
    return kind if kind.startswith("a ") else ("an " if kind[0] in "aeiou" else "a ") + kind


def _check_gateway(
    gw: etree._Element, kind: str, ins: list, outs: list, ids: dict[str, etree._Element], add: Add
) -> None:
    """A gateway's direction, and what may follow an event-based or parallel gateway."""
    direction = gw.get("gatewayDirection")
    if direction == "Converging" and len(outs) > 1:
        add(gw, 'a converging gateway (gatewayDirection="Converging") has one outgoing sequence flow')
    if direction == "Diverging" and len(ins) > 1:
        add(gw, 'a diverging gateway (gatewayDirection="Diverging") has one incoming sequence flow')
    if kind == "parallelGateway":
        for flow in outs:
            if flow.find(f"{{{BPMN_NS}}}conditionExpression") is not None:
                add(flow, "a sequence flow leaving a parallel gateway has no condition")
        if gw.get("default"):
            add(gw, "a parallel gateway has no default flow")
    if kind == "eventBasedGateway":
        if len(outs) < 2:
            add(gw, "an event-based gateway has two or more outgoing sequence flows")
        for flow in outs:
            target = ids.get(flow.get("targetRef") or "")
            if flow.find(f"{{{BPMN_NS}}}conditionExpression") is not None:
                add(flow, "a sequence flow leaving an event-based gateway has no condition")
            if target is None:
                continue
            names = {name for name, _ in _definitions(target)}
            catch = _local(target) == "intermediateCatchEvent" and names & {"message", "timer", "signal", "conditional"}
            if not (catch or _local(target) == "receiveTask"):
                add(
                    gw,
                    f"an event-based gateway leads to intermediate catch events or receive tasks only, "
                    f"not to {_local(target)} {target.get('id')!r}",
                    at=flow,
                )


def _check_unsupported(el: etree._Element, kind: str, ids: dict[str, etree._Element], add: Add) -> None:
    """The constructs hall refuses: it cannot run them as the specification says."""
    if kind == "complexGateway":
        add(el, "complexGateway is not supported: draw an inclusive gateway, or a parallel one to join")
    elif kind == "adHocSubProcess":
        add(el, "adHocSubProcess is not supported: draw a sub-process, its optional tasks behind an inclusive gateway")
    elif kind == "callActivity":
        called = ids.get(el.get("calledElement") or "")
        if called is not None and _local(called) != "process" and not _local(called).startswith("global"):
            add(el, f"calls {_local(called)} {called.get('id')!r}, which is not a process")
        elif called is not None and _local(called).startswith("global"):
            add(
                el,
                f"a call activity to a global task is not supported ({_local(called)} {called.get('id')!r}): "
                "call a process, or draw the task itself",
            )
    elif kind == "receiveTask" and el.get("instantiate") == "true":
        add(el, 'a receive task with instantiate="true" is not supported: start the process with a message start event')


def _check_links(process: etree._Element, add: Add) -> None:
    """Each link throw event has exactly one catch event of its name in the same process level."""
    for level in [process, *process.iter(f"{{{BPMN_NS}}}subProcess", f"{{{BPMN_NS}}}transaction")]:
        catches: dict[str, list[etree._Element]] = {}
        throws: list[tuple[str, etree._Element]] = []
        for ev in level:
            if not isinstance(ev.tag, str):
                continue
            link = ev.find(f"{{{BPMN_NS}}}linkEventDefinition")
            if link is None:
                continue
            name = link.get("name") or ""
            if not name:
                add(ev, "a link event definition needs a name (the throw and its catch share it)", at=link)
            elif _local(ev) == "intermediateCatchEvent":
                catches.setdefault(name, []).append(ev)
            elif _local(ev) == "intermediateThrowEvent":
                throws.append((name, ev))
        for name, evs in catches.items():
            for extra in evs[1:]:
                add(extra, f"two link catch events are named {name!r} in one process level (also {evs[0].get('id')!r})")
        for name, ev in throws:
            if name not in catches:
                add(ev, f"no link catch event named {name!r} in this process level")
