"""Papers the hall hands to customers (issue 17, item 5), as HTML ready to print (A4, a CJK font stack),
made from the case's data as the forms filled it:

- ``missing-items``: the one-time written list of every missing item (一次性告知单, R-F3);
- ``delay``: the notice that a committed limit cannot be met, with the cause and the new expected
  time (延期告知书, R-F5), for a filing or a complaint;
- ``receipt``: the complaint receipt with its 投诉编号 (投诉受理回执, R-C1).

Times are local (the hall's time zone) to the minute. A case the user may not read (R-C10) is refused
as it is by `hall show`; a case that does not hold what a paper prints yet says what is missing.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from ..engine.errors import DocumentNotReady

TEMPLATES = Path(__file__).resolve().parent / "papers"  # the templates, one per paper


@dataclass(frozen=True)
class Paper:
    """One kind of paper: its title, template, the processes it is for, the variables it needs and
    the step that fills them (for the message when they are missing)."""

    kind: str
    title: str
    template: str
    processes: tuple[str, ...]
    needs: tuple[str, ...]
    filled_by: str


PAPERS = {
    p.kind: p
    for p in (
        Paper(
            "missing-items",
            "一次性告知单",
            "missing_items.html",
            ("filing",),
            ("缺件清单",),
            "filled by the task 一次性告知缺件 (R-F3)",
        ),
        Paper(
            "delay",
            "延期告知书",
            "delay.html",
            ("filing", "complaint"),
            ("延期原因", "新的预计办结时间"),
            "filled by the delay notice task (R-F5)",
        ),
        Paper(
            "receipt",
            "投诉受理回执",
            "receipt.html",
            ("complaint",),
            ("投诉编号", "投诉内容"),
            "filled at the complaint's registration (R-C1)",
        ),
    )
}
KINDS = tuple(PAPERS)
#: A font stack that renders Chinese on Linux (Noto / Source Han), Windows (YaHei) and macOS (PingFang).
FONTS = '"Noto Sans CJK SC", "Source Han Sans SC", "Microsoft YaHei", "PingFang SC", "WenQuanYi Micro Hei", sans-serif'


def render(engine: Any, instance: Any, kind: str, user: str | None = None) -> str:
    """The paper `kind` of case `instance` as a complete HTML document, as `user` may see the case."""
    paper = PAPERS[kind]
    view = engine.show(instance, user=user)
    if view.get("redacted"):
        from ..engine.errors import PermissionDenied

        raise PermissionDenied(
            user or "-",
            f"print the {kind} paper of",
            f"case {view['id']}",
            "it is confidential (R-C10) and the user lacks the 'confidential' permission",
            instance_id=view["id"],
        )
    if view["process"] not in paper.processes:
        raise DocumentNotReady(
            paper.title,
            view["id"],
            list(paper.needs),
            f"a {view['process']} case; the {paper.title} is for {' or '.join(paper.processes)} cases",
        )
    data = view["variables"]
    missing = [name for name in paper.needs if data.get(name) in (None, "", [])]
    if missing:
        raise DocumentNotReady(paper.title, view["id"], missing, paper.filled_by)
    tz = engine.deadlines.calendar.tz
    settings = engine.settings.get("settings") or {}

    def local(value: Any) -> str:
        if not value:
            return "—"
        try:
            moment = datetime.fromisoformat(str(value))
        except ValueError:
            return str(value)
        if moment.tzinfo is None:
            return moment.strftime("%Y-%m-%d %H:%M") if "T" in str(value) or " " in str(value) else str(value)
        return moment.astimezone(tz).strftime("%Y-%m-%d %H:%M")

    env = _environment()
    env.filters["local"] = local
    template = env.get_template(paper.template)
    return template.render(
        paper=paper,
        case=view,
        data=data,
        hall=settings.get("大厅名称") or "服务大厅",
        phone=settings.get("大厅电话") or "",
        printed=local(engine.clock.now().isoformat()),
        fonts=FONTS,
        lines=_lines,
    )


def _lines(text: Any) -> list[str]:
    """A multi-line answer as its non-empty lines (one missing item per line)."""
    return [line.strip() for line in str(text or "").splitlines() if line.strip()]


def _environment() -> Any:
    from jinja2 import Environment, FileSystemLoader, StrictUndefined

    return Environment(
        loader=FileSystemLoader(str(TEMPLATES)), autoescape=True, undefined=StrictUndefined, keep_trailing_newline=True
    )
