"""Case files and retention (R-C9, R-F2, R-F7): `hall export` and `hall purge`.

Export writes one case as a JSON document through the Engine API (so the caller's permissions and
the confidential placeholder apply, R-C10). Purge deletes finished cases older than a date, never
one inside its process's retention period (R-C9: complaints at least six months) and never a
process kept forever (R-F2: filings); it shows the plan first and deletes in one transaction.

Retention per process comes from the `retention:` section of hall.yaml:

    retention:
      default: never            # processes not listed are kept forever
      processes: {complaint: 6 months, suggestion: 6 months, callback_day: 6 months, filing: never}
      archive: archive          # each purged case's file goes here first: archive/<process>/<year>/<id>.json

Archived, never silently deleted: before the delete, purge writes each case's full case file (the
export document, read as the system so nothing is a placeholder) under `archive`; if one cannot be
written nothing is deleted. The indicators of periods whose cases were purged change (their history
rows go with them): make the reports of a period (R-K3) before purging it.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from ..engine.errors import ConfigInvalid, HallError, OutputNotWritable

DEFAULTS: dict[str, Any] = {
    "default": "never",
    "processes": {"complaint": "6 months", "suggestion": "6 months", "callback_day": "6 months", "filing": "never"},
    "archive": "archive",
}
_SPAN = re.compile(r"^\s*(\d+)\s*(day|days|month|months|year|years|天|个月|月|年)\s*$")


@dataclass(frozen=True)
class Keep:
    """How long a finished case is kept: `never` deleted, or N days / months / years after it ended."""

    text: str
    amount: int | None
    unit: str | None

    @classmethod
    def parse(cls, text: Any, where: str = "retention") -> Keep:
        t = str(text).strip()
        if t.lower() in ("never", "forever", "永久"):
            return cls("never", None, None)
        m = _SPAN.match(t)
        if not m:
            raise ConfigInvalid(
                "configuration",
                None,
                f"{where}: {t!r} is not a retention period (write `6 months`, `1 year`, `180 days` or `never`)",
            )
        unit = {"天": "days", "个月": "months", "月": "months", "年": "years"}.get(
            m.group(2), m.group(2).rstrip("s") + "s"
        )
        return cls(t, int(m.group(1)), unit)

    @property
    def forever(self) -> bool:
        return self.amount is None

    def cutoff(self, now: datetime) -> datetime | None:
        """Cases that ended before this moment are past their retention; None when kept forever."""
        if self.amount is None:
            return None
        if self.unit == "days":
            from datetime import timedelta

            return now - timedelta(days=self.amount)
        months = self.amount * (12 if self.unit == "years" else 1)
        m = now.year * 12 + now.month - 1 - months
        year, month = m // 12, m % 12 + 1
        import calendar as _cal

        day = min(now.day, _cal.monthrange(year, month)[1])
        return now.replace(year=year, month=month, day=day)

    @property
    def months_at_least(self) -> float:
        """The shortest span this keeps, in months (a month counted as 31 days); inf when forever."""
        if self.amount is None:
            return float("inf")
        return {"days": self.amount / 31, "months": self.amount, "years": self.amount * 12}[self.unit or "days"]


# The regulations' floors, whatever hall.yaml says: complaints' work orders are kept at least six
# months (R-C9); filed contracts are the evidence for review and subsidies, never deleted (R-F2).
FLOORS: dict[str, tuple[Keep, str]] = {
    "complaint": (Keep("6 months", 6, "months"), "R-C9: complaint work orders are kept at least 6 months"),
    "filing": (Keep("never", None, None), "R-F2: filed contracts are never deleted"),
}


def policy(settings: Mapping[str, Any] | None) -> tuple[Keep, dict[str, Keep]]:
    """The default and per-process retention; ConfigInvalid for a bad value or one below a floor."""
    source = str((settings or {}).get("_source", "configuration"))
    raw = (settings or {}).get("retention") or {}
    if not isinstance(raw, Mapping):
        raise ConfigInvalid(source, None, "retention: must be a mapping")
    for key in raw:
        if key not in DEFAULTS:
            raise ConfigInvalid(source, None, f"retention.{key}: unknown key (known: {', '.join(DEFAULTS)})")
    if not isinstance(raw.get("archive", DEFAULTS["archive"]), str) or not str(raw.get("archive", "x")).strip():
        raise ConfigInvalid(source, None, "retention.archive: must be a folder (text)")
    if not isinstance(raw.get("processes") or {}, Mapping):
        raise ConfigInvalid(
            source,
            None,
            "retention.processes: must map a process to its period, e.g. {complaint: 6 months, filing: never}",
        )
    default = _parse(source, raw.get("default", DEFAULTS["default"]), "retention.default")
    procs = dict(DEFAULTS["processes"])
    procs.update(raw.get("processes") or {})
    per = {str(p): _parse(source, v, f"retention.processes.{p}") for p, v in procs.items()}
    for process, (floor, why) in FLOORS.items():
        if per[process].months_at_least < floor.months_at_least:
            least = "must be never" if floor.forever else f"is shorter than {floor.text}"
            raise ConfigInvalid(source, None, f"retention.processes.{process}: {per[process].text!r} {least} ({why})")
    return default, per


def _parse(source: str, value: Any, where: str) -> Keep:
    try:
        return Keep.parse(value, where)
    except ConfigInvalid as exc:
        raise ConfigInvalid(source, None, exc.what) from None


# -- export ------------------------------------------------------------------------------------------------
def export_case(engine: Any, instance_id: int, user: str | None = None) -> dict[str, Any]:
    """The case file: the instance with its variables, the history, the forms filled, linked cases."""
    view = engine.show(instance_id, user=user)
    history = engine.history(instance_id, user=user)
    forms = [
        {
            "task": h["task"],
            "element": h["element"],
            "at": h["at"],
            "actor": h["actor"],
            "data": (h["detail"] or {}).get("data"),
        }
        for h in history
        if h["kind"] == "task_completed"
    ]
    return {
        "format": "hall-case-file/1",
        "exported_at": engine.clock.now().isoformat(),
        "exported_by": user,
        "instance": {k: v for k, v in view.items() if k != "links"},
        "variables": view.get("variables"),
        "forms": forms,
        "history": history,
        "links": view.get("links"),
    }


# -- purge -------------------------------------------------------------------------------------------------
def plan_purge(engine: Any, before: date, user: str | None = None) -> dict[str, Any]:
    """What `purge --before` would do: the cases to delete and the ones kept, each with the reason.

    Raises HallError when `before` lies inside the retention period of a process that has finished
    cases in that window (the date itself is refused, R-C9): nothing younger than its retention
    period is ever deleted.
    """
    engine.authorize(user, "manage", "purge", "finished cases")
    default, per_process = policy(engine.settings)
    tz = ZoneInfo(engine.deadlines.calendar.config.timezone)
    now = engine.clock.now()
    limit = datetime.combine(before, time(0), tzinfo=tz).astimezone(UTC)
    if limit > now:
        raise HallError(f"--before {before} is in the future")
    with engine.reading() as ks:
        rows = ks.finished_before(limit)
        children = ks.children_of([r["id"] for r in rows])
    delete: list[dict[str, Any]] = []
    kept: list[dict[str, Any]] = []
    too_young: dict[str, tuple[Keep, datetime]] = {}
    for r in rows:
        keep = per_process.get(r["process_id"], default)
        cutoff = keep.cutoff(now)
        item = {
            "id": r["id"],
            "process": r["process_id"],
            "business_key": r["business_key"],
            "status": r["status"],
            "ended_at": r["ended_at"].isoformat(),
            "retention": keep.text,
        }
        if cutoff is None:  # kept forever
            kept.append(dict(item, reason=f"{r['process_id']} cases are kept forever (retention {keep.text})"))
        elif r["ended_at"] >= cutoff:
            too_young.setdefault(r["process_id"], (keep, cutoff))
            kept.append(
                dict(
                    item,
                    reason=f"inside the retention period ({keep.text}) until "
                    f"{(r['ended_at'] + (now - cutoff)).astimezone(tz):%Y-%m-%d}",
                )
            )
        else:
            delete.append(item)
    if too_young:
        what = "; ".join(
            f"{p} cases are kept {k.text} after they end (R-C9): the latest allowed date is {c.astimezone(tz):%Y-%m-%d}"
            for p, (k, c) in sorted(too_young.items())
        )
        raise HallError(f"--before {before} is inside the retention period: {what}; nothing was deleted")
    # a case whose linked case stays (it started a case that is kept) stays too, with its link
    ids = {d["id"] for d in delete}
    changed = True
    while changed:
        changed = False
        for d in list(delete):
            staying = [c for c in children.get(d["id"], []) if c not in ids]
            if staying:
                delete.remove(d)
                ids.discard(d["id"])
                kept.append(dict(d, reason=f"its linked case(s) {', '.join(map(str, staying))} are kept"))
                changed = True
    return {"before": before.isoformat(), "cutoff": limit.isoformat(), "delete": delete, "kept": kept}


def archive_folder(settings: Mapping[str, Any] | None) -> Path:
    return Path(((settings or {}).get("retention") or {}).get("archive") or DEFAULTS["archive"])


def archive_cases(engine: Any, plan: Mapping[str, Any], folder: str | Path | None = None) -> dict[int, str]:
    """Write the case file of every planned case under `folder`/<process>/<year ended>/<id>.json."""
    root = Path(folder) if folder else archive_folder(engine.settings)
    out: dict[int, str] = {}
    required, engine.require_user = engine.require_user, False  # the whole file, as the system reads it
    try:
        for d in plan["delete"]:
            doc = export_case(engine, d["id"])
            path = root / d["process"] / d["ended_at"][:4] / f"{d['id']}.json"
            try:
                path.parent.mkdir(parents=True, exist_ok=True)
                tmp = path.with_name(path.name + ".tmp")
                tmp.write_text(json.dumps(doc, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
                tmp.replace(path)
            except OSError as exc:
                raise OutputNotWritable(str(path), f"{exc.strerror or exc}; nothing was deleted") from None
            out[d["id"]] = str(path)
    finally:
        engine.require_user = required
    return out


def purge(
    engine: Any, plan: Mapping[str, Any], user: str | None = None, archive: str | Path | None = None
) -> dict[str, Any]:
    """Archive the planned cases' files, then delete the cases (in one transaction, the engine's
    generic `purge_instances`, each leaving a `purged` row); refuses if any changed since it was planned."""
    engine.authorize(user, "manage", "purge", "finished cases")
    ids = [d["id"] for d in plan["delete"]]
    if not ids:
        return {"deleted": [], "rows": {}, "archived": {}}
    archived = archive_cases(engine, plan, archive)
    # not silently: each deleted case leaves one row saying what went, when, by whom and why
    details = {
        d["id"]: {
            "business_key": d["business_key"],
            "status": d["status"],
            "ended_at": d["ended_at"],
            "retention": d["retention"],
            "before": plan["before"],
            "archived": archived[d["id"]],
        }
        for d in plan["delete"]
    }
    rows = engine.purge_instances(ids, datetime.fromisoformat(plan["cutoff"]), details, user=user)
    return {"deleted": ids, "rows": rows, "archived": archived}
