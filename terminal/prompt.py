"""`hall complete` at a terminal: a task's form asked field by field, each answer checked as it is
typed, then a review where any field can be changed before submitting.

Conditional fields (``required_when``) are asked when their condition holds, and asked or dropped
again when a changed answer turns it; choices take a number or a unique start of their text;
multi-line fields read lines until an empty one; the field's help is shown; values the case already
holds are offered as defaults, and a draft kept from an earlier attempt fills its answers in. The
caller keeps :attr:`FormPrompt.values` as a draft when the clerk stops (Ctrl-C, ``q``).

No click here: ``ask(question)`` returns what was typed (raising KeyboardInterrupt on Ctrl-C or at
the end of input) and ``say(text)`` prints; the CLI passes click's, tests their own.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from ..engine.forms import Field, Form, display
from .i18n import tr

Ask = Callable[[str], str]
Say = Callable[[str], None]


class Stopped(Exception):
    """The clerk stopped before submitting (``q`` at the review): the answers are kept as a draft."""


def _blank(value: Any) -> bool:
    return value is None or value == "" or value == []


class FormPrompt:
    """One filling of a form: the answers so far (stored values), what is offered as defaults."""

    def __init__(
        self,
        form: Form,
        ask: Ask,
        say: Say,
        *,
        given: Mapping[str, Any] | None = None,
        offered: Mapping[str, Any] | None = None,
        warn: Say | None = None,
        tz: Any = None,
    ) -> None:
        self.form, self.ask, self.say, self.tz = form, ask, say, tz
        self.warn = warn or say  # a refused answer (the CLI prints it on stderr)
        known = {f.name for f in form.fields}
        self.given = dict(given or {})  # --set / --data: not asked (changeable at the review)
        self.offered = {k: v for k, v in (offered or {}).items() if k in known and not _blank(v)}
        self.values: dict[str, Any] = {}
        for f in form.fields:  # what --set gave, as the form stores it (a bad one is asked again)
            if f.name in self.given:
                try:
                    self.values[f.name] = f.from_answer(self.given[f.name], tz=tz)
                except (ValueError, TypeError):
                    self.offered.pop(f.name, None)
                    self.given.pop(f.name)

    # -- one field -----------------------------------------------------------------------------
    def ask_field(self, f: Field) -> Any:
        """Ask one field until its answer is valid, and store it."""
        if f.help:
            self.say(tr("  help: {text}", text=f.help))
        if f.type in ("choice", "multi-choice"):
            self.say("  " + "   ".join(f.choice_lines()))
        default = self.values.get(f.name, self.offered.get(f.name))
        question = f.describe()
        if f.type == "multiline":
            question += tr(" (several lines; an empty line ends)")
        if not _blank(default):
            question += f" [{display(default)}]"
        while True:
            raw = self.ask(question)
            if f.type == "multiline" and raw.strip():
                lines = [raw]
                while (more := self.ask("  …")).strip():
                    lines.append(more)
                raw = "\n".join(lines)
            try:
                if not raw.strip() and not _blank(default):
                    value = f.coerce(default, tz=self.tz)
                else:
                    value = f.from_answer(raw, tz=self.tz)
                self.form.check_answer(f, value, self.values)
            except (ValueError, TypeError) as problem:
                self.warn(f"  {problem}")
                continue
            self.values[f.name] = value
            return value

    # -- the whole form ------------------------------------------------------------------------
    def run(self) -> dict[str, Any]:
        """Ask what is missing, then review until the clerk submits; the answers to submit."""
        self.fill()
        while True:
            fields = self.form.asked(self.values)
            self.say(tr("Review before submitting:"))
            for i, f in enumerate(fields, 1):
                shown = display(self.values.get(f.name, "")) or "—"
                self.say(f"  {i:>2}. {f.label}：{shown.replace(chr(10), chr(10) + '      ')}")
            answer = self.ask(tr("Enter submits; a number changes that field; q keeps a draft and stops")).strip()
            if not answer:
                return {f.name: self.values.get(f.name) for f in fields if f.name in self.values}
            if answer.lower() in ("q", "quit", "退出"):
                raise Stopped
            if answer.isdigit() and 1 <= int(answer) <= len(fields):
                chosen = fields[int(answer) - 1]
                self.offered[chosen.name] = self.values.pop(chosen.name, None)
                self.ask_field(chosen)
                self.fill()
                continue
            self.warn(tr("  type a number from 1 to {n}, q, or nothing", n=len(fields)))

    def fill(self) -> None:
        """Ask each field not answered yet, in form order; a conditional field when its condition
        holds (dropped when it no longer does)."""
        while True:
            asked = self.form.asked(self.values)
            for f in self.form.fields:
                if f not in asked and f.name in self.values:
                    del self.values[f.name]  # its condition no longer holds
            missing = [f for f in asked if f.name not in self.values]
            if not missing:
                return
            self.ask_field(missing[0])
