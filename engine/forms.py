"""Task forms: one YAML file per user task, declaring what staff see and what they fill in.

A user task names its form (``camunda:formKey="filing_review"``); the form lives in
``forms/filing_review.yaml``.  The file has a ``title``, a Jinja2 ``template`` (what the staff
member reads before filling in) and a list of ``fields``.  See ``docs/forms.md`` for the format
as documented for process owners.

This module parses and checks those files (errors carry ``FILE:LINE``), turns what staff typed
into typed, JSON-serialisable values (``Field.coerce`` / ``Form.validate``) and renders the
template.  Importing it is cheap: ruamel.yaml and Jinja2 are imported only when a form is loaded
or rendered.

Messages about *entered values* are in Chinese (staff read them at the desk); messages about the
*form file* are in English, like the rest of hall's errors, and quote the file's English keys.
"""

from __future__ import annotations

import difflib
import keyword
import re
import unicodedata
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, replace
from dataclasses import field as dc_field
from datetime import date, datetime, timedelta, timezone, tzinfo
from decimal import Decimal
from pathlib import Path
from typing import Any

from .errors import FormDefinitionInvalid, FormInvalid, FormNotFound

__all__ = [
    "Field",
    "Form",
    "FormLibrary",
    "load_form",
    "TYPES",
    "DEFAULT_TIMEZONE",
    "EMPTY_MARK",
    "display",
    "describe_form",
    "form_from_description",
]

#: Field types, with the Chinese word staff see in prompts.
TYPES: dict[str, str] = {
    "text": "文本",
    "multiline": "多行文本",
    "int": "整数",
    "decimal": "数字",
    "money": "金额",
    "date": "日期",
    "datetime": "日期时间",
    "phone": "电话",
    "choice": "单选",
    "multi-choice": "多选",
    "bool": "是/否",
    "score": "评分",
}

FIELD_KEYS = (
    "name",
    "label",
    "type",
    "required",
    "required_when",
    "after",
    "default",
    "min",
    "max",
    "pattern",
    "choices",
    "choices_from",
    "help",
)
FORM_KEYS = ("title", "template", "fields")

TEXT_TYPES = frozenset({"text", "multiline"})
NUMBER_TYPES = frozenset({"int", "decimal", "money", "score"})
#: Types on which ``min``/``max`` mean something (see ``_BOUNDS_MEANING``).
BOUNDED_TYPES = TEXT_TYPES | NUMBER_TYPES | {"date", "datetime", "multi-choice"}
PATTERN_TYPES = TEXT_TYPES | {"phone"}
CHOICE_TYPES = frozenset({"choice", "multi-choice"})
#: Types whose answers are ordered, so that ``after: other field`` means something.
ORDERED_TYPES = frozenset({"date", "datetime", "int", "decimal", "money", "score"})

DEFAULT_TIMEZONE = "Asia/Shanghai"
#: What the template shows for a missing variable or a ``None`` value.
EMPTY_MARK = "—"
SCORE_MIN, SCORE_MAX = 0, 10

_TRUE = frozenset({"true", "yes", "y", "1", "是", "t", "对"})
_FALSE = frozenset({"false", "no", "n", "0", "否", "f", "不"})
_MULTI_SPLIT = re.compile(r"[,，、;；]")
_INT_RE = re.compile(r"[+-]?\d+")
_DECIMAL_RE = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)")
_MONEY_RE = re.compile(r"[+-]?\d+(\.\d+)?")
_MOBILE_RE = re.compile(r"1[3-9]\d{9}")
_LANDLINE_RE = re.compile(r"0\d{2,3}-?\d{7,8}")
_DATE_RE = re.compile(r"(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?")
_COMPACT_DATE_RE = re.compile(r"(\d{4})(\d{2})(\d{2})")


# --------------------------------------------------------------------------------------------
# fields


@dataclass(frozen=True)
class Field:
    """One input on a form.

    ``default``, ``min`` and ``max`` are held in the field's stored representation (money as
    ``"12.00"``, dates as ``"2024-03-05"``); for text and multi-choice ``min``/``max`` count
    characters / selected items.  ``default is None`` means "no default".  ``line`` is the line of
    the field in its form file (0 when built in code).
    """

    name: str
    label: str = ""
    type: str = "text"
    required: bool = True
    default: Any = None
    min: Any = None
    max: Any = None
    pattern: str | None = None
    choices: tuple[str, ...] = ()
    help: str | None = None
    line: int = 0
    # required only when every other field named here holds one of the values (``required: false``)
    required_when: tuple[tuple[str, tuple[Any, ...]], ...] = ()
    # not earlier (not smaller) than the answer of this other field of the form, e.g. an end date
    after: str | None = None
    # the configuration list whose entries replace ``choices`` when it is set (``choices_from: topics``)
    choices_from: str | None = None

    def __post_init__(self) -> None:
        if not self.label:
            object.__setattr__(self, "label", self.name)
        if self.type not in TYPES:
            raise ValueError(f"unknown field type {self.type!r}")
        object.__setattr__(self, "choices", tuple(self.choices))

    # -- entering values -------------------------------------------------------------------

    def empty_value(self) -> Any:
        """What an optional field without default stores when left blank: "" for text,
        [] for multi-choice, None otherwise."""
        if self.type in TEXT_TYPES:
            return ""
        if self.type == "multi-choice":
            return []
        return None

    def coerce(self, value: Any, *, tz: tzinfo | str | None = None) -> Any:
        """Turn one entered value into its stored form, or raise ``ValueError`` (Chinese message).

        ``value`` may be typed (``3``, ``True``, ``["a"]``, a ``date``) or a string as typed on
        the command line.  A blank value (``None``, an empty or all-space string, an empty list)
        means "not given": the default if there is one, else an error if the field is required,
        else :meth:`empty_value`.  ``tz`` is the time zone for date-times entered without an
        offset (default Asia/Shanghai).
        """
        if _is_blank(value):
            if self.default is not None:
                return list(self.default) if isinstance(self.default, list) else self.default
            if self.required:
                raise ValueError("必填")
            return self.empty_value()
        return _COERCERS[self.type](self, value, tz)

    # -- prompting ---------------------------------------------------------------------------

    def from_answer(self, text: Any, *, tz: tzinfo | str | None = None) -> Any:
        """What staff typed at a prompt, as :meth:`coerce` takes it: a choice may be given by its
        number (``1``) or a unique start of its text (``引导``), several of a multi-choice likewise
        (``1,3``). Raises ``ValueError`` (Chinese) for an ambiguous or unknown choice, or a bad value."""
        if not isinstance(text, str):  # a stored value (a draft's, the case's): checked as it is
            return self.coerce(text, tz=tz)
        if self.type == "choice" and not _is_blank(text):
            return self.coerce(self._pick(text.strip()), tz=tz)
        if self.type == "multi-choice" and not _is_blank(text):
            return self.coerce([self._pick(p.strip()) for p in _MULTI_SPLIT.split(text) if p.strip()], tz=tz)
        return self.coerce(text, tz=tz)

    def _pick(self, text: str) -> str:
        """One choice by its text, its number (1-based), or a unique start (else part) of its text."""
        text = _norm(text)
        if text in self.choices:
            return text
        if text.isdigit() and 1 <= int(text) <= len(self.choices):
            return self.choices[int(text) - 1]
        found = [c for c in self.choices if c.startswith(text)] or [c for c in self.choices if text in c]
        if len(found) == 1:
            return found[0]
        if found:
            raise ValueError(f"“{text}”可指：{'、'.join(found)}，请多打几个字或填序号")
        raise ValueError(f"没有这个选项：{text}（可选：{'、'.join(self.choices)}，也可填序号）")

    def choice_lines(self) -> list[str]:
        """The numbered choices of a (multi-)choice field: ``1) 同意备案``."""
        return [f"{i}) {c}" for i, c in enumerate(self.choices, 1)]

    def describe(self) -> str:
        """One-line prompt text: label, what to type, bounds, and whether it may be left blank.

        >>> Field("服务态度", type="score").describe()
        '服务态度 (0–10 分)'
        >>> Field("备案意见", type="choice", choices=("同意备案", "不予备案")).describe()
        '备案意见 [同意备案/不予备案]'
        """
        hints: list[str] = []
        head = self.label
        t = self.type
        if t == "choice":
            head += " [" + "/".join(self.choices) + "]"
        elif t == "multi-choice":
            head += " [" + "/".join(self.choices) + "]"
            hints.append("可多选，用逗号分隔")
        elif t == "score":
            lo = SCORE_MIN if self.min is None else self.min
            hi = SCORE_MAX if self.max is None else self.max
            hints.append(f"{lo}–{hi} 分")
        elif t == "bool":
            hints.append("是/否")
        elif t == "date":
            hints.append("日期 YYYY-MM-DD")
        elif t == "datetime":
            hints.append("日期时间 YYYY-MM-DD HH:MM")
        elif t == "phone":
            hints.append("手机号或区号-座机")
        elif t == "money":
            hints.append("金额，元")
        elif t in ("int", "decimal", "multiline"):
            hints.append(TYPES[t])
        if t != "score":
            bounds = self._describe_bounds()
            if bounds:
                hints.append(bounds)
        if self.default is not None and not (self.type in TEXT_TYPES and self.default == ""):
            hints.append(f"默认 {_display(self.default)}")
        elif self.required_when:
            hints.append(self.condition_text() + "时必填")
        elif not self.required:
            hints.append("可不填")
        if self.after:
            hints.append(f"不早于{self.after}")
        return head + (f" ({'，'.join(hints)})" if hints else "")

    def condition_text(self) -> str:
        """``required_when`` for people: "备案意见为材料不全", "需要延期为是"."""
        return "且".join(f"{name}为{'或'.join(_display(v) for v in values)}" for name, values in self.required_when)

    def required_now(self, values: Mapping[str, Any]) -> bool:
        """Whether the ``required_when`` condition holds for these stored values of the form."""
        return bool(self.required_when) and all(values.get(name) in allowed for name, allowed in self.required_when)

    def _describe_bounds(self) -> str:
        lo, hi = self.min, self.max
        if lo is None and hi is None:
            return ""
        if self.type in TEXT_TYPES:
            if lo is not None and hi is not None:
                return f"{lo}–{hi} 字"
            return f"至少 {lo} 字" if lo is not None else f"最多 {hi} 字"
        if self.type == "multi-choice":
            if lo is not None and hi is not None:
                return f"选 {lo}–{hi} 项"
            return f"至少选 {lo} 项" if lo is not None else f"最多选 {hi} 项"
        if self.type in ("date", "datetime"):
            if lo is not None and hi is not None:
                return f"{lo} 至 {hi}"
            return f"不早于 {lo}" if lo is not None else f"不晚于 {hi}"
        if lo is not None and hi is not None:
            return f"{_fmt(lo)}–{_fmt(hi)}"
        return f"≥{_fmt(lo)}" if lo is not None else f"≤{_fmt(hi)}"


def _is_blank(value: Any) -> bool:
    if value is None:
        return True
    if isinstance(value, str):
        return not value.strip()
    if isinstance(value, (list, tuple)):
        return len(value) == 0
    return False


def display(value: Any) -> str:
    """A stored value as staff read it: 是/否, lists joined with 、."""
    return _display(value)


def _display(value: Any) -> str:
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, list):
        return "、".join(map(str, value))
    return str(value)


def _norm(text: str) -> str:
    """Full-width digits, letters and punctuation to ASCII (NFKC), stripped."""
    return unicodedata.normalize("NFKC", text).strip()


def _type_word(value: Any) -> str:
    if isinstance(value, bool):
        return "是/否"
    if isinstance(value, (int, float, Decimal)):
        return "数字"
    if isinstance(value, (list, tuple, set)):
        return "列表"
    if isinstance(value, Mapping):
        return "表格"
    if isinstance(value, (date, datetime)):
        return "日期"
    return type(value).__name__


def _fmt(value: Any) -> str:
    """A bound as people write it: 0 rather than 0.0."""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _check_bounds(f: Field, value: Any, key: Any, lo_msg: str, hi_msg: str) -> None:
    if f.min is not None and key(value) < key(f.min):
        raise ValueError(lo_msg.format(_fmt(f.min)))
    if f.max is not None and key(value) > key(f.max):
        raise ValueError(hi_msg.format(_fmt(f.max)))


def _coerce_text(f: Field, value: Any, tz: Any) -> str:
    if isinstance(value, bool) or not isinstance(value, (str, int, float, Decimal)):
        raise ValueError(f"应为文本，不能是{_type_word(value)}")
    text = value.strip() if isinstance(value, str) else str(value)
    if f.type == "multiline":
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    elif "\n" in text or "\r" in text:
        raise ValueError("只能填一行，不能换行")
    n = len(text)
    if f.min is not None and n < f.min:
        raise ValueError(f"至少 {f.min} 个字（现在 {n} 个）")
    if f.max is not None and n > f.max:
        raise ValueError(f"最多 {f.max} 个字（现在 {n} 个）")
    _check_pattern(f, text)
    return text


def _check_pattern(f: Field, text: str) -> None:
    if f.pattern is not None and re.fullmatch(f.pattern, text, flags=re.DOTALL) is None:
        raise ValueError("格式不对" + (f"（{f.help}）" if f.help else ""))


def _whole_number(f: Field, value: Any, what: str) -> int:
    if isinstance(value, bool):
        raise ValueError(f"应为{what}，不能是 是/否")
    if isinstance(value, int):
        return int(value)
    if isinstance(value, (float, Decimal)):
        if value == value and value not in (float("inf"), float("-inf")) and value == int(value):
            return int(value)
        raise ValueError(f"应为{what}，不能有小数")
    if isinstance(value, str):
        text = _norm(value).replace(",", "")
        if _INT_RE.fullmatch(text):
            return int(text)
        if _DECIMAL_RE.fullmatch(text):
            raise ValueError(f"应为{what}，不能有小数")
        raise ValueError(f"应为{what}，例如 12")
    raise ValueError(f"应为{what}，不能是{_type_word(value)}")


def _coerce_int(f: Field, value: Any, tz: Any) -> int:
    number = _whole_number(f, value, "整数")
    _check_bounds(f, number, int, "不能小于 {}", "不能大于 {}")
    return number


def _coerce_score(f: Field, value: Any, tz: Any) -> int:
    lo = SCORE_MIN if f.min is None else f.min
    hi = SCORE_MAX if f.max is None else f.max
    try:
        number = _whole_number(f, value, "整数")
    except ValueError:
        raise ValueError(f"应为 {lo} 到 {hi} 的整数分数") from None
    if not lo <= number <= hi:
        raise ValueError(f"应为 {lo} 到 {hi} 的整数分数（填的是 {number}）")
    return number


def _coerce_decimal(f: Field, value: Any, tz: Any) -> float:
    if isinstance(value, bool):
        raise ValueError("应为数字，不能是 是/否")
    if isinstance(value, (int, float, Decimal)):
        number = float(value)
    elif isinstance(value, str):
        text = _norm(value).replace(",", "")
        if not _DECIMAL_RE.fullmatch(text):
            raise ValueError("应为数字，例如 3.5")
        number = float(text)
    else:
        raise ValueError(f"应为数字，不能是{_type_word(value)}")
    if number != number or number in (float("inf"), float("-inf")):
        raise ValueError("应为数字，例如 3.5")
    _check_bounds(f, number, float, "不能小于 {}", "不能大于 {}")
    return number


def _coerce_money(f: Field, value: Any, tz: Any) -> str:
    if isinstance(value, bool):
        raise ValueError("应为金额，不能是 是/否")
    if isinstance(value, (int, Decimal)):
        amount = Decimal(value)
    elif isinstance(value, float):
        if value != value or value in (float("inf"), float("-inf")):
            raise ValueError("应为金额，例如 1234.50")
        amount = Decimal(repr(value))
    elif isinstance(value, str):
        text = _norm(value).replace(",", "").replace(" ", "")
        text = text.lstrip("¥").removesuffix("元")
        if not _MONEY_RE.fullmatch(text):
            raise ValueError("应为金额，例如 1234.50")
        amount = Decimal(text)
    else:
        raise ValueError(f"应为金额，不能是{_type_word(value)}")
    if not amount.is_finite():
        raise ValueError("应为金额，例如 1234.50")
    if amount != amount.quantize(Decimal("0.01"), rounding="ROUND_DOWN"):
        raise ValueError("金额最多两位小数（到分）")
    if amount == 0:
        amount = Decimal(0)
    stored = f"{amount:.2f}"
    _check_bounds(f, stored, Decimal, "不能少于 {} 元", "不能多于 {} 元")
    return stored


def _parse_date(value: Any) -> date:
    if isinstance(value, datetime):
        if (value.hour, value.minute, value.second, value.microsecond) != (0, 0, 0, 0):
            raise ValueError("只填日期，不要时间")
        return value.date()
    if isinstance(value, date):
        return value
    if not isinstance(value, str):
        raise ValueError(f"应为日期，不能是{_type_word(value)}")
    text = _norm(value)
    match = _DATE_RE.fullmatch(text) or _COMPACT_DATE_RE.fullmatch(text)
    if not match:
        raise ValueError("应为日期，格式 YYYY-MM-DD，例如 2024-03-05")
    y, m, d = (int(g) for g in match.groups()[:3])
    try:
        return date(y, m, d)
    except ValueError:
        raise ValueError(f"没有这一天：{y}-{m:02d}-{d:02d}") from None


def _coerce_date(f: Field, value: Any, tz: Any) -> str:
    stored = _parse_date(value).isoformat()
    _check_bounds(f, stored, str, "不能早于 {}", "不能晚于 {}")
    return stored


def _parse_datetime(value: Any, tz: Any) -> datetime:
    if isinstance(value, datetime):
        moment = value
    elif isinstance(value, date):
        raise ValueError("还要填时间，例如 2024-03-05 14:30")
    elif isinstance(value, str):
        text = _norm(value)
        if not re.search(r"\d[T ]\s*\d", text):
            raise ValueError("应为日期和时间，例如 2024-03-05 14:30")
        text = re.sub(r"\s+", " ", text)
        try:
            moment = datetime.fromisoformat(text)
        except ValueError:
            raise ValueError("应为日期和时间，例如 2024-03-05 14:30") from None
    else:
        raise ValueError(f"应为日期和时间，不能是{_type_word(value)}")
    if moment.tzinfo is None or moment.utcoffset() is None:
        moment = moment.replace(tzinfo=_zone(tz))
    return moment


def _coerce_datetime(f: Field, value: Any, tz: Any) -> str:
    moment = _parse_datetime(value, tz)
    for bound, word in ((f.min, "早于"), (f.max, "晚于")):
        if bound is None:
            continue
        limit = _parse_datetime(bound, tz)
        if (moment < limit) if word == "早于" else (moment > limit):
            raise ValueError(f"不能{word} {bound}")
    return moment.isoformat(timespec="seconds")


def _coerce_phone(f: Field, value: Any, tz: Any) -> str:
    if isinstance(value, bool) or not isinstance(value, (str, int)):
        raise ValueError(f"应为电话号码，不能是{_type_word(value)}")
    text = re.sub(r"[\s()]", "", _norm(str(value)))
    if text.startswith("+86"):
        text = text[3:].lstrip("-")
    elif len(text) == 13 and text.startswith("86") and _MOBILE_RE.fullmatch(text[2:]):
        text = text[2:]
    if _MOBILE_RE.fullmatch(text.replace("-", "")):
        text = text.replace("-", "")  # 139-1234-5678: mobiles are stored as bare digits
    if not (_MOBILE_RE.fullmatch(text) or _LANDLINE_RE.fullmatch(text)):
        raise ValueError("应为 11 位手机号（如 13912345678）或带区号的座机（如 0551-12345678）")
    _check_pattern(f, text)
    return text


def _coerce_choice(f: Field, value: Any, tz: Any) -> str:
    if isinstance(value, bool) or not isinstance(value, (str, int, float, Decimal)):
        raise ValueError(f"只能选一项：{'、'.join(f.choices)}")
    text = value.strip() if isinstance(value, str) else str(value)
    if text not in f.choices:
        raise ValueError(f"只能选：{'、'.join(f.choices)}（填的是 {text}）")
    return text


def _coerce_multi(f: Field, value: Any, tz: Any) -> list[str]:
    if isinstance(value, str):
        items: Iterable[Any] = _MULTI_SPLIT.split(value)
    elif isinstance(value, (list, tuple, set, frozenset)):
        items = value
    else:
        raise ValueError(f"应为选项列表，从 {'、'.join(f.choices)} 中选")
    picked: set[str] = set()
    wrong: list[str] = []
    for item in items:
        if isinstance(item, bool) or not isinstance(item, (str, int, float, Decimal)):
            wrong.append(str(item))
            continue
        text = item.strip() if isinstance(item, str) else str(item)
        if not text:
            continue
        if text in f.choices:
            picked.add(text)
        elif text not in wrong:
            wrong.append(text)
    if wrong:
        raise ValueError(f"没有这个选项：{'、'.join(wrong)}（可选：{'、'.join(f.choices)}）")
    if not picked:
        if f.default is not None or not f.required:
            return Field.coerce(f, None)
        raise ValueError("必填")
    n = len(picked)
    if f.min is not None and n < f.min:
        raise ValueError(f"至少选 {f.min} 项（选了 {n} 项）")
    if f.max is not None and n > f.max:
        raise ValueError(f"最多选 {f.max} 项（选了 {n} 项）")
    return [choice for choice in f.choices if choice in picked]


def _coerce_bool(f: Field, value: Any, tz: Any) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, int) and value in (0, 1):
        return bool(value)
    if isinstance(value, str):
        text = _norm(value).lower()
        if text in _TRUE:
            return True
        if text in _FALSE:
            return False
    raise ValueError("应为 是 或 否（也可以填 yes/no、true/false、1/0）")


_COERCERS = {
    "text": _coerce_text,
    "multiline": _coerce_text,
    "int": _coerce_int,
    "decimal": _coerce_decimal,
    "money": _coerce_money,
    "date": _coerce_date,
    "datetime": _coerce_datetime,
    "phone": _coerce_phone,
    "choice": _coerce_choice,
    "multi-choice": _coerce_multi,
    "bool": _coerce_bool,
    "score": _coerce_score,
}

_zones: dict[str, tzinfo] = {}


def _zone(tz: tzinfo | str | None) -> tzinfo:
    if isinstance(tz, tzinfo):
        return tz
    key = tz or DEFAULT_TIMEZONE
    if key not in _zones:
        try:
            from zoneinfo import ZoneInfo

            _zones[key] = ZoneInfo(key)
        except Exception:
            if key != DEFAULT_TIMEZONE:
                raise ValueError(f"unknown time zone {key!r}") from None
            _zones[key] = timezone(timedelta(hours=8), "CST")  # no tz database: Shanghai has no DST
    return _zones[key]


# --------------------------------------------------------------------------------------------
# forms


@dataclass(frozen=True)
class Form:
    """A parsed form file.  ``template_line`` is the file line holding the template's first line."""

    name: str
    path: Path
    title: str
    template_source: str
    fields: tuple[Field, ...]
    template_line: int = 1
    _compiled: list[Any] = dc_field(default_factory=list, init=False, repr=False, compare=False)

    def configured(self, lists: Mapping[str, Any]) -> Form:
        """This form with the choices of each ``choices_from`` field taken from ``lists`` (the
        configuration: a list of names, or a mapping whose keys are the names); the file's own
        ``choices`` stay where the configuration has no such list."""
        fields = []
        for f in self.fields:
            names = _names_of(lists.get(f.choices_from)) if f.choices_from else ()
            fields.append(replace(f, choices=names) if names else f)
        if tuple(fields) == self.fields:
            return self
        return replace(self, fields=tuple(fields))

    def filled(self, values: Mapping[str, Any], samples: Mapping[str, Any]) -> dict[str, Any]:
        """The values given, and an ordinary answer for each required field left out, also one the
        answers given or the defaults make required (``required_when``): its first choice, else the
        sample of its type, else "x"; a field with a default keeps it. For rehearsals (scenario files)
        and tests, never for staff."""
        filled = dict(values)
        answers = {f.name: filled.get(f.name, f.default) for f in self.fields}
        for f in self.fields:
            if f.name in filled or not (f.required or f.required_now(answers)) or f.default is not None:
                continue
            if f.type == "choice":
                filled[f.name] = f.choices[0]
            elif f.type == "multi-choice":
                filled[f.name] = [f.choices[0]]
            else:
                filled[f.name] = samples.get(f.type, "x")
        return filled

    def field(self, name: str) -> Field:
        """The field called ``name`` (``KeyError`` if the form has none)."""
        for f in self.fields:
            if f.name == name:
                return f
        raise KeyError(name)

    def prompt_order(self, given: Mapping[str, Any] | None = None) -> list[Field]:
        """Fields to ask interactively, in file order, leaving out those already in ``given``."""
        given = given or {}
        return [f for f in self.fields if f.name not in given]

    def asked(self, values: Mapping[str, Any]) -> list[Field]:
        """The fields a prompt asks, given the answers so far: every field, except one required only
        under a condition (``required_when``) that does not hold for these answers."""
        return [f for f in self.fields if not f.required_when or f.required_now(values)]

    def check_answer(self, f: Field, value: Any, values: Mapping[str, Any]) -> None:
        """The checks :meth:`validate` makes between fields, on one answer as it is typed: required
        under its condition, not before its ``after`` field. Raises ``ValueError`` (Chinese)."""
        if _is_blank(value) and f.required_now(values):
            raise ValueError(f"必填（{f.condition_text()}时）")
        other = values.get(f.after) if f.after else None
        if f.after and not _is_blank(value) and not _is_blank(other) and _before(value, other):
            raise ValueError(f"不能早于{self.field(f.after).label}（{_display(other)}）")

    def validate(self, data: Mapping[str, Any], *, tz: tzinfo | str | None = None) -> dict[str, Any]:
        """Coerce every field of the form from ``data``; return ``{name: stored value}``.

        Every field appears in the result (a blank optional field stores its default or its
        :meth:`Field.empty_value`).  All problems are collected first: a blank required field,
        a bad value, a name the form does not have; then ``FormInvalid(form, {field: message})``
        is raised with one message per field, and nothing is returned.
        """
        errors: dict[str, str] = {}
        result: dict[str, Any] = {}
        for f in self.fields:
            try:
                result[f.name] = f.coerce(data.get(f.name), tz=tz)
            except ValueError as problem:
                errors[f.name] = str(problem)
        for f in self.fields:  # conditional requirements, on the values as they will be stored
            if f.name not in errors and _is_blank(result.get(f.name)) and f.required_now(result):
                errors[f.name] = f"必填（{f.condition_text()}时）"
        for f in self.fields:  # order between two answers (`after:`), when both are given and valid
            if f.after and f.name not in errors and f.after not in errors:
                mine, other = result.get(f.name), result.get(f.after)
                if not _is_blank(mine) and not _is_blank(other) and _before(mine, other):
                    errors[f.name] = f"不能早于{self.field(f.after).label}（{_display(other)}）"
        known = {f.name for f in self.fields}
        for key in data:
            if key not in known:
                names = "、".join(f.name for f in self.fields) or "无"
                errors[str(key)] = f"表单「{self.title}」没有这一项（可填：{names}）"
        if errors:
            raise FormInvalid(self.name, errors)
        return result

    # -- template ----------------------------------------------------------------------------

    def render(self, context: Mapping[str, Any]) -> str:
        """Render the template for the desk; never raises.

        ``context`` holds ``data`` (instance variables), ``task`` (dict: name, title, role,
        lane, assignee, due_at, ...) and ``instance`` (dict); ``form`` (name, title) is added.
        Missing variables and ``None`` show as "—", booleans as 是/否, lists joined with "、".
        A broken template yields its text up to the fault plus a one-line note with the file
        line, so the staff member can still fill the form.
        """
        template, problem = self._template()
        if template is None:
            return f"[模板有误 {problem}]"
        try:
            return template.render(**self._context(context))
        except Exception as error:  # a template fault must not stop the desk
            line = _template_error_line(error)
            where = f"{self.path}:{self.template_line + line - 1}" if line else str(self.path)
            return f"[模板有误 {where}: {type(error).__name__}: {error}]"

    def check(self) -> list[tuple[int, str]]:
        """Problems found without real data, as ``(file line, what)``.

        Reports template syntax errors, variables used at the top level other than
        ``data``/``task``/``instance``/``form`` (write ``data.x``, not ``x``), filters and tests
        that do not exist anywhere in the template (also in branches an empty context does not
        render), and any error raised when rendering with an empty context.
        """
        if not self.template_source:
            return []
        template, problem = self._template()
        if template is None:
            return [problem]
        problems: list[tuple[int, str]] = []
        from jinja2 import meta, nodes

        env = _environment()
        ast = env.parse(self.template_source)
        unknown = meta.find_undeclared_variables(ast) - {"data", "task", "instance", "form"}
        seen: set[str] = set()
        for node in ast.find_all(nodes.Name):
            if node.name in unknown and node.name not in seen:
                seen.add(node.name)
                problems.append(
                    (
                        self.template_line + node.lineno - 1,
                        f"template uses unknown variable {node.name!r}: "
                        f"instance variables are written data.{node.name}",
                    )
                )
        # Jinja resolves a filter or test inside {% if %} only when that branch renders: find them all here
        reported: set[tuple[str, str]] = set()
        for kind, node_type, known in (("filter", nodes.Filter, env.filters), ("test", nodes.Test, env.tests)):
            for node in ast.find_all(node_type):
                if node.name not in known and (kind, node.name) not in reported:
                    reported.add((kind, node.name))
                    near = difflib.get_close_matches(node.name, sorted(known), n=1)
                    hint = f" (did you mean {near[0]!r}?)" if near else ""
                    problems.append(
                        (self.template_line + node.lineno - 1, f"template uses unknown {kind} {node.name!r}{hint}")
                    )
        if reported:  # rendering would only fail on the same names again
            return problems
        task_keys = ("name", "title", "role", "lane", "assignee", "due_at")
        for context in ({}, {"data": {}, "task": dict.fromkeys(task_keys), "instance": {}}):
            try:
                template.render(**self._context(context))
            except Exception as error:
                line = _template_error_line(error) or 1
                problems.append(
                    (self.template_line + line - 1, f"template fails with no data: {type(error).__name__}: {error}")
                )
                break
        return problems

    def _context(self, context: Mapping[str, Any]) -> dict[str, Any]:
        result = {key: value for key, value in context.items() if key not in ("data", "task", "instance")}
        for key in ("data", "task", "instance"):
            value = context.get(key)
            result[key] = dict(value) if isinstance(value, Mapping) else {}
        due = result["task"].get("due_at")
        if due and result["task"].get("due_provisional"):  # R-T2: staff see the mark after the local time
            shown = shown_moment(due) if isinstance(due, str) and ISO_MOMENT.match(due) else due
            result["task"]["due_at"] = f"{shown}{PROVISIONAL_MARK}"
        result.setdefault("form", {"name": self.name, "title": self.title})
        return result

    def _template(self) -> tuple[Any, tuple[int, str]]:
        """The compiled template (cached) or ``(None, (file line, message))``."""
        if not self._compiled:
            from jinja2 import TemplateSyntaxError

            try:
                self._compiled.append((_environment().from_string(self.template_source), (0, "")))
            except TemplateSyntaxError as error:
                line = self.template_line + (error.lineno or 1) - 1
                self._compiled.append((None, (line, f"template syntax error: {error.message}")))
        return self._compiled[0]


# R-T2: after a provisional deadline (its year's official holiday schedule is not published yet)
PROVISIONAL_MARK = "（暂定）"


def _names_of(value: Any) -> tuple[str, ...]:
    """The entries of a configured list (or the keys of a mapping), as choices."""
    if isinstance(value, Mapping):
        value = list(value)
    if not isinstance(value, (list, tuple)):
        return ()
    return tuple(dict.fromkeys(str(v).strip() for v in value if v is not None and str(v).strip()))


def _template_error_line(error: BaseException) -> int | None:
    """The template line a Jinja runtime error happened on (Jinja rewrites tracebacks)."""
    import traceback

    line = None
    for frame in traceback.extract_tb(error.__traceback__):
        if frame.filename == "<template>":
            line = frame.lineno
    return line


_env: list[Any] = []

# A block tag ending a line of text, e.g. ``类型：{{ x }}{% endif %}``: the newline after it is text.
_TAG = re.compile(r"\{%.*?%\}|\{#.*?#\}")
_TRAILING_BLOCK = re.compile(r"(?<![-+])%\}([ \t]*)$")


def keep_text_newlines(source: str) -> str:
    """Mark the newline after a block tag that ends a line of text as kept (``+%}``).

    ``trim_blocks`` drops the newline after every block tag, which is right for a line holding
    only tags (``{% for ... %}``) but joins a line of text ending in ``{% endif %}`` onto the next
    one. Line numbers are unchanged, so template errors still point at the file's line.

    >>> keep_text_newlines("类型：{{ t }}{% endif %}\n{% for x in y %}\n")
    '类型：{{ t }}{% endif +%}\n{% for x in y %}\n'
    """
    lines = source.split("\n")
    for i, line in enumerate(lines[:-1]):
        if _TRAILING_BLOCK.search(line) and _TAG.sub("", line).strip():
            lines[i] = _TRAILING_BLOCK.sub(r"+%}\1", line)
    return "\n".join(lines)


# a moment as scripts store it: ISO 8601 with its offset (the hall's local time), seconds optional
ISO_MOMENT = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?([+-]\d{2}:\d{2}|Z)\Z")


def shown_moment(text: str) -> str:
    """A stored moment as staff read it on a form: local date and time to the minute, e.g.
    2026-12-05T12:22:21+00:00 -> 2026-12-05 20:22 (the hall's time zone)."""
    return datetime.fromisoformat(text).astimezone(_zone(None)).strftime("%Y-%m-%d %H:%M")


def _environment() -> Any:
    """The shared Jinja2 environment (sandboxed, forgiving about missing values); built once."""
    if not _env:
        from jinja2 import ChainableUndefined
        from jinja2.ext import Extension
        from jinja2.sandbox import ImmutableSandboxedEnvironment

        class TextNewlines(Extension):
            """Keeps the newline that ends a line of text, even after a block tag."""

            def preprocess(self, source: str, name: str | None, filename: str | None = None) -> str:
                return keep_text_newlines(source)

        class DashUndefined(ChainableUndefined):
            """A missing variable renders as "—", is false, empty when looped over."""

            __slots__ = ()

            def __str__(self) -> str:
                return EMPTY_MARK

        def finalize(value: Any) -> Any:
            if value is None or isinstance(value, DashUndefined):
                return EMPTY_MARK
            if isinstance(value, bool):
                return "是" if value else "否"
            if isinstance(value, (list, tuple)):
                return "、".join(str(finalize(v)) for v in value)
            if isinstance(value, str) and ISO_MOMENT.match(value):
                return shown_moment(value)
            return value

        _env.append(
            ImmutableSandboxedEnvironment(
                undefined=DashUndefined,
                finalize=finalize,
                autoescape=False,
                keep_trailing_newline=False,
                trim_blocks=True,
                lstrip_blocks=True,
                extensions=[TextNewlines],
            )
        )
    return _env[0]


# --------------------------------------------------------------------------------------------
# loading


class _Problems:
    """Collects ``(line, what)`` while reading one file."""

    def __init__(self) -> None:
        self.items: list[tuple[int, str]] = []

    def add(self, line: int, what: str) -> None:
        self.items.append((line, what))


def _key_line(mapping: Any, key: Any, fallback: int) -> int:
    try:
        return mapping.lc.key(key)[0] + 1
    except Exception:
        return fallback


def _value_line(mapping: Any, key: Any, fallback: int) -> int:
    try:
        return mapping.lc.value(key)[0] + 1
    except Exception:
        return fallback


def _item_line(seq: Any, index: int, fallback: int) -> int:
    try:
        return seq.lc.item(index)[0] + 1
    except Exception:
        return fallback


def _plain(value: Any) -> Any:
    """ruamel scalar subclasses to plain Python values."""
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, str):
        return str(value)
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):
        return float(value)
    if isinstance(value, datetime):
        return datetime(
            value.year, value.month, value.day, value.hour, value.minute, value.second, value.microsecond, value.tzinfo
        )
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


def _parse(path: Path, with_template: bool = False) -> tuple[Form | None, list[tuple[int, str]]]:
    """Read one form file; return the form (None if unusable) and every problem found.

    The template is only checked (which imports Jinja2) when ``with_template`` is set.
    """
    problems = _Problems()
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        return None, [(1, "file is not UTF-8 text")]
    except OSError as error:
        return None, [(1, f"cannot read file: {error.strerror or error}")]
    from ruamel.yaml import YAML
    from ruamel.yaml.error import MarkedYAMLError, YAMLError

    try:
        document = YAML(typ="rt").load(text)
    except MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        line = mark.line + 1 if mark is not None else 1
        what = " ".join(str(part) for part in (error.problem, error.context) if part) or str(error)
        return None, [(line, f"not valid YAML: {what}")]
    except YAMLError as error:
        return None, [(1, f"not valid YAML: {error}")]
    if document is None:
        return None, [(1, "the file is empty: it needs at least a title and fields")]
    if not isinstance(document, Mapping):
        return None, [(1, "a form file is a list of keys (title, template, fields), not a single value")]

    for key in document:
        if key not in FORM_KEYS:
            problems.add(_key_line(document, key, 1), f"unknown key {key!r} (a form has: {', '.join(FORM_KEYS)})")

    title = _plain(document.get("title", path.stem))
    if not isinstance(title, str) or not title.strip():
        problems.add(_value_line(document, "title", 1), "title must be a line of text")
        title = path.stem

    template = _plain(document.get("template", ""))
    template_line = 1
    if template is None:
        template = ""
    if not isinstance(template, str):
        problems.add(_value_line(document, "template", 1), "template must be text (write `template: |`)")
        template = ""
    elif "template" in document:
        from ruamel.yaml.scalarstring import FoldedScalarString, LiteralScalarString

        template_line = _value_line(document, "template", 1)
        if isinstance(document["template"], (LiteralScalarString, FoldedScalarString)):
            template_line += 1  # block scalar: the text starts below the `|`

    fields: list[Field] = []
    raw_fields = document.get("fields", [])
    if raw_fields is None:
        raw_fields = []
    if not isinstance(raw_fields, list):
        problems.add(
            _value_line(document, "fields", 1), "fields must be a list of fields, each starting with `- name:`"
        )
        raw_fields = []
    names: dict[str, int] = {}
    for index, raw in enumerate(raw_fields):
        line = _item_line(raw_fields, index, _value_line(document, "fields", 1))
        built = _parse_field(raw, line, problems)
        if built is None:
            continue
        source = _plain(raw.get("choices_from"))
        if source is not None:
            if built.type not in CHOICE_TYPES:
                problems.add(
                    _value_line(raw, "choices_from", line),
                    f"field {built.name}: choices_from only applies to choice and multi-choice fields",
                )
            elif not isinstance(source, str) or not source.isidentifier():
                problems.add(
                    _value_line(raw, "choices_from", line),
                    f"field {built.name}: choices_from names a list of the configuration, e.g. `choices_from: topics`",
                )
            else:
                built = replace(built, choices_from=source)
        if built.name in names:
            problems.add(line, f"field {built.name!r} is declared twice (first on line {names[built.name]})")
            continue
        names[built.name] = line
        fields.append(built)
    fields = [_resolve_condition(f, raw_fields, fields, problems) for f in fields]
    fields = [_resolve_after(f, raw_fields, fields, problems) for f in fields]

    form = Form(
        name=path.stem,
        path=path,
        title=title.strip(),
        template_source=template,
        fields=tuple(fields),
        template_line=template_line,
    )
    if with_template and template:
        problems.items.extend(form.check())
    problems.items.sort(key=lambda item: item[0])
    return form, problems.items


def _parse_field(raw: Any, line: int, problems: _Problems) -> Field | None:
    if not isinstance(raw, Mapping):
        problems.add(line, "each field must be a set of keys starting with `- name:`")
        return None
    before = len(problems.items)

    def at(key: str) -> int:
        return _value_line(raw, key, line)

    for key in raw:
        if key not in FIELD_KEYS:
            problems.add(_key_line(raw, key, line), f"unknown field key {key!r} (allowed: {', '.join(FIELD_KEYS)})")

    name = _plain(raw.get("name"))
    if name is None:
        problems.add(line, "field has no name")
        return None
    if not isinstance(name, str) or not name.isidentifier() or keyword.iskeyword(name):
        problems.add(
            at("name"),
            f"field name {name!r} must be one word of letters, digits or _ "
            "(Chinese is fine), not starting with a digit and not a Python keyword",
        )
        return None

    kind = _plain(raw.get("type", "text"))
    if kind not in TYPES:
        problems.add(at("type"), f"field {name}: unknown type {kind!r} (types: {', '.join(TYPES)})")
        return None

    label = _plain(raw.get("label", name))
    if not isinstance(label, str) or not label.strip():
        problems.add(at("label"), f"field {name}: label must be a line of text")
        label = name

    required = _plain(raw.get("required", True))
    if not isinstance(required, bool):
        problems.add(at("required"), f"field {name}: required must be true or false")
        required = True

    help_text = _plain(raw.get("help"))
    if help_text is not None and not isinstance(help_text, str):
        help_text = str(help_text)

    choices: tuple[str, ...] = ()
    if kind in CHOICE_TYPES:
        raw_choices = _plain(raw.get("choices"))
        if not raw_choices or not isinstance(raw_choices, list):
            problems.add(
                at("choices") if "choices" in raw else line,
                f"field {name}: a {kind} field needs choices, e.g. `choices: [同意, 不同意]`",
            )
        else:
            seen: list[str] = []
            for choice in raw_choices:
                if isinstance(choice, bool) or not isinstance(choice, (str, int, float)) or not str(choice).strip():
                    problems.add(at("choices"), f"field {name}: choice {choice!r} must be a word or number")
                    continue
                text = str(choice).strip()
                if text in seen:
                    problems.add(at("choices"), f"field {name}: choice {text!r} is listed twice")
                elif kind == "multi-choice" and _MULTI_SPLIT.search(text):
                    problems.add(
                        at("choices"),
                        f"field {name}: choice {text!r} may not contain a comma or 、 "
                        "(they separate the choices typed in)",
                    )
                else:
                    seen.append(text)
            choices = tuple(seen)
    elif "choices" in raw:
        problems.add(at("choices"), f"field {name}: choices only apply to choice and multi-choice fields")

    pattern = _plain(raw.get("pattern"))
    if pattern is not None:
        if kind not in PATTERN_TYPES:
            problems.add(at("pattern"), f"field {name}: pattern only applies to text, multiline and phone fields")
            pattern = None
        elif not isinstance(pattern, str):
            problems.add(at("pattern"), f"field {name}: pattern must be text (quote it)")
            pattern = None
        else:
            try:
                re.compile(pattern)
            except re.error as error:
                problems.add(at("pattern"), f"field {name}: pattern is not a valid regular expression: {error}")
                pattern = None

    if len(problems.items) > before:
        return None
    probe = Field(
        name=name,
        label=label.strip(),
        type=kind,
        required=required,
        pattern=pattern,
        choices=choices,
        help=help_text,
        line=line,
    )

    bounds: dict[str, Any] = {}
    for key in ("min", "max"):
        if key not in raw or raw.get(key) is None:
            continue
        if kind not in BOUNDED_TYPES:
            problems.add(at(key), f"field {name}: {key} does not apply to {kind} fields")
            continue
        value = _bound(probe, key, _plain(raw[key]))
        if isinstance(value, str) and value.startswith("!"):
            problems.add(at(key), f"field {name}: {value[1:]}")
        else:
            bounds[key] = value
    if "min" in bounds and "max" in bounds and _bound_key(probe)(bounds["min"]) > _bound_key(probe)(bounds["max"]):
        problems.add(at("min"), f"field {name}: min ({bounds['min']}) is greater than max ({bounds['max']})")
        return None
    if len(problems.items) > before:
        return None
    probe = Field(
        name=name,
        label=probe.label,
        type=kind,
        required=required,
        pattern=pattern,
        choices=choices,
        help=help_text,
        line=line,
        **bounds,
    )

    default = _plain(raw.get("default"))
    if default is not None:
        if _is_blank(default):
            if required:
                problems.add(
                    at("default"),
                    f"field {name}: a required field cannot default to empty "
                    "(remove the default or write `required: false`)",
                )
                return None
            default = probe.empty_value()
        else:
            try:
                default = probe.coerce(default)
            except ValueError as error:
                problems.add(at("default"), f"field {name}: default {default!r} is not a valid {kind}: {error}")
                return None
        probe = Field(
            name=name,
            label=probe.label,
            type=kind,
            required=required,
            pattern=pattern,
            choices=choices,
            help=help_text,
            line=line,
            default=default,
            **bounds,
        )
    return probe


def _resolve_after(f: Field, raw_fields: list, fields: list[Field], problems: _Problems) -> Field:
    """Attach ``after: other`` of `f`: another field of the form, of the same ordered type."""
    raw = next((r for r in raw_fields if isinstance(r, Mapping) and _plain(r.get("name")) == f.name), None)
    if raw is None or raw.get("after") is None:
        return f
    line = _value_line(raw, "after", f.line)
    other = _plain(raw.get("after"))
    by_name = {g.name: g for g in fields}
    if not isinstance(other, str) or other not in by_name or other == f.name:
        problems.add(line, f"field {f.name}: after names {other!r}, which is not another field of this form")
        return f
    if f.type not in ORDERED_TYPES or by_name[other].type != f.type:
        problems.add(
            line,
            f"field {f.name}: after needs two fields of the same ordered type "
            f"({', '.join(sorted(ORDERED_TYPES))}); {f.name} is {f.type}, {other} is {by_name[other].type}",
        )
        return f
    return replace(f, after=other)


def _before(value: Any, other: Any) -> bool:
    """Whether one stored answer is earlier (smaller) than another of the same type."""
    try:
        return bool(_ordered(value) < _ordered(other))
    except TypeError:  # not comparable (cannot happen for two answers of one ordered type)
        return False


def _ordered(value: Any) -> Any:
    """A stored answer as something to compare: money is text with two decimals, dates ISO text."""
    if isinstance(value, str):
        try:
            return Decimal(value) if re.fullmatch(r"-?\d+(?:\.\d+)?", value) else datetime.fromisoformat(value)
        except ValueError:
            return value
    return value


def _resolve_condition(f: Field, raw_fields: list, fields: list[Field], problems: _Problems) -> Field:
    """Attach ``required_when: {other: value or [values]}`` of `f`, each value stored as `other` stores it."""
    raw = next((r for r in raw_fields if isinstance(r, Mapping) and _plain(r.get("name")) == f.name), None)
    if raw is None or raw.get("required_when") is None:
        return f
    line = _value_line(raw, "required_when", f.line)
    spec = _plain(raw.get("required_when"))
    if f.required:
        problems.add(line, f"field {f.name}: required_when needs `required: false` (else it is always required)")
        return f
    if not isinstance(spec, Mapping) or not spec:
        problems.add(
            line, f"field {f.name}: required_when is a set of `field: value`, e.g. `required_when: {{需要延期: true}}`"
        )
        return f
    by_name = {g.name: g for g in fields}
    conditions = []
    for other, wanted in spec.items():
        if other not in by_name or other == f.name:
            problems.add(
                line, f"field {f.name}: required_when names {other!r}, which is not another field of this form"
            )
            return f
        stored = []
        for value in wanted if isinstance(wanted, list) else [wanted]:
            try:
                stored.append(by_name[other].coerce(value))
            except ValueError as error:
                problems.add(line, f"field {f.name}: required_when {other}: {value!r} is not a valid value: {error}")
                return f
        conditions.append((str(other), tuple(stored)))
    return replace(f, required_when=tuple(conditions))


def _bound(f: Field, key: str, value: Any) -> Any:
    """A min/max from the file in stored form, or ``"!message"``."""
    kind = f.type
    if kind in TEXT_TYPES or kind == "multi-choice":
        what = "a number of characters" if kind in TEXT_TYPES else "a number of choices"
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            return f"!{key} must be {what} (a whole number, 0 or more)"
        return value
    if kind in ("int", "score"):
        if isinstance(value, bool) or not isinstance(value, int):
            return f"!{key} must be a whole number"
        if kind == "score" and not SCORE_MIN <= value <= SCORE_MAX:
            return f"!{key} of a score must be between {SCORE_MIN} and {SCORE_MAX}"
        return value
    if kind == "decimal":
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            return f"!{key} must be a number"
        return float(value)
    if kind == "money":
        try:
            return _coerce_money(Field(name="bound", type="money"), value, None)
        except ValueError:
            return f"!{key} must be an amount like 100 or 99.50"
    if kind == "date":
        try:
            return _parse_date(value).isoformat()
        except ValueError:
            return f"!{key} must be a date like 2024-03-05"
    if kind == "datetime":
        try:
            moment = _parse_datetime(value, None)
        except ValueError:
            return f"!{key} must be a date and time like 2024-03-05 14:30"
        text = value if isinstance(value, str) else moment.isoformat(timespec="seconds")
        return text.strip()
    return value


def _bound_key(f: Field) -> Any:
    if f.type == "money":
        return Decimal
    if f.type == "datetime":
        return lambda text: _parse_datetime(text, None)
    return lambda value: value


def load_form(path: Path) -> Form:
    """Read and check one form file; raise ``FormDefinitionInvalid(path, line, what)`` on the
    first problem (in file order).

    The template is not checked here, to keep loading cheap: :meth:`Form.check` and
    :meth:`FormLibrary.check_all` do that, and :meth:`Form.render` shows a faulty template's
    problem in place of its text.
    """
    path = Path(path)
    form, problems = _parse(path)
    if problems:
        line, what = problems[0]
        more = f" (and {len(problems) - 1} more; run `hall validate`)" if len(problems) > 1 else ""
        raise FormDefinitionInvalid(str(path), line, what + more)
    assert form is not None
    return form


# --------------------------------------------------------------------------------------------
# a form as JSON: what `hall serve` sends so that a client asks the same questions


def describe_form(form: Form) -> dict[str, Any]:
    """The form's title and its fields' full definitions as JSON (`GET /v1/forms/{name}`): enough for
    :func:`form_from_description` to build a Form that coerces, checks and prompts as this one does.
    Each field also carries ``description`` (its prompt line) and ``has_default``."""
    fields = []
    for f in form.fields:
        fields.append(
            {
                "name": f.name,
                "label": f.label,
                "type": f.type,
                "required": f.required,
                "default": f.default,
                "min": f.min,
                "max": f.max,
                "pattern": f.pattern,
                "choices": list(f.choices),
                "help": f.help,
                "required_when": [[name, list(values)] for name, values in f.required_when],
                "after": f.after,
                "choices_from": f.choices_from,
                "description": f.describe(),
                "has_default": f.default is not None,
            }
        )
    return {"name": form.name, "title": form.title, "fields": fields}


def form_from_description(spec: Mapping[str, Any]) -> Form:
    """The Form of :func:`describe_form`'s JSON (no template: the server renders it). Raises
    ``ValueError`` when the description is not one."""
    try:
        fields = tuple(
            Field(
                name=str(raw["name"]),
                label=str(raw.get("label") or ""),
                type=str(raw.get("type") or "text"),
                required=bool(raw.get("required", True)),
                default=raw.get("default"),
                min=raw.get("min"),
                max=raw.get("max"),
                pattern=raw.get("pattern"),
                choices=tuple(str(c) for c in raw.get("choices") or ()),
                help=raw.get("help") or None,
                required_when=tuple((str(name), tuple(values)) for name, values in raw.get("required_when") or ()),
                after=raw.get("after"),
                choices_from=raw.get("choices_from"),
            )
            for raw in spec.get("fields") or ()
        )
        name = str(spec["name"])
    except (KeyError, TypeError, ValueError) as exc:
        raise ValueError(f"not a form description: {exc}") from None
    return Form(
        name=name, path=Path(f"{name}.yaml"), title=str(spec.get("title") or name), template_source="", fields=fields
    )


# --------------------------------------------------------------------------------------------
# a folder of forms


_NAME_RE = re.compile(r"[^/\\:\x00]+")


# Parsed forms and their problems, shared by every library of the process and keyed by the file's
# path, modification time and size: engines opened one after another (the scenarios of `hall test`,
# each on its own database) read and check each form file once.
_PARSED: dict[tuple[Path, tuple[int, int]], Form] = {}
_PROBLEMS: dict[tuple[Path, tuple[int, int]], list[tuple[int, str]]] = {}


class FormLibrary:
    """The forms in one folder, loaded when first asked for and reloaded when the file changes."""

    SUFFIXES = (".yaml", ".yml")

    def __init__(self, folder: Path, lists: Mapping[str, Any] | None = None) -> None:
        self.folder = Path(folder)
        self.lists = dict(lists or {})  # the configuration's lists that ``choices_from`` fields name
        self._cache: dict[Path, tuple[tuple[int, int], Form]] = {}

    def _path(self, name: str) -> Path | None:
        if not name or not _NAME_RE.fullmatch(name) or name in (".", ".."):
            return None
        for suffix in self.SUFFIXES:
            candidate = self.folder / f"{name}{suffix}"
            if candidate.is_file():
                return candidate
        return None

    def exists(self, name: str) -> bool:
        """Whether ``name.yaml`` (or ``.yml``) is in the folder; the file is not parsed."""
        return self._path(name) is not None

    def get(self, name: str) -> Form:
        """The form called ``name``; ``FormNotFound`` if there is no such file,
        ``FormDefinitionInvalid`` if it is broken."""
        path = self._path(name)
        if path is None:
            raise FormNotFound(name, str(self.folder))
        try:
            stat = path.stat()
        except OSError:
            raise FormNotFound(name, str(self.folder)) from None
        stamp = (stat.st_mtime_ns, stat.st_size)
        cached = self._cache.get(path)
        if cached is not None and cached[0] == stamp:
            return cached[1]
        form = _PARSED.get((path, stamp)) or load_form(path)
        _PARSED[(path, stamp)] = form
        form = form.configured(self.lists)
        self._cache[path] = (stamp, form)
        return form

    def names(self) -> list[str]:
        """Names of the forms in the folder, sorted."""
        return sorted({path.stem for path in self._files()})

    def _files(self) -> Iterator[Path]:
        if not self.folder.is_dir():
            return iter(())
        return iter(
            sorted(
                p
                for p in self.folder.iterdir()
                if p.suffix in self.SUFFIXES and p.is_file() and not p.name.startswith(".")
            )
        )

    def problems(self, name: str) -> list[tuple[str, int, str]]:
        """Every problem of one form, structure and template, as ``(file, line, what)``;
        never raises (a missing form is one problem)."""
        path = self._path(name)
        if path is None:
            return [(str(self.folder / f"{name}.yaml"), 1, f"form {name!r} not found in {self.folder}")]
        try:
            stat = path.stat()
            key: tuple[Path, tuple[int, int]] | None = (path, (stat.st_mtime_ns, stat.st_size))
        except OSError:
            key = None
        problems = _PROBLEMS.get(key) if key is not None else None
        if problems is None:
            _, problems = _parse(path, with_template=True)
            if key is not None:
                _PROBLEMS[key] = problems
        return [(str(path), line, what) for line, what in problems]

    def check_all(self) -> list[tuple[str, int, str]]:
        """Every problem in every form file of the folder, as ``(file, line, what)``."""
        found: list[tuple[str, int, str]] = []
        if not self.folder.is_dir():
            return [(str(self.folder), 1, "forms folder does not exist")]
        stems: dict[str, Path] = {}
        for path in self._files():
            if path.stem in stems:
                found.append((str(path), 1, f"two files for form {path.stem!r}: {stems[path.stem].name} is used"))
                continue
            stems[path.stem] = path
            _, problems = _parse(path, with_template=True)
            found.extend((str(path), line, what) for line, what in problems)
        return found
