"""Task forms: field types, validation, form-file errors with line numbers, templates, the library."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path

import pytest
from hall.engine.errors import FormDefinitionInvalid, FormInvalid, FormNotFound, HallError
from hall.engine.forms import TYPES, Field, Form, FormLibrary, load_form

HERE = Path(__file__).resolve().parents[1]  # tests/ (this file is in tests/unit/)
FIXTURES = HERE / "forms"


def write(folder: Path, name: str, text: str) -> Path:
    path = folder / f"{name}.yaml"
    path.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
    return path


def form_from(tmp_path: Path, text: str, name: str = "f") -> Form:
    return load_form(write(tmp_path, name, text))


def definition_error(tmp_path: Path, text: str) -> FormDefinitionInvalid:
    path = write(tmp_path, "bad", text)
    with pytest.raises(FormDefinitionInvalid) as caught:
        load_form(path)
    assert caught.value.path == str(path)
    assert str(caught.value).startswith(f"{path}:{caught.value.line}: ")
    return caught.value


# ---------------------------------------------------------------------------------------------
# field types: valid input, typed and as typed on the command line

VALID = [
    # (field, entered, stored)
    (Field("x", type="text"), "  张三 ", "张三"),
    (Field("x", type="text"), 2024001, "2024001"),
    (Field("x", type="multiline"), "第一行\r\n第二行\n", "第一行\n第二行"),
    (Field("x", type="int"), 3, 3),
    (Field("x", type="int"), "42", 42),
    (Field("x", type="int"), " -7 ", -7),
    (Field("x", type="int"), "１２", 12),
    (Field("x", type="int"), 5.0, 5),
    (Field("x", type="int"), "1,000", 1000),
    (Field("x", type="decimal"), 2.5, 2.5),
    (Field("x", type="decimal"), 3, 3.0),
    (Field("x", type="decimal"), "3.25", 3.25),
    (Field("x", type="decimal"), ".5", 0.5),
    (Field("x", type="money"), 1234.5, "1234.50"),
    (Field("x", type="money"), 100, "100.00"),
    (Field("x", type="money"), Decimal("0.1"), "0.10"),
    (Field("x", type="money"), "1,234.5", "1234.50"),
    (Field("x", type="money"), "¥88", "88.00"),
    (Field("x", type="money"), "￥88.8元", "88.80"),
    (Field("x", type="money"), "-0", "0.00"),
    (Field("x", type="date"), date(2024, 3, 5), "2024-03-05"),
    (Field("x", type="date"), datetime(2024, 3, 5), "2024-03-05"),
    (Field("x", type="date"), "2024-03-05", "2024-03-05"),
    (Field("x", type="date"), "2024/3/5", "2024-03-05"),
    (Field("x", type="date"), "2024年3月5日", "2024-03-05"),
    (Field("x", type="date"), "20240305", "2024-03-05"),
    (Field("x", type="datetime"), "2024-03-05 14:30", "2024-03-05T14:30:00+08:00"),
    (Field("x", type="datetime"), "2024-03-05T14:30:15+00:00", "2024-03-05T14:30:15+00:00"),
    (Field("x", type="datetime"), "2024-03-05T06:30Z", "2024-03-05T06:30:00+00:00"),
    (Field("x", type="datetime"), datetime(2024, 3, 5, 9, 0), "2024-03-05T09:00:00+08:00"),
    (Field("x", type="datetime"), datetime(2024, 3, 5, 9, 0, tzinfo=UTC), "2024-03-05T09:00:00+00:00"),
    (Field("x", type="phone"), "13912345678", "13912345678"),
    (Field("x", type="phone"), 13912345678, "13912345678"),
    (Field("x", type="phone"), "139 1234 5678", "13912345678"),
    (Field("x", type="phone"), "+86 139 1234 5678", "13912345678"),
    (Field("x", type="phone"), "139-1234-5678", "13912345678"),
    (Field("x", type="phone"), "8613912345678", "13912345678"),
    (Field("x", type="phone"), "0551-12345678", "0551-12345678"),
    (Field("x", type="phone"), "055112345678", "055112345678"),
    (Field("x", type="phone"), "010-1234567", "010-1234567"),
    (Field("x", type="phone"), "０５５１－１２３４５６７８", "0551-12345678"),
    (Field("x", type="choice", choices=("同意", "不同意")), "同意", "同意"),
    (Field("x", type="choice", choices=("同意", "不同意")), " 不同意 ", "不同意"),
    (Field("x", type="choice", choices=("1", "2")), 2, "2"),
    (Field("x", type="multi-choice", choices=("a", "b", "c")), ["c", "a"], ["a", "c"]),
    (Field("x", type="multi-choice", choices=("a", "b", "c")), "a,b", ["a", "b"]),
    (Field("x", type="multi-choice", choices=("身份证", "合同")), "合同，身份证", ["身份证", "合同"]),
    (Field("x", type="multi-choice", choices=("身份证", "合同")), "合同、合同", ["合同"]),
    (Field("x", type="multi-choice", choices=("a", "b")), ("b",), ["b"]),
    (Field("x", type="bool"), True, True),
    (Field("x", type="bool"), False, False),
    (Field("x", type="bool"), 1, True),
    (Field("x", type="bool"), 0, False),
    *[(Field("x", type="bool"), s, True) for s in ("true", "TRUE", "yes", "y", "1", "是", "Yes")],
    *[(Field("x", type="bool"), s, False) for s in ("false", "no", "n", "0", "否", "N")],
    (Field("x", type="score"), 0, 0),
    (Field("x", type="score"), 10, 10),
    (Field("x", type="score"), "7", 7),
    (Field("x", type="score", min=1, max=5), "5", 5),
]


@pytest.mark.parametrize("field,entered,stored", VALID, ids=[f"{f.type}-{entered!r}" for f, entered, _ in VALID])
def test_valid_values_are_coerced_to_their_stored_form(field, entered, stored):
    value = field.coerce(entered)
    assert value == stored
    assert type(value) is type(stored)


def test_every_type_is_covered_by_the_valid_cases():
    assert {f.type for f, _, _ in VALID} == set(TYPES)


def test_datetime_without_offset_uses_the_time_zone_given():
    f = Field("x", type="datetime")
    assert f.coerce("2024-03-05 14:30", tz="UTC") == "2024-03-05T14:30:00+00:00"
    assert f.coerce("2024-03-05 14:30", tz=timezone(timedelta(hours=-5))) == "2024-03-05T14:30:00-05:00"
    form = Form("f", Path("f.yaml"), "t", "", (f,))
    assert form.validate({"x": "2024-03-05 14:30"}, tz="Europe/Paris") == {"x": "2024-03-05T14:30:00+01:00"}


# ---------------------------------------------------------------------------------------------
# field types: invalid input

INVALID = [
    # (field, entered, part of the message)
    (Field("x", type="text"), ["a"], "应为文本"),
    (Field("x", type="text"), True, "应为文本"),
    (Field("x", type="text"), "两\n行", "不能换行"),
    (Field("x", type="text", max=3), "四个汉字", "最多 3 个字"),
    (Field("x", type="text", min=2), "一", "至少 2 个字"),
    (Field("x", type="text", pattern=r"BA-\d{4}"), "BA-12345", "格式不对"),
    (Field("x", type="text", pattern=r"BA-\d{4}", help="形如 BA-0001"), "ba-1234", "形如 BA-0001"),
    (Field("x", type="multiline", max=5), "一二三\n四五六", "最多 5 个字"),
    (Field("x", type="int"), "3.5", "不能有小数"),
    (Field("x", type="int"), 3.5, "不能有小数"),
    (Field("x", type="int"), "三", "应为整数"),
    (Field("x", type="int"), True, "应为整数"),
    (Field("x", type="int"), [1], "应为整数"),
    (Field("x", type="int", min=1), 0, "不能小于 1"),
    (Field("x", type="int", max=99), "100", "不能大于 99"),
    (Field("x", type="decimal"), "abc", "应为数字"),
    (Field("x", type="decimal"), "nan", "应为数字"),
    (Field("x", type="decimal"), float("inf"), "应为数字"),
    (Field("x", type="decimal"), False, "应为数字"),
    (Field("x", type="decimal", min=0.0), "-0.5", "不能小于 0"),
    (Field("x", type="decimal", max=1.5), 2, "不能大于 1.5"),
    (Field("x", type="money"), "12.345", "最多两位小数"),
    (Field("x", type="money"), 0.1 + 0.2, "最多两位小数"),
    (Field("x", type="money"), "十元", "应为金额"),
    (Field("x", type="money"), "1e3", "应为金额"),
    (Field("x", type="money"), True, "应为金额"),
    (Field("x", type="money", min="0.00"), "-1", "不能少于 0.00 元"),
    (Field("x", type="money", max="100.00"), "100.01", "不能多于 100.00 元"),
    (Field("x", type="date"), "2024-02-30", "没有这一天"),
    (Field("x", type="date"), "2023-02-29", "没有这一天"),
    (Field("x", type="date"), "明天", "应为日期"),
    (Field("x", type="date"), "05/03/2024", "应为日期"),
    (Field("x", type="date"), 20240305, "应为日期"),
    (Field("x", type="date"), datetime(2024, 3, 5, 9, 30), "不要时间"),
    (Field("x", type="date", min="2024-01-01"), "2023-12-31", "不能早于 2024-01-01"),
    (Field("x", type="date", max="2024-12-31"), date(2025, 1, 1), "不能晚于 2024-12-31"),
    (Field("x", type="datetime"), "2024-03-05", "应为日期和时间"),
    (Field("x", type="datetime"), date(2024, 3, 5), "还要填时间"),
    (Field("x", type="datetime"), "2024-03-05 25:00", "应为日期和时间"),
    (Field("x", type="datetime"), 1709600000, "应为日期和时间"),
    (Field("x", type="datetime", min="2024-03-05 09:00"), "2024-03-05 08:59", "不能早于"),
    (Field("x", type="datetime", max="2024-03-05T09:00+08:00"), "2024-03-05T01:01Z", "不能晚于"),
    (Field("x", type="phone"), "12345", "手机号"),
    (Field("x", type="phone"), "12912345678", "手机号"),
    (Field("x", type="phone"), "1391234567", "手机号"),
    (Field("x", type="phone"), "139123456789", "手机号"),
    (Field("x", type="phone"), "551-12345678", "座机"),
    (Field("x", type="phone"), "0551-123456", "座机"),
    (Field("x", type="phone"), "abc", "手机号"),
    (Field("x", type="phone"), 1.5, "应为电话号码"),
    (Field("x", type="phone", pattern=r"1\d{10}", help="只收手机号"), "0551-12345678", "只收手机号"),
    (Field("x", type="choice", choices=("同意", "不同意")), "同 意", "只能选：同意、不同意"),
    (Field("x", type="choice", choices=("同意", "不同意")), ["同意"], "只能选一项"),
    (Field("x", type="choice", choices=("同意", "不同意")), True, "只能选一项"),
    (Field("x", type="multi-choice", choices=("a", "b")), "a,z", "没有这个选项：z"),
    (Field("x", type="multi-choice", choices=("a", "b")), ["a", 3, "y"], "没有这个选项：3、y"),
    (Field("x", type="multi-choice", choices=("a", "b")), 5, "应为选项列表"),
    (Field("x", type="multi-choice", choices=("a", "b", "c"), max=2), "a,b,c", "最多选 2 项"),
    (Field("x", type="multi-choice", choices=("a", "b", "c"), min=2), ["a"], "至少选 2 项"),
    (Field("x", type="multi-choice", choices=("a", "b")), ", ，", "必填"),
    (Field("x", type="bool"), "maybe", "应为 是 或 否"),
    (Field("x", type="bool"), 2, "应为 是 或 否"),
    (Field("x", type="bool"), ["yes"], "应为 是 或 否"),
    (Field("x", type="score"), 11, "0 到 10"),
    (Field("x", type="score"), "11", "0 到 10"),
    (Field("x", type="score"), -1, "0 到 10"),
    (Field("x", type="score"), "7.5", "0 到 10 的整数"),
    (Field("x", type="score"), "好", "0 到 10 的整数"),
    (Field("x", type="score", min=1, max=5), 0, "1 到 5"),
]


@pytest.mark.parametrize("field,entered,message", INVALID, ids=[f"{f.type}-{entered!r}" for f, entered, _ in INVALID])
def test_invalid_values_raise_value_error_in_plain_words(field, entered, message):
    with pytest.raises(ValueError) as caught:
        field.coerce(entered)
    assert message in str(caught.value)


def test_every_type_is_covered_by_the_invalid_cases():
    assert {f.type for f, _, _ in INVALID} == set(TYPES)


# ---------------------------------------------------------------------------------------------
# blanks, defaults, required


@pytest.mark.parametrize("kind", sorted(TYPES))
@pytest.mark.parametrize("blank", [None, "", "   ", []])
def test_blank_required_field_says_required(kind, blank):
    f = Field("x", type=kind, choices=("a", "b") if "choice" in kind else ())
    with pytest.raises(ValueError, match="必填"):
        f.coerce(blank)


@pytest.mark.parametrize(
    "kind,empty",
    [
        ("text", ""),
        ("multiline", ""),
        ("multi-choice", []),
        ("int", None),
        ("date", None),
        ("bool", None),
        ("money", None),
    ],
)
def test_blank_optional_field_stores_its_empty_value(kind, empty):
    f = Field("x", type=kind, required=False, choices=("a", "b") if "choice" in kind else ())
    assert f.coerce("") == empty
    assert f.coerce(None) == empty


def test_default_used_when_blank(tmp_path):
    form = form_from(
        tmp_path,
        """
        title: t
        fields:
          - {name: 件数, type: int, default: 1}
          - {name: 收费, type: money, default: 0}
          - {name: 加急, type: bool, default: 否}
          - {name: 材料, type: multi-choice, choices: [a, b], default: "a,b"}
          - {name: 日期, type: date, default: 2024-01-01}
          - {name: 备注, type: multiline, required: false, default: ""}
    """,
    )
    assert form.validate({}) == {
        "件数": 1,
        "收费": "0.00",
        "加急": False,
        "材料": ["a", "b"],
        "日期": "2024-01-01",
        "备注": "",
    }
    assert form.validate({"件数": "", "加急": "是"})["加急"] is True
    # the default list is not shared between results
    form.validate({})["材料"].append("zzz")
    assert form.validate({})["材料"] == ["a", "b"]


# ---------------------------------------------------------------------------------------------
# Form.validate


@pytest.fixture
def review() -> Form:
    return load_form(FIXTURES / "filing_review.yaml")


def test_validate_returns_every_field(review):
    data = review.validate({"备案意见": "同意备案", "服务收费": "1234.5", "联系电话": "0551-12345678", "服务态度": "9"})
    assert data == {
        "备案意见": "同意备案",
        "服务收费": "1234.50",
        "联系电话": "0551-12345678",
        "服务态度": 9,
        "备注": "",
    }


def test_validate_reports_every_problem_at_once_and_returns_nothing(review):
    with pytest.raises(FormInvalid) as caught:
        review.validate({"备案意见": "随便", "服务收费": "1.234", "服务态度": 11, "备注": "好", "意见": "x"})
    error = caught.value
    assert isinstance(error, HallError)
    assert error.form == "filing_review"
    assert set(error.errors) == {"备案意见", "服务收费", "联系电话", "服务态度", "意见"}
    assert error.errors["联系电话"] == "必填"
    assert "最多两位小数" in error.errors["服务收费"]
    assert "0 到 10" in error.errors["服务态度"]
    assert "没有这一项" in error.errors["意见"] and "备案意见" in error.errors["意见"]
    assert str(error).startswith("form filing_review: ")


def test_unknown_field_alone_is_an_error(review):
    ok = {"备案意见": "同意备案", "服务收费": 0, "联系电话": "13912345678", "服务态度": 10}
    review.validate(ok)
    with pytest.raises(FormInvalid) as caught:
        review.validate({**ok, "备案意贝": "同意备案"})
    assert list(caught.value.errors) == ["备案意贝"]


def test_all_types_fixture_accepts_command_line_strings():
    form = load_form(FIXTURES / "all_types.yaml")
    entered = {
        "申请人": "王五",
        "件数": "3",
        "面积": "12.5",
        "收费": "300",
        "受理日期": "2024/5/6",
        "约定时间": "2024-05-07 09:30",
        "电话": "13912345678",
        "结论": "同意",
        "材料": "身份证，合同",
        "满意度": "10",
        "编号": "BA-0001",
    }
    assert form.validate(entered) == {
        "申请人": "王五",
        "说明": "",
        "件数": 3,
        "面积": 12.5,
        "收费": "300.00",
        "受理日期": "2024-05-06",
        "约定时间": "2024-05-07T09:30:00+08:00",
        "电话": "13912345678",
        "结论": "同意",
        "材料": ["身份证", "合同"],
        "加急": False,
        "满意度": 10,
        "编号": "BA-0001",
    }
    with pytest.raises(FormInvalid) as caught:
        form.validate({**entered, "受理日期": "2019-12-31", "编号": "X"})
    assert caught.value.errors == {"受理日期": "不能早于 2020-01-01", "编号": "格式不对（形如 BA-0001）"}


# ---------------------------------------------------------------------------------------------
# describe / prompt_order


def test_describe_gives_one_line_prompts():
    assert Field("服务态度", type="score").describe() == "服务态度 (0–10 分)"
    assert (
        Field("备案意见", type="choice", choices=("同意备案", "材料不全", "不予备案")).describe()
        == "备案意见 [同意备案/材料不全/不予备案]"
    )
    assert Field("x", label="收费", type="money", min="0.00").describe() == "收费 (金额，元，≥0.00)"
    assert Field("备注", type="multiline", required=False, default="").describe() == "备注 (多行文本，可不填)"
    assert Field("件数", type="int", min=1, max=9, default=1).describe() == "件数 (整数，1–9，默认 1)"
    assert Field("加急", type="bool", default=False).describe() == "加急 (是/否，默认 否)"
    assert Field("材料", type="multi-choice", choices=("a", "b")).describe() == "材料 [a/b] (可多选，用逗号分隔)"
    assert Field("姓名", type="text", max=20).describe() == "姓名 (最多 20 字)"
    assert Field("姓名").describe() == "姓名"
    assert Field("面积", type="decimal", min=0.0, max=2.5).describe() == "面积 (数字，0–2.5)"
    assert "\n" not in Field("d", type="date", min="2024-01-01").describe()


def test_prompt_order_skips_given_fields(review):
    assert [f.name for f in review.prompt_order()] == ["备案意见", "服务收费", "联系电话", "服务态度", "备注"]
    assert [f.name for f in review.prompt_order({"服务收费": "1"})] == ["备案意见", "联系电话", "服务态度", "备注"]


def test_fixture_fields_carry_their_file_line(review):
    assert [(f.name, f.line) for f in review.fields] == [
        ("备案意见", 7),
        ("服务收费", 12),
        ("联系电话", 15),
        ("服务态度", 17),
        ("备注", 19),
    ]
    assert review.field("备案意见").label == "大厅备案意见"
    assert review.field("服务收费").label == "服务收费"
    assert review.field("备案意见").help == "R-F2 由大厅填写"


# ---------------------------------------------------------------------------------------------
# form file errors, with line numbers

BAD_FILES = [
    (
        "unknown field key",
        """
        title: t
        fields:
          - name: a
            lable: A
        """,
        4,
        "unknown field key 'lable'",
    ),
    (
        "unknown type",
        """
        title: t
        fields:
          - name: a
          - name: b
            type: string
        """,
        5,
        "unknown type 'string'",
    ),
    (
        "choice without choices",
        """
        title: t
        fields:
          - name: a
            type: choice
        """,
        3,
        "needs choices",
    ),
    (
        "multi-choice with empty choices",
        """
        title: t
        fields:
          - name: a
            type: multi-choice
            choices: []
        """,
        5,
        "needs choices",
    ),
    (
        "duplicate choice",
        """
        title: t
        fields:
          - name: a
            type: choice
            choices: [x, y, x]
        """,
        5,
        "listed twice",
    ),
    (
        "choices on a text field",
        """
        title: t
        fields:
          - name: a
            choices: [x]
        """,
        4,
        "only apply to choice",
    ),
    (
        "bad regex",
        """
        title: t
        fields:
          - name: a
            type: text
            pattern: "[0-9"
        """,
        5,
        "not a valid regular expression",
    ),
    (
        "pattern on an int",
        """
        title: t
        fields:
          - name: a
            type: int
            pattern: "\\\\d+"
        """,
        5,
        "pattern only applies",
    ),
    (
        "min greater than max",
        """
        title: t
        fields:
          - name: a
            type: int
            min: 10
            max: 5
        """,
        5,
        "min (10) is greater than max (5)",
    ),
    (
        "money min greater than max",
        """
        title: t
        fields:
          - name: a
            type: money
            max: 99.5
            min: 100
        """,
        6,
        "greater than max",
    ),
    (
        "date min after max",
        """
        title: t
        fields:
          - name: a
            type: date
            min: 2024-12-01
            max: 2024-01-01
        """,
        5,
        "greater than max",
    ),
    (
        "bad date bound",
        """
        title: t
        fields:
          - name: a
            type: date
            min: yesterday
        """,
        5,
        "must be a date",
    ),
    (
        "min on a bool",
        """
        title: t
        fields:
          - name: a
            type: bool
            min: 1
        """,
        5,
        "min does not apply to bool",
    ),
    (
        "score bound out of range",
        """
        title: t
        fields:
          - name: a
            type: score
            max: 100
        """,
        5,
        "between 0 and 10",
    ),
    (
        "negative text length",
        """
        title: t
        fields:
          - name: a
            max: -1
        """,
        4,
        "number of characters",
    ),
    (
        "duplicate field name",
        """
        title: t
        fields:
          - name: a
          - name: b
          - name: a
            type: int
        """,
        5,
        "declared twice (first on line 3)",
    ),
    (
        "name not an identifier",
        """
        title: t
        fields:
          - name: a
          - name: 备案 意见
        """,
        4,
        "must be one word",
    ),
    (
        "name starting with a digit",
        """
        title: t
        fields:
          - name: 1号
        """,
        3,
        "must be one word",
    ),
    (
        "name is a keyword",
        """
        title: t
        fields:
          - name: class
        """,
        3,
        "must be one word",
    ),
    (
        "field without name",
        """
        title: t
        fields:
          - name: a
          - label: 没名字
        """,
        4,
        "no name",
    ),
    (
        "field not a mapping",
        """
        title: t
        fields:
          - a
        """,
        3,
        "starting with `- name:`",
    ),
    (
        "required not boolean",
        """
        title: t
        fields:
          - name: a
            required: yes
        """,
        4,
        "required must be true or false",
    ),
    (
        "bad default",
        """
        title: t
        fields:
          - name: a
            type: score
            default: 12
        """,
        5,
        "default 12 is not a valid score",
    ),
    (
        "default not in choices",
        """
        title: t
        fields:
          - name: a
            type: choice
            choices: [x, y]
            default: z
        """,
        6,
        "not a valid choice",
    ),
    (
        "required with empty default",
        """
        title: t
        fields:
          - name: a
            default: ""
        """,
        4,
        "cannot default to empty",
    ),
    (
        "unknown top-level key",
        """
        title: t
        feilds: []
        """,
        2,
        "unknown key 'feilds'",
    ),
    (
        "fields not a list",
        """
        title: t
        fields:
          name: a
        """,
        3,
        "must be a list",
    ),
    (
        "template not text",
        """
        title: t
        template: [a]
        fields: []
        """,
        2,
        "template must be text",
    ),
    (
        "yaml syntax",
        """
        title: t
        fields:
          - name: a
            type: [int
          - name: b
        """,
        5,
        "not valid YAML",
    ),
    (
        "duplicate yaml key",
        """
        title: t
        fields:
          - name: a
            name: b
        """,
        4,
        "not valid YAML",
    ),
    (
        "not a mapping",
        """
        - a
        - b
        """,
        1,
        "not a single value",
    ),
]


@pytest.mark.parametrize("text,line,what", [case[1:] for case in BAD_FILES], ids=[case[0] for case in BAD_FILES])
def test_form_definition_errors_name_file_and_line(tmp_path, text, line, what):
    error = definition_error(tmp_path, text)
    assert what in error.what
    assert error.line == line, error.what


def test_empty_file_is_invalid(tmp_path):
    path = tmp_path / "empty.yaml"
    path.write_text("", encoding="utf-8")
    with pytest.raises(FormDefinitionInvalid, match="empty"):
        load_form(path)


def test_load_form_reports_the_first_problem_and_counts_the_rest(tmp_path):
    error = definition_error(
        tmp_path,
        """
        title: t
        fields:
          - name: a
            type: strng
          - name: b
            lable: B
    """,
    )
    assert error.line == 4 and "(and 1 more" in error.what


def test_form_without_template_or_fields_is_fine(tmp_path):
    form = form_from(
        tmp_path,
        """
        title: 确认收件
    """,
    )
    assert form.fields == () and form.validate({}) == {} and form.render({}) == "" and form.check() == []


# ---------------------------------------------------------------------------------------------
# templates


def test_render_shows_data_task_and_marks_missing_values(review):
    text = review.render(
        {"data": {"咨询项目名称": "园区规划", "缺件清单": ["营业执照", "合同"]}, "task": {"due_at": "2024-03-08"}}
    )
    assert text == "合同：园区规划（—）\n截止：2024-03-08\n缺件：营业执照、合同"


def test_render_shows_the_deadline_in_local_time(review):
    text = review.render({"task": {"due_at": "2026-11-25T07:00:00+00:00"}})
    assert "截止：2026-11-25 15:00" in text


@pytest.mark.parametrize(
    "context",
    [{}, {"data": None, "task": None}, {"data": {"咨询企业": None}}, {"data": "odd", "task": 3, "instance": []}],
)
def test_render_with_missing_or_odd_context_does_not_raise(review, context):
    text = review.render(context)
    assert text.startswith("合同：—（—）\n截止：无")


def test_render_formats_booleans_and_none_and_survives_nested_missing(tmp_path):
    form = form_from(
        tmp_path,
        """
        title: t
        template: "{{ data.加急 }}/{{ data.空 }}/{{ data.无.更无 }}/{{ instance.business_key }}/{{ form.title }}/{{ data.x|default('默认') }}"
        fields: []
    """,
    )
    assert (
        form.render({"data": {"加急": True, "空": None}, "instance": {"business_key": "BA-1"}}) == "是/—/—/BA-1/t/默认"
    )


def test_render_runtime_error_is_shown_not_raised(tmp_path):
    path = write(
        tmp_path,
        "f",
        """
        title: t
        template: |
          第一行
          {{ data.金额 + 1 }}
        fields: []
    """,
    )
    form = load_form(path)
    text = form.render({"data": {"金额": "十"}})
    assert text.startswith("[模板有误 ") and f"{path}:4" in text


def test_check_reports_syntax_error_on_the_file_line(tmp_path):
    path = write(
        tmp_path,
        "f",
        """
        title: t
        fields:
          - name: a
        template: |
          第一行
          第二行 {{ data.a }}
          第三行 {% if data.a %}没有结束
        """,
    )
    form = load_form(path)  # loading does not parse the template
    problems = form.check()
    assert len(problems) == 1
    line, what = problems[0]
    assert line == 7 and "syntax error" in what
    assert "[模板有误 " in form.render({})


def test_check_maps_lines_for_single_line_templates(tmp_path):
    form = form_from(
        tmp_path,
        """
        title: t
        fields: []
        template: "{{ data.a }"
    """,
    )
    assert [line for line, _ in form.check()] == [3]


def test_check_reports_bare_variables_that_should_be_data(tmp_path):
    form = form_from(
        tmp_path,
        """
        title: t
        template: |
          {% set n = 1 %}{% for x in data.list %}{{ x }}{% endfor %}{{ n }}
          企业：{{ 咨询企业 }}
        fields: []
    """,
    )
    assert form.check() == [
        (4, "template uses unknown variable '咨询企业': instance variables are written data.咨询企业")
    ]


def test_a_field_can_be_required_only_when_another_answer_calls_for_it(tmp_path):
    """`required_when`: 延期原因 must be given when 需要延期 is yes (R-C6), 未办结原因 when 材料不全 (R-F4)."""
    form = form_from(
        tmp_path,
        """
        title: t
        fields:
          - name: 需要延期
            type: bool
            default: false
          - name: 延期原因
            type: multiline
            required: false
            default: ""
            required_when: {需要延期: true}
          - name: 备案意见
            type: choice
            choices: [同意备案, 材料不全, 不予备案]
            default: 同意备案
          - name: 未办结原因
            type: choice
            choices: [首次来访材料不全, 告知不清]
            required: false
            required_when: {备案意见: [材料不全]}
    """,
    )
    assert form.validate({})["延期原因"] == "" and form.validate({"需要延期": "否"})["未办结原因"] is None
    with pytest.raises(FormInvalid) as caught:
        form.validate({"需要延期": "是", "延期原因": "  ", "备案意见": "材料不全"})
    assert caught.value.errors == {"延期原因": "必填（需要延期为是时）", "未办结原因": "必填（备案意见为材料不全时）"}
    assert form.validate({"需要延期": True, "延期原因": "需第三方检测"})["延期原因"] == "需第三方检测"
    assert form.field("延期原因").describe() == "延期原因 (多行文本，需要延期为是时必填)"


def test_filled_answers_what_the_given_answers_make_required(tmp_path):
    """Form.filled, the ordinary answers of scenario files and tests: a field required only under a
    condition is answered when the answers given make it required, and left out otherwise."""
    form = form_from(
        tmp_path,
        """
        title: t
        fields:
          - name: 需要延期
            type: bool
            default: false
          - name: 延期原因
            type: multiline
            required: false
            default: ""
            required_when: {需要延期: true}
          - name: 备案意见
            type: choice
            choices: [同意备案, 材料不全, 不予备案]
          - name: 未办结原因
            type: choice
            choices: [首次来访材料不全, 告知不清]
            required: false
            required_when: {备案意见: [材料不全]}
          - name: 来访日期
            type: date
    """,
    )
    samples = {"date": "2026-11-02"}
    assert form.filled({}, samples) == {"备案意见": "同意备案", "来访日期": "2026-11-02"}
    given = {"备案意见": "材料不全"}
    filled = form.filled(given, samples)
    assert filled == {**given, "未办结原因": "首次来访材料不全", "来访日期": "2026-11-02"}
    assert form.validate(filled)["未办结原因"] == "首次来访材料不全" and given == {"备案意见": "材料不全"}
    # a field with a default keeps it, even where an answer makes it required (the form then says so)
    assert "延期原因" not in form.filled({"需要延期": True}, samples)


@pytest.mark.parametrize(
    "line, problem",
    [
        ("required_when: {需要延期: true}\n    required: true", "required_when needs `required: false`"),
        ("required_when: {需要: true}\n    required: false", "required_when names '需要', which is not another field"),
        ("required_when: {需要延期: 也许}\n    required: false", "required_when 需要延期: '也许' is not a valid value"),
        ("required_when: 需要延期\n    required: false", "required_when is a set of `field: value`"),
    ],
)
def test_a_broken_required_when_is_reported_with_its_line(tmp_path, line, problem):
    error = definition_error(
        tmp_path, f"title: t\nfields:\n  - name: 需要延期\n    type: bool\n  - name: 延期原因\n    {line}\n"
    )
    assert error.line == 6 and problem in str(error)


def test_check_reports_unknown_filters_and_tests_in_branches_that_do_not_render(tmp_path):
    """Jinja looks a filter or test up only when its {% if %} branch renders: validate finds it anyway."""
    form = form_from(
        tmp_path,
        """
        title: t
        template: |
          {% if data.缺件清单 %}
          缺件：{{ data.缺件清单 | uper }}
          {% elif data.x is nunber %}{{ data.x | round }}{% endif %}
          {{ data.y | default("—") }}{% if data.z is defined %}{{ data.z | upper }}{% endif %}
        fields: []
    """,
    )
    assert form.check() == [
        (4, "template uses unknown filter 'uper' (did you mean 'upper'?)"),
        (5, "template uses unknown test 'nunber' (did you mean 'number'?)"),
    ]


def test_check_reports_failure_with_empty_context(tmp_path):
    form = form_from(
        tmp_path,
        """
        title: t
        template: |
          ok
          {{ data.n | round }}
        fields: []
    """,
    )
    problems = form.check()
    assert len(problems) == 1 and problems[0][0] == 4 and "fails with no data" in problems[0][1]


def test_template_cannot_reach_python_internals(tmp_path):
    form = form_from(
        tmp_path,
        """
        title: t
        template: "{{ data.__class__.__mro__ }}{{ data.pop('a') }}"
        fields: []
    """,
    )
    data = {"a": 1}
    text = form.render({"data": data})
    assert "class" not in text
    assert data == {"a": 1}


# ---------------------------------------------------------------------------------------------
# FormLibrary


def test_library_gets_existing_forms_and_knows_missing_ones(tmp_path):
    library = FormLibrary(FIXTURES)
    assert library.exists("filing_review") and not library.exists("nope")
    assert library.get("filing_review").title == "备案审查"
    assert library.get("filing_review") is library.get("filing_review")
    with pytest.raises(FormNotFound) as caught:
        library.get("nope")
    assert caught.value.form == "nope" and caught.value.where == str(FIXTURES)
    for sneaky in ("../forms/filing_review", "", "/etc/passwd", "."):
        assert not library.exists(sneaky)
        with pytest.raises(FormNotFound):
            library.get(sneaky)
    with pytest.raises(FormNotFound):
        FormLibrary(tmp_path / "missing").get("x")


def test_library_reads_yml_too(tmp_path):
    (tmp_path / "a.yml").write_text("title: A\nfields: []\n", encoding="utf-8")
    assert FormLibrary(tmp_path).get("a").title == "A"
    assert FormLibrary(tmp_path).names() == ["a"]


def test_library_reloads_a_changed_file(tmp_path):
    path = write(tmp_path, "f", "title: 旧\nfields: []\n")
    library = FormLibrary(tmp_path)
    first = library.get("f")
    assert first.title == "旧"
    path.write_text("title: 新的标题\nfields: []\n", encoding="utf-8")
    stat = path.stat()
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000))
    assert library.get("f").title == "新的标题"
    # broken now: the error is raised, and fixing the file recovers
    path.write_text("title: x\nfields: [\n", encoding="utf-8")
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 2_000_000_000))
    with pytest.raises(FormDefinitionInvalid):
        library.get("f")
    path.write_text("title: 修好了\nfields: []\n", encoding="utf-8")
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 3_000_000_000))
    assert library.get("f").title == "修好了"
    path.unlink()
    with pytest.raises(FormNotFound):
        library.get("f")


def test_check_all_lists_every_problem_of_every_file(tmp_path):
    write(tmp_path, "good", "title: g\nfields: []\n")
    bad = write(
        tmp_path,
        "bad",
        """
        title: b
        template: |
          {{ data.a
        fields:
          - name: a
            type: strng
          - name: b
            type: choice
    """,
    )
    (tmp_path / "notes.txt").write_text("not a form", encoding="utf-8")
    problems = FormLibrary(tmp_path).check_all()
    assert [(file, line) for file, line, _ in problems] == [(str(bad), 3), (str(bad), 6), (str(bad), 7)]
    assert "unknown type 'strng'" in problems[1][2]


def test_check_all_on_the_fixtures_is_clean():
    assert FormLibrary(FIXTURES).check_all() == []


def test_check_all_on_a_missing_folder(tmp_path):
    assert FormLibrary(tmp_path / "nope").check_all() == [(str(tmp_path / "nope"), 1, "forms folder does not exist")]


# ---------------------------------------------------------------------------------------------
# import cost


def test_importing_forms_does_not_import_yaml_or_jinja():
    code = (
        "import sys, types; pkg = types.ModuleType('engine'); pkg.__path__ = ['engine']; "
        "sys.modules['engine'] = pkg; import engine.forms; "
        "print(sorted(m for m in ('jinja2', 'ruamel.yaml') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], cwd=HERE.parent, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_problems_of_one_form_never_raise(tmp_path):
    bad = write(
        tmp_path,
        "bad",
        """
        title: b
        template: "{{ x }}"
        fields:
          - name: a
            type: strng
    """,
    )
    library = FormLibrary(tmp_path)
    assert [(file, line) for file, line, _ in library.problems("bad")] == [(str(bad), 2), (str(bad), 5)]
    assert library.problems("nope") == [(str(tmp_path / "nope.yaml"), 1, f"form 'nope' not found in {tmp_path}")]
    assert FormLibrary(FIXTURES).problems("filing_review") == []


def test_loop_template_renders_one_line_per_item(tmp_path):
    form = form_from(
        tmp_path,
        """
        title: t
        template: |
          材料：
          {% for 项 in data.材料 %}
          - {{ 项 }}
          {% endfor %}
          完
        fields: []
    """,
    )
    assert form.render({"data": {"材料": ["身份证", "合同"]}}) == "材料：\n- 身份证\n- 合同\n完"
    assert form.render({}) == "材料：\n完"


def test_number_bounds_are_shown_as_written():
    with pytest.raises(ValueError) as caught:
        Field("x", type="decimal", min=0.0).coerce("-1")
    assert str(caught.value) == "不能小于 0"


# -- `after: other field`: an answer not earlier than another (issue 13, sign_agreement) ----------------
ORDERED_FORM = """
title: 起止
fields:
  - name: 开始
    type: date
  - name: 结束
    type: date
    after: 开始
  - name: 最低
    type: money
    required: false
  - name: 最高
    type: money
    required: false
    after: 最低
"""


def test_after_refuses_an_answer_earlier_than_the_other_field(tmp_path):
    form = form_from(tmp_path, ORDERED_FORM)
    assert "不早于开始" in form.field("结束").describe()
    with pytest.raises(FormInvalid) as caught:
        form.validate({"开始": "2026-12-01", "结束": "2026/11/30", "最低": "100", "最高": "99.5"})
    assert caught.value.errors == {"结束": "不能早于开始（2026-12-01）", "最高": "不能早于最低（100.00）"}
    ok = form.validate({"开始": "2026-12-01", "结束": "2026-12-01", "最低": "9", "最高": "10"})
    assert ok["结束"] == "2026-12-01" and ok["最高"] == "10.00"
    assert form.validate({"开始": "2026-12-01", "结束": "2026-12-02"})["最高"] is None  # blank: nothing to compare


@pytest.mark.parametrize(
    "after, message",
    [
        ("没有", "after names '没有', which is not another field of this form"),
        ("结束", "after names '结束', which is not another field of this form"),
        ("名称", "after needs two fields of the same ordered type"),
    ],
)
def test_after_must_name_another_field_of_the_same_ordered_type(tmp_path, after, message):
    text = f"""
    fields:
      - name: 名称
      - name: 开始
        type: date
      - name: 结束
        type: date
        after: {after}
    """
    assert message in str(definition_error(tmp_path, text))


# ---------------------------------------------------------------------------------------------
# a form as JSON (what `hall serve` sends its clients)


def test_every_hall_form_comes_back_the_same_from_its_json_description() -> None:
    """The client of `hall serve` builds its Form from describe_form's JSON: every field of the hall's
    forms, and the prompt lines it asks, are the same as the file's (only the file line is not sent)."""
    import json
    from dataclasses import replace

    from hall.engine.forms import describe_form, form_from_description

    library = FormLibrary(HERE.parent / "forms")
    kinds: set[str] = set()
    for name in library.names():
        form = library.get(name)
        again = form_from_description(json.loads(json.dumps(describe_form(form), ensure_ascii=False)))
        assert again.name == form.name and again.title == form.title
        assert again.fields == tuple(replace(f, line=0) for f in form.fields), name
        assert [f.describe() for f in again.fields] == [f.describe() for f in form.fields]
        kinds |= {f.type for f in form.fields} | {"required_when" for f in form.fields if f.required_when}
    assert {"choice", "multiline", "required_when", "bool", "date"} <= kinds  # the round trip covered them


def test_a_form_description_that_is_not_one_is_a_value_error() -> None:
    from hall.engine.forms import form_from_description

    for bad in (
        {},
        {"name": "x", "fields": [{"label": "no name"}]},
        {"name": "x", "fields": [{"name": "a", "type": "?"}]},
    ):
        with pytest.raises(ValueError, match="not a form description"):
            form_from_description(bad)


def test_every_moment_a_template_shows_is_local_time_to_the_minute(tmp_path):
    """A moment a script stored (受理时间, ISO with an offset, UTC or local) reads as local time to the
    minute, like the task's deadline (issue 17); other text, dates and numbers are left as they are."""
    path = tmp_path / "t.yaml"
    path.write_text(
        "template: |\n  受理：{{ data.受理时间 }}　登记：{{ data.登记 }}　日期：{{ data.日期 }}　编号：{{ data.编号 }}\n"
        "fields: []\n",
        encoding="utf-8",
    )
    text = load_form(path).render(
        {
            "data": {
                "受理时间": "2026-12-05T20:22:21+08:00",
                "登记": "2026-12-05T12:30:00+00:00",
                "日期": "2026-12-05",
                "编号": "TS-1",
            }
        }
    )
    assert text == "受理：2026-12-05 20:22　登记：2026-12-05 20:30　日期：2026-12-05　编号：TS-1"
