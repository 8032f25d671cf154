"""Process definitions: finding BPMN files, checking them, and compiling them for deployment.

Every problem becomes a ``Finding`` printed as ``FILE:LINE: element-id: what is wrong``; no
exception from the XML layer or SpiffWorkflow's parser ever escapes as a traceback.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

from lxml import etree

from . import bpmnspec, parsemessages
from .extensions import (
    ACTIVITY_TAGS,
    BPMN_NS,
    BUSINESS_KEY,
    BUSINESS_KEY_UNIQUE,
    CAMUNDA_NS,
    EVENT_TAGS,
    GATEWAY_TAGS,
    NS,
    camunda_deadline,
    decision_ref,
    form_key,
    form_name,
    process_properties,
)

DMN_NAMESPACES = (
    "http://www.omg.org/spec/DMN/20151101/dmn.xsd",
    "http://www.omg.org/spec/DMN/20180521/MODEL/",
    "https://www.omg.org/spec/DMN/20191111/MODEL/",
    "https://www.omg.org/spec/DMN/20230324/MODEL/",
)
GATEWAYS = ("exclusiveGateway", "inclusiveGateway")


@dataclass(frozen=True)
class Finding:
    """One problem of a definition, at a file's line and element: `FILE:LINE: element-id: what is wrong`."""

    file: str
    line: int
    element: str
    message: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: {self.element}: {self.message}"

    def as_dict(self) -> dict:
        """The finding as JSON keys (file, line, element, message)."""
        return {"file": self.file, "line": self.line, "element": self.element, "message": self.message}


def collect_files(paths: Iterable[str | Path]) -> tuple[dict[str, bytes], list[Finding]]:
    """Read every .bpmn (and .dmn) under the given files/folders, as bytes (lxml decodes)."""
    sources: dict[str, bytes] = {}
    findings: list[Finding] = []
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            files = sorted(p for p in path.rglob("*") if p.suffix in (".bpmn", ".dmn") and p.is_file())
            if not files:
                findings.append(Finding(str(path), 0, "-", "no .bpmn files in this folder"))
        elif path.is_file():
            files = [path]
        else:
            findings.append(Finding(str(path), 0, "-", "no such file or folder"))
            continue
        for f in files:
            try:
                sources[str(f)] = f.read_bytes()
            except OSError as exc:
                findings.append(Finding(str(f), 0, "-", f"cannot read: {exc.strerror}"))
    return sources, findings


def content_hash(content: bytes, *related: bytes) -> str:
    """The hash deploy compares: the BPMN file's, and (in order) the .dmn files its rule tasks use,
    so a changed decision table makes a new version of the processes that use it."""
    digest = hashlib.sha256(content)
    for more in related:
        digest.update(hashlib.sha256(more).digest())
    return digest.hexdigest()


class Checker:
    """Static checks over BPMN documents; plug-ins check forms and deadline texts."""

    def __init__(
        self,
        form_exists: Callable[[str], bool] | None = None,
        form_problems: Callable[[str], list[tuple[str, int, str]]] | None = None,
        deadline_problem: Callable[[str, str], str | None] | None = None,
    ) -> None:
        self.form_exists = form_exists
        self.form_problems = form_problems
        self.deadline_problem = deadline_problem

    def check(
        self, sources: Mapping[str, bytes], progress: Callable[[str, int, int], None] | None = None
    ) -> tuple[list[Finding], dict]:
        """All findings for the documents, and the compiled processes when there are none; `progress`
        is told each BPMN file as its check starts (file, files checked before it, files)."""
        findings: list[Finding] = []
        trees: dict[str, etree._Element] = {}
        for path, content in sources.items():
            try:
                trees[path] = etree.fromstring(content, parser=etree.XMLParser(resolve_entities=False))
            except etree.XMLSyntaxError as exc:
                findings.append(Finding(path, exc.lineno or 1, "-", f"not well-formed XML: {exc.msg}"))
                continue
            if trees[path].getroottree().docinfo.doctype:  # an entity would silently cut a script short
                del trees[path]
                findings.append(Finding(path, 1, "-", "a DTD (<!DOCTYPE ...>) is not allowed in a diagram; remove it"))
        bpmn = {
            p: t
            for p, t in trees.items()
            if etree.QName(t).localname == "definitions" and etree.QName(t).namespace == BPMN_NS
        }
        dmn = {p: t for p, t in trees.items() if p.endswith(".dmn")}
        for path, tree in trees.items():
            if path in dmn:
                if etree.QName(tree).localname != "definitions" or etree.QName(tree).namespace not in DMN_NAMESPACES:
                    findings.append(Finding(path, tree.sourceline or 1, "-", "not a DMN document (dmn:definitions)"))
            elif path not in bpmn:
                findings.append(Finding(path, tree.sourceline or 1, "-", "not a BPMN 2.0 document (bpmn:definitions)"))
        processes = {p.get("id") for t in bpmn.values() for p in t.iter(f"{{{BPMN_NS}}}process")}
        decisions: set = set()
        for path, tree in dmn.items():
            found = tree.xpath("./*[local-name()='decision']")
            if len(found) != 1 and etree.QName(tree).namespace in DMN_NAMESPACES:
                at = found[1] if found else tree
                findings.append(
                    Finding(
                        path,
                        at.sourceline or 1,
                        at.get("id") or "-",
                        "a .dmn file holds exactly one decision (SpiffWorkflow evaluates one table)",
                    )
                )
            decisions.update(d.get("id") for d in found)
        for done, (path, tree) in enumerate(bpmn.items()):
            if progress is not None:
                progress(path, done, len(bpmn))
            findings.extend(self._check_document(path, tree, decisions, processes))
        if findings:
            return findings, {}
        # Imported here, not at the top: SpiffWorkflow takes about 50 ms to load, and what else
        # imports this module (deploy comparing the hashes of unchanged files) does not parse.
        # Not a cycle: engine.spiff imports nothing of definitions.
        from . import spiff

        try:
            _parser, compiled = spiff.parse_bpmn({p: sources[p] for p in (*dmn, *bpmn)})
        except Exception as exc:  # the parser raises many types on real-world files
            findings.append(_parser_finding(exc, {**bpmn, **dmn}))
            return findings, {}
        if not compiled:
            for path in bpmn:
                findings.append(Finding(path, 1, "-", 'no executable process (isExecutable="true")'))
        for pid, proc in compiled.items():  # what validate accepts, deploy stores: made here, once
            try:
                proc.to_json()
            except Exception as exc:  # noqa: BLE001 - a construct the store cannot hold is a finding
                path = proc.source_file if proc.source_file in bpmn else next(iter(bpmn), "-")
                line = bpmn[path].sourceline if path in bpmn else 1
                what = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
                findings.append(Finding(path, line or 1, pid, f"process cannot be stored: {what}"))
        return findings, ({} if findings else compiled)

    def _check_document(self, path: str, root: etree._Element, decisions: set, processes: set) -> list[Finding]:
        out: list[Finding] = []

        def add(el: etree._Element, msg: str, at: etree._Element | None = None, offset: int = 0) -> None:
            line = ((at if at is not None else el).sourceline or 1) + offset
            out.append(Finding(path, line, el.get("id") or etree.QName(el).localname, msg))

        ids: dict[str, etree._Element] = {}
        for el in root.iter():
            if not isinstance(el.tag, str):
                continue
            el_id = el.get("id")
            if el_id:
                if el_id in ids:
                    add(el, f"duplicate id (also on line {ids[el_id].sourceline})")
                ids[el_id] = el
        for process in root.iter(f"{{{BPMN_NS}}}process"):
            out.extend(self._check_process(process, ids, add, decisions, processes))
        bpmnspec.check_document(root, add)
        for msg_ref in root.xpath(".//bpmn:messageEventDefinition[@messageRef]", namespaces=NS):
            if msg_ref.get("messageRef") not in ids:
                add(msg_ref.getparent(), f"unknown message {msg_ref.get('messageRef')!r}")
        for part in root.xpath(".//bpmn:participant[@processRef]", namespaces=NS):
            if part.get("processRef") not in ids:
                add(part, f"unknown process {part.get('processRef')!r}")
        return out

    def _check_process(
        self, process: etree._Element, ids: dict, add: Callable, decisions: set, processes: set
    ) -> list[Finding]:
        bad_id = process_id_problem(process.get("id"))
        if bad_id is not None:
            add(process, bad_id)
        props = process_properties(process)
        key = props.get(BUSINESS_KEY)
        if key is not None and not key.isidentifier():
            add(process, f"property {BUSINESS_KEY} must name the variable holding the business key, not {key!r}")
        if BUSINESS_KEY_UNIQUE in props and not key:
            add(process, f"property {BUSINESS_KEY_UNIQUE} needs property {BUSINESS_KEY} (the key's variable)")
        flows = process.xpath(".//bpmn:sequenceFlow", namespaces=NS)
        outgoing: dict[str, list[etree._Element]] = {}
        for flow in flows:
            for attr in ("sourceRef", "targetRef"):
                ref = flow.get(attr)
                if not ref:
                    add(flow, f"sequence flow has no {attr}")
                elif ref not in ids:
                    add(flow, f"{attr} points to unknown element {ref!r}")
            outgoing.setdefault(flow.get("sourceRef"), []).append(flow)
            cond = flow.find(f"{{{BPMN_NS}}}conditionExpression")
            if cond is not None and (cond.text or "").strip():
                _check_condition(cond, flow, add)
        for ref in process.xpath(".//bpmn:flowNodeRef", namespaces=NS):
            if (ref.text or "").strip() not in ids:
                add(ref.getparent(), f"lane lists unknown element {(ref.text or '').strip()!r}", at=ref)
        for tag in GATEWAYS:
            for gw in process.xpath(f".//bpmn:{tag}", namespaces=NS):
                outs = outgoing.get(gw.get("id"), [])
                default = gw.get("default")
                if default and default not in {f.get("id") for f in outs}:
                    add(gw, f"default flow {default!r} is not an outgoing flow of this gateway")
                elif len(outs) > 1:
                    bare = [
                        f.get("id")
                        for f in outs
                        if f.get("id") != default
                        and not (f.findtext(f"{{{BPMN_NS}}}conditionExpression") or "").strip()
                    ]
                    if bare:
                        add(gw, f"outgoing flow(s) {', '.join(bare)} have no condition and are not the default")
        for gw in process.xpath(".//bpmn:eventBasedGateway", namespaces=NS):
            timers = [
                ids[f.get("targetRef")]
                for f in outgoing.get(gw.get("id"), [])
                if f.get("targetRef") in ids
                and ids[f.get("targetRef")].find(f"{{{BPMN_NS}}}timerEventDefinition") is not None
            ]
            if len(timers) > 1:
                add(gw, "more than one timer after an event-based gateway is not supported (one timer per gateway)")
            for timer in timers:
                if timer.find(f".//{{{BPMN_NS}}}timeCycle") is not None:
                    add(timer, "a cycle timer after an event-based gateway is not supported (timeDate or timeDuration)")
        for script_task in process.xpath(".//bpmn:scriptTask", namespaces=NS):
            text = script_task.findtext(f"{{{BPMN_NS}}}script")
            if not (text or "").strip():
                add(script_task, "script task has no script")
            else:
                _compile(text, "exec", script_task, "script", add, at=script_task.find(f"{{{BPMN_NS}}}script"))
        for prop in process.xpath(
            ".//camunda:property[@name='correlationKey'] | .//spiffworkflow:property[@name='correlationKey']",
            namespaces=NS,
        ):  # a message's correlation key: an expression on the case's variables (issue 12)
            _check_expression(
                prop.get("value") or "", prop.getparent().getparent().getparent(), "correlationKey", add, prop
            )
        for ev in process.xpath(".//bpmn:messageEventDefinition[@camunda:expression]", namespaces=NS):
            _compile(ev.get(f"{{{CAMUNDA_NS}}}expression"), "eval", ev.getparent(), "message payload", add)
        for loop in process.xpath(".//bpmn:multiInstanceLoopCharacteristics", namespaces=NS):
            _check_multi_instance(loop, add)
        for ev in process.xpath(".//bpmn:boundaryEvent", namespaces=NS):
            if ev.get("attachedToRef") not in ids:
                add(ev, f"attached to unknown element {ev.get('attachedToRef')!r}")
        for rule in process.xpath(".//bpmn:businessRuleTask", namespaces=NS):
            ref = decision_ref(rule)
            if ref is None:
                add(
                    rule, "business rule task names no decision (camunda:decisionRef or spiffworkflow:calledDecisionId)"
                )
            elif ref not in decisions:
                add(rule, f"decision {ref!r} is in none of the .dmn files given (name its .dmn file or the folder too)")
        for el in process.xpath(".//spiffworkflow:preScript | .//spiffworkflow:postScript", namespaces=NS):
            if (el.text or "").strip():
                _compile(el.text, "exec", el.getparent().getparent(), etree.QName(el).localname, add, at=el)
        for call in process.xpath(".//bpmn:callActivity", namespaces=NS):
            if not call.get("calledElement"):
                add(call, "call activity names no calledElement")
            elif call.get("calledElement") not in processes and call.get("calledElement") not in ids:
                add(call, f"calls process {call.get('calledElement')!r}, which is in none of the files given")
        _check_connections(process, flows, ids, add)
        bpmnspec.check_process(process, ids, add)
        if self.deadline_problem is not None:
            for tag in ("timeDate", "timeDuration", "timeCycle"):
                for el in process.xpath(f".//bpmn:{tag}", namespaces=NS):
                    owner = el.getparent().getparent()
                    problem = self.deadline_problem((el.text or "").strip(), tag)
                    if problem:
                        add(owner, f"{tag}: {problem}")
            for attr in ("dueDate", "followUpDate"):
                for task in process.xpath(f".//bpmn:userTask[@camunda:{attr}]", namespaces=NS):
                    problem = self.deadline_problem(camunda_deadline(task.get(f"{{{CAMUNDA_NS}}}{attr}")), "dueDate")
                    if problem:
                        add(task, f"{attr}: {problem}")
        if self.form_exists is not None:
            for task in process.xpath(".//bpmn:userTask", namespaces=NS):
                key, where = form_key(task)
                form = form_name(key)
                if form and not self.form_exists(form):
                    add(task, f"form {form!r} not found ({where})")
                elif form and self.form_problems is not None:
                    for file, line, what in self.form_problems(form):
                        add(task, f"form {file}:{line}: {what}")
        return []


FLOW_NODES = {f"{{{BPMN_NS}}}{tag}" for tag in ACTIVITY_TAGS | GATEWAY_TAGS | EVENT_TAGS}


# A process id names the folder of its archived cases (servicehall/retention.py) and is typed at the
# command line: a letter or _, then letters, digits, _ or -, at most 200 characters (engine.dataio's
# rule for ids and keys). Kept here, not imported: this module's imports are the adapter's guard.
_PROCESS_ID = re.compile(r"[^\W\d][\w-]{0,199}")


def process_id_problem(pid: str | None) -> str | None:
    """Why a BPMN process id cannot be used, or None."""
    if not pid:
        return "process has no id"
    if len(pid) > 200:
        return f"process id is {len(pid)} characters long (at most 200)"
    if not _PROCESS_ID.fullmatch(pid):
        return (
            f"process id {pid!r} must be an identifier (a letter or _, then letters, digits, _ or -): "
            "it names the case files of the archive"
        )
    return None


def _check_connections(process: etree._Element, flows: list, ids: dict, add: Callable) -> None:
    """Each <bpmn:incoming>/<bpmn:outgoing> names a flow that ends/starts at that element; every flow
    node is reached by a flow (but start and boundary events, event sub-processes and their starts,
    link catch events, compensation handlers and the contents of ad-hoc sub-processes) and leaves by
    one (but end events, link throw events, event sub-processes and compensation handlers)."""
    by_id = {f.get("id"): f for f in flows}
    ends = {"incoming": {f.get("targetRef") for f in flows}, "outgoing": {f.get("sourceRef") for f in flows}}
    for node in process.iter(*FLOW_NODES):
        node_id, kind = node.get("id"), etree.QName(node).localname
        for tag, end, attr in (("incoming", "end", "targetRef"), ("outgoing", "start", "sourceRef")):
            for ref in node.findall(f"{{{BPMN_NS}}}{tag}"):
                name = (ref.text or "").strip()
                flow = by_id.get(name)
                if flow is None:
                    add(node, f"{tag} names unknown sequence flow {name!r}", at=ref)
                elif flow.get(attr) != node_id:
                    ends[tag].add(node_id)  # one finding: here, or at the flow if its end is unknown
                    if flow.get(attr) in ids:
                        add(node, f"{tag} names sequence flow {name!r}, which does not {end} here", at=ref)
        ins, outs = ends["incoming"], ends["outgoing"]
        parent = node.getparent()
        in_ad_hoc = etree.QName(parent).localname == "adHocSubProcess"
        event_sub = kind == "subProcess" and node.get("triggeredByEvent") == "true"
        compensation = node.get("isForCompensation") == "true"
        link = node.find(f"{{{BPMN_NS}}}linkEventDefinition") is not None
        compensation = compensation or (
            kind == "boundaryEvent" and node.find(f"{{{BPMN_NS}}}compensateEventDefinition") is not None
        )
        if node_id not in ins and not (
            kind in ("startEvent", "boundaryEvent")
            or event_sub
            or compensation
            or in_ad_hoc
            or (link and kind == "intermediateCatchEvent")
            or (kind == "receiveTask" and node.get("instantiate") == "true")  # refused by bpmnspec
        ):
            add(node, "no sequence flow leads here")
        if node_id not in outs and not (
            kind == "endEvent" or event_sub or compensation or in_ad_hoc or (link and kind == "intermediateThrowEvent")
        ):
            add(node, "no sequence flow leaves here")


def _check_multi_instance(loop: etree._Element, add: Callable) -> None:
    """A multi-instance activity names how many instances run in one way, and completes them all
    (``behavior`` All, the default: hall throws no events per instance)."""
    task = loop.getparent()
    cardinality = loop.find(f"{{{BPMN_NS}}}loopCardinality") is not None
    data_input = loop.find(f"{{{BPMN_NS}}}loopDataInputRef") is not None
    collection = loop.get(f"{{{CAMUNDA_NS}}}collection") is not None
    if cardinality and (data_input or collection):
        other = "loopDataInputRef" if data_input else "camunda:collection"
        add(task, f"multi-instance has both loopCardinality and {other}: give one of them", at=loop)
    elif data_input and collection:
        add(task, "multi-instance has both loopDataInputRef and camunda:collection: give one of them", at=loop)
    elif not (cardinality or data_input or collection):
        add(task, "multi-instance needs loopCardinality, loopDataInputRef or camunda:collection", at=loop)
    behavior = loop.get("behavior")
    if behavior not in (None, "All"):
        add(task, f"multi-instance behavior {behavior!r} is not supported (only 'All')", at=loop)


def _check_condition(cond: etree._Element, flow: etree._Element, add: Callable) -> None:
    """A condition in Python, or in Camunda Modeler's JUEL/FEEL translated to Python (``juel``, as
    the parser translates it for deploy): a finding if it cannot be translated or does not compile."""
    _check_expression(cond.text or "", flow, "condition", add, cond)


def _check_expression(text: str, el: etree._Element, what: str, add: Callable, at: etree._Element) -> None:
    """An expression in Python or JUEL/FEEL (``juel``): a finding if it is empty, cannot be translated
    or does not compile."""
    from . import juel

    if not text.strip():
        add(el, f"{what} is empty", at=at)
        return
    try:
        translated = juel.translate(text)
    except juel.NotTranslatable as exc:
        add(el, f"{what} {exc}; {juel.HINT}", at=at)
        return
    _compile(translated, "eval", el, what, add, at=at)


def _compile(
    source: str, mode: str, el: etree._Element, what: str, add: Callable, at: etree._Element | None = None
) -> None:
    """A finding if the text does not compile, and one at its line of the file for each construct the
    scripts' restricted environment refuses (`script uses import`, issue 15)."""
    from . import restricted

    text = source.strip() if mode == "eval" else source
    try:
        compile(text, el.get("id") or what, mode)
    except SyntaxError as exc:
        add(el, f"{what} does not compile: {exc.msg} (line {exc.lineno} of the {what})", at=at)
        return
    except ValueError as exc:
        add(el, f"{what} does not compile: {exc}", at=at)
        return
    # the text's first line is on the line of its element (its start tag), when it begins there
    lead = source[: len(source) - len(source.lstrip())].count("\n") if mode == "eval" else 0
    for line, problem in restricted.problems(text, mode):
        add(el, f"{what} {problem}", at=at, offset=line - 1 + lead if at is not None else 0)


def _parser_finding(exc: Exception, trees: Mapping[str, etree._Element]) -> Finding:
    """Turn any parser exception into a finding, at the line of the element it names.

    SpiffWorkflow's ValidationException carries the element's id and (not always) the file, but
    never the line (it reads an attribute lxml elements do not have): find the element by id,
    in the named file or else in whichever document holds it."""
    element = getattr(exc, "id", None) or "-"
    path = getattr(exc, "file_name", None) or ""
    line = getattr(exc, "line_number", None) or getattr(exc, "sourceline", None)
    kind = None
    if element != "-":
        for where in ([path] if path in trees else []) + [p for p in trees if p != path]:
            found = trees[where].xpath("//*[@id=$id]", id=element)
            if found:
                kind = etree.QName(found[0]).localname
                if not line or not str(line).isdigit():
                    path, line = where, found[0].sourceline
                break
    if path not in trees:
        path = next(iter(trees), "-")
    message = str(getattr(exc, "message", None) or exc) if str(exc) else type(exc).__name__
    message = parsemessages.plain_message(message, kind)
    return Finding(path, int(str(line)) if str(line or "").isdigit() else 1, element, message)
