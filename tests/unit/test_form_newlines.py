"""Form templates keep the newline after a block tag that ends a line of text (issue 14): every line
of text in a bundled form's template starts a line on the staff member's screen."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from hall.engine.forms import load_form

FORMS = sorted((Path(__file__).resolve().parents[2] / "forms").glob("*.yaml"))
_TAGS = re.compile(r"^(\s*(\{%.*?%\}|\{#.*?#\}))*\s*")


def everything(source: str) -> dict[str, Any]:
    """Case data where every variable the template reads is set, so every `{% if data.x %}` shows."""
    return {name: "有" for name in re.findall(r"data\.(\w+)", source)}


def text_starts(source: str) -> list[str]:
    """The literal text each template line starts with, after any leading tags."""
    starts = []
    for line in source.splitlines():
        rest = _TAGS.sub("", line, count=1)
        literal = re.split(r"\{[{%#]", rest, maxsplit=1)[0].strip()
        if len(literal) >= 2:
            starts.append(literal)
    return starts


def test_all_bundled_forms_are_checked() -> None:
    assert len(FORMS) >= 50 and sum(p.name.startswith(("complaint_", "escalate_")) for p in FORMS) >= 25


@pytest.mark.parametrize("path", FORMS, ids=[p.stem for p in FORMS])
def test_every_line_of_text_starts_a_line(path: Path) -> None:
    form = load_form(path)
    shown = form.render(
        {"data": everything(form.template_source or ""), "task": {"due_at": "2026-11-24 17:30"}, "instance": {}}
    )
    lines = [line.strip() for line in shown.splitlines()]
    for start in text_starts(form.template_source or ""):
        if start in shown:
            assert any(line.startswith(start) for line in lines), f"{path.name}: {start!r} runs on from the line before"


def test_r_c2_type_and_topic_no_longer_run_into_the_round() -> None:
    form = load_form(next(p for p in FORMS if p.stem == "complaint_classify"))
    shown = form.render({"data": {"类型": "投诉", "专题": "服务态度", "处理轮次": 1}, "task": {}, "instance": {}})
    assert "专题：服务态度\n处理轮次（PDCA，R-C3）：1" in shown
