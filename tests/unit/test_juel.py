"""Camunda Modeler's JUEL and FEEL conditions translated to Python (engine/juel.py, issue 12)."""

from __future__ import annotations

import pytest
from hall.engine import juel


@pytest.mark.parametrize(
    "text, python",
    [
        ("${approved}", "approved"),
        ("#{amount > 1000 && !urgent}", "((amount > 1000) and (not urgent))"),
        ("${a == 1 || b != 2}", "((a == 1) or (b != 2))"),
        ("${a eq 'x' and b ne \"y\"}", "((a == 'x') and (b != 'y'))"),
        ("${a lt 1 or a gt 2 or a le 3 or a ge 4}", "((((a < 1) or (a > 2)) or (a <= 3)) or (a >= 4))"),
        ("${not ok}", "(not ok)"),
        ("${!a == b}", "((not a) == b)"),  # JUEL's ! binds tighter than ==, Python's not does not
        ("${empty note}", "(note in (None, '', [], {}))"),
        ("${!empty note}", "(not (note in (None, '', [], {})))"),
        ("${x == true || x == false || x == null}", "(((x == True) or (x == False)) or (x == None))"),
        ("${price * 2 - 1.5 >= 10}", "(((price * 2) - 1.5) >= 10)"),
        ("${a div 2 mod 3}", "((a / 2) % 3)"),
        ("${customer.level == 'vip'}", "(customer['level'] == 'vip')"),
        ("${items[0] > 1}", "(items[0] > 1)"),
        ("${urgent ? 1 : 2}", "(1 if urgent else 2)"),
        ("${ 'it\\'s' }", '"it\'s"'),
        ("=amount > 1000 and not(urgent)", "((amount > 1000) and (not urgent))"),
        ('=status = "ok"', "(status == 'ok')"),
        ("amount > 1000 and not urgent", "amount > 1000 and not urgent"),  # Python: unchanged
    ],
)
def test_translates_the_common_forms(text: str, python: str) -> None:
    assert juel.translate(text) == python


@pytest.mark.parametrize(
    "data, expected",
    [
        ({"amount": 2000, "urgent": False}, True),
        ({"amount": 2000, "urgent": True}, False),
        ({"amount": 10, "urgent": False}, False),
    ],
)
def test_a_translation_means_what_juel_means(data: dict, expected: bool) -> None:
    assert eval(juel.translate("#{amount > 1000 && !urgent}"), {}, data) is expected  # noqa: S307


def test_empty_is_juel_empty_not_python_falsy() -> None:
    python = juel.translate("${empty x}")
    assert [eval(python, {}, {"x": v}) for v in (None, "", [], {}, 0, False, "a")] == [  # noqa: S307
        True,
        True,
        True,
        True,
        False,
        False,
        False,
    ]


@pytest.mark.parametrize(
    "text, what",
    [
        ("${order.size() > 0}", "method calls (size())"),
        ("${fn:contains(a, 'x')}", "found ':' at column 3"),
        ("${format(a)}", "functions and methods (format)"),
        ("${a > }", "expected a variable, a literal or '('"),
        ("${a} and ${b}", "cannot translate '} and ${b' at column 2"),
        ("${approved", "does not end with '}'"),
        ("${}", "empty expression"),
        ("${a # b}", "cannot translate '# b'"),
        ("${_secret}", "names starting with '_'"),
        ("=not urgent", "expected '(' after FEEL's not"),
    ],
)
def test_what_cannot_be_translated_is_named(text: str, what: str) -> None:
    with pytest.raises(juel.NotTranslatable) as caught:
        juel.translate(text)
    assert what in str(caught.value)


def test_is_foreign_tells_juel_and_feel_from_python() -> None:
    assert [juel.is_foreign(t) for t in ("${a}", " #{a}", "=a", "a == 1", "== 1")] == [True, True, True, False, False]
