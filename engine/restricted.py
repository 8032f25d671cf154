"""The restricted environment every script, condition and expression of a diagram runs in (issue 15).

Scripts are compiled with RestrictedPython's ``compile_restricted`` and hall's own checks: no
imports, no names or attributes starting with ``_`` (so no ``().__class__.__base__.__subclasses__()``
walk), no ``open``/``eval``/``exec``/``compile``/``globals``/``__import__``. They see only safe
builtins, the value types ``datetime``, ``date``, ``time``, ``timedelta``, ``timezone``,
``Decimal``, and the hall's script functions (``scriptlib``). Item assignment works on the case's
dicts and lists, ``+=`` on names, iteration through a guard.

The time limit is a guard compiled into the script, not a signal or a thread: every ``while`` body,
function and lambda call and every item a loop or comprehension takes calls ``_tick_``, which raises
``ScriptTimeout`` once the run is past its deadline (and again on every later tick, so a script
cannot catch it and loop on). Unlike ``signal.alarm`` it works in any thread (an API inside a web
server, the worker's threads), leaves SIGALRM to its owner (pytest-timeout, the host), and unlike
``sys.settrace`` it does not slow every line or displace a debugger or coverage tracer. What it
cannot stop is one long C-level operation; ``range`` is capped so none over a huge range starts.

RestrictedPython itself is imported when the first script or condition is compiled or run
(``_restricting``), not with this module: commands that read cases (``hall tasks``, ``hall show``)
run no script and never load it.
"""

from __future__ import annotations

import ast
import functools
import re
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from datetime import date, datetime, timedelta, timezone
from datetime import time as dt_time
from decimal import Decimal
from types import SimpleNamespace
from typing import Any

DEFAULT_TIMEOUT = 2.0  # seconds a script, condition or expression may run (hall.yaml scripts.timeout)
RANGE_LIMIT = 1_000_000  # the most numbers one range() may hold

# Builtins a script must never reach; named in `hall validate` findings and refused at compile time.
FORBIDDEN_BUILTINS = frozenset(
    ("open", "eval", "exec", "compile", "locals", "vars", "breakpoint", "input", "__import__")
)
VALUE_TYPES: dict[str, Any] = {
    "datetime": datetime,
    "date": date,
    "time": dt_time,
    "timedelta": timedelta,
    "timezone": timezone,
    "Decimal": Decimal,
}


class ScriptRefused(SyntaxError):
    """A script uses a construct the restricted environment refuses (import, `_` names, open...)."""

    def __init__(self, message: str, line: int | None) -> None:
        super().__init__(message)
        self.reason, self.lineno = message, line


class ScriptTimeout(Exception):
    """A script ran longer than the configured limit (hall.yaml `scripts: {timeout: …}`)."""


def _limited_range(*args: int) -> range:
    """range(), refused when it would hold more than RANGE_LIMIT numbers (one C loop over it
    could not be stopped by the time limit)."""
    numbers = range(*args)
    if len(numbers) > RANGE_LIMIT:
        raise ValueError(f"range of {len(numbers)} numbers is over the scripts' limit of {RANGE_LIMIT}")
    return numbers


def _guarded_getattr(obj: Any, name: str, *default: Any) -> Any:
    """getattr() for scripts: RestrictedPython's, which refuses `_` names and str.format."""
    return _restricting().safer_getattr(obj, name, *default)


_MISSING = object()


def _guarded_hasattr(obj: Any, name: str) -> bool:
    """hasattr() for scripts, with getattr()'s guard."""
    return _guarded_getattr(obj, name, _MISSING) is not _MISSING


def _inplace(op: str, left: Any, right: Any) -> Any:
    """`x += y` and the other augmented assignments on names."""
    return _INPLACE[op](left, right)


_INPLACE: dict[str, Callable[[Any, Any], Any]] = {
    "+=": lambda a, b: a + b,
    "-=": lambda a, b: a - b,
    "*=": lambda a, b: a * b,
    "/=": lambda a, b: a / b,
    "//=": lambda a, b: a // b,
    "%=": lambda a, b: a % b,
    "**=": lambda a, b: a**b,
    "<<=": lambda a, b: a << b,
    ">>=": lambda a, b: a >> b,
    "|=": lambda a, b: a | b,
    "^=": lambda a, b: a ^ b,
    "&=": lambda a, b: a & b,
    "@=": lambda a, b: a @ b,
}

_EXTRA_BUILTINS = (
    list,
    dict,
    set,
    frozenset,
    tuple,
    sorted,
    min,
    max,
    sum,
    any,
    all,
    enumerate,
    zip,
    map,
    filter,
    reversed,
    next,
    format,
)


@functools.cache
def _restricting() -> SimpleNamespace:
    """RestrictedPython, imported once the first script is compiled or run: its compilers, guards
    and the scripts' builtins (`builtins`) and node transformer (`transformer`) built on it."""
    from RestrictedPython import (
        RestrictingNodeTransformer,
        compile_restricted_eval,
        compile_restricted_exec,
        safe_builtins,
    )
    from RestrictedPython.Eval import default_guarded_getitem
    from RestrictedPython.Guards import (
        full_write_guard,
        guarded_iter_unpack_sequence,
        guarded_unpack_sequence,
        safer_getattr,
    )
    from RestrictedPython.PrintCollector import PrintCollector

    class Transformer(RestrictingNodeTransformer):
        """RestrictedPython's checks, and a `_tick_()` (the time limit) in each while loop, function and lambda."""

        def visit_While(self, node: ast.While) -> Any:
            loop: Any = super().visit_While(node)
            loop.body.insert(0, _tick_statement(loop))
            return loop

        def visit_FunctionDef(self, node: ast.FunctionDef) -> Any:
            func: Any = super().visit_FunctionDef(node)
            func.body.insert(0, _tick_statement(func))
            return func

        def visit_Lambda(self, node: ast.Lambda) -> Any:
            func: Any = super().visit_Lambda(node)
            func.body = ast.copy_location(ast.Call(ast.Name("_tick_", ast.Load()), [func.body], []), func.body)
            return ast.fix_missing_locations(func)

    builtins: dict[str, Any] = {
        **{k: v for k, v in safe_builtins.items() if k not in FORBIDDEN_BUILTINS and not k.startswith("_")},
        **{fn.__name__: fn for fn in _EXTRA_BUILTINS},
        "range": _limited_range,
        "getattr": _guarded_getattr,
        "hasattr": _guarded_hasattr,
        "__build_class__": safe_builtins["__build_class__"],
    }
    return SimpleNamespace(
        builtins=builtins,
        transformer=Transformer,
        compile_eval=compile_restricted_eval,
        compile_exec=compile_restricted_exec,
        safer_getattr=safer_getattr,
        guarded_getitem=default_guarded_getitem,
        iter_unpack_sequence=guarded_iter_unpack_sequence,
        unpack_sequence=guarded_unpack_sequence,
        write_guard=full_write_guard,
        print_collector=PrintCollector,
    )


def _tick_statement(near: ast.AST) -> ast.stmt:
    return ast.fix_missing_locations(
        ast.copy_location(ast.Expr(ast.Call(ast.Name("_tick_", ast.Load()), [], [])), near)
    )


def problems(source: str, mode: str = "exec") -> list[tuple[int, str]]:
    """(line, what) for each construct the environment refuses, e.g. (3, "uses import"); syntax
    errors too. Empty when the script may run."""
    try:
        tree = ast.parse(source, "<script>", mode)
    except SyntaxError as exc:
        return [(exc.lineno or 1, f"does not compile: {exc.msg}")]
    except ValueError as exc:
        return [(1, f"does not compile: {exc}")]
    found: list[tuple[int, int, str]] = []
    for node in ast.walk(tree):
        line = getattr(node, "lineno", 1)
        at = (line, getattr(node, "end_col_offset", 0) or 0)
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            found.append((*at, "uses import"))
        elif isinstance(node, ast.Attribute) and node.attr.startswith("_"):
            kind = "dunder" if node.attr.startswith("__") else "private"
            found.append((*at, f"uses {kind} attribute {node.attr}"))
        elif isinstance(node, ast.Name) and node.id in FORBIDDEN_BUILTINS:
            found.append((*at, f"uses forbidden builtin {node.id}"))
        elif (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Name)
            and node.func.id in ("getattr", "hasattr")
            and len(node.args) > 1
            and isinstance(node.args[1], ast.Constant)
            and isinstance(node.args[1].value, str)
            and node.args[1].value.startswith("_")
        ):
            kind = "dunder" if node.args[1].value.startswith("__") else "private"
            found.append((*at, f"uses {kind} attribute {node.args[1].value}"))
        elif isinstance(node, ast.Name) and node.id.startswith("_"):
            found.append((*at, f"uses name {node.id} (names starting with _ are the environment's)"))
    if found:  # in reading order: `().__class__.__base__` names __class__ first
        return list(dict.fromkeys((line, what) for line, _col, what in sorted(found)))
    result = _restricted(tree, mode)
    return [_parse_error(err) for err in result.errors]


def _parse_error(error: str) -> tuple[int, str]:
    """RestrictedPython's 'Line 3: Import statements are not allowed.' as (3, 'is refused: ...')."""
    match = re.match(r"Line (\d+): (.*)", error)
    if match:
        return int(match.group(1)), f"is refused: {match.group(2).rstrip('.')}"
    return 1, f"is refused: {error}"


def _restricted(tree: Any, mode: str) -> Any:
    rp = _restricting()
    compiler = rp.compile_eval if mode == "eval" else rp.compile_exec
    return compiler(tree, "<string>", policy=rp.transformer)


@functools.lru_cache(maxsize=4096)
def compile_script(source: str, mode: str = "exec") -> Any:
    """The restricted code of a script ("exec") or expression ("eval"), compiled once per text;
    ScriptRefused names the first refused construct and its line."""
    found = problems(source, mode)
    if found:
        line, what = found[0]
        raise ScriptRefused(f"script {what}", line)
    tree = ast.parse(source, "<string>", mode)
    return _restricted(tree, mode).code


class _Clock:
    """The time limit of one run: `tick` raises ScriptTimeout once the deadline has passed."""

    __slots__ = ("deadline", "expired", "limit", "ticks")

    def __init__(self, limit: float) -> None:
        self.limit = limit
        self.deadline = time.monotonic() + limit
        self.ticks = 0
        self.expired = False

    def tick(self, value: Any = None) -> Any:
        self.ticks += 1
        if self.expired or (self.ticks & 63 == 0 and time.monotonic() > self.deadline):
            self.expired = True
            raise ScriptTimeout(f"script ran longer than {self.limit:g} s (the limit, hall.yaml scripts.timeout)")
        return value

    def getiter(self, ob: Iterable[Any]) -> Iterator[Any]:
        tick = self.tick
        for item in ob:
            tick()
            yield item


def environment(functions: Mapping[str, Any], clock: _Clock, data: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """The globals one run of a script sees: safe builtins, guards, value types, script functions,
    and `globals()`: a copy of the case's variables in `data` (diagrams read an optional variable with
    `globals().get('渠道')`), never the run's real globals with the guards."""

    def variables() -> dict[str, Any]:
        return {
            k: v
            for k, v in (data or {}).items()
            if k not in ENVIRONMENT and k not in functions and not k.startswith("_") and not callable(v)
        }

    rp = _restricting()
    return {
        "__builtins__": rp.builtins,
        "__name__": "script",
        "__metaclass__": type,
        "_getattr_": rp.safer_getattr,
        "_getitem_": rp.guarded_getitem,
        "_getiter_": clock.getiter,
        "_iter_unpack_sequence_": rp.iter_unpack_sequence,
        "_unpack_sequence_": rp.unpack_sequence,
        "_write_": rp.write_guard,
        "_inplacevar_": _inplace,
        "_print_": rp.print_collector,
        "_apply_": lambda f, *a, **kw: f(*a, **kw),
        "_tick_": clock.tick,
        "globals": variables,
        **VALUE_TYPES,
        **functions,
    }


# The names every run's globals hold besides the script functions: those `environment` sets, written
# out so that knowing them loads no RestrictedPython (a unit test checks they are the same).
ENVIRONMENT: frozenset[str] = frozenset(
    (
        "__builtins__",
        "__name__",
        "__metaclass__",
        "_getattr_",
        "_getitem_",
        "_getiter_",
        "_iter_unpack_sequence_",
        "_unpack_sequence_",
        "_write_",
        "_inplacevar_",
        "_print_",
        "_apply_",
        "_tick_",
        "globals",
        *VALUE_TYPES,
    )
)
# Names the environment defines besides the script functions, and the forbidden builtins: a variable
# of such a name is refused where data enters. Builtins such as `len` or `id` may be variables (a
# form's field `id`); a script then sees the variable.
RESERVED = ENVIRONMENT | FORBIDDEN_BUILTINS


def shadowing(names: Iterable[Any], functions: Iterable[str] = ()) -> str | None:
    """The first variable name that would shadow the script environment (`__builtins__`, `globals`,
    a name starting with `_`, a value type, a script function), or None."""
    own = set(functions)
    for name in names:
        if isinstance(name, str) and (name.startswith("_") or name in RESERVED or name in own):
            return name
    return None


def evaluate(expression: str, data: Mapping[str, Any], functions: Mapping[str, Any], limit: float) -> Any:
    """The value of an expression on `data`, restricted and within `limit` seconds."""
    clock = _Clock(limit)
    scope = dict(data)
    scope.update(environment(functions, clock, data))
    value = eval(compile_script(expression, "eval"), scope)  # noqa: S307 - restricted code
    if clock.expired:
        raise ScriptTimeout(f"script ran longer than {limit:g} s (the limit, hall.yaml scripts.timeout)")
    return value


def execute(script: str, data: dict[str, Any], functions: Mapping[str, Any], limit: float) -> None:
    """Run a script on `data` (its globals: assignments land there), restricted and within `limit`
    seconds; the names of ``ENVIRONMENT`` and `functions` are left in `data` for the caller to take out."""
    code = compile_script(script, "exec")
    clock = _Clock(limit)
    data.update(environment(functions, clock, data))
    exec(code, data)  # noqa: S102 - restricted code
    if clock.expired:
        raise ScriptTimeout(f"script ran longer than {limit:g} s (the limit, hall.yaml scripts.timeout)")


def parse_timeout(value: Any) -> float:
    """hall.yaml's scripts.timeout: seconds as a number or text (`2`, `2.5 seconds`, `500 ms`)."""
    if isinstance(value, bool):
        raise ValueError("scripts.timeout: must be a duration like `2 seconds`")
    if isinstance(value, (int, float)):
        seconds = float(value)
    else:
        match = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*(ms|s|sec|secs|second|seconds)?\s*", str(value))
        if not match:
            raise ValueError(f"scripts.timeout: {value!r} is not a duration like `2 seconds` or `500 ms`")
        seconds = float(match.group(1)) / (1000 if match.group(2) == "ms" else 1)
    if not 0 < seconds <= 3600:
        raise ValueError(f"scripts.timeout: {value!r} must be more than 0 and at most an hour")
    return seconds


def timeout_of(settings: Mapping[str, Any]) -> float:
    """The time limit configured in settings (hall.yaml `scripts: {timeout: 2 seconds}`), else the default."""
    section = settings.get("scripts") or {}
    if not isinstance(section, Mapping):
        raise ValueError("scripts: must be a mapping like {timeout: 2 seconds}")
    for key in section:
        if key != "timeout":
            raise ValueError(f"scripts.{key}: unknown key (known: timeout)")
    return parse_timeout(section["timeout"]) if "timeout" in section else DEFAULT_TIMEOUT
