"""Conditions written for Camunda Modeler, translated to the Python expressions hall runs (issue 12).

Camunda 7 writes conditions in JUEL (``${approved}``, ``#{amount > 1000 && !urgent}``), Camunda 8
in FEEL (``=amount > 1000 and not(urgent)``). hall's conditions are Python expressions run by the
restricted environment (``restricted``), so the common forms are translated once, when a diagram is
validated and deployed: variables and their properties (``a.b``, ``a['b']``), literals (numbers,
strings, ``true`` ``false`` ``null``), comparisons (``==`` ``!=`` ``<`` ``>`` ``<=`` ``>=`` and
``eq`` ``ne`` ``lt`` ``gt`` ``le`` ``ge``), logic (``&&`` ``||`` ``!`` ``and`` ``or`` ``not``),
arithmetic, ``empty`` and ``? :``. Anything else (method calls, functions, several ``${}`` in one
text) is ``NotTranslatable``, which ``hall validate`` reports at the condition's line.

A pure module: text in, text out, no hall or SpiffWorkflow import.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

HINT = "conditions are Python expressions; `${approved}` means `approved`"


class NotTranslatable(ValueError):
    """A JUEL or FEEL condition that has no Python translation here; the message says what and where."""


def is_foreign(text: str) -> bool:
    """Whether a condition is written in JUEL (``${...}``, ``#{...}``) or FEEL (``=...``), not Python."""
    stripped = text.strip()
    return stripped.startswith(("${", "#{")) or (stripped.startswith("=") and not stripped.startswith("=="))


def translate(text: str) -> str:
    """The Python expression for a JUEL or FEEL condition; a Python condition comes back unchanged.

    Raises NotTranslatable naming what cannot be translated."""
    stripped = text.strip()
    if stripped.startswith(("${", "#{")):
        if not stripped.endswith("}"):
            raise NotTranslatable(f"JUEL expression {stripped!r} does not end with '}}'")
        body, feel = stripped[2:-1], False
    elif is_foreign(stripped):
        body, feel = stripped[1:], True
    else:
        return text
    if not body.strip():
        raise NotTranslatable(f"empty expression {stripped!r}")
    return _Parser(_tokens(body, feel), body, feel).parse()


@dataclass(frozen=True)
class _Token:
    kind: str  # name, number, string, op, end
    text: str
    at: int  # offset in the expression's body


_TOKEN = re.compile(
    r"""\s*(?:
      (?P<number>\d+(?:\.\d+)?(?:[eE][+-]?\d+)?)
    | (?P<string>'(?:[^'\\]|\\.)*'|"(?:[^"\\]|\\.)*")
    | (?P<name>[^\W\d]\w*)
    | (?P<op>&&|\|\||==|!=|<=|>=|[<>!=+\-*/%?:.()\[\],])
    )""",
    re.VERBOSE,
)
_WORD_OPS = {"and", "or", "not", "eq", "ne", "lt", "gt", "le", "ge", "empty", "div", "mod", "instanceof"}
_LITERALS = {"true": "True", "false": "False", "null": "None"}
_COMPARE = {"==": "==", "!=": "!=", "<": "<", ">": ">", "<=": "<=", ">=": ">="}
_COMPARE_WORDS = {"eq": "==", "ne": "!=", "lt": "<", "gt": ">", "le": "<=", "ge": ">="}


def _tokens(body: str, feel: bool) -> list[_Token]:
    """The tokens of an expression; a character no token starts with is NotTranslatable."""
    out: list[_Token] = []
    pos = 0
    while pos < len(body):
        if body[pos:].strip() == "":
            break
        match = _TOKEN.match(body, pos)
        if match is None or match.end() == pos:
            at = pos + len(body[pos:]) - len(body[pos:].lstrip())
            raise NotTranslatable(f"cannot translate {body[at : at + 10]!r} at column {at + 1}")
        kind = match.lastgroup or "op"
        text = match.group(kind)
        if kind == "name" and text in _WORD_OPS:
            kind = "op"
        if feel and kind == "op" and text == "=":
            text = "=="  # FEEL compares with a single '='
        out.append(_Token(kind, text, match.start(kind)))
        pos = match.end()
    out.append(_Token("end", "", len(body)))
    return out


class _Parser:
    """Recursive descent over JUEL's grammar, lowest precedence first; every operation is written
    with parentheses, so Python's own precedence (``not`` below ``==``, chained ``<``) never applies."""

    def __init__(self, tokens: list[_Token], body: str, feel: bool) -> None:
        self.tokens, self.body, self.feel, self.i = tokens, body, feel, 0

    @property
    def tok(self) -> _Token:
        return self.tokens[self.i]

    def take(self) -> _Token:
        tok = self.tokens[self.i]
        self.i += 1
        return tok

    def accept(self, *texts: str) -> _Token | None:
        if self.tok.kind in ("op",) and self.tok.text in texts:
            return self.take()
        return None

    def expect(self, text: str) -> None:
        if self.accept(text) is None:
            self.fail(f"expected {text!r}")

    def fail(self, what: str) -> None:
        tok = self.tok
        found = f"{tok.text!r} at column {tok.at + 1}" if tok.kind != "end" else "the end"
        raise NotTranslatable(f"cannot translate {self.body.strip()!r}: {what}, found {found}")

    def parse(self) -> str:
        out = self.ternary()
        if self.tok.kind != "end":
            self.fail("expected an operator or the end")
        return out

    def ternary(self) -> str:
        cond = self.logical_or()
        if self.accept("?"):
            yes = self.ternary()
            self.expect(":")
            no = self.ternary()
            return f"({yes} if {cond} else {no})"
        return cond

    def logical_or(self) -> str:
        left = self.logical_and()
        while self.accept("||", "or"):
            left = f"({left} or {self.logical_and()})"
        return left

    def logical_and(self) -> str:
        left = self.equality()
        while self.accept("&&", "and"):
            left = f"({left} and {self.equality()})"
        return left

    def equality(self) -> str:
        left = self.relational()
        while (op := self.accept("==", "!=", "eq", "ne")) is not None:
            left = f"({left} {_COMPARE.get(op.text) or _COMPARE_WORDS[op.text]} {self.relational()})"
        return left

    def relational(self) -> str:
        left = self.additive()
        while (op := self.accept("<", ">", "<=", ">=", "lt", "gt", "le", "ge")) is not None:
            left = f"({left} {_COMPARE.get(op.text) or _COMPARE_WORDS[op.text]} {self.additive()})"
        return left

    def additive(self) -> str:
        left = self.multiplicative()
        while (op := self.accept("+", "-")) is not None:
            left = f"({left} {op.text} {self.multiplicative()})"
        return left

    def multiplicative(self) -> str:
        left = self.unary()
        while (op := self.accept("*", "/", "%", "div", "mod")) is not None:
            symbol = {"div": "/", "mod": "%"}.get(op.text, op.text)
            left = f"({left} {symbol} {self.unary()})"
        return left

    def unary(self) -> str:
        if self.accept("!", "not"):
            if self.feel and self.tok.text != "(":
                self.fail("expected '(' after FEEL's not")
            return f"(not {self.unary()})"
        if self.accept("empty"):
            # JUEL's empty: null, an empty text, list or map (0 and false are not empty)
            return f"({self.unary()} in (None, '', [], {{}}))"
        if self.accept("-"):
            return f"(-{self.unary()})"
        return self.value()

    def value(self) -> str:
        tok = self.tok
        if tok.kind == "number":
            self.take()
            out = tok.text
        elif tok.kind == "string":
            self.take()
            out = repr(_unquote(tok.text))
        elif tok.kind == "name":
            self.take()
            if tok.text in _LITERALS:
                return _LITERALS[tok.text]
            if tok.text.startswith("_"):
                self.i -= 1
                self.fail("names starting with '_' are not variables")
            if self.tok.text == "(":
                self.fail(f"functions and methods ({tok.text}) cannot be translated")
            out = tok.text
        elif self.accept("("):
            out = self.ternary()
            self.expect(")")
        else:
            self.fail("expected a variable, a literal or '('")
        while True:  # property access: a.b and a['b'] read a map's entry
            if self.accept("."):
                name = self.tok
                if name.kind != "name":
                    self.fail("expected a property name after '.'")
                self.take()
                if self.tok.text == "(":
                    self.fail(f"method calls ({name.text}()) cannot be translated")
                out = f"{out}[{name.text!r}]"
            elif self.accept("["):
                out = f"{out}[{self.ternary()}]"
                self.expect("]")
            else:
                return out


def _unquote(literal: str) -> str:
    """A JUEL/FEEL string literal's text: its quotes removed, ``\\'`` ``\\"`` ``\\\\`` unescaped."""
    return re.sub(r"\\(.)", r"\1", literal[1:-1])
