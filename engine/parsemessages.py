"""SpiffWorkflow's parser messages rewritten for the people who read `hall validate`: no Python
repr (``<Element … at 0x…>``, ``NotImplementedError('…', b'<bpmn:…>')``), no half sentence ("not
supported for tasks of type."), no doubled full stop. The finding already names the element and its
line, so the rewrite names the element's kind where the library left it out.
"""

from __future__ import annotations

import re

_ELEMENT_REPR = re.compile(r"<Element \{[^}]*\}(\w+) at 0x[0-9a-fA-F]+>")
_EXCEPTION_REPR = re.compile(r"^(\w+(?:Error|Exception))\((.*)\)\s*\.?$", re.S)
_QUOTED = re.compile(r"""^\s*(['"])(.*?)\1""", re.S)
_BYTES = re.compile(r"""b(['"])<.*?\1""", re.S)


def plain_message(message: str, kind: str | None = None) -> str:
    """One line without Python reprs, saying what is wrong; ``kind`` is the element's tag
    (`boundaryEvent`) when the finding's element is known."""
    text = " ".join(message.split())
    what = kind or "element"
    if text.startswith("Multiple outgoing flows are not supported for tasks of type"):
        return f"several outgoing sequence flows leave this {what}: not supported here, draw a gateway after it"
    if text.startswith("There is no support implemented for this task type"):
        return f"{what} is not supported"
    found = _EXCEPTION_REPR.match(text)
    if found:
        name, args = found.groups()
        first = _QUOTED.match(args)
        said = first.group(2) if first else _BYTES.sub("", args).strip(" ,'\"")
        said = said.replace("%r", "").replace("%s", "").strip(" :")
        if name == "NotImplementedError" and said.lower().startswith("unsupported catch event"):
            return f"this {what} has no event definition hall can run"
        text = f"{said} ({name})" if said else name
    text = _ELEMENT_REPR.sub(lambda m: m.group(1), text)
    text = _BYTES.sub("the element", text)
    text = re.sub(r"\s*\.(\s*\.)+", ".", text).strip()
    return text.rstrip(". ") if text.endswith(".") else text
