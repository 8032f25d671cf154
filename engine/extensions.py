"""What hall reads off a BPMN element beyond BPMN itself: Camunda attributes, spiff-arena extension
elements, form names and the deadline notation of ``camunda:dueDate``.

Plain lxml, no SpiffWorkflow: the validator (``definitions``), the SpiffWorkflow adapter (``spiff``)
and the runtime (form names of user tasks) all read the same attributes the same way from here,
so none of them imports another for it.
"""

from __future__ import annotations

import re
from typing import Any

BPMN_NS = "http://www.omg.org/spec/BPMN/20100524/MODEL"
CAMUNDA_NS = "http://camunda.org/schema/1.0/bpmn"
SPIFF_NS = "http://spiffworkflow.org/bpmn/schema/1.0/core"

# The BPMN 2.0 flow node tags by kind (local names), for the modules that read a diagram's XML
ACTIVITY_TAGS = frozenset(
    (
        "task",
        "userTask",
        "manualTask",
        "scriptTask",
        "serviceTask",
        "sendTask",
        "receiveTask",
        "businessRuleTask",
        "callActivity",
        "subProcess",
        "transaction",
        "adHocSubProcess",
    )
)
GATEWAY_TAGS = frozenset(
    ("exclusiveGateway", "inclusiveGateway", "parallelGateway", "eventBasedGateway", "complexGateway")
)
EVENT_TAGS = frozenset(("startEvent", "endEvent", "intermediateCatchEvent", "intermediateThrowEvent", "boundaryEvent"))
NS = {"bpmn": BPMN_NS, "camunda": CAMUNDA_NS, "spiffworkflow": SPIFF_NS}
# The camunda: attributes of a task that hall keeps in its spec's extensions.
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


def is_true(value: Any) -> bool:
    """An extension attribute's boolean: `true` in any case, with or without spaces."""
    return str(value or "").strip().lower() == "true"


def form_name(form_key: str | None) -> str | None:
    """The form a key names: plain names and Camunda-style keys (`embedded:app:forms/review.html` -> `review`)."""
    if not form_key:
        return None
    name = form_key.rsplit(":", 1)[-1].rsplit("/", 1)[-1]
    for suffix in (".yaml", ".yml", ".html", ".form"):
        if name.endswith(suffix):
            name = name[: -len(suffix)]
    return name or None


def spiff_form_name(filename: str) -> str | None:
    """spiff-arena names a task's form by its JSON schema file: `review-schema.json` is form `review`."""
    name = filename.strip().rsplit("/", 1)[-1]
    for suffix in ("-schema.json", ".schema.json", ".json"):
        if name.endswith(suffix):
            return name[: -len(suffix)] or None
    return name or None


def camunda_deadline(text: str) -> str:
    """A deadline attribute as the deadline notation reads it: Camunda's `${variable}` is `=variable`
    (the variable holds an ISO date-time, a date or a deadline phrase)."""
    text = text.strip()
    match = re.fullmatch(r"\$\{\s*([^\W\d]\w*)\s*\}", text)
    return f"={match.group(1)}" if match else text


def form_key(task: Any) -> tuple[str | None, str]:
    """The form a task names, and where: camunda:formKey, else spiff-arena's formKey or
    formJsonSchemaFilename property."""
    key = task.get(f"{{{CAMUNDA_NS}}}formKey")
    if key:
        return key, f"formKey {key!r}"
    props = {
        p.get("name"): p.get("value")
        for p in task.xpath("./bpmn:extensionElements/spiffworkflow:properties/spiffworkflow:property", namespaces=NS)
    }
    if props.get("formKey"):
        return props["formKey"], f"formKey {props['formKey']!r}"
    if props.get("formJsonSchemaFilename"):
        return (
            spiff_form_name(props["formJsonSchemaFilename"]),
            f"formJsonSchemaFilename {props['formJsonSchemaFilename']!r}",
        )
    return None, ""


def decision_ref(rule: Any) -> str | None:
    """The decision a business rule task evaluates: camunda:decisionRef or spiffworkflow:calledDecisionId."""
    ref = rule.get(f"{{{CAMUNDA_NS}}}decisionRef") or rule.findtext(
        f"{{{BPMN_NS}}}extensionElements/{{{SPIFF_NS}}}calledDecisionId"
    )
    return (ref or "").strip() or None


def service_name(node: Any) -> str | None:
    """The service a Camunda service task calls: its topic, class, delegate or expression."""
    for attr in ("topic", "class", "delegateExpression", "expression"):
        value = (node.get(f"{{{CAMUNDA_NS}}}{attr}") or "").strip()
        if value:
            return value[2:-1].strip() if value.startswith("${") and value.endswith("}") else value
    return None


def spiff_extension(node: Any, name: str) -> str | None:
    """The text of a spiffworkflow: extension element of a node (`calledDecisionId`), or None."""
    found = node.xpath(f"./bpmn:extensionElements/spiffworkflow:{name}", namespaces=NS)
    return (found[0].text or "").strip() or None if found else None


def has_spiff_extensions(node: Any) -> bool:
    """Whether a node carries spiffworkflow: extension elements (then spiff-arena's parser reads it)."""
    return bool(node.xpath("./bpmn:extensionElements/spiffworkflow:*", namespaces=NS))


def read_extensions(node: Any, base: dict) -> dict:
    """Camunda attributes/properties and spiffworkflow extension elements of a node, added to `base`."""
    ext = dict(base)
    for attr in CAMUNDA_TASK_ATTRIBUTES:
        value = node.get(f"{{{CAMUNDA_NS}}}{attr}")
        if value is not None:
            ext[attr] = camunda_deadline(value) if attr in ("dueDate", "followUpDate") else value.strip()
    for el in node.xpath("./bpmn:extensionElements/*", namespaces={"bpmn": node.nsmap.get("bpmn") or BPMN_NS}):
        namespace, localname = _split_tag(el.tag)
        if namespace == CAMUNDA_NS and localname == "properties":  # a task's camunda:property pairs
            props = {p.get("name"): (p.get("value") or "").strip() for p in el if _split_tag(p.tag)[1] == "property"}
            ext.setdefault("properties", {}).update(props)
        elif namespace == SPIFF_NS:
            if localname == "properties":
                props = {p.get("name"): p.get("value") for p in el if _split_tag(p.tag)[1] == "property"}
                ext.setdefault("properties", {}).update(props)
                if "formKey" in props:
                    ext.setdefault("formKey", props["formKey"])
                if props.get("formJsonSchemaFilename"):  # spiff-arena's form: review-schema.json -> review
                    ext.setdefault("formKey", spiff_form_name(props["formJsonSchemaFilename"]))
            elif len(el) == 0:
                ext[localname] = (el.text or "").strip()
        elif namespace == CAMUNDA_NS and localname == "properties":  # only what hall reads of them
            for p in el:
                if _split_tag(p.tag)[1] == "property" and p.get("name") in MESSAGE_PROPERTIES and p.get("value"):
                    ext[p.get("name")] = p.get("value").strip()
    for name in MESSAGE_PROPERTIES:
        if (ext.get("properties") or {}).get(name):
            ext.setdefault(name, ext["properties"][name].strip())
    return ext


def _split_tag(tag: Any) -> tuple[str | None, str | None]:
    """An lxml tag `{namespace}local` as (namespace, local); (None, None) for comments and the like."""
    if not isinstance(tag, str):
        return None, None
    if tag.startswith("{"):
        namespace, _, local = tag[1:].partition("}")
        return namespace, local
    return None, tag


# A process's extension properties (Camunda Modeler: the process's "Extension properties";
# spiff-arena: spiffworkflow:properties) that hall reads: the variable that holds the case's
# business key, and whether no two cases of the process may share one.
BUSINESS_KEY = "businessKey"
# A message event's (or send/receive task's) extension property: the expression, on the case's
# variables, whose value is the message's correlation key (issue 12); else the case's business key.
CORRELATION_KEY = "correlationKey"
# A throwing element's extension property: `true` when a message nobody waits for may be dropped
# (recorded in the sender's history) instead of failing the element (issue 12).
MESSAGE_OPTIONAL = "messageOptional"
MESSAGE_PROPERTIES = (CORRELATION_KEY, MESSAGE_OPTIONAL)
BUSINESS_KEY_UNIQUE = "businessKeyUnique"


def process_properties(node: Any) -> dict[str, str]:
    """The camunda:property / spiffworkflow:property name-value pairs of an element (a process)."""
    found = node.xpath(
        "./bpmn:extensionElements/camunda:properties/camunda:property"
        " | ./bpmn:extensionElements/spiffworkflow:properties/spiffworkflow:property",
        namespaces={**NS, "bpmn": node.nsmap.get("bpmn") or BPMN_NS},
    )
    return {p.get("name"): (p.get("value") or "").strip() for p in found if p.get("name")}


def business_key_of(node: Any) -> tuple[str | None, bool]:
    """(the variable holding the business key, whether it is unique) that a process declares."""
    props = process_properties(node)
    return props.get(BUSINESS_KEY) or None, is_true(props.get(BUSINESS_KEY_UNIQUE))


def business_key_in_source(source: str | bytes, process_id: str) -> tuple[str | None, bool]:
    """``business_key_of`` for the process of that id in a stored BPMN document."""
    from lxml import etree

    data = source.encode("utf-8") if isinstance(source, str) else source
    root = etree.fromstring(data, parser=etree.XMLParser(resolve_entities=False))
    for node in root.iter(f"{{{BPMN_NS}}}process"):
        if node.get("id") == process_id:
            return business_key_of(node)
    return None, False
