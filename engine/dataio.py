"""Reading variables given on the command line (`--set k=v`) or in a YAML/JSON file (`--data`), and
the limits every value entering a case keeps (`check_value`): text that is UTF-8, finite numbers of at
most 30 digits, at most 32 levels of nesting and 100,000 values, so that nothing a user types or a
file holds ends in a traceback, a hang, or a document `show --json` cannot print as JSON.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from .errors import DataInvalid

MAX_DEPTH = 32  # lists and mappings inside each other
MAX_VALUES = 100_000  # values in one document (a YAML alias bomb expands to millions)
MAX_DIGITS = 30  # an integer's digits: longer numbers are identifiers, kept as text
MAX_KEY = 200  # ids and keys: the VARCHAR(200) columns, refused alike on both databases


def text_problem(text: str) -> str | None:
    """Why `text` cannot be stored (a lone surrogate: bytes that were not UTF-8), or None."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return "is not UTF-8 text (it holds bytes that are not UTF-8 or a lone surrogate)"
    return None


def check_key(text: Any, what: str) -> None:
    """An id or key a user gives (a process id, a business key): text of at most MAX_KEY characters,
    the same rule on SQLite and PostgreSQL (whose VARCHAR(200) columns refused what SQLite took)."""
    if not isinstance(text, str):
        raise DataInvalid(what, f"must be text, not {type(text).__name__}")
    why = text_problem(text)
    if why:
        raise DataInvalid(f"{what} '{shown(text)}'", why)
    if len(text) > MAX_KEY:
        raise DataInvalid(f"{what} {text[:20]!r}…", f"is {len(text)} characters long (at most {MAX_KEY})")


def shown(text: str) -> str:
    """`text` printable on one line whatever it holds: bytes that are not UTF-8 and control
    characters escaped (\\udcff, \\n)."""
    text = text.encode("utf-8", "backslashreplace").decode("utf-8")
    return "".join(c if c.isprintable() or c == " " else c.encode("unicode_escape").decode("ascii") for c in text)


def check_value(value: Any, source: str = "data") -> None:
    """DataInvalid (naming `source` and the variable) unless every part of `value` can be stored and
    printed as JSON: text that is UTF-8, finite numbers of at most MAX_DIGITS digits, nesting and size
    within MAX_DEPTH / MAX_VALUES. Iterative, so no nesting depth reaches Python's recursion limit."""
    count = 0
    stack: list[tuple[Any, str, int]] = [(value, "", 0)]
    while stack:
        item, where, depth = stack.pop()
        count += 1
        if count > MAX_VALUES:
            raise DataInvalid(source, f"holds more than {MAX_VALUES:,} values")
        at = f" ({where})" if where else ""
        if isinstance(item, str):
            why = text_problem(item)
            if why:
                raise DataInvalid(shown(source), f"a value{at} {why}")
        elif isinstance(item, bool) or item is None:
            continue
        elif isinstance(item, int):
            if abs(item) >= 10**MAX_DIGITS:
                raise DataInvalid(source, f"a number{at} has more than {MAX_DIGITS} digits: write it as text")
        elif isinstance(item, float):
            if not math.isfinite(item):
                raise DataInvalid(source, f"a number{at} is not finite ({item}): give a real number")
        elif isinstance(item, (Mapping, list, tuple)):
            if depth >= MAX_DEPTH:
                raise DataInvalid(source, f"nests lists or mappings deeper than {MAX_DEPTH} levels{at}")
            pairs = item.items() if isinstance(item, Mapping) else enumerate(item)
            for key, inner in pairs:
                if isinstance(key, str) and text_problem(key):
                    raise DataInvalid(shown(source), f"a name{at} is not UTF-8 text: '{shown(key)}'")
                stack.append((inner, f"{where}.{key}" if where else str(key), depth + 1))


def parse_assignments(items: Iterable[str]) -> dict[str, Any]:
    """`name=value` keeps the value as text (the task's form converts it to its type);
    `name:=value` reads it as JSON (`n:=5`, `ok:=true`, `tags:='["a"]'`) for data no form types."""
    import json

    out: dict[str, Any] = {}
    for item in items:
        name, sep, value = item.partition("=")
        typed = name.endswith(":")
        name = name[:-1].strip() if typed else name.strip()
        if not sep or not name:
            raise DataInvalid(f"--set {shown(item)}", "expected NAME=VALUE (text) or NAME:=JSON")
        if not name.isidentifier() or text_problem(name):
            raise DataInvalid(f"--set {shown(item)}", f"{shown(name)!r} is not a valid variable name")
        if typed:
            try:
                out[name] = json.loads(value)
            except json.JSONDecodeError as exc:
                raise DataInvalid(f"--set {shown(item)}", f"not valid JSON after ':=': {exc.msg}") from None
            except (ValueError, RecursionError) as exc:  # a number past Python's digits limit, deep nesting
                what = "nested too deeply" if isinstance(exc, RecursionError) else str(exc).split(";")[0]
                raise DataInvalid(f"--set {shown(name)}", f"not storable JSON after ':=': {what}") from None
        else:
            out[name] = value
        check_value(out[name], f"--set {shown(name)}")
    return out


def read_data_file(path: str | Path) -> dict[str, Any]:
    """A mapping from a .yaml/.yml/.json file; errors name the file and line."""
    from ruamel.yaml import YAML
    from ruamel.yaml.error import MarkedYAMLError, YAMLError

    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise DataInvalid(str(p), "no such file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise DataInvalid(str(p), f"cannot read: {exc}") from None
    try:
        data = YAML(typ="safe", pure=True).load(text)  # JSON is YAML
    except MarkedYAMLError as exc:
        mark = exc.problem_mark
        line = mark.line + 1 if mark is not None else 1
        raise DataInvalid(f"{p}:{line}", f"not valid YAML/JSON: {exc.problem}") from None
    except YAMLError as exc:
        raise DataInvalid(str(p), f"not valid YAML/JSON: {shown(str(exc)).splitlines()[0]}") from None
    except RecursionError:
        raise DataInvalid(str(p), f"nests lists or mappings deeper than {MAX_DEPTH} levels") from None
    except (ValueError, OverflowError) as exc:  # a date such as 2026-02-30, a number past the digits limit
        why = f"not valid YAML/JSON: {str(exc).split(';')[0]}"
        found = _unmakeable_value(text)
        if found is None:
            raise DataInvalid(str(p), why) from None
        line, field = found
        raise DataInvalid(f"{p}:{line}", f"{field}: {why}") from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise DataInvalid(str(p), "must contain a mapping of variable names to values")
    check_value(data, str(p))  # before copying: an alias bomb stops here, not after millions of copies
    return plain(data)


def _unmakeable_value(text: str) -> tuple[int, str] | None:
    """The line and field (`signed`, `items[2].date`) of the first value in a YAML/JSON document that
    the loader cannot make (a date such as 2026-02-30, a number past Python's digits limit), found
    on its composed nodes, each visited once (an alias bomb is not expanded); None if none is found."""
    from ruamel.yaml import YAML
    from ruamel.yaml.nodes import MappingNode, ScalarNode, SequenceNode

    yaml = YAML(typ="safe", pure=True)
    try:
        root = yaml.compose(text)
    except Exception:  # the document's shape is fine (it got as far as making values); be safe anyway
        return None
    stack: list[tuple[Any, str]] = [(root, "")]
    seen: set[int] = set()
    while stack:
        node, field = stack.pop()
        if node is None or id(node) in seen:
            continue
        seen.add(id(node))
        if isinstance(node, MappingNode):
            named = [(v, f"{field}.{_key(k)}" if field else _key(k)) for k, v in node.value]
            stack.extend(reversed(named))  # popped in the file's order
        elif isinstance(node, SequenceNode):
            stack.extend(reversed([(v, f"{field}[{i}]") for i, v in enumerate(node.value)]))
        elif isinstance(node, ScalarNode):
            try:
                yaml.constructor.construct_object(node, deep=True)
            except (ValueError, OverflowError):
                return node.start_mark.line + 1, field or "the document"
    return None


def _key(node: Any) -> str:
    """A mapping key as a field's name in a message."""
    return shown(str(node.value)) if isinstance(node.value, str) else "?"


def plain(value: Any) -> Any:
    """Plain dicts/lists from YAML; dates become ISO text so they store and compare like form values."""
    import datetime as dt

    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [plain(v) for v in value]
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    return value
