"""Functions BPMN scripts and conditions may call, bound to the step that runs them.

`next_number(kind)` numbers cases from a configurable pattern, unique across workers because
the sequence lives in the database; `setting(name, default)` reads configuration; `now()` and
`today()` use the engine's clock in the configured time zone; `cases_at(process, *elements)`
lists the cases of another process that are now at one of its elements (e.g. the day's
callbacks for a roster started each working day).
"""
from __future__ import annotations

from typing import Any, Callable, Mapping
from zoneinfo import ZoneInfo

DEFAULT_PATTERN = "{prefix}{date:%Y%m%d}-{seq:04d}"


def functions(settings: Mapping[str, Any], deadlines: Any) -> dict[str, Callable[..., Any]]:
    """The script functions for an engine with these settings (each takes the step first)."""
    numbering = settings.get("numbering") or {}
    values = settings.get("settings") or {}
    tz = ZoneInfo(((settings.get("calendar") or {}).get("timezone")) or "Asia/Shanghai")

    def next_number(step: Any, kind: str) -> str:
        conf = numbering.get(kind) or {}
        pattern = conf.get("pattern") or DEFAULT_PATTERN
        local = step.now.astimezone(tz)
        period = local.strftime("%Y%m%d") if "{date" in pattern else "-"
        seq = step.tx.next_sequence(kind, period)
        return pattern.format(prefix=conf.get("prefix", kind.upper()), date=local, seq=seq)

    def setting(step: Any, name: str, default: Any = None) -> Any:
        return values.get(name, default)

    def now(step: Any) -> str:
        return step.now.astimezone(tz).isoformat(timespec="seconds")

    def today(step: Any) -> str:
        return step.now.astimezone(tz).date().isoformat()

    def cases_at(step: Any, process_id: str, *elements: str, fields: tuple[str, ...] = ()) -> list[dict]:
        found = step.tx.cases_at(process_id, elements, step.now)
        return [{"instance": c["instance"], "element": c["element"], "business_key": c["business_key"],
                 "due_at": c["due_at"], **{f: c["variables"].get(f) for f in fields}} for c in found]

    return {"next_number": next_number, "setting": setting, "now": now, "today": today, "cases_at": cases_at}
