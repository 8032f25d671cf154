"""Scripts and conditions run restricted (issue 15): the script engine's environment refuses imports,
`_` names and attributes, the dangerous builtins, and stops an endless loop at the time limit, while
what the hall's diagrams do (comprehensions, item assignment, +=, functions, print) still works.

No database: the script engine the runtime uses, its environment called directly.
"""

from __future__ import annotations

import time
from datetime import date, datetime
from pathlib import Path

import pytest
from hall.engine.spiff import HallScriptEngine
from hall.engine.timing import CalendarDeadlines


def restricted():
    """hall.engine.restricted, imported where used: on a hall without it the tests of the script
    engine fail for what they show, not at collection."""
    from hall.engine import restricted as module

    return module


def _environment(timeout: float | None = None, **functions):
    limit = {"timeout": timeout} if timeout is not None else {}
    engine = HallScriptEngine(functions, lambda *a: None, lambda *a: None, **limit)
    return engine.environment


def run(script: str, data: dict | None = None, timeout: float | None = None, **functions) -> dict:
    """The data after the script ran in the engine's environment."""
    data = dict(data or {})
    _environment(timeout, **functions).execute(script, data)
    return data


def value(expression: str, data: dict | None = None, timeout: float | None = None) -> object:
    return _environment(timeout).evaluate(expression, dict(data or {}))


# -- what is refused ---------------------------------------------------------------------------
@pytest.mark.parametrize(
    "script",
    [
        "import os\nos.system('touch {marker}')",
        "from os import system\nsystem('touch {marker}')",
        "__import__('os').system('touch {marker}')",
        "os.system('touch {marker}')",
        "().__class__.__base__.__subclasses__()",
        "[c for c in ().__class__.__base__.__subclasses__() if c.__name__ == 'Popen'][0](['touch', '{marker}'])",
        "open('{marker}', 'w').write('x')",
        "eval(\"__import__('os').system('touch {marker}')\")",
        "exec(\"import os; os.system('touch {marker}')\")",
        "compile('1', 'x', 'eval')",
        "g = globals()['__builtins__']",
        "getattr((), '__class__')",
        "getattr((), '_' + '_class__').__base__",
        "(lambda: 0).__globals__",
        "f = (x for x in []); f.gi_frame.f_globals",
        "'{{0.__class__}}'.format(1)",
        "vars()",
        "locals()",
    ],
)
def test_a_hostile_script_is_refused_and_does_nothing(script: str, tmp_path: Path) -> None:
    marker = tmp_path / "touched"
    with pytest.raises(Exception):  # noqa: B017 - refused at compile time or stopped at run time
        run(script.format(marker=marker))
    assert not marker.exists()


def test_reading_a_file_is_refused() -> None:
    with pytest.raises(SyntaxError, match="uses forbidden builtin open"):
        run("name = open('/etc/hostname').read()")


def test_import_socket_is_refused_at_its_line() -> None:
    with pytest.raises(SyntaxError, match="uses import") as caught:
        run("x = 1\nimport socket")
    assert caught.value.lineno == 2


def test_a_condition_is_restricted_too() -> None:
    assert value("amount > 10 and len(tags) == 2", {"amount": 11, "tags": ["a", "b"]}) is True
    with pytest.raises(SyntaxError, match="dunder attribute __class__"):
        value("().__class__.__base__.__subclasses__()")
    with pytest.raises(SyntaxError, match="forbidden builtin __import__"):
        value("__import__('os').getcwd()")
    with pytest.raises(AttributeError, match="starts with"):
        value("getattr(x, name)", {"x": (), "name": "__class__"})


def test_the_subclasses_walk_is_refused_even_spelled_at_run_time() -> None:
    script = "name = '_' * 2 + 'class' + '_' * 2\nk = getattr((), name)"
    with pytest.raises(AttributeError, match="starts with"):
        run(script)


def test_data_cannot_bring_the_builtins_back() -> None:
    """A variable named like the environment is replaced by the environment's own while a script runs."""
    import builtins

    with pytest.raises(Exception):  # noqa: B017
        run("x = __builtins__", {"__builtins__": vars(builtins)})
    with pytest.raises(NameError, match="'type' is not defined"):
        run("x = type(1)", {"__builtins__": vars(builtins)})


# -- the time limit ----------------------------------------------------------------------------
@pytest.mark.parametrize(
    "script",
    [
        "while True:\n    pass",
        "n = 0\nwhile n >= 0:\n    n += 1",
        "def forever():\n    while True:\n        yield 1\nfor x in forever():\n    pass",
        "def f(n):\n    return 1 if n == 0 else f(n - 1) + f(n - 1)\nx = f(60)",
        "f = lambda n: 1 if n == 0 else f(n - 1) + f(n - 1)\nx = f(60)",
        "x = [1 for a in range(10**6) for b in range(10**6)]",
        "while True:\n    try:\n        while True:\n            pass\n    except BaseException:\n        pass",
        "def f():\n    try:\n        while True:\n            pass\n    finally:\n        return 1\nx = f()",
    ],
)
def test_an_endless_script_is_stopped_at_the_limit(script: str) -> None:
    began = time.monotonic()
    with pytest.raises(restricted().ScriptTimeout, match=r"longer than 0.3 s"):
        run(script, timeout=0.3)
    assert time.monotonic() - began < 2.0


def test_an_endless_condition_is_stopped_at_the_limit() -> None:
    began = time.monotonic()
    with pytest.raises(restricted().ScriptTimeout):
        value("sum(1 for a in range(10**6) for b in range(10**6))", timeout=0.3)
    assert time.monotonic() - began < 2.0


def test_one_huge_range_is_refused_rather_than_run() -> None:
    with pytest.raises(ValueError, match="over the scripts' limit"):
        run("total = sum(range(10**12))")


def test_the_limit_is_configured_in_hall_yaml() -> None:
    assert restricted().timeout_of({}) == restricted().DEFAULT_TIMEOUT == 2.0
    assert restricted().timeout_of({"scripts": {"timeout": "5 seconds"}}) == 5.0
    assert restricted().timeout_of({"scripts": {"timeout": "500 ms"}}) == 0.5
    assert restricted().timeout_of({"scripts": {"timeout": 3}}) == 3.0
    for bad in ({"timeout": "forever"}, {"timeout": 0}, {"timeout": True}, {"limit": 2}):
        with pytest.raises(ValueError, match=r"scripts\."):
            restricted().timeout_of({"scripts": bad})


# -- what diagrams do keeps working ------------------------------------------------------------
def test_what_the_halls_diagrams_do_still_works() -> None:
    script = "\n".join(
        [
            "doubled = [x * 2 for x in amounts]",
            "by_name = {k: v for k, v in pairs}",
            "unique = sorted({x % 3 for x in amounts})",
            "record['inner']['n'] = 2",
            "items.append(4)",
            "del record['gone']",
            "count = 0",
            "for a, b in pairs:",
            "    count += b",
            "text = f'{count} 件'",
            "text += '!'",
            "def bump(n):",
            "    return n + 1",
            "bumped = bump(count)",
            "first = next(iter_me for iter_me in amounts)",
            "print('debug line')",
            "later = date(2026, 11, 24) + timedelta(days=2)",
            "at = datetime(2026, 11, 24, 9).isoformat()",
            "fee = str(Decimal('1.10') * 2)",
            "channel = globals().get('渠道') or '窗口'",
            "missing = globals().get('不存在')",
            "n = max(len(items), min(amounts), abs(-3))",
            "ok = isinstance(items, list) and any(amounts) and all(amounts)",
            "joined = ', '.join(str(i) for i in items)",
            "upper = '是否'.upper() + 'ab'.upper()",
            "pairs_sorted = sorted(pairs, key=lambda p: -p[1])",
            "number = next_number('complaint')",
        ]
    )
    data = {
        "amounts": [1, 2, 3],
        "pairs": [["a", 1], ["b", 2]],
        "record": {"inner": {"n": 1}, "gone": 1},
        "items": [1, 2, 3],
        "渠道": "热线",
    }
    out = run(script, data, next_number=lambda kind: f"TS-{kind}")
    assert out["doubled"] == [2, 4, 6] and out["by_name"] == {"a": 1, "b": 2} and out["unique"] == [0, 1, 2]
    assert out["record"] == {"inner": {"n": 2}} and out["items"] == [1, 2, 3, 4]
    assert (out["count"], out["text"], out["bumped"], out["first"]) == (3, "3 件!", 4, 1)
    assert out["later"] == date(2026, 11, 26) and out["at"] == datetime(2026, 11, 24, 9).isoformat()
    assert out["fee"] == "2.20" and out["channel"] == "热线" and out["missing"] is None
    assert (out["n"], out["ok"], out["joined"], out["upper"]) == (4, True, "1, 2, 3, 4", "是否AB")
    assert out["pairs_sorted"] == [["b", 2], ["a", 1]] and out["number"] == "TS-complaint"
    # the environment leaves nothing behind in the case's data: no builtins, guards, functions
    assert not [k for k in out if k.startswith("_") or callable(out[k])]
    assert "globals" not in out and "next_number" not in out and "datetime" not in out


def test_value_types_are_there_for_expressions() -> None:
    assert value("timedelta(hours=1) < timedelta(days=1)") is True
    assert value("Decimal('0.1') + Decimal('0.2') == Decimal('0.3')") is True


# -- `hall validate`'s findings ----------------------------------------------------------------
def test_problems_name_each_refused_construct_at_its_line() -> None:
    script = "x = 1\nimport socket\ny = ().__class__\nz = open('/etc/hostname')\nw = getattr(x, '__dict__')"
    assert restricted().problems(script) == [
        (2, "uses import"),
        (3, "uses dunder attribute __class__"),
        (4, "uses forbidden builtin open"),
        (5, "uses dunder attribute __dict__"),
    ]
    assert restricted().problems("__import__('os')", "eval") == [(1, "uses forbidden builtin __import__")]
    assert restricted().problems("x._secret", "eval") == [(1, "uses private attribute _secret")]
    assert restricted().problems("amount > 1 and '低' in level", "eval") == []
    assert restricted().problems("x = = 1") == [(1, "does not compile: invalid syntax")]


def test_a_deadline_expression_is_restricted() -> None:
    deadlines = CalendarDeadlines.from_settings({"scripts": {"timeout": "300 ms"}})
    assert deadlines.timeout == 0.3
    assert deadlines.problem("=().__class__") == "expression uses dunder attribute __class__"
    assert deadlines.problem("=联系截止时间") is None
    with pytest.raises(AttributeError):
        deadlines.task_due("=getattr(x, n)", datetime(2026, 11, 24, 9), {"x": (), "n": "__class__"})
    began = time.monotonic()
    with pytest.raises(restricted().ScriptTimeout):
        deadlines.task_due("=[1 for a in range(10**6) for b in range(10**6)]", datetime(2026, 11, 24, 9), {})
    assert time.monotonic() - began < 2.0


# -- data that would shadow the environment -----------------------------------------------------
@pytest.mark.parametrize("name", ["__builtins__", "globals", "_getattr_", "_private", "eval", "open", "datetime"])
def test_a_name_of_the_environment_is_shadowing(name: str) -> None:
    assert restricted().shadowing({name: 1, "ok": 2}) == name


def test_a_script_function_name_is_shadowing_and_ordinary_names_are_not() -> None:
    assert restricted().shadowing({"next_number": 1}, ["next_number"]) == "next_number"
    assert restricted().shadowing({"渠道": 1, "id": 2, "type": 3, "amount": 4}, ["next_number"]) is None


def test_the_names_the_environment_reserves_are_those_a_run_sees() -> None:
    """ENVIRONMENT is written out so that knowing it loads no RestrictedPython: it must stay the
    set of names `environment` gives every run (besides the script functions)."""
    module = restricted()
    assert module.ENVIRONMENT == set(module.environment({}, module._Clock(1.0)))
